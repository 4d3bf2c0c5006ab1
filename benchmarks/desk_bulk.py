"""Bulk ticket creation through the desk: ``desk.tickets.create_many`` against the emulator.

    .venv/bin/python -m benchmarks.desk_bulk                 # 5,000 tickets
    .venv/bin/python -m benchmarks.desk_bulk --count 20000 --one-by-one 50

Creates ``--count`` tickets, each with its first message, as a mail intake or a migration brings
them (legacy ids, Message-IDs, dates, first statuses, requesters by address and by user id,
agents), through one fresh ``SupportDesk`` on a transport that counts HTTP requests. Every
ticket gets the checks of one-by-one creation. Printed: the HTTP requests and the wall time of
the bulk, and, measured in the same run, ``--one-by-one`` tickets created with
``tickets.create`` for comparison. The target is at most 12 requests for 5,000 tickets (the
client's own batching figure, ``benchmarks/jmap_batching.py``). Figures only: the emulator is not
Group-Office (DESIGN.md §5).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from benchmarks.common import CountingTransport
from go_support.desk import CreatedTicket, DeskConfig, Status, SupportDesk, TicketDraft
from go_support.emulator import Emulator
from go_support.jmap import GroupOfficeClient
from go_support.migrations import install

TARGET = 12


def drafts(type_id: str, agent: str, requester: str, count: int) -> list[TicketDraft]:
    statuses = (Status.NEEDS_ACTION, Status.IN_PROGRESS, Status.COMPLETED)
    return [TicketDraft(
        type_id, f"Imported ticket {n}", f"<p>First message of ticket {n}</p>",
        requester if n % 4 == 0 else f"Requester {n} <requester{n}@example.com>",
        legacy_id=f"LEG-{n}", message_id=f"<legacy-{n}@example.com>",
        date=datetime(2021, 1 + n % 12, 1 + n % 28, 9, tzinfo=UTC), status=statuses[n % 3],
        agent=agent if n % 2 else None,
    ) for n in range(count)]


def run(count: int, one_by_one: int) -> tuple[int, float, int, float]:
    """``(bulk requests, bulk seconds, one-by-one requests, one-by-one seconds)``."""
    emu = Emulator()
    server = emu.start()
    try:
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as admin:
            install(admin)
            group = admin.groups.create({"name": "Bulk agents"})
            agent = admin.users.create({"username": "agent", "displayName": "Agent",
                                        "email": "agent@example.com",
                                        "groups": [2, 3, int(group)]})
            requester = admin.users.create({"username": "ann", "displayName": "Ann",
                                            "email": "ann@example.com", "groups": [2, 3]})
            type_id = SupportDesk(admin, DeskConfig()).types.create(
                "Imported", agents=[group]).id
        transport = CountingTransport()
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key,
                               transport=transport) as client:
            desk = SupportDesk(client, DeskConfig())
            started = time.perf_counter()
            results = desk.tickets.create_many(drafts(type_id, agent, requester, count))
            bulk_time = time.perf_counter() - started
            bulk_requests = transport.requests
            created = sum(isinstance(r, CreatedTicket) for r in results)
            if created != count:
                raise SystemExit(f"only {created} of {count} tickets were created")
            transport.requests = 0
            started = time.perf_counter()
            for draft in drafts(type_id, agent, requester, one_by_one):
                desk.tickets.create(draft.type, draft.subject, draft.message, draft.requester,
                                    agent=draft.agent, message_id=draft.message_id,
                                    date=draft.date, legacy_id=draft.legacy_id,
                                    status=draft.status)
            single_time = time.perf_counter() - started
            return bulk_requests, bulk_time, transport.requests, single_time
    finally:
        emu.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="tickets in the bulk (5000)")
    parser.add_argument("--one-by-one", type=int, default=50,
                        help="tickets created one by one for comparison (50)")
    args = parser.parse_args()
    requests, seconds, single_requests, single_seconds = run(args.count, args.one_by_one)
    print(f"bulk: {args.count} tickets with their first messages in {requests} HTTP requests, "
          f"{seconds:.2f} s ({args.count / seconds:,.0f} tickets/s)")
    if args.one_by_one:
        per = single_requests / args.one_by_one
        print(f"one by one: {args.one_by_one} tickets in {single_requests} HTTP requests "
              f"({per:.1f} per ticket), {single_seconds:.2f} s "
              f"({args.one_by_one / single_seconds:,.0f} tickets/s)")
    print(f"target: <= {TARGET} requests for the bulk: "
          + ("met" if requests <= TARGET else "MISSED"))


if __name__ == "__main__":
    main()
