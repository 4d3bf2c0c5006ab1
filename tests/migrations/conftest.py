"""Fixtures of the migration tests: a fresh emulator per test, clients that count writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from go_support.emulator import Emulator
from go_support.jmap import GroupOfficeClient, HttpResponse, RequestsTransport

#: API key of a seeded user who is not an administrator.
AGENT_KEY = "a" * 45


@dataclass
class Server:
    base_url: str
    admin_key: str
    emulator: Emulator

    def client(self, key: str | None = None) -> GroupOfficeClient:
        return GroupOfficeClient(self.base_url, api_key=key or self.admin_key)


@dataclass
class Recording:
    """The real transport, plus the JMAP method names it sent."""

    inner: RequestsTransport = field(default_factory=RequestsTransport)
    methods: list[str] = field(default_factory=list)

    def send(self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None,
             timeout: float) -> HttpResponse:
        if body and "jmap.php" in url:
            self.methods += [call[0] for call in json.loads(body)]
        return self.inner.send(method, url, headers=headers, body=body, timeout=timeout)

    @property
    def writes(self) -> list[str]:
        return [m for m in self.methods if m.endswith("/set")]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No configuration of the machine running the tests leaks in."""
    for name in ("GO_SUPPORT_URL", "GO_SUPPORT_API_KEY", "GO_SUPPORT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("go_support.settings.SYSTEM_CONFIG", tmp_path / "etc-config.toml")


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
