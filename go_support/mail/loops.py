"""Loop protection: which mails are automatic, which are bounces, and how often we answer.

A help desk that answers an auto-responder gets an answer back, and so on forever; one that
opens tickets for bounces fills up with them. :func:`classify` therefore sorts every parsed
mail into one of five kinds, each with what the daemon may do with it:

=================  ====================================  ===========  ===========
kind               what                                  opens ticket answered
=================  ====================================  ===========  ===========
``human``          a person wrote it                     yes          yes
``automated``      ``Auto-Submitted: auto-generated``,   yes          no
                   ``Precedence: bulk/junk/list``,
                   ``List-Id``, ``X-Auto-Response-
                   Suppress``, a foreign ``X-Loop``
``auto-reply``     out-of-office and other auto-replies  no (stored   no
                   (RFC 3834 ``auto-replied``, vacation  on its
                   headers, subjects in eight languages) ticket)
``bounce``         an RFC 3464 delivery-status report,   no           no
                   or any mail from mailer-daemon or
                   postmaster (:class:`Bounce` says which
                   message bounced and why)
``loop``           from one of our own addresses, or an  no           no
                   ``X-Loop`` naming one of them
=================  ====================================  ===========  ===========

:class:`HourlyCap` limits automatic mail (acknowledgements) per recipient per hour, with an
injectable clock; :func:`automatic_headers` are the headers our own automatic mail carries so
that other systems recognise it.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import compat32
from typing import Literal

from go_support.mail.parse import ParsedMail, loose_addresses, normalise_message_id

__all__ = [
    "Bounce",
    "BouncedRecipient",
    "HourlyCap",
    "Kind",
    "Verdict",
    "automatic_headers",
    "classify",
    "find_bounce",
]

Kind = Literal["human", "automated", "auto-reply", "bounce", "loop"]


@dataclass(frozen=True)
class BouncedRecipient:
    """One recipient of a delivery-status report (RFC 3464 per-recipient fields)."""

    address: str
    action: str  # failed | delayed | delivered | relayed | expanded (lower case), or ""
    status: str  # "5.1.1", or "" when the report gives none
    diagnostic: str = ""

    @property
    def failed(self) -> bool:
        return self.action == "failed" or (not self.action and self.status.startswith("5"))


@dataclass(frozen=True)
class Bounce:
    """Which of our messages bounced (``message_id``, when the report returns it) and why."""

    message_id: str | None
    recipients: tuple[BouncedRecipient, ...]
    reason: str

    @property
    def failed(self) -> bool:
        """A permanent failure (else a delay warning, or a report we could not read)."""
        return any(r.failed for r in self.recipients) or (
            not self.recipients and "delay" not in self.reason.lower()
            and "warning" not in self.reason.lower())


@dataclass(frozen=True)
class Verdict:
    """What a mail is, why we think so, and what the daemon may do with it."""

    kind: Kind
    reasons: tuple[str, ...]
    bounce: Bounce | None = None
    answer_suppressed: bool = False

    @property
    def may_open_ticket(self) -> bool:
        return self.kind in ("human", "automated")

    @property
    def may_answer(self) -> bool:
        """Whether an automatic answer (an acknowledgement) may go to the sender."""
        return self.kind == "human" and not self.answer_suppressed

    def __str__(self) -> str:
        return f"{self.kind}: {'; '.join(self.reasons)}" if self.reasons else self.kind


# --- classification --------------------------------------------------------------------------

_DAEMONS = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon|mdaemon|noreply-dmarc-support)@",
    re.I)
_OUT_OF_OFFICE = re.compile(
    r"^\s*(?:out of (?:the )?office|automatic reply|auto[- ]?reply|auto[- ]?response|"
    r"autosvar|away from (?:the )?office|on vacation|vacation reply|abwesenheitsnotiz|"
    r"automatische antwort|r[ée]ponse automatique|absence du bureau|risposta automatica|"
    r"fuori sede|respuesta autom[áa]tica|fuera de la oficina|automatisch antwoord|"
    r"afwezig|fr[åa]nvaro|resposta autom[áa]tica)\b", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery (?:status notification|failure|has failed)|"
    r"mail delivery failed|failure notice|could not send|nicht zustellbar|unzustellbar|"
    r"non remis|non recapitabile", re.I)


def _values(mail: ParsedMail, name: str) -> list[str]:
    return [v.strip() for v in mail.headers(name)]


def classify(mail: ParsedMail, *, own_addresses: Iterable[str] = ()) -> Verdict:
    """Sort ``mail`` into a :data:`Kind` (see the module's table), with the reasons."""
    own = {a.strip().casefold() for a in own_addresses if a.strip()}
    sender = mail.sender.key
    reasons: list[str] = []

    bounce = find_bounce(mail)
    if bounce is not None:
        return Verdict("bounce", (f"a delivery report: {bounce.reason}",), bounce, True)
    if _DAEMONS.match(sender):
        return Verdict("bounce", (f"sent by {mail.sender.email}",),
                       Bounce(_returned_id(mail), (), mail.title), True)

    if sender in own:
        return Verdict("loop", (f"sent from our own address {mail.sender.email}",), None, True)
    for value in _values(mail, "X-Loop"):
        named = {a.casefold() for a in loose_addresses(value)}
        if named & own or value.casefold() in own:
            return Verdict("loop", (f"X-Loop names our address ({value})",), None, True)
        reasons.append(f"X-Loop: {value}")

    auto_submitted = [v.split(";", 1)[0].split("(", 1)[0].strip().lower()
                      for v in _values(mail, "Auto-Submitted")]
    precedence = [v.lower() for v in _values(mail, "Precedence") + _values(mail, "X-Precedence")]
    if "auto-replied" in auto_submitted:
        return Verdict("auto-reply", ("Auto-Submitted: auto-replied",), None, True)
    for header in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"):
        if _values(mail, header):
            return Verdict("auto-reply", (f"{header}: {_values(mail, header)[0]}",), None, True)
    if any(p in ("auto_reply", "auto-reply") for p in precedence):
        return Verdict("auto-reply", ("Precedence: auto_reply",), None, True)
    if _OUT_OF_OFFICE.match(mail.subject):
        return Verdict("auto-reply", (f"an out-of-office subject ({mail.subject[:60]!r})",),
                       None, True)

    if any(a and a != "no" for a in auto_submitted):
        reasons.append(f"Auto-Submitted: {auto_submitted[0]}")
    for value in precedence:
        if value in ("bulk", "junk", "list"):
            reasons.append(f"Precedence: {value}")
    for header in ("List-Id", "List-Unsubscribe", "X-Auto-Response-Suppress",
                   "X-FC-MachineGenerated"):
        for value in _values(mail, header):
            if header == "X-Auto-Response-Suppress" and value.lower() in ("", "none"):
                continue
            reasons.append(f"{header}: {value[:60]}")
    if reasons:
        return Verdict("automated", tuple(reasons), None, True)
    return Verdict("human", ())


# --- bounces ---------------------------------------------------------------------------------


def find_bounce(mail: ParsedMail) -> Bounce | None:
    """The delivery-status report in ``mail`` (RFC 3464), or a bounce from a mail daemon
    recognised by its subject; ``None`` for anything else."""
    reports = [a.data for a in mail.attachments if a.content_type == "message/delivery-status"]
    content_type = " ".join(mail.headers("Content-Type")).lower()
    if reports or ("multipart/report" in content_type and "delivery-status" in content_type):
        recipients = tuple(r for data in reports for r in _recipients(data))
        return Bounce(_returned_id(mail), recipients, _reason(recipients, mail))
    if _DAEMONS.match(mail.sender.key) and _BOUNCE_SUBJECT.search(mail.subject):
        return Bounce(_returned_id(mail), (), mail.title)
    return None


def _fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    name = ""
    for line in block.splitlines():
        if line[:1] in (" ", "\t") and name:
            fields[name] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            fields.setdefault(name, value.strip())
    return fields


def _recipients(data: bytes) -> list[BouncedRecipient]:
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    found: list[BouncedRecipient] = []
    for block in re.split(r"\n\s*\n", text):
        fields = _fields(block)
        recipient = fields.get("final-recipient") or fields.get("original-recipient")
        if not recipient:
            continue
        address = recipient.split(";", 1)[-1].strip().strip("<>")
        status = re.match(r"\d\.\d{1,3}\.\d{1,3}", fields.get("status", ""))
        found.append(BouncedRecipient(
            address=address, action=fields.get("action", "").lower().split()[0]
            if fields.get("action") else "",
            status=status.group(0) if status else "",
            diagnostic=" ".join(fields.get("diagnostic-code", "").split())[:300]))
    return found


def _reason(recipients: tuple[BouncedRecipient, ...], mail: ParsedMail) -> str:
    if not recipients:
        return mail.title
    parts = []
    for r in recipients:
        detail = r.diagnostic or r.status or r.action or "no status"
        parts.append(f"{r.address}: {r.action or 'unknown'} ({detail})")
    return "; ".join(parts)


_HEADER_PARSER = BytesParser(policy=compat32)


def _returned_id(mail: ParsedMail) -> str | None:
    """The Message-ID of the returned message: its attached copy or headers, else the
    first ``Message-ID:`` line quoted in the report's text."""
    for attachment in mail.attachments:
        if attachment.content_type in ("message/rfc822", "text/rfc822-headers",
                                       "message/rfc822-headers"):
            headers = _HEADER_PARSER.parsebytes(attachment.data, headersonly=True)
            value = headers.get("Message-ID")
            found = normalise_message_id(str(value)) if value else None
            if found:
                return found
    for text in [mail.text] + [a.data.decode("utf-8", "replace") for a in mail.attachments
                               if a.content_type.startswith("text/")]:
        match = re.search(r"^[ \t]*Message-ID:[ \t]*(<[^<>\s]+>)", text, re.I | re.M)
        if match:
            return normalise_message_id(match.group(1))
    return None


# --- our own automatic mail --------------------------------------------------------------------


def automatic_headers(own_address: str, *, kind: Literal["auto-replied", "auto-generated"]
                      = "auto-replied") -> Mapping[str, str]:
    """The headers of mail we send automatically (acknowledgements): RFC 3834's
    ``Auto-Submitted``, Microsoft's ``X-Auto-Response-Suppress`` (no out-of-office back),
    and ``X-Loop`` naming our address (other help desks stop there)."""
    return {
        "Auto-Submitted": kind,
        "X-Auto-Response-Suppress": "All",
        "X-Loop": own_address,
    }


class HourlyCap:
    """At most ``per_hour`` automatic mails to one recipient in any sliding hour.

    ``clock`` returns seconds (default :func:`time.monotonic`); tests pass their own.
    Addresses are compared case-insensitively.
    """

    WINDOW = 3600.0

    def __init__(self, per_hour: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(per_hour, bool) or not isinstance(per_hour, int) or per_hour < 0:
            raise ValueError(f"per_hour must be a whole number of mails >= 0 (got {per_hour!r})")
        self.per_hour = per_hour
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}

    def _recent(self, recipient: str) -> deque[float]:
        key = recipient.strip().casefold()
        sent = self._sent.setdefault(key, deque())
        horizon = self._clock() - self.WINDOW
        while sent and sent[0] <= horizon:
            sent.popleft()
        if not sent:
            del self._sent[key]
            return deque()
        return sent

    def remaining(self, recipient: str) -> int:
        """How many automatic mails ``recipient`` may still get in the current hour."""
        return max(0, self.per_hour - len(self._recent(recipient)))

    def allow(self, recipient: str) -> bool:
        """Whether one more automatic mail may go to ``recipient`` now; counts it if so."""
        if self.remaining(recipient) <= 0:
            return False
        self._sent.setdefault(recipient.strip().casefold(), deque()).append(self._clock())
        return True
