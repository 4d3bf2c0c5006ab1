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
from tests._support import RecordingTransport

TICKETS = 300
MESSAGES = 50
MAX_REQUESTS = 2  # a desk read from a fresh client and desk (the target of benchmarks/desk.py)


@dataclass
class Seeded:
    url: str
    key: str
    config: Path
    chatty: str  # the ticket with MESSAGES messages


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    emu = Emulator()
    server = emu.start()
    config = tmp_path_factory.mktemp("counts") / "go-support.toml"
    config.write_text("# empty: the test passes --url and --api-key\n")
    try:
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as admin:
            install(admin)
            desk = SupportDesk(admin, DeskConfig())
            group = admin.groups.create({"name": "Count agents"})
            agent = admin.users.create({"username": "agent", "displayName": "Agent",
                                        "email": "agent@example.com",
                                        "groups": [2, 3, int(group)]})
            requester = admin.users.create({"username": "ann", "displayName": "Ann",
                                            "email": "ann@example.com", "groups": [2, 3]})
            ticket_type = desk.types.create("Counted", agents=[group])
            seed_tickets(admin, ticket_type.id, agent, requester, TICKETS)
            chatty = seed_messages(admin, desk, ticket_type.id, MESSAGES)
        yield Seeded(server.base_url, server.admin_api_key, config, chatty.id)
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
    requests, data = _count(seeded, "tickets", "list")
    assert isinstance(data, dict)
    assert data["total"] == TICKETS + 1 and data["tickets"]  # the page is really there
    assert requests <= MAX_REQUESTS, requests


def test_tickets_show_of_a_50_message_ticket_sends_at_most_2_requests(seeded: Seeded) -> None:
    requests, data = _count(seeded, "tickets", "show", seeded.chatty)
    assert isinstance(data, dict)
    assert len(data["messages"]) == MESSAGES
    assert requests <= MAX_REQUESTS, requests
