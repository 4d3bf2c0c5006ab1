"""The Group-Office JMAP client.

::

    client = GroupOfficeClient("https://go.example.com", api_key="...")
    tasks = client.tasks.query_get({"tasklistId": "12"}, properties=["title", "progress"])

``base_url`` is the Group-Office root (``https://host`` or ``https://host/groupoffice``).
The session (``GET <base>/api/jmap.php``) is fetched once, lazily, and its ``apiUrl``,
``uploadUrl`` and ``downloadUrl`` are used from then on, unless they would move the
credentials to another host or from HTTPS to HTTP (a reverse proxy that does not pass
``X-Forwarded-Host``/``-Proto`` makes Group-Office advertise its internal address).

:meth:`GroupOfficeClient.defer_session` lets API calls go out before the session is known
(to ``<base>/api/jmap.php``, the address every Group-Office advertises, with Group-Office's
default limits): a caller that does not need the user id or the module rights saves the
session GET, one round trip. The help desk uses it (``go_support.desk``).

Requests go out as Group-Office's bare JSON array; see :mod:`go_support.jmap.retry` for
what is retried and how a caller stays idempotent when a write's outcome is unknown.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, NoReturn, TypeVar
from urllib.parse import quote, unquote, urlsplit

from go_support import __version__
from go_support.jmap.errors import (
    AuthenticationError,
    BlobNotFoundError,
    BlobTooLargeError,
    HTTPStatusError,
    IncompleteBatchError,
    JMAPError,
    OutcomeUnknownError,
    ProtocolError,
    SecondFactorRequired,
    TransportError,
)
from go_support.jmap.managers import EntityManager, ModuleManager
from go_support.jmap.request import Batch, Call, Invocation, Responses, plan_chunks
from go_support.jmap.results import Blob
from go_support.jmap.retry import RetryPolicy, is_transient
from go_support.jmap.session import Limits, Session
from go_support.jmap.transport import (
    HttpResponse,
    RequestsTransport,
    StreamedResponse,
    StreamingTransport,
    Transport,
    safe_url,
)

__all__ = ["BlobStream", "GroupOfficeClient"]

log = logging.getLogger("go_support.jmap")
T = TypeVar("T")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UPLOAD_AUTH_DETAIL = "go\\core\\http\\Exception"


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


def _json_default(value: object) -> str:
    """Serialise dates the way Group-Office writes them (ISO 8601)."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    raise TypeError(f"cannot send a {type(value).__name__} to Group-Office as JSON")


def _excerpt(content: bytes, limit: int = 200) -> str:
    return content[:limit].decode("utf-8", "replace")


def _json_or_none(content: bytes) -> Any:
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


def _download_message(resp: HttpResponse) -> str:
    """download.php's errors are JSON ``[[null, "<message>", null]]``."""
    data = _json_or_none(resp.content)
    if (
        isinstance(data, list)
        and data
        and isinstance(data[0], list)
        and len(data[0]) > 1
        and isinstance(data[0][1], str)
    ):
        return data[0][1]
    return resp.reason


class BlobStream:
    """A blob download in progress: headers first, then the bytes piece by piece."""

    def __init__(self, blob_id: str, response: StreamedResponse) -> None:
        self.blob_id = blob_id
        self._response = response

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers (``Content-Type``, ``Content-Disposition``…)."""
        return self._response.headers

    def _header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self._response.headers.items():
            if key.lower() == lowered:
                return value
        return None

    @property
    def content_type(self) -> str | None:
        """The MIME type the server sent."""
        return self._header("Content-Type")

    @property
    def size(self) -> int | None:
        """``Content-Length``, when sent."""
        value = self._header("Content-Length")
        return int(value) if value and value.isdigit() else None

    @property
    def filename(self) -> str | None:
        """The file name from ``Content-Disposition``, when sent.

        Accepts RFC 5987 ``filename*=UTF-8''…`` and raw UTF-8 in ``filename="…"`` (which
        HTTP libraries hand over decoded as Latin-1).
        """
        disposition = self._header("Content-Disposition") or ""
        params: dict[str, str] = {}
        for part in disposition.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        extended = params.get("filename*")
        if extended and "''" in extended:
            charset, _, encoded = extended.partition("''")
            return unquote(encoded, encoding=charset or "utf-8", errors="replace") or None
        name = params.get("filename")
        if not name:
            return None
        try:
            return name.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return name

    def iter_bytes(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """The body in chunks; a broken connection raises :class:`TransportError`."""
        yield from self._response.iter_content(chunk_size)

    def read(self) -> bytes:
        """The whole remaining body."""
        return b"".join(self.iter_bytes())


class _BytesStream:
    """A :class:`StreamedResponse` over an already complete answer (for plain transports)."""

    def __init__(self, response: HttpResponse) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def reason(self) -> str:
        return self._response.reason

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        data = self._response.content
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]

    def close(self) -> None:
        return None


class GroupOfficeClient:
    """A client for one Group-Office installation and one user.

    Authenticate with ``api_key`` (recommended: it never expires and needs no second
    factor) or with ``username`` and ``password`` (a login through ``api/auth.php``;
    the token is renewed once if the server stops accepting it). ``timeout`` applies to
    each HTTP request; ``verify`` (``True``, ``False`` or a CA-bundle path) only to the
    default transport.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        transport: Transport | None = None,
        timeout: float = 30.0,
        verify: bool | str = True,
        retry: RetryPolicy | None = None,
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

        self.tasks = EntityManager(self, "Task")
        self.task_lists = EntityManager(self, "TaskList")
        self.task_list_groupings = EntityManager(self, "TaskListGrouping")
        self.task_categories = EntityManager(self, "TaskCategory")
        self.comments = EntityManager(self, "Comment")
        self.comment_labels = EntityManager(self, "CommentLabel")
        self.fields = EntityManager(self, "Field")
        self.field_sets = EntityManager(self, "FieldSet")
        self.users = EntityManager(self, "User")
        self.groups = EntityManager(self, "Group")
        self.principals = EntityManager(self, "Principal")
        self.modules: ModuleManager = ModuleManager(self, "Module")
        self.keys = EntityManager(self, "Key")

    def __repr__(self) -> str:
        how = "api_key" if self._api_key else f"login {self._username!r}"
        return f"GroupOfficeClient({self.base_url!r}, {how})"

    def __enter__(self) -> GroupOfficeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- plumbing ---------------------------------------------------------------------

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

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "User-Agent": f"go-support/{__version__}",
            "Authorization": f"Bearer {self._token()}",
        }
        headers.update(extra or {})
        return headers

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

    # --- authentication -----------------------------------------------------------------

    def _token(self) -> str:
        if self._api_key:
            return self._api_key
        with self._lock:
            if self._access_token is None:
                self._login()
            assert self._access_token is not None
            return self._access_token

    def _can_relogin(self) -> bool:
        return self._api_key is None and self._access_token is not None

    def _relogin(self) -> None:
        with self._lock:
            log.info("the login token was refused; logging in again as %r", self._username)
            self._access_token = None
            self._login()

    def _login(self) -> None:
        """``POST <base>/api/auth.php`` with the username and password."""
        url = f"{self.base_url}/api/auth.php"
        body = json.dumps({"username": self._username, "password": self._password}).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "User-Agent": f"go-support/{__version__}",
        }

        def attempt() -> HttpResponse:
            resp = self._send("POST", url, headers=headers, body=body)
            if resp.status >= 500 or resp.status == 429:
                raise self._status_error("POST", url, resp, hint="the login failed on the server")
            return resp

        resp = self._retry(attempt, what=f"login at {url}")
        data = _json_or_none(resp.content)
        obj: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        who = f"user {self._username!r}"
        if resp.status == 201 and isinstance(obj.get("accessToken"), str):
            self._access_token = obj["accessToken"]
            with contextlib.suppress(ValueError):
                self._session = self._adopt(Session.from_json(obj))
            return
        if resp.status == 200 and "loginToken" in obj:
            raw = obj.get("authenticators")
            methods = [str(a) for a in raw] if isinstance(raw, list) else []
            raise SecondFactorRequired(
                f"Group-Office asks {who} for a second factor ({', '.join(methods) or '?'}); "
                "go-support cannot answer one. Create an API key for this user (System "
                "settings > API keys, or Key/set) and pass api_key= instead",
                authenticators=methods,
            )
        if resp.status == 401:
            raise AuthenticationError(
                f"Group-Office refused the login of {who} at {url}: bad username or password"
            )
        if resp.status == 403:
            raise AuthenticationError(
                f"Group-Office refused the login of {who} at {url}: {resp.reason} (the "
                "account may be disabled, or logins from this IP address not allowed)"
            )
        if data is None or not isinstance(data, Mapping):
            raise self._protocol_error("POST", url, resp)
        raise self._status_error("POST", url, resp, hint="the login did not succeed")

    def logout(self) -> None:
        """Delete the login token on the server (nothing to do for an API key)."""
        with self._guard(), self._lock:
            if self._api_key or self._access_token is None:
                return
            url = f"{self.base_url}/api/auth.php"
            try:
                self._send(
                    "POST", url,
                    headers=self._headers({"Content-Type": "application/json"}),
                    body=b'{"action":"logout"}',
                )
            finally:
                self._access_token = None
                self._session = None

    def close(self) -> None:
        """Log out a password login (best effort) and close the default transport."""
        with contextlib.suppress(JMAPError):
            self.logout()
        if self._owns_transport and isinstance(self._transport, RequestsTransport):
            self._transport.close()

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

    # --- session ------------------------------------------------------------------------

    def _adopt(self, session: Session) -> Session:
        return dataclasses.replace(
            session,
            api_url=self._trusted_endpoint(session.api_url, "/api/jmap.php"),
            upload_url=self._trusted_endpoint(session.upload_url, "/api/upload.php"),
            download_url=self._trusted_endpoint(
                session.download_url, "/api/download.php?blob={blobId}"
            ),
        )

    def _fetch_session(self) -> Session:
        url = f"{self.base_url}/api/jmap.php"

        def attempt() -> HttpResponse:
            resp = self._send("GET", url, headers=self._headers())
            if resp.status >= 500 or resp.status == 429:
                raise self._status_error("GET", url, resp)
            return resp

        resp = self._retry(attempt, what=f"session GET {url}")
        if resp.status == 401 and self._can_relogin():
            self._relogin()
            if self._session is not None:
                return self._session
            resp = self._retry(attempt, what=f"session GET {url}")
        if resp.status == 401:
            how = "API key" if self._api_key else f"login token of {self._username!r}"
            raise AuthenticationError(
                f"Group-Office at {self.base_url} refused the {how} (HTTP 401 on GET {url}). "
                "Check that the key exists and belongs to an enabled user"
            )
        if resp.status != 200:
            hint = (
                "Is base_url the Group-Office root (the folder that contains api/)?"
                if resp.status == 404 else ""
            )
            raise self._status_error("GET", url, resp, hint=hint)
        data = _json_or_none(resp.content)
        if not isinstance(data, Mapping):
            raise self._protocol_error("GET", url, resp)
        try:
            session = Session.from_json(data)
        except ValueError as exc:
            raise self._protocol_error(
                "GET", url, resp, detail=f"a JSON object, but {exc}"
            ) from exc
        return self._adopt(session)

    @property
    def session(self) -> Session:
        """The session, fetched on first use and cached."""
        with self._guard(), self._lock:
            if self._session is None:
                token = self._token()  # a password login also delivers the session
                if self._session is None and token:
                    self._session = self._fetch_session()
            assert self._session is not None
            return self._session

    def refresh_session(self) -> Session:
        """Fetch the session again (after module rights or limits changed)."""
        with self._guard(), self._lock:
            self._session = self._fetch_session()
            return self._session

    def defer_session(self, defer: bool = True) -> None:
        """Send API calls without fetching the session first, until something needs it.

        Until the session is loaded (by :attr:`session`, :attr:`user_id`, a blob upload or
        download, or a password login, which delivers it), :meth:`execute` posts to
        ``<base>/api/jmap.php`` and :attr:`limits` are Group-Office's defaults
        (``maxCallInRequest`` 10, ``maxObjectsInGet`` 100, ``maxObjectsInSet`` 1000). If
        that address answers HTTP 404 (nothing was executed), the session is fetched and
        the request is sent to the ``apiUrl`` it advertises.
        """
        with self._lock:
            self._defer_session = defer

    @property
    def limits(self) -> Limits:
        """The session's request limits (Group-Office's defaults while the session is
        deferred and not loaded yet, see :meth:`defer_session`)."""
        if self._defer_session and self._session is None:
            return Limits()
        return self.session.limits

    @property
    def user_id(self) -> str:
        """The id of the authenticated user."""
        return self.session.user_id

    def entity(self, name: str) -> EntityManager:
        """A manager for any entity, e.g. ``client.entity("Note")`` (case-sensitive)."""
        if name == "Module":
            return self.modules
        return EntityManager(self, name)

    # --- API calls ----------------------------------------------------------------------

    def execute(self, batch: Batch, *, timeout: float | None = None) -> Responses:
        """Send a batch; returns the responses matched to its calls by call id.

        A batch longer than ``maxCallInRequest`` is sent as several HTTP requests, cut
        only where no result reference crosses the cut (see :func:`plan_chunks`). Method
        errors do not raise here: :meth:`Responses.get` raises them per call.
        """
        with self._guard():
            api_url, limits = self._api_endpoint()
            responses = Responses(
                batch.calls, url=safe_url(api_url), secrets=self._secrets()
            )
            if not len(batch):
                return responses
            chunks = plan_chunks(batch.calls, limits.max_call_in_request)
            for index, chunk in enumerate(chunks):
                unsent = [c.call_id for later in chunks[index + 1 :] for c in later]
                try:
                    invocations = self._execute_chunk(chunk, api_url, timeout)
                except OutcomeUnknownError as exc:
                    exc.completed = responses if index else None
                    exc.unsent = tuple(unsent)
                    raise
                except JMAPError as exc:
                    wrote = any(not c.is_read_only for done in chunks[:index] for c in done)
                    if not wrote:
                        raise
                    raise IncompleteBatchError(
                        f"the batch was sent in {len(chunks)} requests; request {index + 1} "
                        f"failed after earlier ones had written data (their responses are "
                        f"in .completed): {exc}",
                        completed=responses,
                        unsent=[c.call_id for c in chunk] + unsent,
                    ) from exc
                responses.extend(invocations)
            return responses

    def call(self, method: str, args: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send one method call; returns its response arguments or raises its MethodError."""
        batch = Batch()
        handle = batch.call(method, args)
        responses = self.execute(batch)
        with self._guard():
            return responses.get(handle)

    def _api_endpoint(self) -> tuple[str, Limits]:
        """Where API calls go, and the limits that apply (see :meth:`defer_session`)."""
        if self._defer_session and self._session is None:
            if self._api_key is None:
                self._token()  # a password login delivers the session
            if self._session is None:
                return f"{self.base_url}/api/jmap.php", Limits()
        session = self.session
        return session.api_url, session.limits

    def _execute_chunk(
        self, calls: Sequence[Call], api_url: str, timeout: float | None
    ) -> list[Invocation]:
        try:
            invocations = self._post_calls(calls, api_url, timeout)
        except HTTPStatusError as exc:
            # A deferred session guessed the address; 404 means nothing was executed.
            if exc.status != 404 or self._session is not None or not self._defer_session:
                raise
            api_url = self.session.api_url
            if api_url == f"{self.base_url}/api/jmap.php":
                raise
            invocations = self._post_calls(calls, api_url, timeout)
        if self._can_relogin() and self._all_unauthorized(invocations):
            # Nothing ran (the token is checked before each method): resending is safe.
            self._relogin()
            invocations = self._post_calls(calls, api_url, timeout)
        return invocations

    @staticmethod
    def _all_unauthorized(invocations: Sequence[Invocation]) -> bool:
        relevant = [i for i in invocations if i.name != "Core/echo"]
        return bool(relevant) and all(
            i.is_error and i.arguments.get("type") == "unauthorized" for i in relevant
        )

    def _post_calls(
        self, calls: Sequence[Call], url: str, timeout: float | None
    ) -> list[Invocation]:
        read_only = all(c.is_read_only for c in calls)
        body = json.dumps(
            [[c.method, c.args, c.call_id] for c in calls], ensure_ascii=False,
            separators=(",", ":"), default=_json_default,
        ).encode("utf-8")
        methods = ", ".join(dict.fromkeys(c.method for c in calls))

        def unknown(reason: str, cause: BaseException | None, status: int | None) -> NoReturn:
            writes = [c.pending_write() for c in calls if not c.is_read_only]
            exc = OutcomeUnknownError(
                f"POST {safe_url(url)} ({methods}) failed and may or may not have been "
                f"executed: {reason}. It was not resent because it changes data. Possibly "
                f"affected: {OutcomeUnknownError.describe(writes)}. Look the objects up by "
                "their natural keys before trying again (see go_support.jmap.retry)",
                url=safe_url(url), writes=writes, status=status,
            )
            raise exc from cause

        def attempt() -> list[Invocation]:
            try:
                resp = self._send(
                    "POST", url,
                    headers=self._headers({"Content-Type": "application/json; charset=utf-8"}),
                    body=body, timeout=timeout,
                )
            except TransportError as exc:
                if read_only or exc.request_sent is False:
                    raise
                unknown(str(exc), exc, None)
            if resp.status != 200:
                error = self._status_error(
                    "POST", url, resp,
                    hint="is the API URL right?" if resp.status == 404 else "",
                )
                if resp.status == 401:
                    raise AuthenticationError(str(error)) from error
                if not read_only and resp.status >= 500:
                    unknown(str(error), error, resp.status)
                raise error
            try:
                return self._parse_invocations(resp, url, expected=len(calls))
            except ProtocolError as exc:
                if read_only:
                    raise
                unknown(str(exc), exc, resp.status)

        return self._retry(
            attempt,
            retryable=lambda e: is_transient(e)
            and (read_only or isinstance(e, TransportError) or getattr(e, "status", 0) == 429),
            what=f"POST {safe_url(url)} ({methods})",
        )

    def _parse_invocations(
        self, resp: HttpResponse, url: str, *, expected: int
    ) -> list[Invocation]:
        if not resp.content.strip():
            raise self._protocol_error("POST", url, resp)
        try:
            data = json.loads(resp.content)
        except ValueError as exc:
            if resp.content.lstrip()[:1] in (b"[", b"{"):
                raise self._protocol_error(
                    "POST", url, resp,
                    detail=f"incomplete or malformed JSON ({len(resp.content)} bytes: {exc})",
                ) from exc
            raise self._protocol_error("POST", url, resp) from exc
        if not isinstance(data, list):
            keys = sorted(data)[:8] if isinstance(data, Mapping) else type(data).__name__
            raise self._protocol_error(
                "POST", url, resp, detail=f"JSON that is not an array of responses ({keys})"
            )
        invocations = []
        for item in data:
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)):
                raise self._protocol_error(
                    "POST", url, resp, detail="an array whose items are not [name, args, id]"
                )
            name, args, call_id = item
            arguments = dict(args) if isinstance(args, Mapping) else {}
            invocations.append(Invocation(name=name, arguments=arguments, call_id=str(call_id)))
        if len(invocations) < expected:
            log.warning("Group-Office answered %d of %d calls", len(invocations), expected)
        return invocations

    # --- blobs --------------------------------------------------------------------------

    def upload_blob(
        self,
        data: bytes | bytearray | memoryview | BinaryIO,
        name: str,
        content_type: str = "application/octet-stream",
        *,
        timeout: float | None = None,
    ) -> Blob:
        """Upload a file; returns the blob (its id is the SHA-1 of the content).

        Repeating an upload is harmless (same content, same id), so it is retried.
        """
        with self._guard():
            if isinstance(data, bytes | bytearray | memoryview):
                payload = bytes(data)
            else:
                payload = data.read()
            session = self.session
            limit = session.limits.max_size_upload
            if limit is not None and len(payload) > limit:
                raise BlobTooLargeError(
                    f"{name!r} has {len(payload)} bytes; this Group-Office accepts at most "
                    f"{limit} (maxSizeUpload)",
                    size=len(payload), limit=limit,
                )
            url = session.upload_url
            headers = {
                "Content-Type": content_type,
                "X-File-Name": f"UTF-8''{quote(name, safe='')}",
            }

            def attempt() -> Blob:
                resp = self._send("POST", url, headers=self._headers(headers), body=payload,
                                  timeout=timeout)
                return self._read_upload(resp, url, name, len(payload), limit)

            try:
                return self._retry(attempt, what=f"upload of {name!r}")
            except AuthenticationError:
                if not self._can_relogin():
                    raise
                self._relogin()
                return self._retry(attempt, what=f"upload of {name!r}")

    def _read_upload(
        self, resp: HttpResponse, url: str, name: str, size: int, limit: int | None
    ) -> Blob:
        data = _json_or_none(resp.content)
        if resp.status in (200, 201):
            if not isinstance(data, Mapping):
                raise self._protocol_error("POST", url, resp)
            try:
                return Blob.from_json(data)
            except ValueError as exc:
                raise self._protocol_error("POST", url, resp, detail=str(exc)) from exc
        if resp.status == 413:
            raise BlobTooLargeError(
                f"Group-Office refused {name!r} ({size} bytes) as too large (HTTP 413"
                f"{', limit ' + str(limit) if limit else ''})",
                size=size, limit=limit,
            )
        if resp.status == 401 or (
            isinstance(data, Mapping) and data.get("detail") == _UPLOAD_AUTH_DETAIL
        ):
            raise AuthenticationError(
                f"Group-Office refused the upload to {safe_url(url)}: not authenticated "
                "(it answers HTTP 500 'Upload failed' for that). Check the API key"
            )
        detail = data.get("detail") if isinstance(data, Mapping) else None
        raise self._status_error(
            "POST", url, resp, hint=f"upload failed: {detail}" if detail else "upload failed"
        )

    def _download_error(self, blob_id: str, url: str, resp: HttpResponse) -> JMAPError:
        message = _download_message(resp)
        if resp.status == 401:
            return AuthenticationError(
                f"Group-Office refused the download of blob {blob_id} ({message}). "
                "Check the API key"
            )
        if resp.status == 404:
            return BlobNotFoundError(
                f"Group-Office has no blob {blob_id} ({message})", blob_id=blob_id
            )
        return self._status_error("GET", url, resp, hint=message if message != resp.reason else "")

    def download_blob(self, blob_id: str, *, timeout: float | None = None) -> bytes:
        """The content of a blob, read into memory."""
        with self.download_blob_stream(blob_id, timeout=timeout) as stream:
            return stream.read()

    @contextlib.contextmanager
    def download_blob_stream(
        self, blob_id: str, *, timeout: float | None = None
    ) -> Iterator[BlobStream]:
        """Download a blob piece by piece: ``with client.download_blob_stream(i) as s:``.

        Opening is retried; a connection that breaks in the middle raises
        :class:`TransportError` from :meth:`BlobStream.iter_bytes`.
        """
        with self._guard():
            url = self.session.blob_download_url(blob_id)

            def attempt() -> StreamedResponse:
                headers = self._headers()
                stream: StreamedResponse
                if isinstance(self._transport, StreamingTransport):
                    stream = self._transport.stream(
                        "GET", url, headers=headers, timeout=timeout or self.timeout
                    )
                else:
                    stream = _BytesStream(self._send("GET", url, headers=headers, timeout=timeout))
                if stream.status == 200:
                    return stream
                try:
                    body = b"".join(stream.iter_content(64 * 1024))
                finally:
                    stream.close()
                raise self._download_error(
                    blob_id, url,
                    HttpResponse(stream.status, stream.reason, stream.headers, body),
                )

            try:
                response = self._retry(attempt, what=f"download of blob {blob_id}")
            except AuthenticationError:
                if not self._can_relogin():
                    raise
                self._relogin()
                response = self._retry(attempt, what=f"download of blob {blob_id}")
            try:
                yield BlobStream(blob_id, response)
            finally:
                response.close()
