"""``GroupOfficeClient.defer_session``: API calls without the session GET."""

from __future__ import annotations

import json

import pytest
import responses

from go_support.jmap import GroupOfficeClient, HTTPStatusError, Limits

BASE = "https://go.example.com"
SESSION = {
    "apiUrl": f"{BASE}/groupoffice/api/jmap.php",
    "downloadUrl": f"{BASE}/api/download.php?blob={{blobId}}",
    "uploadUrl": f"{BASE}/api/upload.php",
    "userId": "7",
    "capabilities": {"maxCallInRequest": 3},
}
ECHO = [["Core/echo", {"a": 1}, "c0"]]


@pytest.fixture
def rsps() -> responses.RequestsMock:
    with responses.RequestsMock() as mock:
        yield mock


def test_calls_go_out_without_the_session(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, f"{BASE}/api/jmap.php", json=ECHO)
    client = GroupOfficeClient(BASE, api_key="k")
    client.defer_session()
    assert client.call("Core/echo", {"a": 1}) == {"a": 1}
    assert client.limits == Limits()
    assert [c.request.method for c in rsps.calls] == ["POST"]


def test_the_session_is_fetched_when_needed(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, f"{BASE}/api/jmap.php", json=SESSION)
    rsps.add(responses.POST, f"{BASE}/groupoffice/api/jmap.php", json=ECHO)
    client = GroupOfficeClient(BASE, api_key="k")
    client.defer_session()
    assert client.user_id == "7"
    client.call("Core/echo", {"a": 1})  # from now on the advertised apiUrl and limits
    assert client.limits.max_call_in_request == 3
    assert [c.request.url for c in rsps.calls] == [
        f"{BASE}/api/jmap.php", f"{BASE}/groupoffice/api/jmap.php"]


def test_a_404_falls_back_to_the_session(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, f"{BASE}/api/jmap.php", status=404, body="not here")
    rsps.add(responses.GET, f"{BASE}/api/jmap.php", json=SESSION)
    rsps.add(responses.POST, f"{BASE}/groupoffice/api/jmap.php", json=ECHO)
    client = GroupOfficeClient(BASE, api_key="k")
    client.defer_session()
    assert client.call("Core/echo", {"a": 1}) == {"a": 1}
    assert json.loads(rsps.calls[-1].request.body) == ECHO


def test_a_404_everywhere_is_reported(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, f"{BASE}/api/jmap.php", status=404, body="not here")
    rsps.add(responses.GET, f"{BASE}/api/jmap.php",
             json={**SESSION, "apiUrl": f"{BASE}/api/jmap.php"})
    client = GroupOfficeClient(BASE, api_key="k")
    client.defer_session()
    with pytest.raises(HTTPStatusError):
        client.call("Core/echo", {"a": 1})


def test_without_deferral_the_session_comes_first(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, f"{BASE}/api/jmap.php", json=SESSION)
    rsps.add(responses.POST, f"{BASE}/groupoffice/api/jmap.php", json=ECHO)
    client = GroupOfficeClient(BASE, api_key="k")
    client.call("Core/echo", {"a": 1})
    assert [c.request.method for c in rsps.calls] == ["GET", "POST"]
