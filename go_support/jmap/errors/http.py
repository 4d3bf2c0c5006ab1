"""Failures around the API calls: the connection, HTTP, the login, blobs.

A write whose outcome is unknown (:class:`OutcomeUnknownError`) says which objects it may have
changed, so that the caller can look them up before trying again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from go_support.jmap.errors.base import MAX_LISTED, JMAPError, shorten

if TYPE_CHECKING:
    from go_support.jmap.request import Responses


class TransportError(JMAPError):
    """The HTTP exchange itself failed: refused connection, DNS, timeout, TLS.

    ``request_sent`` is ``False`` when the request certainly never reached the server
    (so even a write may be sent again), ``None`` when that is unknown.
    """

    def __init__(self, message: str, *, url: str, request_sent: bool | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.request_sent = request_sent


@dataclass(frozen=True)
class PendingWrite:
    """The writes of one ``Foo/set`` (or other non-read) call whose outcome is unknown."""

    call_id: str
    method: str
    create: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    destroy: tuple[str, ...] = ()


class OutcomeUnknownError(TransportError):
    """A request that changes data failed in a way that leaves its outcome unknown.

    It was **not** sent again: Group-Office has no idempotency keys, so a resend could
    create every object twice. ``writes`` lists, per call, the creation ids, updated and
    destroyed ids, so that the caller can look the objects up by a natural key (see
    :mod:`go_support.jmap.retry`). ``completed`` holds the responses of the chunks of
    the same batch that did complete, if any, and ``unsent`` the call ids of the later
    chunks, which were not sent at all.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        writes: Iterable[PendingWrite],
        status: int | None = None,
        completed: Responses | None = None,
        unsent: Iterable[str] = (),
    ) -> None:
        super().__init__(message, url=url, request_sent=None)
        self.writes = tuple(writes)
        self.status = status
        self.completed = completed
        self.unsent = tuple(unsent)

    @property
    def creation_ids(self) -> dict[str, list[str]]:
        """Creation ids per method name, e.g. ``{"Task/set": ["t1", "t2"]}``."""
        result: dict[str, list[str]] = {}
        for write in self.writes:
            if write.create:
                result.setdefault(write.method, []).extend(write.create)
        return result

    @staticmethod
    def describe(writes: Iterable[PendingWrite]) -> str:
        """Summarise ``writes`` for a message: which objects may or may not exist now."""
        parts: list[str] = []
        for write in writes:
            bits = []
            for label, ids in (
                ("create", write.create),
                ("update", write.update),
                ("destroy", write.destroy),
            ):
                if ids:
                    shown = ", ".join(ids[:MAX_LISTED])
                    more = f" and {len(ids) - MAX_LISTED} more" if len(ids) > MAX_LISTED else ""
                    bits.append(f"{label} {shown}{more}")
            parts.append(f"{write.method} [{'; '.join(bits) or 'no object ids'}]")
        return "; ".join(parts)


class IncompleteBatchError(JMAPError):
    """A batch split into several HTTP requests failed after earlier requests had written.

    Raised instead of the bare failure so that the writes that did happen are not lost:
    ``completed`` holds their responses, ``unsent`` the call ids that never ran, and
    ``__cause__`` the original error.
    """

    def __init__(
        self, message: str, *, completed: Responses, unsent: Iterable[str] = ()
    ) -> None:
        super().__init__(message)
        self.completed = completed
        self.unsent = tuple(unsent)


class HTTPStatusError(JMAPError):
    """Group-Office (or a proxy in front of it) answered with an unexpected HTTP status.

    Group-Office puts its real message in the HTTP reason phrase, so it is kept here.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int,
        reason: str,
        body_excerpt: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.reason = reason
        self.body_excerpt = body_excerpt
        self.retry_after = retry_after

    @classmethod
    def build(
        cls,
        *,
        method: str,
        url: str,
        status: int,
        reason: str,
        body: str = "",
        hint: str = "",
        retry_after: float | None = None,
    ) -> HTTPStatusError:
        """Compose the usual message: status, reason phrase, URL, body excerpt, hint."""
        excerpt = shorten(body, 200) if body.strip() else ""
        phrase = reason or "no reason phrase"
        text = f"Group-Office answered HTTP {status} ({phrase}) to {method} {url}"
        if excerpt:
            text += f": {excerpt}"
        if hint:
            text += f". {hint}"
        return cls(
            text,
            url=url,
            status=status,
            reason=reason,
            body_excerpt=excerpt,
            retry_after=retry_after,
        )


class ProtocolError(JMAPError):
    """The answer is not what Group-Office sends: HTML, broken JSON, not a list."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class AuthenticationError(JMAPError):
    """The credentials were refused, or logging in needs something go-support lacks."""


class SecondFactorRequired(AuthenticationError):
    """The account has two-factor authentication: go-support cannot answer a second factor."""

    def __init__(self, message: str, *, authenticators: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.authenticators = tuple(authenticators)


class BlobNotFoundError(JMAPError):
    """``download.php`` does not know the blob (HTTP 404)."""

    def __init__(self, message: str, *, blob_id: str) -> None:
        super().__init__(message)
        self.blob_id = blob_id


class BlobTooLargeError(JMAPError):
    """The file is larger than the session's ``maxSizeUpload`` (or the server said 413)."""

    def __init__(self, message: str, *, size: int | None, limit: int | None) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


# --- objects refused before sending ----------------------------------------------------
