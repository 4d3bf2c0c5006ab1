"""Fixtures for the JMAP client tests.

``go_server`` is Group-Office for the end-to-end tests. It is parametrized: every test
that uses it runs against the emulator (``[emulator]``), and again against a real
Group-Office (``[live]``) when ``GO_SUPPORT_TEST_URL`` and ``GO_SUPPORT_TEST_TOKEN`` (an
admin API key) are set; otherwise the live run is skipped with the reason, which
``pytest -ra`` lists. Tests must leave a real server as they found it: destroy what they
create (the ``task_list`` and ``cleanup`` fixtures do it even when the test fails).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from go_support.jmap import GroupOfficeClient, RetryPolicy
from tests._support import (
    Cleanup,
    RecordingTransport,
    destroyed_afterwards,
    emulator_server,
    live_server,
)
from tests.contract.corpus import CorpusMissing, corpus_dir


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
        yield live_server()
        return
    with emulator_server() as server:
        yield server


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
def cleanup(client: GroupOfficeClient) -> Iterator[Cleanup]:
    """``cleanup("TaskList", id)``: destroy that object after the test, newest first.

    Returns the id, so that ``cleanup("Key", client.keys.create(...))`` reads naturally.
    """
    with destroyed_afterwards(client) as register:
        yield register


@pytest.fixture
def task_list(client: GroupOfficeClient, tag: str, cleanup: Cleanup) -> str:
    """A throw-away task list (destroyed afterwards with its tasks, also on a real server)."""
    return cleanup("TaskList", client.task_lists.create({"name": f"{tag} list", "role": "list"}))
