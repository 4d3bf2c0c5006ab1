"""The default transport: failure classification (real sockets, no Group-Office needed)."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest
import requests
import urllib3

from go_support.jmap import HttpResponse, RequestsTransport, TransportError
from go_support.jmap.transport import _describe_failure, safe_url


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def plain_http_port() -> Iterator[int]:
    """A plain-HTTP server, to be spoken to with HTTPS (a TLS handshake failure)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield int(server.server_port)
    server.shutdown()
    server.server_close()


def test_refused() -> None:
    port = _closed_port()
    with pytest.raises(TransportError, match="connection refused") as info:
        RequestsTransport().send("POST", f"http://127.0.0.1:{port}/api/jmap.php", headers={},
                                 body=b"[]", timeout=5)
    assert info.value.request_sent is False
    assert info.value.url == f"http://127.0.0.1:{port}/api/jmap.php"


def test_read_timeout_leaves_the_outcome_open(silent_port: int) -> None:
    with pytest.raises(TransportError, match=r"no answer within 0.3 s") as info:
        RequestsTransport().send("POST", f"http://127.0.0.1:{silent_port}/", headers={},
                                 body=b"[]", timeout=0.3)
    assert info.value.request_sent is None


def test_tls_failure(plain_http_port: int) -> None:
    with pytest.raises(TransportError, match="TLS error") as info:
        RequestsTransport().send("GET", f"https://127.0.0.1:{plain_http_port}/", headers={},
                                 body=None, timeout=5)
    assert info.value.request_sent is False and "verify=" in str(info.value)


def _wrapped(reason: Exception) -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/api/jmap.php", reason))  # type: ignore[arg-type]


def test_dns_failure_chain() -> None:
    conn = object()
    gai = socket.gaierror(-2, "Name or service not known")
    try:
        try:
            raise gai
        except socket.gaierror as e:
            raise urllib3.exceptions.NameResolutionError("go.invalid", conn, e) from e  # type: ignore[arg-type]
    except urllib3.exceptions.NameResolutionError as dns:
        err = _describe_failure(_wrapped(dns), "GET", "https://go.invalid/api/jmap.php", 30)
    assert "could not be resolved" in str(err) and err.request_sent is False


def test_new_connection_error_is_not_a_timeout() -> None:
    # urllib3's NewConnectionError subclasses ConnectTimeoutError: refused must win.
    refused = urllib3.exceptions.NewConnectionError(
        object(), "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    err = _describe_failure(_wrapped(refused), "POST", "http://h:1/api/jmap.php", 30)
    assert "connection refused" in str(err) and err.request_sent is False


def test_broken_connection_is_unknown() -> None:
    aborted = urllib3.exceptions.ProtocolError("Connection aborted.",
                                               ConnectionResetError(104, "reset by peer"))
    err = _describe_failure(requests.exceptions.ConnectionError(aborted), "POST",
                            "http://h/api/jmap.php", 30)
    assert err.request_sent is None and "connection broke" in str(err)


def test_safe_url_drops_credentials() -> None:
    assert safe_url("https://u:p@h:8443/x?y=1") == "https://h:8443/x?y=1"
    assert safe_url("https://h/x") == "https://h/x"


def test_http_response_header_lookup_is_case_insensitive() -> None:
    resp = HttpResponse(200, "OK", {"content-type": "application/json"}, b"[]")
    assert resp.header("Content-Type") == "application/json"
    assert resp.header("X-Missing", "d") == "d"
