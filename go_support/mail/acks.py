"""Acknowledging the tickets that mail opens: one acknowledgement per ticket, also across a
crash of the daemon.

The intake (:class:`~go_support.mail.pipeline.Intake`) hands :meth:`Acknowledger.run` the new
tickets of a batch after Group-Office holds them and **before** their mails leave the inbox.
Each acknowledgement is sent (:func:`~go_support.mail.delivery.acknowledge`: a person, not an
automated sender, not our own address, the type's switch on, within ``[mail]
auto_reply_per_hour``) and then recorded on its ticket as a private note with
``mailStatus: sent``, the acknowledgement's Message-ID, and the mail's key in a
``data-go-support-ack`` attribute; all notes of a batch go in one request, which also leaves
each ticket's status and agent as they were (the comment hook would take the ticket,
groupoffice-wire 33).

**At least once, never twice but for one narrow window.** Killed before the note is written,
the daemon finds the mail again in the inbox, held by Group-Office (a duplicate), and its
ticket without the note: the acknowledgement is sent then. Killed after the note, nothing is
sent again. Only a kill between the SMTP server's acceptance and the note (one HTTP request)
sends it twice, and both copies carry the same Message-ID (it is made from the ticket and the
mail's key), which clients that de-duplicate show once. A refused or failed send is logged and
not retried (an acknowledgement is a courtesy; the ticket exists).
"""

from __future__ import annotations

import html as htmllib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from go_support.mail.config import MailSettings
from go_support.mail.loops import HourlyCap
from go_support.mail.parse import ParsedMail
from go_support.mail.thread_ids import MessageIds

if TYPE_CHECKING:
    from go_support.desk import SupportDesk
    from go_support.mail.outbound import SmtpSender

__all__ = ["ACKED", "AckItem", "Acknowledger", "ack_marker"]

log = logging.getLogger("go_support.mail")

ACKED = re.compile(r'data-go-support-ack="(k[0-9a-f]{20})"')
"""The key of the mail whose acknowledgement a note records."""


def ack_marker(key: str) -> str:
    """The empty element that records, in the note, which mail was acknowledged."""
    return f'<span data-go-support-ack="{key}"></span>'


@dataclass(frozen=True)
class AckItem:
    """A new ticket to acknowledge: the key of the mail that opened it, the ticket, its type,
    the mail, and the ticket's status and agent to leave it in (``None``: as created, needs
    action and nobody's)."""

    key: str
    ticket_id: str
    type_name: str
    mail: ParsedMail
    state: tuple[str, str | None] | None = None


class Acknowledger:
    """Sends and records acknowledgements (see the module); one per process, so that its
    :class:`~go_support.mail.loops.HourlyCap` counts every automatic mail of the process."""

    def __init__(self, sender: SmtpSender, mail: MailSettings, ids: MessageIds,
                 cap: HourlyCap | None = None) -> None:
        self.sender = sender
        self.settings = mail
        self.ids = ids
        self.cap = cap if cap is not None else HourlyCap(mail.auto_reply_per_hour)

    def __repr__(self) -> str:
        return f"Acknowledger({self.sender!r})"

    @classmethod
    def from_settings(cls, mail: MailSettings, ids: MessageIds | None,
                      env: Mapping[str, str] | None = None) -> Acknowledger | None:
        """The acknowledger of ``[mail]``, or ``None`` (with a log line saying why) when
        acknowledgements are off or cannot be sent: no ``[mail] addresses`` (our From), no
        signing key, or an SMTP password missing from the environment."""
        outbound = mail.outbound
        if not outbound.acknowledge and not any(outbound.acknowledge_types.values()):
            return None
        if not mail.addresses:
            log.info("new tickets are not acknowledged: [mail] addresses is empty (the "
                     "From of our mail)")
            return None
        if ids is None:
            log.info("new tickets are not acknowledged: no Message-ID signing key "
                     "($GO_SUPPORT_MAIL_SECRET)")
            return None
        from go_support.errors import GoSupportError
        from go_support.mail.outbound import SmtpSender

        try:
            sender = SmtpSender.from_settings(mail.smtp, env)
        except GoSupportError as exc:
            log.warning("new tickets are not acknowledged: %s", exc)
            return None
        return cls(sender, mail, ids)

    def message_id(self, item: AckItem) -> str:
        """The acknowledgement's Message-ID: the same for the same ticket and mail, so that a
        copy sent again after a crash is recognisably the same mail."""
        return self.ids.new(item.ticket_id, None, nonce=item.key)

    def run(self, desk: SupportDesk, items: Sequence[AckItem]) -> dict[str, str]:
        """Acknowledge ``items`` and record those sent; ``{key: what happened}``, each also
        logged. Group-Office failing to take the notes is logged, never raised."""
        from go_support.mail.delivery import AckResult, acknowledge

        done: dict[str, str] = {}
        sent: list[tuple[AckItem, str, str]] = []
        for item in items:
            sender = item.mail.sender
            try:
                result = acknowledge(
                    self.sender, self.settings, ticket_id=item.ticket_id,
                    type_name=item.type_name, subject=item.mail.subject or "(no subject)",
                    to=(sender.email, sender.name or ""), cap=self.cap, allowed=True,
                    in_reply_to=item.mail.message_id, ids=self.ids,
                    message_id=self.message_id(item))
            except ValueError as exc:  # an address or subject no mail can carry
                result = AckResult(False, f"not sent: the mail could not be built: {exc}")
            if result.sent and result.message_id:
                sent.append((item, result.message_id, sender.email))
                done[item.key] = f"ticket {item.ticket_id}: {result.reason} as " \
                                 f"{result.message_id}"
                log.info("%s", done[item.key])
            else:
                done[item.key] = f"ticket {item.ticket_id}: not acknowledged: {result.reason}"
                (log.warning if result.reason.startswith("not sent") else log.info)(
                    "%s", done[item.key])
        if sent:
            self._record(desk, sent)
        return done

    def _record(self, desk: SupportDesk, sent: Sequence[tuple[AckItem, str, str]]) -> None:
        """The private notes of the acknowledgements sent, and each ticket's state kept."""
        from go_support.desk.models import Status
        from go_support.desk.operations import NewMessage, Refused, Writes
        from go_support.errors import GoSupportError
        from go_support.jmap import Batch

        batch = Batch(prefix="a")
        writes = Writes(batch)
        posts: list[tuple[AckItem, Any]] = []
        for item, message_id, address in sent:
            text = (f"<p>Acknowledgement mailed to {htmllib.escape(address)}.</p>"
                    + ack_marker(item.key))
            posts.append((item, writes.post(item.ticket_id, NewMessage(
                text, "sent", private_label_id=desk.layout.private_label_id,
                message_id=message_id))))
        guard = posts[0][1].guard()
        for item, _ in posts:
            progress, agent = item.state or (Status.NEEDS_ACTION.value, None)
            writes.change_state(item.ticket_id, Status(progress), agent, guard=guard)
        try:
            responses = desk.client.execute(batch)
        except (GoSupportError, OSError) as exc:  # sent; only the record is missing
            log.warning("the acknowledgements of tickets %s were sent but not recorded: %s",
                        ", ".join(i.ticket_id for i, _ in posts), exc)
            return
        for item, post in posts:
            result = post.result(responses)
            if isinstance(result, Refused):
                log.warning("ticket %s: the acknowledgement was sent but not recorded: %s",
                            item.ticket_id, result.reason)
