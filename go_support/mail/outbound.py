"""Outbound mail: composing our answers and acknowledgements, and handing them to SMTP.

:func:`compose` builds the mail for one comment of a ticket: the ticket's tag in the subject,
a signed Message-ID that names ticket and comment (:mod:`~go_support.mail.thread_ids`),
``In-Reply-To``/``References`` to the requester's mail so that their client threads it,
``X-Loop`` with our address (so our own mail coming back is recognised as a loop), HTML with
a plain-text alternative, and attachments. Automatic mail (acknowledgements) also carries
RFC 3834's ``Auto-Submitted`` and ``X-Auto-Response-Suppress``
(:func:`~go_support.mail.loops.automatic_headers`).

:class:`SmtpSender` sends with explicit timeouts, TLS verified by default, and turns SMTP's
answers into :class:`SendFailed` with the server's code and text, ``permanent`` for 5xx, so the
daemon can mark the comment ``senderror`` with the reason or try again later.
"""

from __future__ import annotations

import mimetypes
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Literal

from go_support.desk.html import html_to_text
from go_support.errors import GoSupportError, redact
from go_support.mail.config import SmtpSettings
from go_support.mail.loops import automatic_headers
from go_support.mail.thread_ids import MessageIds, tag_subject

__all__ = ["OutgoingAttachment", "SendFailed", "SmtpSender", "compose"]

MAX_REFERENCES = 10  # enough for every client to thread; keeps the header short


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str
    data: bytes
    content_type: str | None = None


def _address(email: str, name: str = "") -> HeaderAddress:
    local, _, domain = email.rpartition("@")
    if not local or not domain:
        raise ValueError(f"{email!r} is not an e-mail address")
    return HeaderAddress(display_name=name, username=local, domain=domain)


def compose(
    *,
    ids: MessageIds,
    ticket_id: str | int,
    comment_id: str | int | None,
    sender: tuple[str, str],
    to: Sequence[tuple[str, str]],
    subject: str,
    html: str,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    attachments: Sequence[OutgoingAttachment] = (),
    automatic: bool = False,
    date: datetime | None = None,
) -> EmailMessage:
    """The mail for one comment: ``sender`` and ``to`` are ``(address, name)``; ``subject``
    the ticket's title (a ``Re:`` and the tag are added); ``in_reply_to`` the requester's
    last mail and ``references`` the thread's Message-IDs, oldest first."""
    if not to:
        raise ValueError("a mail needs at least one recipient")
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(*sender)
    message["To"] = [_address(*recipient) for recipient in to]
    tagged = tag_subject(subject, ticket_id)
    message["Subject"] = tagged if tagged.lower().startswith("re:") else f"Re: {tagged}"
    message["Date"] = format_datetime((date or datetime.now(UTC)).astimezone(UTC))
    message["Message-ID"] = ids.new(ticket_id, comment_id)
    thread = list(dict.fromkeys([*references, *([in_reply_to] if in_reply_to else [])]))
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if thread:
        kept = thread[:1] + thread[1:][-(MAX_REFERENCES - 1):]  # the root, then the newest
        message["References"] = " ".join(kept)
    for name, value in (automatic_headers(sender[0]) if automatic
                        else {"X-Loop": sender[0]}).items():
        message[name] = value
    message.set_content(html_to_text(html) or " ")
    message.add_alternative(f"<!DOCTYPE html><html><body>{html}</body></html>", subtype="html")
    for attachment in attachments:
        content_type = (attachment.content_type
                        or mimetypes.guess_type(attachment.filename)[0]
                        or "application/octet-stream")
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message


class SendFailed(GoSupportError):
    """SMTP did not take the mail: ``code`` and the server's text; ``permanent`` for 5xx
    (mark the comment ``senderror``), else try again later."""

    def __init__(self, message: str, *, code: int | None, permanent: bool) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class SmtpSender:
    """One SMTP server: ``security`` ``"starttls"`` (default), ``"tls"`` or ``"none"``."""

    def __init__(self, host: str, port: int = 25, *,
                 security: Literal["starttls", "tls", "none"] = "starttls",
                 user: str | None = None, password: str | None = None, timeout: float = 30.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.security = host, port, security
        self.user, self._password, self.timeout = user, password, timeout
        self._context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        return f"SmtpSender({self.host!r}, {self.port}, security={self.security!r})"

    @classmethod
    def from_settings(cls, settings: SmtpSettings,
                      env: Mapping[str, str] | None = None) -> SmtpSender:
        """The sender of ``[mail.smtp]``, its password from the environment."""
        return cls(settings.host or "localhost", settings.effective_port,
                   security=settings.security, user=settings.user,
                   password=settings.password_from(env), timeout=settings.timeout,
                   ssl_context=settings.tls_context())

    def _fail(self, what: str, exc: BaseException, code: int | None, permanent: bool
              ) -> SendFailed:
        text = redact(f"SMTP {self.host}:{self.port}: {what}: {exc}", self._password)
        return SendFailed(text, code=code, permanent=permanent)

    def send(self, message: EmailMessage) -> str:
        """Send ``message`` to every recipient in its To/Cc; returns its Message-ID.
        Raises :class:`SendFailed` when any recipient is refused or SMTP fails."""
        try:
            if self.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port,
                                                        timeout=self.timeout,
                                                        context=self._context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise self._fail("cannot connect", exc, None, False) from None
        try:
            with client:
                if self.security == "starttls":
                    client.starttls(context=self._context)
                if self.user:
                    client.login(self.user, self._password or "")
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise self._fail("recipient refused", _Text(code, text, exc.recipients), code,
                             code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            raise self._fail("refused", _Text(exc.smtp_code, exc.smtp_error), exc.smtp_code,
                             exc.smtp_code >= 500) from None
        except ssl.SSLCertVerificationError as exc:
            raise self._fail("the server's TLS certificate does not verify", exc, None,
                             False) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise self._fail("failed", exc, None, False) from None
        if refused:
            code, text = next(iter(refused.values()))
            raise self._fail("recipient refused", _Text(code, text, refused), code, code >= 500)
        return str(message["Message-ID"])


class _Text(Exception):
    """An SMTP answer as text: ``550 5.1.1 ... (ann@example.org)``."""

    def __init__(self, code: int, text: bytes | str,
                 recipients: dict[str, tuple[int, bytes]] | None = None) -> None:
        words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        who = f" ({', '.join(recipients)})" if recipients else ""
        super().__init__(f"{code} {words}{who}")
