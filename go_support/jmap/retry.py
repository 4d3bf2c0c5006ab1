"""Retrying what is safe to repeat, and staying idempotent when nothing is.

What is retried (exponential backoff with full jitter, bounded by ``max_attempts`` and
``max_total_seconds``, honouring ``Retry-After``):

* requests made only of ``Foo/get``, ``Foo/query``, ``Foo/changes`` (and ``Core/echo``),
  the session ``GET``, blob downloads, blob uploads (content-addressed: the same bytes
  give the same SHA-1 blob id, so a repeat changes nothing) and the password login
  (a repeat only creates another short-lived token);
* on a :class:`~go_support.jmap.errors.TransportError`, HTTP 5xx, or HTTP 429.

A request that contains anything else (``Foo/set``, ``Foo/merge``, ``core/Notify/mail``…)
is sent **once**. It is only resent when the request certainly never reached the server
(refused connection, DNS failure, connect timeout, TLS handshake) or was refused with
429. When the outcome is unknown (read timeout, broken connection, 5xx, truncated
answer), :class:`~go_support.jmap.errors.OutcomeUnknownError` is raised; it lists the
creation ids and the updated/destroyed ids of every write in the request.

How a caller stays idempotent (Group-Office has no idempotency keys):

1. Give every object you create a *natural key* you can search for later: the mail's
   ``Message-ID`` in a Comment's ``mimeMessageId``, a legacy ticket id in a Task custom
   field (every custom field is a ``Task/query`` filter named after its
   ``databaseName``), a unique ``name`` for a TaskList or FieldSet.
2. Before creating, look the key up; create only what is missing.
3. After :class:`OutcomeUnknownError`, do step 2 again for the objects in
   ``error.creation_ids`` (by their natural keys), then create what is still missing.
   ``Comment/query`` has no ``mimeMessageId`` filter: list the task's comments (with
   and without ``section``) and compare ``mimeMessageId`` after ``Comment/get``.
4. Updates that set absolute values (``progress``, ``mailStatus``) may simply be sent
   again; destroys too (a second destroy reports ``notFound``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from go_support.errors import redact
from go_support.jmap.errors import HTTPStatusError, OutcomeUnknownError, TransportError

__all__ = ["RetryPolicy", "is_transient"]

T = TypeVar("T")
log = logging.getLogger("go_support.jmap")


def is_transient(exc: BaseException) -> bool:
    """Whether a failure may go away by itself (network trouble, 5xx, 429)."""
    if isinstance(exc, OutcomeUnknownError):
        return False
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, HTTPStatusError) and (exc.status >= 500 or exc.status == 429)


class _Backoff(wait_base):
    """Full-jitter exponential backoff, but never shorter than the server's Retry-After."""

    def __init__(self, initial: float, maximum: float) -> None:
        self._jitter = wait_random_exponential(multiplier=initial, max=maximum)

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = float(self._jitter(retry_state))
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, HTTPStatusError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return delay


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a request that is safe to repeat.

    ``max_attempts`` counts the first try (1 disables retries). ``max_total_seconds``
    bounds the whole affair: no new attempt starts if its backoff would end after it.
    ``sleep`` is there for tests.
    """

    max_attempts: int = 4
    max_total_seconds: float = 60.0
    initial_backoff: float = 0.5
    max_backoff: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_total_seconds <= 0:
            raise ValueError("max_total_seconds must be positive")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """Never retry."""
        return cls(max_attempts=1)

    def run(
        self,
        fn: Callable[[], T],
        *,
        retryable: Callable[[BaseException], bool] = is_transient,
        what: str = "request",
        secrets: Sequence[str | None] = (),
    ) -> T:
        """Call ``fn``, retrying while ``retryable(exc)``; the last failure is re-raised.

        Each retry is logged as a warning; ``secrets`` are redacted from that line, since
        the failure may quote what the server sent back.
        """

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome is not None else None
            wait = state.next_action.sleep if state.next_action is not None else 0.0
            log.warning(
                "%s failed (attempt %d of %d), retrying in %.1f s: %s",
                redact(what, *secrets), state.attempt_number, self.max_attempts, wait,
                redact(str(exc), *secrets),
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts)
            | stop_before_delay(self.max_total_seconds),
            wait=_Backoff(self.initial_backoff, self.max_backoff),
            retry=retry_if_exception(retryable),
            reraise=True,
            sleep=self.sleep,
            before_sleep=before_sleep,
        )
        return retrying(fn)
