"""Fixtures for the JMAP client tests.

``go_server`` is Group-Office for the end-to-end tests. It is parametrized: every test
that uses it runs against the emulator (``[emulator]``), and again against a real
Group-Office (``[live]``) when ``GO_SUPPORT_TEST_URL`` and ``GO_SUPPORT_TEST_TOKEN`` (an
admin API key) are set; otherwise the live run is skipped with the reason, which
``pytest -ra`` lists. Tests must leave a real server as they found it: destroy what they
create (the ``task_list`` and ``cleanup`` fixtures do it even when the test fails).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from go_support.jmap import GroupOfficeClient, HttpResponse, RequestsTransport, RetryPolicy
from tests.contract.corpus import CorpusMissing, corpus_dir

LIVE_URL_VAR = "GO_SUPPORT_TEST_URL"
LIVE_TOKEN_VAR = "GO_SUPPORT_TEST_TOKEN"
LIVE_SKIP_REASON = (
    "set GO_SUPPORT_TEST_URL and GO_SUPPORT_TEST_TOKEN (an admin API key of a test "
    "Group-Office) to run against a real server"
)


def corpus(name: str) -> dict[str, Any]:
    """A recorded exchange file of the wire corpus (ground truth).

    A missing corpus fails the test with :func:`corpus_dir`'s message; it never skips.
    """
    try:
        path = corpus_dir() / name
    except CorpusMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    if not path.is_file():
        pytest.fail(f"wire corpus file {name} not found in {path.parent}", pytrace=False)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def wire() -> Any:
    """``wire("01-session.json")``: a recorded corpus file."""
    return corpus


def no_sleep(_seconds: float) -> None:
    """Retry backoff without waiting, for tests."""


FAST_RETRY = RetryPolicy(max_attempts=3, max_total_seconds=30, sleep=no_sleep)


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """Three attempts, no waiting."""
    return FAST_RETRY


@pytest.fixture(params=["emulator", "live"])
def go_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """``(base_url, admin token)`` of the emulator, then of the real Group-Office."""
    if request.param == "live":
        url, token = os.environ.get(LIVE_URL_VAR), os.environ.get(LIVE_TOKEN_VAR)
        if not (url and token):
            pytest.skip(LIVE_SKIP_REASON)
        yield url, token
        return
    from go_support.emulator import Emulator

    emu = Emulator()
    server = emu.start()
    try:
        yield server.base_url, server.admin_api_key
    finally:
        emu.stop()


@dataclass
class RecordingTransport:
    """The real transport, plus a log of what went over the wire (to count requests).

    ``sent`` holds ``(method, url, decoded JMAP body or None)`` per request, ``received``
    the answers; a request that failed below HTTP has no answer.
    """

    inner: RequestsTransport = field(default_factory=RequestsTransport)
    sent: list[tuple[str, str, Any]] = field(default_factory=list)
    received: list[HttpResponse] = field(default_factory=list)

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        decoded: Any = None
        if body and "jmap.php" in url:
            decoded = json.loads(body)
        self.sent.append((method, url, decoded))
        response = self.inner.send(method, url, headers=headers, body=body, timeout=timeout)
        self.received.append(response)
        return response

    def api_requests(self) -> list[list[Any]]:
        """The JMAP request bodies sent so far."""
        return [b for m, u, b in self.sent if m == "POST" and "jmap.php" in u]

    def clear(self) -> None:
        self.sent.clear()
        self.received.clear()


@pytest.fixture
def recorder() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def client(go_server: tuple[str, str], recorder: RecordingTransport) -> Iterator[GroupOfficeClient]:
    url, token = go_server
    with GroupOfficeClient(url, api_key=token, transport=recorder, retry=FAST_RETRY) as c:
        yield c


@pytest.fixture
def tag() -> str:
    """A unique tag for names, so that tests can run again on a real server."""
    return f"gs-test-{uuid.uuid4().hex[:10]}"


Cleanup = Callable[[str, str], str]


@pytest.fixture
def cleanup(client: GroupOfficeClient) -> Iterator[Cleanup]:
    """``cleanup("TaskList", id)``: destroy that object after the test, newest first.

    Returns the id, so that ``cleanup("Key", client.keys.create(...))`` reads naturally.
    """
    created: list[tuple[str, str]] = []

    def register(entity: str, object_id: str) -> str:
        created.append((entity, str(object_id)))
        return str(object_id)

    yield register
    for entity, object_id in reversed(created):
        with contextlib.suppress(Exception):  # cleanup must not hide the test's own failure
            client.entity(entity).destroy([object_id])


@pytest.fixture
def task_list(client: GroupOfficeClient, tag: str, cleanup: Cleanup) -> str:
    """A throw-away task list (destroyed afterwards with its tasks, also on a real server)."""
    return cleanup("TaskList", client.task_lists.create({"name": f"{tag} list", "role": "list"}))
