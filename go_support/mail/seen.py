"""The last mail each mailbox handed to the intake, for ``go-support mail status``.

The daemon (and ``go-support ingest``) writes one small JSON file per mailbox after each batch
(``<state dir>/last-seen/<mailbox>.json``, replaced atomically): when, which mail, what became
of it, and the mailbox's last error (a refused login, Group-Office down) until a batch goes
through again. Nothing depends on it: it is what a sysadmin reads, never what exactly-once
rests on, so a file that cannot be written is only logged. The state dir is ``[mail]
state_dir``, else ``$STATE_DIRECTORY`` (systemd's ``StateDirectory=``), else
``$XDG_STATE_HOME/go-support``, else ``~/.local/state/go-support``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from go_support.mail.config import MailSettings
    from go_support.mail.pipeline import Outcome

__all__ = ["LastSeen", "last_seen", "record_error", "record_seen", "state_dir"]

log = logging.getLogger("go_support.mail")


def state_dir(mail: MailSettings | None = None,
              env: Mapping[str, str] | None = None) -> Path:
    """Where the daemon keeps its small state files (see the module)."""
    if mail is not None and mail.state_dir:
        return Path(mail.state_dir).expanduser()
    environ = os.environ if env is None else env
    if environ.get("STATE_DIRECTORY"):
        return Path(environ["STATE_DIRECTORY"].split(":")[0])
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "go-support"


@dataclass(frozen=True)
class LastSeen:
    """A mailbox's last mail (``at``, its ``mail`` key in the source, ``action``, ``ticket``,
    ``reason``) and its last ``error`` since then, if any."""

    mailbox: str
    at: str | None = None
    mail: str | None = None
    action: str | None = None
    ticket: str | None = None
    reason: str | None = None
    error: str | None = None
    error_at: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.at:
            where = f" -> ticket {self.ticket}" if self.ticket else ""
            parts.append(f"{self.at[:19].replace('T', ' ')} UTC, {self.action}{where}")
        if self.error:
            parts.append(f"error at {(self.error_at or '')[:19].replace('T', ' ')} UTC: "
                         f"{self.error}")
        return "; ".join(parts) or "not known"

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "mail": self.mail, "action": self.action,
                "ticket": self.ticket, "reason": self.reason, "error": self.error,
                "errorAt": self.error_at}


def _path(folder: Path, mailbox: str) -> Path:
    return folder / "last-seen" / f"{quote(mailbox, safe='')}.json"


def last_seen(mailbox: str, folder: str | os.PathLike[str] | None = None) -> LastSeen | None:
    """What the files say of ``mailbox`` (``None``: nothing recorded yet, or unreadable)."""
    path = _path(Path(folder) if folder is not None else state_dir(), mailbox)
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    values = {k: (str(data[k]) if data.get(k) is not None else None)
              for k in ("at", "mail", "action", "ticket", "reason", "error")}
    error_at = data.get("errorAt")
    return LastSeen(mailbox, error_at=str(error_at) if error_at else None, **values)


def _write(folder: Path, seen: LastSeen) -> None:
    path = _path(folder, seen.mailbox)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(seen.to_json()), "utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.debug("could not note the last mail of mailbox %r in %s: %s", seen.mailbox,
                  path, exc)
        with contextlib.suppress(OSError):
            temporary.unlink()


def record_seen(folder: Path, mailbox: str, outcomes: Sequence[Outcome]) -> None:
    """Note the last of ``outcomes`` (a batch of ``mailbox``); clears the last error."""
    if not outcomes:
        return
    last = outcomes[-1]
    _write(folder, LastSeen(mailbox, datetime.now(UTC).isoformat(), last.mail.key,
                            last.action, last.ticket_id, last.reason[:500]))


def record_error(folder: Path, mailbox: str, error: str) -> None:
    """Note that ``mailbox`` failed (its last mail stays as it was)."""
    before = last_seen(mailbox, folder) or LastSeen(mailbox)
    _write(folder, LastSeen(mailbox, before.at, before.mail, before.action, before.ticket,
                            before.reason, error[:500], datetime.now(UTC).isoformat()))
