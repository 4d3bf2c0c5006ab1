"""Signing in: Group-Office checks the password, the help page keeps the session.

* :func:`verify_credentials` logs in through Group-Office's ``api/auth.php`` (groupoffice-wire
  02) with :class:`~go_support.jmap.GroupOfficeClient`, keeps only the user id the login
  answer carries, and logs the token out again at once: the page never acts with the user's
  own token, only with the sidecar's key through ``desk.as_user``.
* :class:`FailureLimiter` counts failed sign-ins (per user name, per client address) in a
  sliding window, so that guessing passwords through the page is slow.
* :class:`SessionRegistry` holds the live sessions: the signed cookie carries only a random
  session id, so signing out ends a session on the server too, and idle or old ones expire.

The counters and sessions live in the process: run the page as one process with threads
(waitress, or gunicorn's ``gthread`` worker with ``--workers 1``), see docs/sysadmin.md.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from go_support.errors import GoSupportError
from go_support.jmap import (
    AuthenticationError,
    GroupOfficeClient,
    JMAPError,
    RetryPolicy,
    SecondFactorRequired,
)

__all__ = [
    "FailureLimiter",
    "LiveSession",
    "SessionRegistry",
    "SignInRefused",
    "SignInUnavailable",
    "verify_credentials",
]

Clock = Callable[[], float]


class SignInRefused(GoSupportError):
    """Group-Office did not accept the credentials; ``counts`` says whether it is a failed
    guess (a wrong password) rather than an account that needs what the page cannot give."""

    def __init__(self, message: str, *, counts: bool) -> None:
        super().__init__(message)
        self.counts = counts


class SignInUnavailable(GoSupportError):
    """Group-Office could not be asked (down, unreachable, an unexpected answer)."""


WRONG_PASSWORD = "The user name or password is not right."
SECOND_FACTOR = (
    "Your account signs in with a second factor (two-factor authentication), which this help "
    "page cannot ask for. Sign in to Group-Office itself, or ask your administrator for help.")


def verify_credentials(url: str, username: str, password: str, *, verify: bool | str = True,
                       timeout: float = 30.0) -> str:
    """The Group-Office user id for ``username``/``password``, checked by ``api/auth.php``.

    Raises :class:`SignInRefused` (wrong password or unknown user, which Group-Office does
    not tell apart; a disabled account; a second factor) or :class:`SignInUnavailable`.
    """
    client = GroupOfficeClient(url, username=username, password=password, verify=verify,
                               timeout=timeout,
                               retry=RetryPolicy(max_attempts=2, max_total_seconds=10))
    try:
        return str(client.user_id)  # the login answer carries the session: no further GET
    except SecondFactorRequired as exc:
        raise SignInRefused(SECOND_FACTOR, counts=False) from exc
    except AuthenticationError as exc:
        raise SignInRefused(WRONG_PASSWORD, counts=True) from exc
    except JMAPError as exc:
        raise SignInUnavailable(
            "The help desk cannot reach Group-Office to check your password right now. "
            "Please try again in a few minutes.") from exc
    finally:
        client.close()  # logs the token out: the page acts through its own key only


class FailureLimiter:
    """At most ``limit`` failures per key within ``window`` seconds (a sliding window)."""

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if len(times) < self.limit:
                return 0.0
            return max(1.0, times[-self.limit] + self.window - now)

    def fail(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent(key, now)
            self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 100_000:  # bounded memory under a flood of names
                self._prune(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)


@dataclass
class LiveSession:
    """A signed-in user: who, and when the session started and was last used."""

    user_id: str
    name: str
    started: float
    seen: float


class SessionRegistry:
    """The live sessions by id; a session ends at sign-out, when idle, or when too old."""

    def __init__(self, idle: float, max_age: float, clock: Clock = time.monotonic) -> None:
        self.idle = idle
        self.max_age = max_age
        self.clock = clock
        self._sessions: dict[str, LiveSession] = {}
        self._lock = threading.Lock()

    def start(self, user_id: str, name: str) -> str:
        """A new session id (random, 256 bits) for the user."""
        now = self.clock()
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._expire(now)
            self._sessions[sid] = LiveSession(user_id, name, now, now)
        return sid

    def touch(self, sid: str) -> LiveSession | None:
        """The live session ``sid`` (marked as used now), or ``None`` when it has ended."""
        now = self.clock()
        with self._lock:
            found = self._sessions.get(sid)
            if found is None:
                return None
            if now - found.seen > self.idle or now - found.started > self.max_age:
                del self._sessions[sid]
                return None
            found.seen = now
            return found

    def end(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)

    def _expire(self, now: float) -> None:
        for sid, found in list(self._sessions.items()):
            if now - found.seen > self.idle or now - found.started > self.max_age:
                del self._sessions[sid]
