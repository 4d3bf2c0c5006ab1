"""HTTP face of the emulator: the four Group-Office endpoints on a threaded WSGI server.

- ``GET /api/jmap.php``: the session (401 ``{"auth":{"domains":[]}}`` without a valid token, 01);
- ``POST /api/jmap.php``: the JMAP envelope (router.py); malformed envelopes give HTTP 500;
- ``POST /api/auth.php``: login, logout, self-registration (02, 11);
- ``POST /api/upload.php`` and ``GET /api/download.php``: blobs (10).

Group-Office puts real messages in the HTTP reason phrase (02), which WSGI lets us set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from . import acl, blobs, defaults, router
from .context import Context, RequestState
from .faults import WriteFaults
from .registry import Registry
from .store import Store

log = logging.getLogger("go_support.emulator")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Environ = dict[str, Any]

JSON_HEADERS = [
    ("Content-Type", "application/json;charset=utf-8"),
    ("Cache-Control", "no-cache, no-store, must-revalidate"),
    ("Pragma", "no-cache"),
    ("Expires", "01-07-2003 12:00:00 GMT"),
]

MAX_UPLOAD = blobs.MAX_UPLOAD


def php_json(value: Any) -> bytes:
    """json_encode without flags: ``/`` escaped as ``\\/``, non-ASCII as ``\\uXXXX``."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/").encode()


class App:
    """The WSGI application; one instance per emulator."""

    def __init__(
        self, store: Store, registry: Registry, faults: WriteFaults | None = None
    ) -> None:
        self.store = store
        self.registry = registry
        self.faults = faults

    # -- plumbing ----------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        routes = {
            "/api/jmap.php": self.jmap,
            "/api/auth.php": self.auth,
            "/api/upload.php": self.upload,
            "/api/download.php": self.download,
        }
        handler = routes.get(path)
        if handler is None:
            return _respond(start_response, "404 Not Found", [("Content-Type", "text/plain")], b"")
        if method == "OPTIONS":
            return _respond(start_response, "200 OK", [], b"")
        with self.store.lock:
            try:
                return handler(environ, start_response)
            finally:
                self.store.commit()

    def context(self, environ: Environ) -> Context:
        token = _bearer(environ)
        user_id = self.user_for_token(token) if token else None
        return Context(
            store=self.store,
            registry=self.registry,
            request=RequestState(base_url=_base_url(environ)),
            user_id=user_id,
            token=token,
            faults=self.faults,
        )

    def user_for_token(self, token: str) -> str | None:
        login = self.store.meta.tokens.get(token)
        if login is not None:
            user = self.store.get("User", login["userId"])
            return str(login["userId"]) if user and user.get("enabled", True) else None
        for key in self.store.all("Key"):
            if key.get("accessToken") == token:
                user = self.store.get("User", key["userId"])
                return str(key["userId"]) if user and user.get("enabled", True) else None
        return None

    # -- /api/jmap.php -----------------------------------------------------------------------

    def jmap(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        ctx = self.context(environ)
        if method == "GET":
            if not ctx.authenticated:
                body = php_json({"auth": {"domains": []}})
                return _respond(start_response, "401 Unauthorized", JSON_HEADERS, body)
            return _respond(start_response, "200 OK", JSON_HEADERS, php_json(self.session(ctx)))
        if method != "POST":
            return _respond(start_response, f"500 Method {method} not supported", [], b"")
        raw = _read_body(environ)
        try:
            body = json.loads(raw)
        except ValueError:
            # The decoder's multi-line message breaks PHP's header() call (03).
            text = (
                "Uncaught exception: Header may not contain more than a single header, new line "
                f"detected at {_iso_now()}\n\n"
            )
            return _respond(
                start_response,
                "500 Internal Server Error",
                [("Content-Type", "text/plain")],
                text.encode(),
            )
        if body == []:
            return _respond(start_response, "200 OK", JSON_HEADERS, b"")
        try:
            responses = router.run(ctx, body)
        except router.BadRequest as e:
            return _respond(start_response, f"500 {e}", [("Content-Type", "text/plain")], b"")
        return _respond(start_response, "200 OK", JSON_HEADERS, php_json(responses))

    def session(self, ctx: Context) -> dict[str, Any]:
        base = ctx.request.base_url
        capabilities: dict[str, Any] = {
            "maxSizeUpload": MAX_UPLOAD,
            "maxConcurrentUpload": 4,
            "maxSizeRequest": MAX_UPLOAD,
            "maxConcurrentRequests": 4,
            "maxCallInRequest": 10,
            "maxObjectsInGet": 100,
            "maxObjectsInSet": 1000,
        }
        for module in ctx.store.all("Module"):
            if not module.get("enabled", True):
                continue
            rights = acl.module_rights(ctx.store, module, ctx.groups, ctx.is_admin)
            if rights is None:
                continue
            package = module.get("package") or "legacy"
            capabilities[f"go:{package}:{module['name']}"] = rights
        return {
            "version": defaults.VERSION,
            "cacheClearedAt": ctx.store.meta.cache_cleared_at,
            "accounts": {
                "1": {"name": "Virtual", "isPrimary": True, "isReadOnly": False, "hasDataFor": []}
            },
            "auth": {"domains": []},
            "capabilities": capabilities,
            "apiUrl": f"{base}/api/jmap.php",
            "downloadUrl": f"{base}/api/download.php?blob={{blobId}}",
            "pageUrl": f"{base}/api/page.php",
            "uploadUrl": f"{base}/api/upload.php",
            "eventSourceUrl": None,
            "userId": ctx.user_id,
            "state": [],
            "CSRFToken": _csrf_for(ctx.token or ""),
        }

    # -- /api/auth.php -----------------------------------------------------------------------

    def auth(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        from .auth import handle_auth

        status, payload = handle_auth(self, environ)
        body = b"" if payload is None else php_json(payload)
        return _respond(start_response, status, JSON_HEADERS, body)

    # -- blobs (blobs.py) -------------------------------------------------------------------

    def upload(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        answer = blobs.upload(self.context(environ), environ, _read_body(environ))
        return _respond(start_response, answer.status, answer.headers, answer.body)

    def download(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        answer = blobs.download(
            self.context(environ), environ.get("QUERY_STRING", ""), environ
        )
        if "Content-Length" in {name for name, _ in answer.headers}:
            start_response(answer.status, answer.headers)
            return [answer.body]
        return _respond(start_response, answer.status, answer.headers, answer.body)


def _respond(
    start_response: StartResponse, status: str, headers: list[tuple[str, str]], body: bytes
) -> list[bytes]:
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _read_body(environ: Environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data: bytes = environ["wsgi.input"].read(length) if length else b""
    return data


def _bearer(environ: Environ) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :].strip() or None
    return None


def _base_url(environ: Environ) -> str:
    scheme = environ.get("HTTP_X_FORWARDED_PROTO") or environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST")
    if not host:
        host = f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
    return f"{scheme}://{host}"


def _csrf_for(token: str) -> str:
    return hashlib.sha1(f"csrf:{token}".encode()).hexdigest()[:45] if token else ""


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts))


def _iso_now() -> str:
    return _iso(time.time())


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


# How often the serving loop looks for a shutdown request. socketserver's default (0.5 s) made
# every stop() wait half a second, which dominated test suites that start many emulators.
SHUTDOWN_POLL = 0.01


class HttpServer:
    """A threaded loopback server running an :class:`App` in the background."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_server(
            host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.host = host
        self.port = self._server.server_port
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(SHUTDOWN_POLL,), daemon=True
        )
        self._thread.start()

    def serve_forever(self) -> None:
        self._server.serve_forever(SHUTDOWN_POLL)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
