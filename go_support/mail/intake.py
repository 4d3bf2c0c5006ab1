"""What becomes of one incoming mail: a new ticket, a follow-up, a bounce, or quarantine.

:func:`decide` chains the other modules (parse, loop protection, threading, routing) into one
:class:`Decision` with the sentence the daemon logs ("new ticket in Hardware: sent to
hardware@example.com"). It writes nothing and asks the caller for what only Group-Office
knows, through two callables that can be batched: the tickets of known Message-IDs, and the
people of a ticket. The writer (the desk's batch layer) then carries the decision out.

============  =======================================================================
action        when
============  =======================================================================
follow-up     the mail threads to a ticket (any kind but bounce and loop: an
              out-of-office reply is stored on its ticket, never answered)
new-ticket    a person or an automated sender, no ticket found, a type routed
              (``acknowledge``: a person, who may get an automatic acknowledgement)
bounce        a delivery report for a message of ours: the ticket and the comment that
              bounced, and the reason (``failed`` false: only a delay warning)
quarantine    unreadable, too large, a mail loop, an automatic reply or a bounce that
              belongs to no ticket, or no ticket type: ``code`` and ``reason`` say which
============  =======================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from go_support.mail.loops import Verdict, classify
from go_support.mail.parse import ParsedMail, Quarantine, parse_mail, too_large
from go_support.mail.routing import Router
from go_support.mail.sources import IncomingMail
from go_support.mail.thread_ids import MessageIds, match_thread

__all__ = ["Action", "Decision", "decide"]

Action = Literal["new-ticket", "follow-up", "bounce", "quarantine"]


@dataclass(frozen=True)
class Decision:
    """What to do with a mail, and the sentence that says why."""

    action: Action
    reason: str
    mail: ParsedMail | None = None
    verdict: Verdict | None = None
    type_name: str | None = None
    ticket_id: str | None = None
    comment_id: str | None = None
    code: str | None = None
    """For quarantine: empty, too-large, not-a-mail, no-sender, unparsable, loop, held,
    unknown-bounce or unrouted."""
    acknowledge: bool = False
    failed: bool = False
    """For a bounce: a permanent failure (mark the comment ``senderror``)."""

    def __str__(self) -> str:
        return f"{self.action}: {self.reason}"


def _quarantine(code: str, reason: str, mail: ParsedMail | None = None,
                verdict: Verdict | None = None) -> Decision:
    return Decision("quarantine", reason, mail, verdict, code=code)


def decide(
    incoming: IncomingMail,
    *,
    router: Router,
    ids: MessageIds | None,
    known: Callable[[Sequence[str]], Mapping[str, str]],
    people: Callable[[str], Iterable[str] | None],
    own_addresses: Iterable[str] = (),
    max_bytes: int,
    now: datetime | None = None,
    parsed: ParsedMail | Quarantine | None = None,
) -> Decision:
    """The :class:`Decision` for ``incoming`` (see the module's table); never raises for
    bad mail. ``known`` and ``people`` are those of
    :func:`~go_support.mail.thread_ids.match_thread`; ``parsed``, when the caller parsed
    ``incoming.raw`` already (a batch reads every mail's references first)."""
    if incoming.raw is None:
        over = too_large(incoming.size, max_bytes)
        assert over is not None
        return _quarantine(over.code, over.reason)
    if parsed is None:
        parsed = parse_mail(incoming.raw, max_bytes=max_bytes, now=now)
    if isinstance(parsed, Quarantine):
        return _quarantine(parsed.code, parsed.reason)
    verdict = classify(parsed, own_addresses=own_addresses)

    if verdict.kind == "loop":
        return _quarantine("loop", f"a mail loop: {'; '.join(verdict.reasons)}", parsed, verdict)
    if verdict.kind == "bounce":
        return _bounce(parsed, verdict, ids, known)

    thread = match_thread(parsed, ids=ids, known=known, people=people)
    if thread.ticket_id is not None:
        what = "an automatic reply" if verdict.kind == "auto-reply" else "a follow-up"
        return Decision("follow-up", f"{what} to ticket {thread.ticket_id}: {thread.reason}",
                        parsed, verdict, ticket_id=thread.ticket_id)
    if verdict.kind == "auto-reply":
        return _quarantine("held", f"an automatic reply to no ticket we know "
                           f"({'; '.join(verdict.reasons)}): held back", parsed, verdict)

    route = router.route(incoming.source, [a.email for a in parsed.recipients],
                         envelope_recipient=incoming.envelope_recipient)
    if route.type_name is None:
        return _quarantine("unrouted", route.reason, parsed, verdict)
    why = [route.reason]
    if thread.reason != "no reference to a known ticket":
        why.append(thread.reason)
    if verdict.kind == "automated":
        why.append(f"automatic mail, not acknowledged ({'; '.join(verdict.reasons)})")
    return Decision("new-ticket", f"new ticket in {route.type_name}: {'; '.join(why)}", parsed,
                    verdict, type_name=route.type_name, acknowledge=verdict.may_answer)


def _bounce(mail: ParsedMail, verdict: Verdict, ids: MessageIds | None,
            known: Callable[[Sequence[str]], Mapping[str, str]]) -> Decision:
    bounce = verdict.bounce
    assert bounce is not None
    returned = bounce.message_id
    if returned is not None:
        ref = ids.verify(returned) if ids is not None else None
        if ref is not None:
            return Decision("bounce", f"our mail {returned} to ticket {ref.ticket_id} bounced: "
                            f"{bounce.reason}", mail, verdict, ticket_id=ref.ticket_id,
                            comment_id=ref.comment_id, failed=bounce.failed)
        ticket = known([returned]).get(returned)
        if ticket is not None:
            return Decision("bounce", f"mail {returned} of ticket {ticket} bounced: "
                            f"{bounce.reason}", mail, verdict, ticket_id=str(ticket),
                            failed=bounce.failed)
    which = f"for {returned}, which we never sent" if returned else "naming no message of ours"
    return _quarantine("unknown-bounce", f"a bounce {which} ({bounce.reason[:200]})", mail,
                       verdict)
