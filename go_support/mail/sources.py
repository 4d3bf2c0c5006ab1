"""Where mails come from: an IMAP mailbox (IDLE, or polling), a Maildir, or standard input.

Every source hands out :class:`IncomingMail` and changes nothing on :meth:`fetch`: a mail
leaves its inbox only through :meth:`done`, which the daemon calls once Group-Office holds the
mail, or :meth:`quarantine`. A crash in between therefore leaves the mail where it was, and it
is fetched again (the daemon's bookkeeping makes the second import a no-op). The help desks
that mark first and import afterwards lose mail that way; those that import without marking
double it.

IMAP (:class:`~go_support.mail.imap.ImapSource`, in its own module) uses ``imapclient``
with explicit timeouts, TLS verified by default (implicit TLS or STARTTLS, with an optional
CA bundle), ``BODY.PEEK[]`` so that fetching sets
no ``\\Seen``, ``MOVE`` where the server has it (else COPY, ``\\Deleted`` and UID EXPUNGE),
and IDLE where the server has it and the settings allow it, else polling. Mails over the size
limit are not downloaded: their :attr:`IncomingMail.raw` is ``None`` and they go to the
quarantine folder on the server, where their bytes stay. Where the server has CONDSTORE,
:meth:`ImapSource.fetch` hands out only mails this daemon claimed
(:mod:`go_support.mail.claims`): two daemons on one mailbox never import the same mail at
the same moment.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from go_support.errors import GoSupportError
from go_support.mail.config import MailboxSettings
from go_support.mail.parse import DEFAULT_MAX_BYTES

__all__ = [
    "ImapSource",
    "IncomingMail",
    "MailSource",
    "MaildirSource",
    "PushedSource",
    "SourceError",
    "StdinSource",
]

log = logging.getLogger("go_support.mail")


if TYPE_CHECKING:
    from go_support.mail.imap import ImapSource


def __getattr__(name: str) -> Any:
    """``ImapSource`` lives in :mod:`go_support.mail.imap`, imported when first asked for:
    ``go-support ingest`` and ``lmtp`` never load ``imapclient``."""
    if name == "ImapSource":
        from go_support.mail.imap import ImapSource

        return ImapSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SourceError(GoSupportError):
    """A source failed; ``temporary`` says whether trying again later may help (a lost
    connection) or not (a refused login, a certificate that does not verify)."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


@dataclass(frozen=True)
class IncomingMail:
    """A mail as a source found it. ``raw`` is ``None`` when it is over the size limit (it
    was not downloaded); ``key`` names it within its source."""

    source: str
    key: str
    raw: bytes | None = field(repr=False)
    size: int
    envelope_recipient: str | None = None
    received_at: datetime | None = None


class MailSource(Protocol):
    """What the daemon needs of a source."""

    name: str

    def fetch(self, limit: int | None = None) -> list[IncomingMail]:
        """The mails waiting, oldest first; changes nothing."""

    def wait(self, timeout: float) -> bool:
        """Block until new mail may have arrived or ``timeout`` seconds passed; ``True`` when
        the source saw (or, polling, may have) something new."""

    def done(self, *mails: IncomingMail) -> None:
        """Group-Office holds ``mails``: take them out of the inbox (move or flag), in as few
        commands as the source allows."""

    def quarantine(self, *mails: IncomingMail) -> None:
        """Move ``mails`` to the source's quarantine (their bytes stay there)."""

    def close(self) -> None: ...


# --- Maildir ---------------------------------------------------------------------------------


class MaildirSource:
    """A Maildir (``new/`` and ``cur/``) with Maildir++ subfolders for processed and
    quarantined mail. Taking a mail is one ``rename``: when two daemons share the folder,
    exactly one of them moves each mail."""

    def __init__(self, name: str, path: str | os.PathLike[str], *,
                 processed_folder: str = "Processed", quarantine_folder: str = "Quarantine",
                 max_bytes: int = DEFAULT_MAX_BYTES, poll_seconds: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = name
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.poll_seconds = poll_seconds
        self._sleep = sleep
        self.processed = self._folder(processed_folder)
        self.quarantined = self._folder(quarantine_folder)
        for sub in ("cur", "new", "tmp"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_settings(cls, name: str, settings: MailboxSettings, *,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> MaildirSource:
        if settings.kind != "maildir" or not settings.path:
            raise ValueError(f"mailbox {name!r} is not a Maildir mailbox with a path")
        return cls(name, settings.path, processed_folder=settings.move_to or "Processed",
                   quarantine_folder=settings.quarantine_folder, max_bytes=max_bytes,
                   poll_seconds=settings.poll_seconds)

    def __repr__(self) -> str:
        return f"MaildirSource({self.name!r}, {str(self.path)!r})"

    def _folder(self, name: str) -> Path:
        folder = self.path / ("." + name.strip("./").replace("/", "."))
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return folder

    def _files(self) -> list[Path]:
        found = []
        for sub in ("new", "cur"):
            with os.scandir(self.path / sub) as entries:
                found += [Path(e.path) for e in entries
                          if e.is_file() and not e.name.startswith(".")]

        def order(path: Path) -> tuple[float, str]:
            try:
                return path.stat().st_mtime, path.name
            except FileNotFoundError:
                return float("inf"), path.name

        return sorted(found, key=order)

    def fetch(self, limit: int | None = None) -> list[IncomingMail]:
        mails = []
        for path in self._files()[:limit]:
            try:
                stat = path.stat()
                raw = path.read_bytes() if stat.st_size <= self.max_bytes else None
            except FileNotFoundError:
                continue  # taken by another daemon meanwhile
            mails.append(IncomingMail(
                self.name, f"{path.parent.name}/{path.name}", raw, stat.st_size,
                received_at=datetime.fromtimestamp(stat.st_mtime, UTC)))
        return mails

    def _take(self, mail: IncomingMail, folder: Path) -> None:
        sub, _, file_name = mail.key.partition("/")
        if mail.source != self.name or sub not in ("new", "cur") or "/" in file_name:
            raise ValueError(f"{mail.key!r} is not a mail of Maildir {self.name!r}")
        target = file_name if ":2," in file_name else file_name + ":2,"
        try:
            os.rename(self.path / sub / file_name, folder / "cur" / target)
        except FileNotFoundError:
            log.info("Maildir %r: %s was already taken", self.name, mail.key)

    def done(self, *mails: IncomingMail) -> None:
        for mail in mails:
            self._take(mail, self.processed)

    def quarantine(self, *mails: IncomingMail) -> None:
        for mail in mails:
            self._take(mail, self.quarantined)

    def wait(self, timeout: float) -> bool:
        """Poll ``new/`` until a mail is there or ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        while True:
            with os.scandir(self.path / "new") as entries:
                if any(not e.name.startswith(".") for e in entries):
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._sleep(min(left, self.poll_seconds))

    def close(self) -> None:
        return None


# --- standard input --------------------------------------------------------------------------


class PushedSource:
    """The source of mail an MTA hands over (standard input, LMTP): there is no inbox to take
    it out of; the exit code or the LMTP answer tells the MTA that it was taken."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fetch(self, limit: int | None = None) -> list[IncomingMail]:
        return []

    def wait(self, timeout: float) -> bool:
        return False

    def done(self, *mails: IncomingMail) -> None:
        return None

    def quarantine(self, *mails: IncomingMail) -> None:
        return None

    def close(self) -> None:
        return None


class StdinSource(PushedSource):
    """One mail on standard input (``go-support ingest``, delivery from an MTA). Reading stops
    at the size limit: a larger mail is counted to its end but not kept. :meth:`done` and
    :meth:`quarantine` change nothing: the MTA's delivery succeeds with exit code 0."""

    def __init__(self, stream: IO[bytes], *, envelope_recipient: str | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES, name: str = "stdin") -> None:
        super().__init__(name)
        self._stream = stream
        self.envelope_recipient = envelope_recipient
        self.max_bytes = max_bytes
        self._read = False

    def fetch(self, limit: int | None = None) -> list[IncomingMail]:
        if self._read or limit == 0:
            return []
        self._read = True
        data = self._stream.read(self.max_bytes + 1)
        size = len(data)
        raw: bytes | None = data
        if size > self.max_bytes:
            raw = None
            while chunk := self._stream.read(1 << 20):
                size += len(chunk)
        return [IncomingMail(self.name, "stdin", raw, size, self.envelope_recipient,
                             datetime.now(UTC))]


