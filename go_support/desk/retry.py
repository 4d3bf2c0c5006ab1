"""Writes that survive Group-Office's transient failures: the one retry loop of the desk.

Under concurrent writers Group-Office deadlocks in MariaDB and answers the losing ``/set`` call
with ``dbException`` ("Database exception. Check server logs for details."); later calls of
the request that reference it fail too (groupoffice-wire 14). The same answer also comes for
errors that persist (a ``tasklistId`` that does not exist, groupoffice-wire 16), so a retry is
bounded: :class:`WriteRetry` (attempts and total time, exponential backoff with full jitter).
A busy Group-Office also times out the lock each ``/set`` call of an entity takes before it
writes anything ("Lock timeout with name: jmap-set-..."): tried again as well.

Group-Office saves each object of a ``/set`` call in its own transaction, so a call of many
objects that fails may still have created the objects before the one that lost. Each writer
therefore runs its request as an *attempt* that, when a call failed with ``dbException``,
first establishes what exists (by a marker it controls: the comments a ticket had before, a
task's ``uid``) and keeps it, then raises :class:`Transient`: :func:`run_write` waits and calls
the attempt again, which writes only what is still missing. Updates set absolute values and
destroys are idempotent, so they are simply sent again. A write whose outcome is unknown
(:class:`~go_support.jmap.errors.OutcomeUnknownError`) is never retried here: it propagates.
When no attempt is left, :attr:`Transient.give_up` ends the write as it ended before retries
existed (the same error).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from go_support.jmap import Responses
from go_support.jmap.errors import (
    DbException,
    InvalidResultReference,
    MethodError,
    ServerException,
    ServerTypeError,
)

if TYPE_CHECKING:
    from go_support.desk._core import DeskCore

__all__ = ["Transient", "WriteRetry", "deadlocked", "failed_for_now", "is_transient", "run_write",
           "write_once"]

#: How Group-Office words the time-out of the lock every ``/set`` call of an entity takes
#: before it writes anything (``jmap-set-`` and the entity's class): the call wrote nothing.
SET_LOCK_TIMEOUT = "Lock timeout with name: jmap-set-"
#: How PHP words a failure of the System V semaphore behind that lock, seen on a real
#: Group-Office under eight concurrent writers ("sem_release(): Failed to release key ...:
#: Invalid argument", type errorException). It may come after the call wrote: the writers look
#: for what exists before they try again, as after a deadlock.
SEMAPHORE_FAILURE = ("sem_acquire(", "sem_release(", "sem_get(")

T = TypeVar("T")
log = logging.getLogger("go_support.desk")


@dataclass(frozen=True)
class WriteRetry:
    """How often and how long the desk tries a write again after a transient failure.

    ``max_attempts`` counts the first try (1: never again); no attempt starts once
    ``max_total_seconds`` have passed since the first. The pause before attempt *n* is a
    random time up to ``initial_backoff * 2**(n-2)``, at most ``max_backoff``.
    """

    max_attempts: int = 8
    #: Group-Office waits 10 s for a ``/set`` call's entity lock before it gives up: a
    #: minute leaves room for a few such waits while a big bulk holds the lock
    max_total_seconds: float = 60.0
    initial_backoff: float = 0.05
    max_backoff: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.max_total_seconds <= 0:
            raise ValueError(f"max_total_seconds must be positive, got {self.max_total_seconds}")

    def pause(self, attempt: int) -> float:
        """The backoff after ``attempt`` failed (full jitter)."""
        return random.uniform(0.0, min(self.max_backoff,
                                       self.initial_backoff * 2 ** (attempt - 1)))


class Transient(Exception, Generic[T]):
    """An attempt failed transiently and what it wrote is known and kept: try again.

    ``cause`` is Group-Office's error; ``give_up`` ends the write when no attempt is left
    (by default it raises ``cause``)."""

    def __init__(self, cause: Exception, give_up: Callable[[], T] | None = None) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.give_up = give_up


def failed_for_now(error: BaseException | None) -> bool:
    """A ``/set`` call's failure that may go away: ``dbException`` (a deadlock, or an error
    that persists: retries are bounded), the time-out of the call's entity lock, which
    Group-Office takes before it writes anything, or a failure of the semaphore behind that
    lock (both seen on a busy real server)."""
    if isinstance(error, DbException):
        return True
    if isinstance(error, MethodError) and error.type == "errorException":
        return error.server_message.startswith(SEMAPHORE_FAILURE)
    return isinstance(error, ServerException) and error.server_message.startswith(
        SET_LOCK_TIMEOUT)


def deadlocked(responses: Responses) -> MethodError | None:
    """The first failure of the request that may go away (:func:`failed_for_now`), or None."""
    for error in responses.errors():
        if failed_for_now(error):
            return error
    return None


def is_transient(error: BaseException | None, responses: Responses) -> bool:
    """A call's failure is transient when it may go away (:func:`failed_for_now`), or when it
    is a reference error in a request where another call failed so (it failed because of
    that)."""
    if failed_for_now(error):
        return True
    # Group-Office fails a reference to an error answer with either (groupoffice-wire 14)
    return (isinstance(error, InvalidResultReference | ServerTypeError)
            and deadlocked(responses) is not None)


def run_write(core: DeskCore, attempt: Callable[[], T], what: str) -> T:
    """Call ``attempt`` until it does not raise :class:`Transient`, within the desk's
    :class:`WriteRetry`; counts each retry in ``core.shared.retries``."""
    policy = core.shared.write_retry
    started = time.monotonic()
    waited = 0.0  # the pauses asked for (what a replaced ``sleep`` does not spend)
    number = 1
    while True:
        try:
            return attempt()
        except Transient as failed:
            pause = policy.pause(number)
            spent = max(time.monotonic() - started, waited)
            late = spent + pause > policy.max_total_seconds
            if number >= policy.max_attempts or late:
                log.warning("%s failed %d times, giving up: %s", what, number, failed.cause)
                if failed.give_up is not None:
                    return failed.give_up()  # type: ignore[no-any-return]
                raise failed.cause from None
            log.info("%s failed (attempt %d of %d), trying again in %.2f s: %s", what, number,
                     policy.max_attempts, pause, failed.cause)
            core.shared.count_retry()
            policy.sleep(pause)
            waited += pause
            number += 1


def write_once(core: DeskCore, send: Callable[[], T], what: str,
               exists: Callable[[], T | None] | None = None) -> T:
    """A write of one object, tried again while Group-Office answers ``dbException``.

    ``send`` writes and parses (raising Group-Office's error); ``exists`` looks for what a
    failed ``send`` may have created (by its natural key: a unique name) and returns it, so
    that it is not created twice. Updates of absolute values need no ``exists``."""

    def attempt() -> T:
        try:
            return send()
        except MethodError as exc:
            if not failed_for_now(exc):
                raise
            found = exists() if exists is not None else None
            if found is not None:
                return found
            raise Transient(exc) from exc

    return run_write(core, attempt, what)
