"""HTTP requests of the help desk's reads: the first page of many tickets, a ticket with many
messages, from a fresh client and desk and then with the layout known.

    .venv/bin/python -m benchmarks.desk_requests
    .venv/bin/python -m benchmarks.desk_requests --tickets 20000 --messages 50

Tickets are seeded with batched ``Task/set`` (1,000 per call) into the emulator; the figures
are requests counted on the wire (``CountingTransport``) and wall-clock times.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import CountingTransport
from go_support.desk import SupportDesk
from go_support.desk.layout import REQUESTER_EMAIL
from go_support.emulator import Emulator
from go_support.jmap import Batch, GroupOfficeClient
from go_support.migrations import install


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args()

    emu = Emulator()
    server = emu.start()
    try:
        admin = GroupOfficeClient(server.base_url, api_key=server.admin_api_key)
        install(admin)
        desk = SupportDesk(admin)
        ticket_type = desk.types.create("Benchmark")
        started = time.monotonic()
        for first in range(0, args.tickets, 1000):
            batch = Batch()
            batch.set("Task", create={
                f"t{i}": {"tasklistId": ticket_type.id, "title": f"ticket {i}",
                          "customFields": {REQUESTER_EMAIL: f"r{i}@example.com"}}
                for i in range(first, min(first + 1000, args.tickets))})
            admin.execute(batch)
        print(f"seeded {args.tickets} tickets in {time.monotonic() - started:.1f}s")
        chatty = desk.tickets.create(ticket_type, "chatty", "<p>0</p>", "a@example.com")
        batch = Batch()
        batch.set("Comment", create={
            f"m{i}": {"entity": "Task", "entityId": chatty.id, "text": f"<p>{i}</p>"}
            for i in range(1, args.messages)})
        admin.execute(batch)

        for what, run in (
            ("tickets.list (first page)", lambda d: d.tickets.list()),
            (f"tickets.get ({args.messages} messages)", lambda d: d.tickets.get(chatty.id)),
        ):
            counter = CountingTransport()
            fresh = SupportDesk(GroupOfficeClient(server.base_url, api_key=server.admin_api_key,
                                                  transport=counter))
            for state in ("fresh client and desk", "layout known"):
                counter.requests = 0
                started = time.monotonic()
                run(fresh)
                print(f"{what:32} {state:22} {counter.requests} HTTP requests "
                      f"{(time.monotonic() - started) * 1000:7.1f} ms")
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
