"""The help desk's two everyday reads, from a fresh client: HTTP requests and wall time.

    .venv/bin/python -m benchmarks.desk
    .venv/bin/python -m benchmarks.desk --tickets 20000 --messages 50 --repeat 5

Against the embedded emulator: seeds ``--tickets`` tickets (batched ``Task/set``, 1,000 tasks
per call and 5 calls per request, with the Support custom fields as ``go-support install``
creates them) and one ticket with ``--messages`` messages. Then, each time with a **fresh**
``GroupOfficeClient`` and ``SupportDesk`` on a transport that counts HTTP requests
(``CountingTransport``):

* the first page of ``tickets list``: the library call and the command
  ``go-support tickets list`` run in-process;
* ``tickets show`` of the ticket with many messages: the library call and the command;
* each library call again on the same desk, the layout known (only that second call counted);
* a naive comparison measured in the same run: listing by fetching each ticket of the page
  separately, and showing by fetching each message separately.

The target is at most 2 HTTP requests for each desk read from a fresh client and desk, and 1
with the layout known. Figures only: nothing is asserted (timings depend on the machine; the
emulator is not Group-Office, see DESIGN.md §5).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import CountingTransport
from go_support.cli.main import main as cli_main
from go_support.desk import DeskConfig, SupportDesk, Ticket
from go_support.desk.names import (
    FIRST_MESSAGE_ID,
    LEGACY_TICKET_ID,
    REQUESTER_EMAIL,
    REQUESTER_ID,
    REQUESTER_NAME,
)
from go_support.emulator import Emulator
from go_support.jmap import Batch, GroupOfficeClient
from go_support.migrations import install

PER_CALL = 1000  # maxObjectsInSet
CALLS_PER_REQUEST = 5
TARGET = 2  # HTTP requests of a desk read from a fresh client and desk
TARGET_LAYOUT_KNOWN = 1  # the same read again on that desk


def seed_tickets(admin: GroupOfficeClient, type_id: str, agent_id: str, requester_id: str,
                 count: int) -> float:
    """``count`` tickets as the desk writes them; returns the seconds it took."""
    started = time.perf_counter()
    created = 0
    while created < count:
        batch = Batch()
        calls = []
        for _ in range(CALLS_PER_REQUEST):
            chunk = min(PER_CALL, count - created)
            if chunk <= 0:
                break
            calls.append(batch.set("Task", create={
                f"t{n}": {
                    "tasklistId": type_id,
                    "title": f"Seeded ticket {n}",
                    "progress": ("needs-action", "in-progress", "completed")[n % 3],
                    "responsibleUserId": agent_id if n % 2 else None,
                    "customFields": {
                        REQUESTER_ID: int(requester_id) if n % 4 == 0 else None,
                        REQUESTER_EMAIL: f"requester{n}@example.com",
                        REQUESTER_NAME: f"Requester {n}",
                        FIRST_MESSAGE_ID: f"<seed-{n}@example.com>",
                        LEGACY_TICKET_ID: str(100_000 + n),
                    },
                } for n in range(created, created + chunk)}, validate=False))
            created += chunk
        responses = admin.execute(batch)
        for call in calls:
            failed = responses.get(call).get("notCreated") or {}
            if failed:
                raise SystemExit(f"seeding failed: {next(iter(failed.values()))}")
    return time.perf_counter() - started


def seed_messages(admin: GroupOfficeClient, desk: SupportDesk, type_id: str,
                  count: int, requester: str = "Ann <ann@example.com>") -> Ticket:
    """One ticket with ``count`` messages: the requester's, agents' replies, private notes
    (every tenth)."""
    ticket = desk.tickets.create(type_id, "A long conversation", "<p>message 1</p>",
                                 requester)
    label = desk.layout.private_label_id
    batch = Batch()
    batch.set("Comment", create={
        f"m{i}": {"entity": "Task", "entityId": ticket.id, "text": f"<p>message {i}</p>",
                  **({"labels": [label]} if i % 10 == 0 else
                     {"mailStatus": "received" if i % 2 else "pending"})}
        for i in range(2, count + 1)})
    admin.execute(batch)
    return ticket


class Meter:
    """The transport a run counts on, and when its measured part started."""

    def __init__(self) -> None:
        self.transport = CountingTransport()
        self.started = time.perf_counter()

    def restart(self) -> None:
        """Count and time only what comes next (what came before was set-up)."""
        self.transport.requests = 0
        self.started = time.perf_counter()


class Bench:
    def __init__(self, url: str, key: str, config: Path, repeat: int) -> None:
        self.url, self.key, self.config, self.repeat = url, key, config, repeat
        self.rows: list[tuple[str, int, float, int | None]] = []

    def measure(self, what: str, run: Callable[[Meter], None], target: int | None) -> None:
        """Median wall time of ``repeat`` runs, each from scratch; requests of the first."""
        times = []
        requests = 0
        for attempt in range(self.repeat):
            meter = Meter()
            run(meter)
            times.append(time.perf_counter() - meter.started)
            if attempt == 0:
                requests = meter.transport.requests
        self.rows.append((what, requests, statistics.median(times) * 1000, target))

    def library(self, read: Callable[[SupportDesk], object], *,
                layout_known: bool = False) -> Callable[[Meter], None]:
        """``read`` on a fresh client and desk; with ``layout_known``, ``read`` a second time
        on that desk, and only the second time measured."""
        def run(meter: Meter) -> None:
            with GroupOfficeClient(self.url, api_key=self.key,
                                   transport=meter.transport) as client:
                desk = SupportDesk(client, DeskConfig())
                if layout_known:
                    read(desk)
                    meter.restart()
                read(desk)
        return run

    def command(self, *argv: str) -> Callable[[Meter], None]:
        def run(meter: Meter) -> None:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
                cli_main(["--config", str(self.config), "--url", self.url, "--api-key",
                          self.key, *argv], transport=meter.transport)
            if not out.getvalue().strip():
                raise SystemExit(f"go-support {' '.join(argv)} printed nothing")
        return run

    def report(self) -> None:
        print(f"\n{'measurement':58} {'requests':>8} {'target':>6} {'wall ms':>9}")
        for what, requests, ms, target in self.rows:
            verdict = "" if target is None else ("  ok" if requests <= target else "  OVER")
            shown = "-" if target is None else f"<={target}"
            print(f"{what:58} {requests:8d} {shown:>6} {ms:9.1f}{verdict}")


def naive_list(url: str, key: str, per_page: int) -> Callable[[Meter], None]:
    """The page's ids, then each ticket on its own."""
    def run(meter: Meter) -> None:
        with GroupOfficeClient(url, api_key=key, transport=meter.transport) as client:
            desk = SupportDesk(client, DeskConfig())
            ids = client.tasks.query(
                {"tasklistId": [t.id for t in desk.types.list()]},
                sort=[{"property": "createdAt", "isAscending": False}], limit=per_page).ids
            for ticket_id in ids:
                desk.tickets.get(ticket_id, with_messages=False)
    return run


def naive_show(url: str, key: str, ticket_id: str) -> Callable[[Meter], None]:
    """The task, the ids of its comments, then each comment and its author on their own."""
    def run(meter: Meter) -> None:
        with GroupOfficeClient(url, api_key=key, transport=meter.transport) as client:
            client.tasks.get_one(ticket_id)
            ids = client.comments.query({"entity": "Task", "entityId": ticket_id}).ids
            for comment_id in ids:
                comment = client.comments.get_one(comment_id)
                if comment and comment.get("createdBy"):
                    client.users.get_one(str(comment["createdBy"]), ["id", "displayName"])
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()

    emu = Emulator()
    server = emu.start()
    url, key = server.base_url, server.admin_api_key
    with tempfile.TemporaryDirectory() as folder, \
            GroupOfficeClient(url, api_key=key) as admin:
        config = Path(folder, "go-support.toml")
        config.write_text("# empty: the benchmark passes --url and --api-key\n")
        try:
            install(admin)
            desk = SupportDesk(admin, DeskConfig())
            group = admin.groups.create({"name": "Benchmark agents"})
            agent = admin.users.create({"username": "agent", "displayName": "Agent",
                                        "email": "agent@example.com", "groups": [2, 3, int(group)]})
            requester = admin.users.create({"username": "ann", "displayName": "Ann",
                                            "email": "ann@example.com", "groups": [2, 3]})
            ticket_type = desk.types.create("Benchmark", agents=[group])
            seconds = seed_tickets(admin, ticket_type.id, agent, requester, args.tickets)
            chatty = seed_messages(admin, desk, ticket_type.id, args.messages)
            print(f"Emulator at {url}: seeded {args.tickets:,} tickets in {seconds:.1f}s "
                  f"({args.tickets / seconds:,.0f}/s, {PER_CALL * CALLS_PER_REQUEST:,} per "
                  f"request) and ticket {chatty.id} with {args.messages} messages.")
            print(f"Each measurement: a fresh GroupOfficeClient and SupportDesk (layout known: "
                  f"the same read again on it), median of {args.repeat} runs.")

            bench = Bench(url, key, config, args.repeat)
            page = 50

            def first_page(desk: SupportDesk) -> object:
                return desk.tickets.list(per_page=page)

            def show(desk: SupportDesk) -> object:
                return desk.tickets.get(chatty.id)

            bench.measure("tickets list, first page (library)", bench.library(first_page),
                          TARGET)
            bench.measure("tickets list, first page again, layout known (library)",
                          bench.library(first_page, layout_known=True), TARGET_LAYOUT_KNOWN)
            bench.measure("go-support tickets list (command, in-process)",
                          bench.command("tickets", "list"), TARGET)
            bench.measure("naive list: the page's ids, then each ticket alone",
                          naive_list(url, key, page), None)
            bench.measure(f"tickets show, {args.messages} messages (library)",
                          bench.library(show), TARGET)
            bench.measure(f"tickets show, {args.messages} messages again, layout known "
                          "(library)", bench.library(show, layout_known=True),
                          TARGET_LAYOUT_KNOWN)
            bench.measure(f"go-support tickets show {chatty.id} (command, in-process)",
                          bench.command("tickets", "show", chatty.id), TARGET)
            bench.measure("naive show: the task, then each message and author alone",
                          naive_show(url, key, chatty.id), None)
            bench.report()
        finally:
            emu.stop()


if __name__ == "__main__":
    main()
