"""The ``[mail]`` settings: our addresses, limits, and the mailboxes the daemon reads.

::

    [mail]
    addresses = ["support@example.com"]
    [mail.mailboxes.support]
    host = "imap.example.com"
    user = "support@example.com"
    type = "General"
    [mail.mailboxes.support.addresses]
    "hardware@example.com" = "Hardware"

Secrets never come from the file: a mailbox's password is read from the environment variable
named by ``password_env`` (default ``GO_SUPPORT_MAILBOX_<NAME>_PASSWORD``), the Message-ID key
from ``$GO_SUPPORT_MAIL_SECRET``. A ``password`` key in the file is an error that says so.
``docs/sysadmin.md`` documents every key.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from go_support.errors import GoSupportError

__all__ = [
    "MailSettings",
    "MailboxSettings",
    "OutboundSettings",
    "PasswordMissing",
    "SmtpSettings",
    "password_variable",
]

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FLAG = re.compile(r"^\$?[A-Za-z0-9_.-]{1,64}$")


class PasswordMissing(GoSupportError):
    """A mailbox's password is not in the environment (names the variable)."""


def password_variable(mailbox: str) -> str:
    """The default environment variable of a mailbox's password."""
    return "GO_SUPPORT_MAILBOX_" + re.sub(r"[^A-Za-z0-9]+", "_", mailbox).strip("_").upper() + (
        "_PASSWORD")


def _address(value: str) -> str:
    text = value.strip()
    if not _ADDRESS.match(text):
        raise ValueError(f"{value!r} is not an e-mail address")
    return text


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Server(_Section):
    """What an IMAP and an SMTP server have in common: where, how secured, who, and the
    environment variable of the password (a password in the file is refused)."""

    _PASSWORD_HINT: ClassVar[str] = ""

    host: str | None = None
    port: Annotated[int, Field(gt=0, lt=65536)] | None = None
    security: Literal["tls", "starttls", "none"] = "tls"
    verify_tls: bool = True
    ca_bundle: str | None = None
    user: str | None = None
    password_env: str | None = None
    """The environment variable that holds the password."""
    password: None = Field(default=None, exclude=True)
    timeout: Annotated[float, Field(gt=0)] = 30.0

    @field_validator("password", mode="before")
    @classmethod
    def _no_password(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(
                "secrets do not belong in the configuration file: put the password in the "
                f"environment variable named by password_env (default {cls._PASSWORD_HINT})")
        return None

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

    def tls_context(self) -> ssl.SSLContext:
        """Verifying certificates (with ``ca_bundle`` if given) unless ``verify_tls`` is off."""
        context = ssl.create_default_context(cafile=self.ca_bundle or None)
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _secret(self, variable: str, where: str, env: Mapping[str, str] | None) -> str:
        value = (os.environ if env is None else env).get(variable, "")
        if not value:
            raise PasswordMissing(f"{where}: set the environment variable {variable} to the "
                                  f"password of {self.user!r}")
        return value


class MailboxSettings(_Server):
    """``[mail.mailboxes.<name>]``: one mailbox, the ticket type it feeds, and its routes.
    ``port`` defaults to 993 with ``security = "tls"``, else 143; ``password_env`` to
    ``GO_SUPPORT_MAILBOX_<NAME>_PASSWORD``."""

    _PASSWORD_HINT: ClassVar[str] = "GO_SUPPORT_MAILBOX_<NAME>_PASSWORD"

    kind: Literal["imap", "maildir", "jmap"] = "imap"
    path: str | None = None
    """The Maildir folder (``kind = "maildir"``)."""
    url: str | None = None
    """The JMAP server (``kind = "jmap"``): ``https://host[:port]``; its session is at
    ``/.well-known/jmap``."""
    folder: str = "INBOX"
    processed_folder: str | None = None
    """Where a mail goes once Group-Office holds it (default "Processed", unless flagged)."""
    processed_flag: str | None = None
    """Instead of moving: the IMAP (or JMAP) keyword that marks a mail done (e.g.
    ``$GoSupportDone``)."""
    quarantine_folder: str = "Quarantine"
    type: str | None = None
    """The ticket type of this mailbox's mail; default ``[desk] default_type``."""
    addresses: dict[str, str] = {}
    """Recipient address (or alias, or plus-address) -> ticket type."""
    plus_types: bool = True
    """``support+<type>@`` goes to the ticket type named ``<type>`` when no address says else."""
    idle: bool = True
    poll_seconds: Annotated[float, Field(gt=0)] = 60.0

    @field_validator("addresses")
    @classmethod
    def _routes(cls, value: dict[str, str]) -> dict[str, str]:
        routes: dict[str, str] = {}
        for address, type_name in value.items():
            if not type_name.strip():
                raise ValueError(f"the ticket type of {address!r} must not be empty")
            routes[_address(address).casefold()] = type_name.strip()
        return routes

    @field_validator("processed_flag")
    @classmethod
    def _flag(cls, value: str | None) -> str | None:
        if value is not None and not _FLAG.match(value):
            raise ValueError(f"{value!r} is not an IMAP keyword (e.g. \"$GoSupportDone\")")
        return value

    @model_validator(mode="after")
    def _complete(self) -> MailboxSettings:
        if self.kind == "imap":
            missing = [k for k in ("host", "user") if not getattr(self, k)]
            if missing:
                raise ValueError(f"an IMAP mailbox needs {' and '.join(missing)}")
            if self.url is not None:
                raise ValueError("url is for kind = \"jmap\"; an IMAP mailbox takes host and "
                                 "port")
        elif self.kind == "jmap":
            self._check_jmap()
        elif not self.path:
            raise ValueError("a Maildir mailbox needs path")
        if self.processed_folder is not None and self.processed_flag is not None:
            raise ValueError("give only one of processed_folder (mail is moved there) and "
                             "processed_flag (mail is flagged and stays)")
        for key in ("processed_folder", "folder", "quarantine_folder"):
            value = getattr(self, key)
            if value is not None and not value.strip():
                raise ValueError(f"{key} must not be empty")
        return self

    def _check_jmap(self) -> None:
        missing = [k for k in ("url", "user") if not getattr(self, k)]
        if missing:
            raise ValueError(f"a JMAP mailbox needs {' and '.join(missing)}")
        given = sorted(k for k in ("host", "port", "security", "path") if k in
                       self.model_fields_set)
        if given:
            raise ValueError(f"a JMAP mailbox takes url, not {', '.join(given)}")
        parts = urlsplit(self.url or "")
        if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/") \
                or parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(f"url {self.url!r} must be https://host or https://host:port "
                             "(JMAP over plain HTTP would send the password in clear)")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError(f"url {self.url!r} has a port that is not a number") from None

    @property
    def jmap_host(self) -> str:
        """``host[:port]`` of a JMAP mailbox's url."""
        return urlsplit(self.url or "").netloc

    @property
    def move_to(self) -> str | None:
        """The folder processed mail is moved to; ``None`` when it is flagged instead."""
        if self.processed_flag is not None:
            return None
        return self.processed_folder or "Processed"

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    def password_for(self, name: str, env: Mapping[str, str] | None = None) -> str:
        """The password from the environment; :class:`PasswordMissing` names the variable."""
        return self._secret(self.password_env or password_variable(name), f"mailbox {name!r}",
                            env)


class SmtpSettings(_Server):
    """``[mail.smtp]``: where our mail leaves. ``port`` defaults to 465 with
    ``security = "tls"``, else 25."""

    _PASSWORD_HINT: ClassVar[str] = "GO_SUPPORT_SMTP_PASSWORD"

    host: str | None = "localhost"
    security: Literal["tls", "starttls", "none"] = "starttls"
    password_env: str | None = "GO_SUPPORT_SMTP_PASSWORD"

    def password_from(self, env: Mapping[str, str] | None = None) -> str | None:
        """The password (``None`` without a user); :class:`PasswordMissing` names the
        variable when a user is set and it is empty."""
        if not self.user:
            return None
        return self._secret(self.password_env or self._PASSWORD_HINT, "[mail.smtp]", env)

    @property
    def effective_port(self) -> int:
        return self.port or (465 if self.security == "tls" else 25)


#: The placeholders an acknowledgement's template may use.
ACK_PLACEHOLDERS = ("ticket", "subject", "type", "name")

DEFAULT_ACK_TEXT = (
    "<p>Hello {name},</p><p>thank you for your message. We opened ticket {ticket} "
    "(\u201c{subject}\u201d) and will answer as soon as we can. Reply to this mail to add "
    "to it.</p>")


class OutboundSettings(_Section):
    """``[mail.outbound]``: mailing agents' answers, and acknowledgements of new tickets."""

    enabled: bool = True
    """Whether this daemon mails answers (run exactly one sending daemon per Group-Office)."""
    grace_seconds: Annotated[float, Field(ge=0)] = 120.0
    """An answer is mailed this long after its last edit: time to correct it or label it
    Private."""
    lookback_hours: Annotated[float, Field(gt=0)] = 72.0
    """Answers written or changed longer ago than this are never mailed (a daemon stopped
    for longer does not mail stale answers; imported history is never mailed)."""
    journal: str | None = None
    """A local file where each mail the SMTP server accepted is noted before Group-Office
    marks it sent: after a crash in between, it is marked, not sent again."""
    from_name: str | None = None
    """The display name of our mail (default: the ticket type's name)."""
    acknowledge: bool = True
    """Acknowledge new tickets opened by mail (people only, never automated senders)."""
    acknowledge_types: dict[str, bool] = {}
    """Ticket type name -> on/off, overriding ``acknowledge`` for that type."""
    acknowledgement: str = DEFAULT_ACK_TEXT
    """The acknowledgement's HTML; placeholders {ticket}, {subject}, {type}, {name}."""

    @field_validator("acknowledgement")
    @classmethod
    def _template(cls, value: str) -> str:
        import string

        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        except ValueError as exc:
            raise ValueError(f"the acknowledgement template is not valid ({exc}); write "
                             "literal braces as {{ and }}") from None
        unknown = sorted({f for f in fields if f not in ACK_PLACEHOLDERS})
        if unknown:
            raise ValueError(f"unknown placeholder(s) {', '.join(unknown)} in the "
                             f"acknowledgement; known: {', '.join(ACK_PLACEHOLDERS)}")
        return value

    def acknowledges(self, type_name: str) -> bool:
        """Whether new tickets of ``type_name`` get an acknowledgement (case-insensitive)."""
        folded = type_name.casefold()
        for name, on in self.acknowledge_types.items():
            if name.casefold() == folded:
                return on
        return self.acknowledge


class MailSettings(_Section):
    """``[mail]``: what the mail daemon needs besides its mailboxes."""

    addresses: list[str] = []
    """Our own addresses: the From of our mail, and what loop protection refuses as sender."""
    message_id_domain: str | None = None
    """The domain of our Message-IDs (default: the domain of the first address)."""
    max_size_mb: Annotated[float, Field(gt=0)] = 25.0
    """Mails over this size are quarantined with that reason."""
    quarantine_dir: str | None = None
    """A local folder for quarantined mails (their bytes and reason)."""
    state_dir: str | None = None
    """A local folder for the daemon's small state files (the last mail of each mailbox);
    default ``$STATE_DIRECTORY``, ``$XDG_STATE_HOME/go-support`` or
    ``~/.local/state/go-support``."""
    reopen_days: Annotated[int, Field(ge=0)] = 14
    """A follow-up this many days after closing opens a new ticket instead of reopening."""
    auto_reply_per_hour: Annotated[int, Field(ge=0)] = 5
    """At most this many automatic mails (acknowledgements) per recipient per hour."""
    mailboxes: dict[str, MailboxSettings] = {}
    smtp: SmtpSettings = SmtpSettings()
    outbound: OutboundSettings = OutboundSettings()

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [_address(a) for a in value]

    @field_validator("mailboxes")
    @classmethod
    def _names(cls, value: dict[str, MailboxSettings]) -> dict[str, MailboxSettings]:
        for name in value:
            if not name.strip():
                raise ValueError("a mailbox name must not be empty")
        return value

    @property
    def max_bytes(self) -> int:
        return int(self.max_size_mb * 1024 * 1024)

    @property
    def id_domain(self) -> str | None:
        if self.message_id_domain:
            return self.message_id_domain
        return self.addresses[0].rsplit("@", 1)[1] if self.addresses else None
