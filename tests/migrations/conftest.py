"""Fixtures of the migration tests: a fresh emulator per test, clients that count writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from go_support.emulator import Emulator
from go_support.jmap import GroupOfficeClient
from tests._support import RecordingTransport, isolate_from_machine

#: API key of a seeded user who is not an administrator.
AGENT_KEY = "a" * 45


@dataclass
class Server:
    base_url: str
    admin_key: str
    emulator: Emulator

    def client(self, key: str | None = None) -> GroupOfficeClient:
        return GroupOfficeClient(self.base_url, api_key=key or self.admin_key)


class Recording(RecordingTransport):
    """The recording transport, plus the JMAP ``/set`` methods it sent."""

    @property
    def writes(self) -> list[str]:
        return [call[0] for body in self.api_requests() for call in body
                if call[0].endswith("/set")]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No configuration of the machine running the tests leaks in."""
    isolate_from_machine(monkeypatch, home=tmp_path, cwd=tmp_path,
                         system_config=tmp_path / "etc-config.toml")


@pytest.fixture
def server() -> Iterator[Server]:
    emu = Emulator()
    emu.seed({"users": [{"id": 40, "username": "agent", "displayName": "Agent",
                         "email": "agent@example.com", "apiKey": AGENT_KEY}]})
    running = emu.start()
    yield Server(running.base_url, running.admin_api_key, emu)
    emu.stop()


@pytest.fixture
def client(server: Server) -> Iterator[GroupOfficeClient]:
    with server.client() as c:
        yield c


@pytest.fixture
def recording_client(server: Server) -> Callable[[], tuple[GroupOfficeClient, Recording]]:
    def make() -> tuple[GroupOfficeClient, Recording]:
        recording = Recording()
        return GroupOfficeClient(server.base_url, api_key=server.admin_key,
                                 transport=recording), recording
    return make


STATE_ENTITIES = ("FieldSet", "Field", "TaskListGrouping", "CommentLabel", "TaskList", "Task",
                  "Comment")


def states(client: GroupOfficeClient) -> dict[str, str | None]:
    """The state string of every entity an install could touch."""
    return {name: client.entity(name).state() for name in STATE_ENTITIES}
