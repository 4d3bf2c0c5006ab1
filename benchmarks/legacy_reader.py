"""Reading and mapping a large legacy Tickets database: rows per second and memory.

    .venv/bin/python -m benchmarks.legacy_reader
    .venv/bin/python -m benchmarks.legacy_reader --tickets 20000 --messages 5 --variant 6.3

Starts a throw-away MariaDB (as the tests do, ``tests/mariadb.py``), generates ``--tickets``
tickets with about ``--messages`` messages each in the legacy schema of ``--variant``
(``go_support.legacy.synthetic``, one ticket in 50 with a file on disk), then streams them
with ``LegacyDatabase.tickets()`` and maps each with ``map_ticket``. Prints the time to
generate, tickets and messages per second read and mapped, and the peak Python memory
(``tracemalloc``, in a second pass: it slows the first) while streaming. This is the
reading half of ``go-support migrate``: the migration's own benchmark adds the writes.
Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from go_support.legacy.config import DatabaseSettings
from go_support.legacy.mapping import map_ticket, map_types
from go_support.legacy.reader import LegacyDatabase
from go_support.legacy.synthetic import VARIANTS, SyntheticSpec, create_schema, generate
from tests.mariadb import MariaDBServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=5, help="messages per ticket (about)")
    parser.add_argument("--variant", choices=VARIANTS, default="6.5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            MariaDBServer.started(Path(tmp) / "mariadb") as server:
        storage = Path(tmp) / "files"
        database = server.create_database("bench")
        spec = SyntheticSpec(tickets=args.tickets, messages_per_ticket=args.messages,
                             variant=args.variant, attachment_every=50, storage=storage)
        started = time.perf_counter()
        with server.connect(database) as conn:
            create_schema(conn, args.variant)
            counts = generate(conn, spec)
        generated = time.perf_counter() - started
        print(f"generated {counts.tickets} tickets, {counts.messages} messages, "
              f"{counts.attachments} files ({args.variant}) in {generated:.1f} s")
        settings = DatabaseSettings(server.host, server.port, database, server.user,
                                    server.password)
        with LegacyDatabase(settings, file_storage_path=storage) as db:
            legacy_types, statuses, users = db.types(), db.statuses(), db.users()
            types = map_types(legacy_types.values())
            started = time.perf_counter()
            tickets = messages = files = 0
            for ticket in db.tickets():
                mapped = map_ticket(ticket, types, legacy_types, statuses, users)
                tickets += 1
                messages += len(mapped.messages)
                files += sum(len(m.attachments) for m in mapped.messages)
            elapsed = time.perf_counter() - started
            # memory in a second pass: tracemalloc slows allocation-heavy code several times
            tracemalloc.start()
            for ticket in db.tickets():
                map_ticket(ticket, types, legacy_types, statuses, users)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"read and mapped {tickets} tickets, {messages} messages, {files} files in "
              f"{elapsed:.1f} s: {tickets / elapsed:,.0f} tickets/s, "
              f"{messages / elapsed:,.0f} messages/s")
        print(f"peak Python memory while streaming (second pass): {peak / 2**20:.1f} MB "
              f"(process peak RSS {rss:.0f} MB, generation included)")


if __name__ == "__main__":
    main()
