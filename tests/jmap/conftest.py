"""Fixtures for the JMAP client tests.

``go_server`` is Group-Office for the end-to-end tests: a real one when
``GO_SUPPORT_TEST_URL`` and ``GO_SUPPORT_TEST_TOKEN`` are set, otherwise the emulator.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from go_support.jmap import GroupOfficeClient, HttpResponse, RequestsTransport, RetryPolicy

CORPUS = Path(os.environ.get("GO_SUPPORT_WIRE", "/work/shared/groupoffice-wire"))


def corpus(name: str) -> dict[str, Any]:
    """A recorded exchange file of the wire corpus (ground truth)."""
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"wire corpus not found at {path}")
    data: dict[str, Any] = json.loads(path.read_text())
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


@pytest.fixture
def go_server() -> Iterator[tuple[str, str]]:  # yields (base_url, token)
    url, token = os.environ.get("GO_SUPPORT_TEST_URL"), os.environ.get("GO_SUPPORT_TEST_TOKEN")
    if url and token:
        yield url, token
        return
    from go_support.emulator import Emulator

    emu = Emulator()
    server = emu.start()
    yield server.base_url, server.admin_api_key
    emu.stop()


@pytest.fixture
def emulator(go_server: tuple[str, str]) -> tuple[str, str]:
    """Alias of ``go_server``."""
    return go_server


@dataclass
class RecordingTransport:
    """The real transport, plus a log of what went over the wire (to count requests)."""

    inner: RequestsTransport = field(default_factory=RequestsTransport)
    sent: list[tuple[str, str, Any]] = field(default_factory=list)

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        decoded: Any = None
        if body and "jmap.php" in url:
            decoded = json.loads(body)
        self.sent.append((method, url, decoded))
        return self.inner.send(method, url, headers=headers, body=body, timeout=timeout)

    def api_requests(self) -> list[list[Any]]:
        """The JMAP request bodies sent so far."""
        return [b for m, u, b in self.sent if m == "POST" and "jmap.php" in u]

    def clear(self) -> None:
        self.sent.clear()


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


@pytest.fixture
def task_list(client: GroupOfficeClient, tag: str) -> Iterator[str]:
    """A throw-away task list (destroyed afterwards, also on a real server)."""
    list_id = client.task_lists.create({"name": f"{tag} list", "role": "list"})
    yield list_id
    with contextlib.suppress(Exception):  # cleanup must not hide the test's own failure
        client.task_lists.destroy([list_id])
