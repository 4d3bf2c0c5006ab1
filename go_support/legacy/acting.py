"""``--userId``: the migration acts as a Group-Office user through a short-lived API key.

Why a key: Group-Office's own CLI runs as ``--userId``; over JMAP the only way to act as
another user is that user's own token. The admin API key of the settings creates a key for
the user (``Key/set`` with ``userId``, groupoffice-wire 11 and 13), the migration uses it,
and the key is destroyed at the end: after success, after a failure, after Ctrl-C or
SIGTERM. A key left behind by a killed run (SIGKILL cannot be caught) carries
:data:`KEY_PREFIX` in its name and is destroyed by the next run for the same user.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from go_support.jmap import GroupOfficeClient
from go_support.jmap.errors import JMAPError, MethodError
from go_support.legacy.errors import LegacyError

__all__ = ["KEY_PREFIX", "UnknownUser", "acting_key", "check_user"]

KEY_PREFIX = "go-support migrate"


class UnknownUser(LegacyError):
    """``--userId`` names no Group-Office user, or a disabled one."""


def check_user(admin: GroupOfficeClient, user_id: int) -> dict[str, Any]:
    """The user ``--userId`` names; :class:`UnknownUser` when missing or disabled."""
    found = admin.call("User/get", {"ids": [str(user_id)],
                                    "properties": ["id", "username", "enabled"]})
    users = found.get("list") or []
    if not users:
        raise UnknownUser(f"--userId {user_id}: there is no Group-Office user with id "
                          f"{user_id}")
    user: dict[str, Any] = users[0]
    if not user.get("enabled", True):
        raise UnknownUser(f"--userId {user_id}: user {user.get('username')!r} is disabled "
                          f"in Group-Office; enable it or choose another user")
    return user


def _stale_keys(admin: GroupOfficeClient, user_id: int) -> list[str]:
    """Keys an earlier, killed run left for the user (by name and owner)."""
    query = admin.call("Key/query", {})
    ids = [str(i) for i in query.get("ids") or []]
    if not ids:
        return []
    keys = admin.call("Key/get", {"ids": ids, "properties": ["id", "name", "userId"]})
    return [str(k["id"]) for k in keys.get("list") or []
            if str(k.get("name") or "").startswith(KEY_PREFIX)
            and str(k.get("userId")) == str(user_id)]


def _destroy(admin: GroupOfficeClient, key_ids: list[str]) -> None:
    if key_ids:
        admin.call("Key/set", {"destroy": key_ids})


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the run like Ctrl-C, so that the ``finally`` blocks run."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def acting_key(admin: GroupOfficeClient, user_id: int) -> Iterator[str]:
    """A fresh API key of ``user_id`` (checked to exist and be enabled), destroyed when the
    block ends however it ends. ``admin`` must be an administrator's client."""
    check_user(admin, user_id)
    _destroy(admin, _stale_keys(admin, user_id))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    with _sigterm_as_interrupt():
        name = f"{KEY_PREFIX} (user {user_id}, {stamp})"
        for attempt in range(3):  # a deadlocked call wrote nothing we can use: try again
            try:
                created = admin.call("Key/set", {"create": {"k": {
                    "name": name, "userId": int(user_id)}}})
                break
            except MethodError:
                if attempt == 2:
                    raise
        key = (created.get("created") or {}).get("k")
        if not key or not key.get("accessToken"):
            raise LegacyError(f"--userId {user_id}: Group-Office refused an API key for the "
                              f"user: {created.get('notCreated')}")
        try:
            yield str(key["accessToken"])
        finally:
            with contextlib.suppress(JMAPError):
                _destroy(admin, [str(key["id"])])
