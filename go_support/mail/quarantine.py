"""The local quarantine: mails that could not become tickets, with their bytes and reason.

Each mail is two files in ``[mail] quarantine_dir``: ``<id>.eml`` (the original bytes, exactly
as received) and ``<id>.json`` (why, from where, when). The id is a hash of the bytes, so a
mail quarantined twice (the daemon killed between storing it here and moving it out of its
inbox) is one entry. Files are written to a temporary name and renamed, readable by the
daemon's user only (mail is private). A mail too large to download stays in its IMAP
quarantine folder; its entry here has no bytes and says where it is.

``go-support mail quarantine list|show|retry`` reads this folder: :meth:`QuarantineStore.list`,
:meth:`~QuarantineStore.get` and :meth:`~QuarantineStore.read`, and
:meth:`~QuarantineStore.remove` once a retry made a ticket of the mail.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from go_support.errors import GoSupportError

__all__ = ["QuarantineStore", "QuarantinedMail", "UnknownQuarantineId"]

_ID = re.compile(r"^[0-9a-f]{20}$")


class UnknownQuarantineId(GoSupportError):
    """No quarantined mail has this id."""


@dataclass(frozen=True)
class QuarantinedMail:
    """One entry: ``id`` (for show and retry), the reason, and where the mail came from."""

    id: str
    code: str
    reason: str
    source: str
    key: str
    size: int
    at: str
    """When it was first quarantined (ISO 8601, UTC)."""
    has_bytes: bool


class QuarantineStore:
    """The folder of quarantined mails (created with mode 700 if missing)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"QuarantineStore({str(self.folder)!r})"

    def put(self, raw: bytes | None, *, code: str, reason: str, source: str, key: str,
            size: int | None = None, now: datetime | None = None) -> QuarantinedMail:
        """Keep a mail (``raw`` ``None``: its bytes stay in the source); the same bytes twice
        are one entry, which keeps its first time and gets the latest reason."""
        digest = hashlib.sha256(raw if raw is not None else f"{source}\0{key}".encode())
        mail_id = digest.hexdigest()[:20]
        previous = self._load(mail_id)
        entry = QuarantinedMail(
            id=mail_id, code=code, reason=reason, source=source, key=key,
            size=len(raw) if raw is not None else int(size or 0),
            at=previous.at if previous else (now or datetime.now(UTC)).astimezone(UTC)
            .isoformat(timespec="seconds"),
            has_bytes=raw is not None)
        if raw is not None:
            self._write(self.folder / f"{mail_id}.eml", raw)
        self._write(self.folder / f"{mail_id}.json",
                    json.dumps(asdict(entry), ensure_ascii=False, indent=1).encode())
        return entry

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def _load(self, mail_id: str) -> QuarantinedMail | None:
        try:
            data = json.loads((self.folder / f"{mail_id}.json").read_text(encoding="utf-8"))
            return QuarantinedMail(**data)
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def list(self) -> list[QuarantinedMail]:
        """Every entry, oldest first (a damaged entry file is left out)."""
        entries = [self._load(p.stem) for p in self.folder.glob("*.json")
                   if _ID.match(p.stem)]
        return sorted((e for e in entries if e is not None), key=lambda e: (e.at, e.id))

    def get(self, mail_id: str) -> QuarantinedMail:
        entry = self._load(mail_id) if _ID.match(mail_id) else None
        if entry is None:
            raise UnknownQuarantineId(
                f"no quarantined mail with id {mail_id!r} in {self.folder} "
                "(go-support mail quarantine list shows the ids)")
        return entry

    def read(self, mail_id: str) -> bytes:
        """The original bytes; an entry without them says where they are."""
        entry = self.get(mail_id)
        if not entry.has_bytes:
            raise UnknownQuarantineId(
                f"quarantined mail {mail_id} was not downloaded ({entry.reason}): it is in the "
                f"quarantine folder of mailbox {entry.source!r}")
        return (self.folder / f"{mail_id}.eml").read_bytes()

    def remove(self, mail_id: str) -> None:
        """Forget an entry (after a retry made a ticket of it)."""
        self.get(mail_id)
        for suffix in (".json", ".eml"):
            (self.folder / f"{mail_id}{suffix}").unlink(missing_ok=True)
