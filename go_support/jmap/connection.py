"""One Group-Office address and the plumbing every request shares.

:class:`Connection` holds the base URL, the transport, the timeout, the retry policy and the
credentials (only so that they are scrubbed from anything that leaves the client); it sends
HTTP requests, turns answers that are not Group-Office's into clear errors, and keeps the
session's URLs on the configured origin. The login (:mod:`go_support.jmap.login`), blobs
(:mod:`go_support.jmap.blobs`) and API calls (:mod:`go_support.jmap.client`) build on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from go_support.jmap.errors import (
    HTTPStatusError,
    JMAPError,
    ProtocolError,
)
from go_support.jmap.retry import RetryPolicy, is_transient
from go_support.jmap.session import Session
from go_support.jmap.transport import (
    HttpResponse,
    RequestsTransport,
    Transport,
    safe_url,
)

__all__ = ["Connection"]

log = logging.getLogger("go_support.jmap")
T = TypeVar("T")

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _normalise_base(base_url: str) -> str:
    base = base_url.strip().rstrip("/")
    for suffix in ("/api/jmap.php", "/api"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "base_url must be an http(s) URL such as https://go.example.com, "
            f"got {safe_url(base)!r}"
        )
    if "@" in parts.netloc:
        raise ValueError("base_url must not contain credentials; pass api_key= or username=")
    return base


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def _excerpt(content: bytes, limit: int = 200) -> str:
    return content[:limit].decode("utf-8", "replace")


def json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _retry_after(resp: HttpResponse) -> float | None:
    value = resp.header("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class Connection:
    """The address, transport, timeout, retries and credentials of one client."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        username: str | None,
        password: str | None,
        transport: Transport | None,
        timeout: float,
        verify: bool | str,
        retry: RetryPolicy | None,
    ) -> None:
        if api_key and (username or password):
            raise ValueError("pass either api_key or username and password, not both")
        if not api_key and not (username and password):
            raise ValueError("pass api_key=, or username= and password=")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.base_url = _normalise_base(base_url)
        self._api_key = api_key
        self._username = username
        self._password = password
        self._access_token: str | None = None
        self._owns_transport = transport is None
        self._transport: Transport = (
            transport if transport is not None else RequestsTransport(verify=verify)
        )
        self.timeout = timeout
        self.retry = retry if retry is not None else RetryPolicy()
        self._session: Session | None = None
        self._defer_session = False
        self._lock = threading.RLock()

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._api_key, self._password, self._access_token)

    def _retry(
        self,
        fn: Callable[[], T],
        *,
        retryable: Callable[[BaseException], bool] = is_transient,
        what: str,
    ) -> T:
        """``self.retry.run`` with the credentials redacted from its log lines."""
        return self.retry.run(fn, retryable=retryable, what=what, secrets=self._secrets())

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Scrub credentials from anything that leaves the client."""
        try:
            yield
        except JMAPError as exc:
            exc.scrub(*self._secrets())
            raise

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        timeout: float | None = None,
    ) -> HttpResponse:
        started = time.monotonic()
        resp = self._transport.send(
            method, url, headers=headers, body=body, timeout=timeout or self.timeout
        )
        log.debug(
            "%s %s -> %d %s (%.0f ms)", method, safe_url(url), resp.status, resp.reason,
            (time.monotonic() - started) * 1000,
        )
        return resp

    def _trusted_endpoint(self, advertised: str, path: str) -> str:
        """Use a URL from the session only if it stays on our origin (or upgrades to HTTPS)."""
        fallback = f"{self.base_url}{path}"
        mine, theirs = _origin(self.base_url), _origin(advertised)
        if theirs == mine:
            return advertised
        upgrade = (
            mine[0] == "http" and theirs[0] == "https" and mine[1] == theirs[1]
            and mine[2] == _DEFAULT_PORTS["http"] and theirs[2] == _DEFAULT_PORTS["https"]
        )
        if upgrade:
            return advertised
        log.warning(
            "Group-Office advertises %s, which is not on %s; using %s instead (check the "
            "reverse proxy's X-Forwarded-Host/X-Forwarded-Proto headers)",
            safe_url(advertised), self.base_url, fallback,
        )
        return fallback

    # --- errors -------------------------------------------------------------------------

    def _status_error(
        self, method: str, url: str, resp: HttpResponse, *, hint: str = ""
    ) -> HTTPStatusError:
        body = resp.content.decode("utf-8", "replace") if resp.content else ""
        location = resp.header("Location")
        if 300 <= resp.status < 400 and location:
            hint = (
                f"The server redirects to {safe_url(location)}; use that address as base_url"
                f"{'. ' + hint if hint else ''}"
            )
        return HTTPStatusError.build(
            method=method, url=safe_url(url), status=resp.status, reason=resp.reason,
            body=body, hint=hint, retry_after=_retry_after(resp),
        )

    def _protocol_error(
        self, method: str, url: str, resp: HttpResponse, detail: str = ""
    ) -> ProtocolError:
        ctype = resp.header("Content-Type") or "no Content-Type"
        stripped = resp.content.lstrip()
        if "html" in ctype.lower() or stripped[:1] == b"<":
            what = f"an HTML page ({ctype}) instead of JSON"
        elif not stripped:
            what = "an empty body"
        else:
            what = detail or f"something that is not Group-Office JSON ({ctype})"
        excerpt = " ".join(_excerpt(resp.content, 120).split())
        return ProtocolError(
            f"{method} {safe_url(url)} answered HTTP {resp.status} with {what}"
            + (f": {excerpt!r}" if excerpt else "")
            + f". Is this a Group-Office URL? base_url ({self.base_url}) must be the "
            "Group-Office root, e.g. https://go.example.com or https://host/groupoffice",
            url=safe_url(url),
        )

    def _adopt(self, session: Session) -> Session:
        return dataclasses.replace(
            session,
            api_url=self._trusted_endpoint(session.api_url, "/api/jmap.php"),
            upload_url=self._trusted_endpoint(session.upload_url, "/api/upload.php"),
            download_url=self._trusted_endpoint(
                session.download_url, "/api/download.php?blob={blobId}"
            ),
        )

