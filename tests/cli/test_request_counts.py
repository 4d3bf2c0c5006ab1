"""The commands' HTTP requests: ``tickets list`` and ``tickets show`` from a fresh process.

``benchmarks/desk.py`` prints these counts over 10,000 tickets; here they are asserted. The
number of requests does not depend on the number of tickets (a page is one query with its
results, whatever the total) nor on the number of messages (a ticket's messages come in the
same request as the ticket), so a few hundred tickets and one 50-message ticket stand for
10,000 and keep the test fast.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.desk import seed_messages, seed_tickets
from go_support.cli import exitcodes
from go_support.cli.main import main
from go_support.desk import DeskConfig, SupportDesk
from go_support.emulator import Emulator
from go_support.jmap import GroupOfficeClient
from go_support.migrations import install
from tests._support import Cleanup, RecordingTransport, destroyed_afterwards, live_server

TICKETS = 300
MESSAGES = 50
MAX_REQUESTS = 2  # a desk read from a fresh client and desk (the target of benchmarks/desk.py)


@dataclass
class Seeded:
    url: str
    key: str
    config: Path
    type_name: str
    chatty: str  # the ticket with MESSAGES messages


def _seed(url: str, key: str, config: Path, tag: str, cleanup: Cleanup) -> Seeded:
    """A type with TICKETS tickets and one ticket with MESSAGES messages; its agent and
    requester. Everything is named with ``tag`` (a real Group-Office is shared)."""
    with GroupOfficeClient(url, api_key=key) as admin:
        install(admin)
        desk = SupportDesk(admin, DeskConfig())
        group = cleanup("Group", admin.groups.create({"name": f"{tag} agents"}))
        agent = cleanup("User", admin.users.create({
            "username": f"{tag}-agent", "displayName": "Agent",
            "email": f"{tag}-agent@example.com", "groups": [2, 3, int(group)]}))
        requester = cleanup("User", admin.users.create({
            "username": f"{tag}-ann", "displayName": "Ann",
            "email": f"{tag}-ann@example.com", "groups": [2, 3]}))
        ticket_type = desk.types.create(f"{tag} Counted", agents=[group])
        cleanup("TaskList", ticket_type.id)
        seed_tickets(admin, ticket_type.id, agent, requester, TICKETS)
        chatty = seed_messages(admin, desk, ticket_type.id, MESSAGES)
    return Seeded(url, key, config, ticket_type.name, chatty.id)


@pytest.fixture(scope="module", params=["emulator", "live"])
def seeded(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The seeded server: an emulator, or the real Group-Office of ``GO_SUPPORT_TEST_URL``."""
    config = tmp_path_factory.mktemp("counts") / "go-support.toml"
    config.write_text("# empty: the test passes --url and --api-key\n")
    tag = f"gs-counts-{uuid.uuid4().hex[:8]}"
    if request.param == "live":
        url, key = live_server()
        with GroupOfficeClient(url, api_key=key) as admin, \
                destroyed_afterwards(admin) as cleanup:
            yield _seed(url, key, config, tag, cleanup)
        return
    emu = Emulator()
    server = emu.start()
    try:
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as admin, \
                destroyed_afterwards(admin) as cleanup:
            yield _seed(server.base_url, server.admin_api_key, config, tag, cleanup)
    finally:
        emu.stop()


def _count(seeded: Seeded, *argv: str) -> tuple[int, object]:
    """``go-support *argv --json`` in-process, as from a fresh process (a new client and
    desk): the HTTP requests it sent, and its output."""
    transport = RecordingTransport()
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as exc:
        main(["--config", str(seeded.config), "--url", seeded.url, "--api-key", seeded.key,
              "--json", *argv], transport=transport)
    assert exc.value.code == exitcodes.OK, out.getvalue()
    return len(transport.sent), json.loads(out.getvalue())


def test_tickets_list_sends_at_most_2_requests(seeded: Seeded) -> None:
    requests, data = _count(seeded, "tickets", "list", "--type", seeded.type_name)
    assert isinstance(data, dict)
    assert data["total"] == TICKETS + 1 and data["tickets"]  # the page is really there
    assert requests <= MAX_REQUESTS, requests


def test_tickets_show_of_a_50_message_ticket_sends_at_most_2_requests(seeded: Seeded) -> None:
    requests, data = _count(seeded, "tickets", "show", seeded.chatty)
    assert isinstance(data, dict)
    assert len(data["messages"]) == MESSAGES
    assert requests <= MAX_REQUESTS, requests
