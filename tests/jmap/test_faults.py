"""HTTP-level fault injection with ``responses``.

``responses`` only injects the faults here; every normal exchange passes through to a
real Group-Office-compatible server (the ``go_server`` fixture: the emulator, or a real
Group-Office when GO_SUPPORT_TEST_URL/TOKEN are set). Tests that need no normal
exchange at all use an unreachable ``.invalid`` base URL. Normal answers, even unusual
ones (a pending second factor, an unauthenticated upload), are tested against the
emulator in ``test_client_emulator.py``.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
from collections.abc import Iterator

import pytest
import requests
import responses

from go_support.jmap import (
    AuthenticationError,
    Batch,
    GroupOfficeClient,
    HTTPStatusError,
    IncompleteBatchError,
    OutcomeUnknownError,
    ProtocolError,
    RetryPolicy,
    TransportError,
)

FAST_RETRY = RetryPolicy(max_attempts=3, max_total_seconds=30, sleep=lambda s: None)
KEY = "5b7576e5c50ac30f0e53373f0fa614cedbdbe49df7637"
FAKE = "http://go.invalid"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def live(go_server: tuple[str, str], rsps: responses.RequestsMock) -> GroupOfficeClient:
    """A client whose unfaulted requests reach the server for real."""
    url, token = go_server
    rsps.add_passthru(url)
    return GroupOfficeClient(url, api_key=token, retry=FAST_RETRY)


def api_url(client: GroupOfficeClient) -> str:
    return client.session.api_url


def _assert_clean(exc: BaseException, *secrets: str) -> None:
    text = str(exc) + repr(exc.args)
    for secret in (KEY, *secrets):
        assert secret not in text


# --- connection-level faults ----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_connection_is_explained() -> None:
    port = _closed_port()
    client = GroupOfficeClient(f"http://127.0.0.1:{port}", api_key=KEY, retry=FAST_RETRY)
    with pytest.raises(TransportError) as info:
        _ = client.session
    text = str(info.value)
    assert f"http://127.0.0.1:{port}/api/jmap.php" in text
    assert "connection refused" in text and "running" in text
    assert info.value.request_sent is False
    _assert_clean(info.value)


def test_refused_connection_is_retried_for_reads(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{FAKE}/api/jmap.php",
             body=requests.exceptions.ConnectionError("[Errno 111] Connection refused"))
    client = GroupOfficeClient(FAKE, api_key=KEY,
                               retry=RetryPolicy(max_attempts=4, sleep=lambda s: None))
    with pytest.raises(TransportError, match="connection refused"):
        _ = client.session
    assert len(rsps.calls) == 4


def test_dns_failure_is_explained(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{FAKE}/api/jmap.php", body=requests.exceptions.ConnectionError(
        "Failed to resolve 'go.invalid' ([Errno -2] Name or service not known)"))
    client = GroupOfficeClient(FAKE, api_key=KEY, retry=RetryPolicy.disabled())
    with pytest.raises(TransportError, match="could not be resolved") as info:
        _ = client.session
    assert "go.invalid" in str(info.value)


def test_tls_failure_is_explained(rsps: responses.RequestsMock) -> None:
    rsps.get("https://go.invalid/api/jmap.php", body=requests.exceptions.SSLError(
        "certificate verify failed: self-signed certificate"))
    client = GroupOfficeClient("https://go.invalid", api_key=KEY, retry=RetryPolicy.disabled())
    with pytest.raises(TransportError) as info:
        _ = client.session
    assert "TLS" in str(info.value) and "verify=" in str(info.value)


def test_bounded_total_time() -> None:
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=50, max_total_seconds=0.05, initial_backoff=1.0,
                         sleep=slept.append)
    client = GroupOfficeClient(f"http://127.0.0.1:{_closed_port()}", api_key=KEY, retry=policy)
    with pytest.raises(TransportError):
        _ = client.session
    assert len(slept) < 49  # stopped by time, not by the attempt count


# --- session and authentication ----------------------------------------------------------


def test_session_401_is_an_authentication_error(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{FAKE}/api/jmap.php", status=401, json={"auth": {"domains": []}})
    client = GroupOfficeClient(FAKE, api_key=KEY, retry=FAST_RETRY)
    with pytest.raises(AuthenticationError, match="refused the API key") as info:
        _ = client.session
    assert len(rsps.calls) == 1  # not retried
    _assert_clean(info.value)


def test_session_html_is_a_protocol_error(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{FAKE}/api/jmap.php", status=200, content_type="text/html",
             body="<!DOCTYPE html><html><body>Welcome to nginx!</body></html>")
    client = GroupOfficeClient(FAKE, api_key=KEY, retry=FAST_RETRY)
    with pytest.raises(ProtocolError, match="Is this a Group-Office URL") as info:
        _ = client.session
    assert "HTML" in str(info.value)


def test_session_404_hints_at_the_base_url(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{FAKE}/groupoffice/api/jmap.php", status=404, body="Not Found")
    client = GroupOfficeClient(f"{FAKE}/groupoffice/", api_key=KEY, retry=FAST_RETRY)
    with pytest.raises(HTTPStatusError, match="Group-Office root") as info:
        _ = client.session
    assert info.value.status == 404


def test_cookies_are_never_kept(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{FAKE}/api/download.php", status=200, body=b"x",
             headers={"Set-Cookie": "accessToken=abc123; Path=/; HttpOnly"})
    rsps.get(f"{FAKE}/api/download.php", status=200, body=b"y")
    from go_support.jmap import RequestsTransport

    transport = RequestsTransport()
    for _ in range(2):
        transport.send("GET", f"{FAKE}/api/download.php", headers={}, body=None, timeout=5)
    assert "Cookie" not in rsps.calls[1].request.headers


# --- API requests: reads are retried, writes are not -----------------------------------------


def test_503_then_success_for_a_get_is_retried(
    live: GroupOfficeClient, rsps: responses.RequestsMock
) -> None:
    url = api_url(live)
    rsps.post(url, status=503)
    rsps.add(responses.PassthroughResponse(responses.POST, url))
    result = live.tasks.get(["987654321"])
    assert result.not_found == ["987654321"]
    posts = [c for c in rsps.calls if c.request.method == "POST"]
    assert [getattr(c.response, "status_code", None) for c in posts] == [503, 200]


def test_503_for_a_set_is_not_retried(
    live: GroupOfficeClient, rsps: responses.RequestsMock
) -> None:
    url = api_url(live)
    rsps.post(url, status=503, body="Service Unavailable")
    with pytest.raises(OutcomeUnknownError) as info:
        live.tasks.create_many([{"title": "a", "tasklistId": "1"},
                                {"title": "b", "tasklistId": "1"}])
    err = info.value
    assert err.status == 503
    assert err.creation_ids == {"Task/set": ["new1", "new2"]}
    assert "new1, new2" in str(err) and "not resent" in str(err)
    assert len([c for c in rsps.calls if c.request.method == "POST"]) == 1
    _assert_clean(err)


def test_read_timeout_for_a_set_is_outcome_unknown(
    live: GroupOfficeClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(api_url(live), body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(OutcomeUnknownError, match="no answer within"):
        live.tasks.set(update={"1": {"title": "x"}})
    assert len([c for c in rsps.calls if c.request.method == "POST"]) == 1


def test_read_timeout_for_a_get_is_retried_then_reported(
    live: GroupOfficeClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(api_url(live), body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(TransportError, match="no answer within") as info:
        live.tasks.get(["1"])
    assert not isinstance(info.value, OutcomeUnknownError)
    assert len([c for c in rsps.calls if c.request.method == "POST"]) == FAST_RETRY.max_attempts


def test_refused_before_sending_a_set_is_retried(
    live: GroupOfficeClient, rsps: responses.RequestsMock, tag: str
) -> None:
    url = api_url(live)
    rsps.post(url, body=requests.exceptions.ConnectionError("[Errno 111] Connection refused"))
    rsps.add(responses.PassthroughResponse(responses.POST, url))
    list_id = live.task_lists.create({"name": f"{tag} refused-then-ok"})
    try:
        assert list_id
    finally:
        live.task_lists.destroy([list_id])


def test_429_for_a_set_is_retried(
    live: GroupOfficeClient, rsps: responses.RequestsMock, tag: str
) -> None:
    url = api_url(live)
    rsps.post(url, status=429, headers={"Retry-After": "0"})
    rsps.add(responses.PassthroughResponse(responses.POST, url))
    list_id = live.task_lists.create({"name": f"{tag} 429-then-ok"})
    live.task_lists.destroy([list_id])


def test_retry_warnings_never_show_the_key(
    live: GroupOfficeClient, rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    # a broken proxy that echoes the request headers in its error page
    url = api_url(live)
    token = live._api_key
    assert token
    rsps.post(url, status=503, body=f"upstream failed; request had Authorization: {token}")
    rsps.add(responses.PassthroughResponse(responses.POST, url))
    with caplog.at_level(logging.DEBUG):
        assert live.tasks.get(["987654321"]).not_found == ["987654321"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "retrying" in warnings[0].getMessage()
    assert "<redacted>" in warnings[0].getMessage()
    for record in caplog.records:
        assert token not in record.getMessage()


def test_html_answer_to_a_get(live: GroupOfficeClient, rsps: responses.RequestsMock) -> None:
    rsps.post(api_url(live), status=200, content_type="text/html",
              body="<html><body><h1>502 Bad Gateway</h1></body></html>")
    with pytest.raises(ProtocolError, match="Is this a Group-Office URL"):
        live.tasks.get(["1"])


def test_truncated_json_for_a_get(live: GroupOfficeClient, rsps: responses.RequestsMock) -> None:
    rsps.post(api_url(live), status=200, content_type="application/json;charset=utf-8",
              body='[["Task\\/get",{"accountId":[],"state":"1795650651:30:0:51","li')
    with pytest.raises(ProtocolError, match="incomplete or malformed JSON"):
        live.tasks.get(["1"])


def test_truncated_json_for_a_set(live: GroupOfficeClient, rsps: responses.RequestsMock) -> None:
    rsps.post(api_url(live), status=200, content_type="application/json;charset=utf-8",
              body='[["Comment\\/set",{"accountId":null,"created":{"m1":{"id":"4')
    with pytest.raises(OutcomeUnknownError) as info:
        live.comments.create_many([{"entity": "Task", "entityId": "1", "text": "x"}],
                                  prefix="m")
    assert info.value.creation_ids == {"Comment/set": ["m1"]}
    assert isinstance(info.value.__cause__, ProtocolError)


def test_json_that_is_not_a_list(live: GroupOfficeClient, rsps: responses.RequestsMock) -> None:
    rsps.post(api_url(live), status=200, json={"methodResponses": []})
    with pytest.raises(ProtocolError, match="not an array"):
        live.tasks.get(["1"])


def test_500_with_reason_phrase(live: GroupOfficeClient, rsps: responses.RequestsMock) -> None:
    rsps.post(api_url(live), status=500, body="Uncaught exception: boom")
    with pytest.raises(HTTPStatusError) as info:
        live.tasks.get(["1"])
    assert info.value.status == 500 and "Uncaught exception: boom" in str(info.value)


def test_later_chunk_failure_keeps_the_writes_of_earlier_chunks(
    live: GroupOfficeClient, rsps: responses.RequestsMock, tag: str
) -> None:
    session = live.session
    live._session = dataclasses.replace(  # a server that allows one call per request
        session, capabilities={**session.capabilities, "maxCallInRequest": 1})
    url = session.api_url
    rsps.add(responses.PassthroughResponse(responses.POST, url))
    rsps.post(url, status=400, body="Bad Request")
    batch = Batch()
    created = batch.call("TaskList/set", {"create": {"l": {"name": f"{tag} chunked"}}})
    batch.call("TaskList/get", {"ids": ["1"]})
    with pytest.raises(IncompleteBatchError) as info:
        live.execute(batch)
    completed = info.value.completed.get(created)
    list_id = completed["created"]["l"]["id"]
    assert info.value.unsent == ("c1",)
    rsps.remove(responses.POST, url)  # stop injecting; clean up for real
    live.task_lists.destroy([list_id])


def test_outcome_unknown_in_a_later_chunk_reports_unsent_calls(
    live: GroupOfficeClient, rsps: responses.RequestsMock
) -> None:
    session = live.session
    live._session = dataclasses.replace(
        session, capabilities={**session.capabilities, "maxCallInRequest": 1})
    url = session.api_url
    rsps.add(responses.PassthroughResponse(responses.POST, url))
    rsps.post(url, status=502)
    batch = Batch()
    batch.call("Task/get", {"ids": ["1"]})
    batch.call("Task/set", {"destroy": ["987654321"]})
    batch.call("Task/get", {"ids": ["2"]})
    with pytest.raises(OutcomeUnknownError) as info:
        live.execute(batch)
    assert info.value.unsent == ("c2",)
    assert info.value.completed is not None and len(info.value.completed) == 1
    assert info.value.writes[0].destroy == ("987654321",)


def test_redirect_of_a_post_is_not_followed(
    live: GroupOfficeClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(api_url(live), status=301,
              headers={"Location": "https://go.example.com/api/jmap.php"})
    with pytest.raises(HTTPStatusError, match="use that address as base_url") as info:
        live.tasks.set(destroy=["987654321"])
    assert not isinstance(info.value, OutcomeUnknownError) and info.value.status == 301
