"""Auto-close on a big desk: ``go_support.expiry.run`` against the emulator.

    .venv/bin/python -m benchmarks.expiry                    # 20,000 tickets, 2,000 eligible
    .venv/bin/python -m benchmarks.expiry --count 5000 --eligible 500

Builds ``--count`` tickets in bulk (the desk's operations layer): ``--eligible`` of them in
progress with an agent's answer 20 days old (a tenth of those with a private note from
yesterday, which must not reset the clock), as many answered 3 days ago, as many whose
requester wrote last, the rest closed. Then, through one fresh ``SupportDesk`` on a transport
that counts HTTP requests: a dry run and a real run with ``days = 14`` and public feedback,
each printed with its HTTP requests and seconds, and a second real run, which must find
nothing. Target: at most 60 requests for each run. Figures only: the emulator is not
Group-Office (DESIGN.md §5).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from benchmarks.common import CountingTransport
from go_support.desk import CreatedTicket, DeskConfig, Status, SupportDesk, TicketDraft
from go_support.desk.operations import NewMessage, Writes
from go_support.emulator import Emulator
from go_support.expiry.config import ExpirySettings
from go_support.expiry.runner import Report, run
from go_support.jmap import Batch, GroupOfficeClient
from go_support.migrations import install

TARGET = 60
NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)


def build(client: GroupOfficeClient, count: int, eligible: int) -> None:
    """The desk: tickets in bulk, then the agents' answers and notes in bulk."""
    group = client.groups.create({"name": "Expiry agents"})
    requester = client.users.create({"username": "ann", "displayName": "Ann",
                                     "email": "ann@example.com", "groups": [2, 3]})
    desk = SupportDesk(client, DeskConfig())
    type_id = desk.types.create("Helpdesk", agents=[group]).id
    statuses = [Status.COMPLETED] * count
    drafts = [TicketDraft(type_id, f"Ticket {n}", f"<p>Question {n}</p>", requester,
                          date=NOW - 30 * DAY, status=statuses[n]) for n in range(count)]
    created = [r for r in desk.tickets.create_many(drafts) if isinstance(r, CreatedTicket)]
    ids = [c.ticket_id for c in created]
    label = desk.layout.private_label_id
    batch = Batch()
    writes = Writes(batch)
    for n, ticket in enumerate(ids[:3 * eligible]):
        group_of = n // eligible  # 0: eligible, 1: answered recently, 2: requester last
        answered = NOW - (20 if group_of == 0 else 3) * DAY
        writes.post(ticket, NewMessage("<p>Does it work now?</p>", "sent", date=answered))
        if group_of == 2:
            writes.post(ticket, NewMessage("<p>No.</p>", "received", date=NOW - 2 * DAY))
        if group_of == 0 and n % 10 == 0:
            writes.post(ticket, NewMessage("<p>called, no answer</p>", private_label_id=label,
                                           date=NOW - DAY))
    for ticket in ids[:3 * eligible]:
        writes.change_state(ticket, Status.IN_PROGRESS, None, reset_percent=True)
    client.execute(batch).raise_for_errors()


def timed(client: GroupOfficeClient, transport: CountingTransport, settings: ExpirySettings,
          dry_run: bool) -> tuple[Report, int, float]:
    transport.requests = 0
    started = time.perf_counter()
    report = run(SupportDesk(client, DeskConfig()), settings, now=NOW, dry_run=dry_run)
    return report, transport.requests, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20000, help="tickets (20000)")
    parser.add_argument("--eligible", type=int, default=2000, help="tickets to close (2000)")
    args = parser.parse_args()
    emu = Emulator()
    server = emu.start()
    try:
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as admin:
            install(admin)
            started = time.perf_counter()
            build(admin, args.count, args.eligible)
            print(f"set-up: {args.count} tickets, {args.eligible} eligible, "
                  f"{time.perf_counter() - started:.1f} s")
        transport = CountingTransport()
        settings = ExpirySettings(days=14, feedback="public")
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key,
                               transport=transport) as client:
            missed = False
            for label, dry in (("dry run", True), ("real run", False), ("second run", False)):
                report, requests, seconds = timed(client, transport, settings, dry)
                acted = len(report.outcomes)
                print(f"{label}: {acted} tickets ({len(report.failed)} failed) in {requests} "
                      f"HTTP requests, {seconds:.2f} s")
                missed |= requests > TARGET
                expected = 0 if label == "second run" else args.eligible
                if acted != expected or report.failed:
                    raise SystemExit(f"{label}: expected {expected} tickets, got {acted}")
        print(f"target: <= {TARGET} requests per run: " + ("MISSED" if missed else "met"))
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
