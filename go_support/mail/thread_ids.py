"""Threading: our signed Message-IDs, and which ticket a mail belongs to.

Every mail the desk sends carries a Message-ID that names its ticket (and comment) and is
signed with an HMAC key from the environment (``$GO_SUPPORT_MAIL_SECRET``): a reply's
``In-Reply-To``/``References`` then lead back to the ticket without any lookup, and nobody can
forge one to write into someone else's ticket. :func:`match_thread` decides, in this order:

1. a signed Message-ID of ours in ``In-Reply-To``, then in ``References`` (newest first);
2. a Message-ID we know (the caller looks them all up at once: first Message-IDs of tickets,
   Message-IDs of stored mails), same order;
3. the subject tag ``[#<ticket>]``, accepted only when the sender belongs to that ticket (the
   caller supplies its people: requester, agents of its type, addresses on the thread);
   otherwise the mail opens a new ticket, so that guessing a number gains nothing.

Everything here is pure: no network, no clock except what the caller passes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from go_support.errors import GoSupportError
from go_support.mail.parse import ParsedMail

__all__ = [
    "SECRET_ENV",
    "MessageIds",
    "SecretMissing",
    "ThreadMatch",
    "TicketRef",
    "closed_ticket_action",
    "match_thread",
    "subject_tags",
    "tag_subject",
]

SECRET_ENV = "GO_SUPPORT_MAIL_SECRET"
MIN_SECRET_BYTES = 16

_ID_PART = r"[A-Za-z0-9_-]{1,40}"
_SIGNED = re.compile(
    rf"^<gs\.(?P<ticket>{_ID_PART})\.(?P<comment>{_ID_PART})\.(?P<nonce>[a-z0-9]{{4,32}})"
    r"\.(?P<sig>[0-9a-f]{20})@[^<>@\s]+>$")
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_TAG = re.compile(r"\[#([A-Za-z0-9_-]{1,40})\]")
_NO_COMMENT = "0"


class SecretMissing(GoSupportError):
    """The signing key is missing or too short (the message names the variable, never the
    value)."""


@dataclass(frozen=True)
class TicketRef:
    """What a signed Message-ID names: the ticket, and the comment it was sent for."""

    ticket_id: str
    comment_id: str | None = None


class MessageIds:
    """Makes and checks our Message-IDs: ``<gs.<ticket>.<comment>.<nonce>.<hmac>@<domain>>``.

    The HMAC-SHA256 (80 bits shown) covers ticket, comment and nonce; the domain is not
    signed, so changing it in the settings does not orphan old threads.
    """

    def __init__(self, secret: bytes | str, domain: str) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < MIN_SECRET_BYTES:
            raise SecretMissing(
                f"the Message-ID signing key must have at least {MIN_SECRET_BYTES} bytes "
                f"(set ${SECRET_ENV}, e.g. to the output of: openssl rand -hex 32)")
        if not _HOST.match(domain):
            raise ValueError(f"the Message-ID domain {domain!r} is not a host name")
        self._key = key
        self.domain = domain.lower()

    def __repr__(self) -> str:
        return f"MessageIds(domain={self.domain!r})"

    @classmethod
    def from_env(cls, domain: str, env: Mapping[str, str] | None = None) -> MessageIds:
        """The signer for ``domain`` with the key in ``$GO_SUPPORT_MAIL_SECRET``."""
        value = (os.environ if env is None else env).get(SECRET_ENV, "").strip()
        if not value:
            raise SecretMissing(
                f"${SECRET_ENV} is not set: the daemon signs its Message-IDs with it "
                "(e.g. the output of: openssl rand -hex 32; keep it secret and stable)")
        return cls(value, domain)

    def _sign(self, ticket: str, comment: str, nonce: str) -> str:
        payload = f"{ticket}.{comment}.{nonce}".encode()
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()[:20]

    def new(self, ticket_id: str | int, comment_id: str | int | None = None, *,
            nonce: str | None = None) -> str:
        """A fresh Message-ID for a mail about ``ticket_id`` (and ``comment_id``)."""
        ticket, comment = str(ticket_id), _NO_COMMENT if comment_id is None else str(comment_id)
        for what, value in (("ticket id", ticket), ("comment id", comment)):
            if not re.fullmatch(_ID_PART, value):
                raise ValueError(f"the {what} {value!r} cannot go into a Message-ID")
        nonce = nonce if nonce is not None else secrets.token_hex(6)
        if not re.fullmatch(r"[a-z0-9]{4,32}", nonce):
            raise ValueError(f"the nonce {nonce!r} must be 4 to 32 lower-case letters or digits")
        return f"<gs.{ticket}.{comment}.{nonce}.{self._sign(ticket, comment, nonce)}@{self.domain}>"

    def verify(self, message_id: str) -> TicketRef | None:
        """The ticket (and comment) a Message-ID of ours names, or ``None`` for any other or
        a forged one."""
        match = _SIGNED.match(message_id.strip())
        if match is None:
            return None
        ticket, comment, nonce = match.group("ticket", "comment", "nonce")
        if not hmac.compare_digest(self._sign(ticket, comment, nonce), match.group("sig")):
            return None
        return TicketRef(ticket, None if comment == _NO_COMMENT else comment)


# --- matching ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadMatch:
    """The ticket a mail belongs to (``None``: a new ticket), how it was found, and why."""

    ticket_id: str | None
    how: Literal["signed-id", "known-id", "subject-tag", "new"]
    reason: str
    comment_id: str | None = None


def _candidates(mail: ParsedMail) -> list[str]:
    ordered = list(mail.in_reply_to) + list(reversed(mail.references))
    return list(dict.fromkeys(ordered))


def subject_tags(subject: str) -> list[str]:
    """The ticket ids of ``[#<ticket>]`` tags in a subject, in order."""
    return list(dict.fromkeys(_TAG.findall(subject)))


def tag_subject(subject: str, ticket_id: str | int) -> str:
    """``subject`` with the tag of ``ticket_id`` in front, unless it already carries it."""
    tag = f"[#{ticket_id}]"
    text = " ".join(subject.split())
    return text if tag in text else f"{tag} {text}".strip()


def match_thread(
    mail: ParsedMail,
    *,
    ids: MessageIds | None,
    known: Callable[[Sequence[str]], Mapping[str, str]],
    people: Callable[[str], Iterable[str] | None],
) -> ThreadMatch:
    """The ticket ``mail`` follows up, in the order of the module's docstring.

    ``known(message_ids)`` returns ``{message id: ticket id}`` for those it knows (one call,
    so the caller can batch it); ``people(ticket_id)`` the addresses that belong to a ticket,
    or ``None`` when there is no such ticket.
    """
    candidates = _candidates(mail)
    if ids is not None:
        for message_id in candidates:
            ref = ids.verify(message_id)
            if ref is not None:
                return ThreadMatch(ref.ticket_id, "signed-id",
                                   f"replies to our message {message_id}", ref.comment_id)
    if candidates:
        found = known(candidates)
        for message_id in candidates:
            if message_id in found:
                return ThreadMatch(str(found[message_id]), "known-id",
                                   f"refers to {message_id}, a mail of ticket "
                                   f"{found[message_id]}")
    sender = mail.sender.key
    reasons = []
    for ticket in subject_tags(mail.subject):
        members = people(ticket)
        if members is None:
            reasons.append(f"the subject names ticket {ticket}, which does not exist")
            continue
        if sender in {m.strip().casefold() for m in members}:
            return ThreadMatch(ticket, "subject-tag",
                               f"the subject names ticket {ticket} and {mail.sender.email} "
                               "belongs to it")
        reasons.append(f"the subject names ticket {ticket}, but {mail.sender.email} does not "
                       "belong to it")
    return ThreadMatch(None, "new", "; ".join(reasons) or "no reference to a known ticket")


def closed_ticket_action(
    closed_at: datetime, now: datetime, reopen_days: int
) -> Literal["reopen", "new"]:
    """What a follow-up to a closed ticket does: reopen it within ``reopen_days`` of its
    closing, else open a new ticket that names the old one."""
    if reopen_days < 0:
        raise ValueError(f"reopen_days must be 0 or more (got {reopen_days})")
    return "reopen" if now - closed_at <= timedelta(days=reopen_days) else "new"
