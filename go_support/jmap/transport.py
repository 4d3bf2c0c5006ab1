"""HTTP transports: the only place that touches the network.

The client talks to a :class:`Transport` so that tests and special deployments can swap
the HTTP stack (the way ``httpx`` lets one mount transports). The default,
:class:`RequestsTransport`, uses a ``requests.Session`` **with cookies disabled**:
Group-Office's login sets an ``accessToken`` cookie that takes precedence over the
``Authorization`` header and then demands an ``X-CSRF-Token`` on every POST, which
turns a working Bearer client into an "Unauthorized" one.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.cookiejar import Cookie, CookiePolicy
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit
from urllib.request import Request as UrllibRequest

import requests
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from go_support.jmap.errors import TransportError

__all__ = [
    "HttpResponse",
    "RequestsTransport",
    "StreamedResponse",
    "StreamingTransport",
    "Transport",
    "safe_url",
]


def safe_url(url: str) -> str:
    """``url`` without user-info (``user:password@``), fit for messages and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class HttpResponse:
    """A complete HTTP answer, independent of the HTTP library that fetched it."""

    status: int
    reason: str
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        """Case-insensitive header lookup, whatever mapping the transport supplied."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default


class StreamedResponse(Protocol):
    """An HTTP answer whose body is read piece by piece (blob downloads)."""

    @property
    def status(self) -> int: ...

    @property
    def reason(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        """Yield the body; raise :class:`TransportError` if the connection breaks."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class Transport(Protocol):
    """Sends one HTTP request and returns the whole answer.

    Implementations raise :class:`TransportError` for failures below HTTP (refused
    connection, DNS, timeout, TLS) and return every HTTP status, errors included, as an
    :class:`HttpResponse`. They must never store or send cookies.
    """

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        """Send the request; see the class docstring for the error contract."""
        ...


@runtime_checkable
class StreamingTransport(Transport, Protocol):
    """A transport that can also stream a response body (optional capability)."""

    def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
    ) -> StreamedResponse:
        """Start the request and return once the status and headers have arrived."""
        ...


class _NoCookies(CookiePolicy):
    """Refuse every cookie, in both directions (see the module docstring for why)."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: Cookie, request: UrllibRequest) -> bool:
        return False

    def return_ok(self, cookie: Cookie, request: UrllibRequest) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: UrllibRequest) -> bool:
        return False

    def path_return_ok(self, path: str, request: UrllibRequest) -> bool:
        return False


class _NoAuth(requests.auth.AuthBase):
    """Leave requests alone: it stops ``requests`` from applying ``~/.netrc`` credentials,
    which would replace our Bearer header with HTTP Basic auth (which Group-Office ignores).
    """

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (requests → urllib3 → socket/ssl)."""
    links: list[BaseException] = []
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        links.append(current)
        if isinstance(current, urllib3.exceptions.MaxRetryError) and current.reason is not None:
            todo.append(current.reason)
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        for inner in (current.__cause__, current.__context__):
            if inner is not None:
                todo.append(inner)
    return links


def _describe_failure(
    exc: requests.RequestException, method: str, url: str, timeout: float
) -> TransportError:
    """Turn a ``requests`` exception into a message that says what to check.

    ``request_sent`` is ``False`` only for failures that happen before a byte of the
    request leaves (DNS, refused or timed-out connect, TLS handshake). The connection
    checks come before the timeout checks: urllib3's NewConnectionError subclasses
    ConnectTimeoutError.
    """
    shown = safe_url(url)
    host = urlsplit(url).hostname or "?"
    links = _chain(exc)
    root = links[-1]
    texts = " | ".join(str(link) for link in links).lower()

    def has(*kinds: type[BaseException]) -> bool:
        return any(isinstance(link, kinds) for link in links)

    prefix = f"{method} {shown} failed"
    sent: bool | None = None
    if has(requests.exceptions.SSLError, ssl.SSLError, urllib3.exceptions.SSLError):
        tls = next((link for link in links if isinstance(link, ssl.SSLError)), root)
        detail = getattr(tls, "verify_message", None) or getattr(tls, "reason", None) or tls
        text = (
            f"{prefix}: TLS error ({detail}). Check the server's certificate and the URL's "
            "host name; for a private CA pass verify='/path/to/ca-bundle.pem'"
        )
        sent = False
    elif (
        has(urllib3.exceptions.NameResolutionError, socket.gaierror)
        or "failed to resolve" in texts
        or "name or service not known" in texts
    ):
        text = (
            f"{prefix}: the host name {host!r} could not be resolved. Check the spelling of "
            "the base URL and the DNS configuration"
        )
        sent = False
    elif has(ConnectionRefusedError) or "connection refused" in texts:
        text = (
            f"{prefix}: connection refused by {host}. Check that Group-Office (the web "
            "server) is running and that the scheme, host and port of the base URL are right"
        )
        sent = False
    elif has(urllib3.exceptions.NewConnectionError):
        text = f"{prefix}: could not connect to {host} ({root}). Check the base URL and the network"
        sent = False
    elif has(requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError):
        text = (
            f"{prefix}: no connection to {host} within {timeout:g} s. Check that the host "
            "is reachable (firewall, VPN, port in the base URL)"
        )
        sent = False
    elif has(requests.exceptions.Timeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        text = (
            f"{prefix}: no answer within {timeout:g} s. The server may be overloaded or the "
            "request too large; check the server, or raise the client's timeout"
        )
    elif has(requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
             requests.exceptions.InvalidSchema):
        text = f"{prefix}: invalid URL. Check the base URL (e.g. https://go.example.com)"
        sent = False
    else:
        text = (
            f"{prefix}: the connection broke ({type(root).__name__}: {root}). "
            "Check the network and the server's logs"
        )
    return TransportError(text, url=shown, request_sent=sent)


class _RequestsStream:
    """A :class:`StreamedResponse` over a streaming ``requests.Response``."""

    def __init__(self, response: requests.Response, method: str, url: str, timeout: float) -> None:
        self._response = response
        self._method = method
        self._url = url
        self._timeout = timeout

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def reason(self) -> str:
        return self._response.reason or ""

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from self._response.iter_content(chunk_size=chunk_size)
        except requests.RequestException as exc:
            raise _describe_failure(exc, self._method, self._url, self._timeout) from exc

    def close(self) -> None:
        self._response.close()


class RequestsTransport:
    """The default transport: ``requests`` with TLS verification and no cookies.

    ``verify`` is ``True`` (system/certifi CAs), ``False`` (don't: only for tests on
    loopback) or the path of a CA bundle. Redirects are followed for GET only: a POST
    redirect would turn into a GET and silently drop the JMAP request.

    Without a ``session`` given, each thread that sends gets a session of its own
    (``requests`` does not promise that one session is safe across threads), so clients of
    several threads may share one transport.
    """

    def __init__(
        self,
        *,
        verify: bool | str = True,
        session: requests.Session | None = None,
    ) -> None:
        self._given = session
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        if session is not None:
            self._prepare(session)
        self._verify = verify

    @staticmethod
    def _prepare(session: requests.Session) -> requests.Session:
        session.cookies.set_policy(_NoCookies())
        session.cookies.clear()
        session.auth = _NoAuth()
        return session

    @property
    def _session(self) -> requests.Session:
        """The given session, else this thread's own."""
        if self._given is not None:
            return self._given
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._prepare(requests.Session())
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
        stream: bool,
    ) -> requests.Response:
        try:
            return self._session.request(
                method,
                url,
                headers=dict(headers),
                data=body,
                timeout=timeout,
                verify=self._verify,
                allow_redirects=method.upper() in ("GET", "HEAD"),
                stream=stream,
            )
        except requests.RequestException as exc:
            raise _describe_failure(exc, method, url, timeout) from exc

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        """Send one request and read the whole answer."""
        response = self._request(
            method, url, headers=headers, body=body, timeout=timeout, stream=False
        )
        try:
            content = response.content
        except requests.RequestException as exc:
            raise _describe_failure(exc, method, url, timeout) from exc
        return HttpResponse(
            status=response.status_code,
            reason=response.reason or "",
            headers=CaseInsensitiveDict(response.headers),
            content=content,
        )

    def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
    ) -> StreamedResponse:
        """Start a request whose body the caller reads in chunks."""
        response = self._request(
            method, url, headers=headers, body=None, timeout=timeout, stream=True
        )
        return _RequestsStream(response, method, url, timeout)

    def close(self) -> None:
        """Close pooled connections (of every thread's session)."""
        with self._sessions_lock:
            sessions = [*self._sessions, *([self._given] if self._given else [])]
            self._sessions.clear()
        self._local = threading.local()
        for session in sessions:
            with contextlib.suppress(Exception):
                session.close()
