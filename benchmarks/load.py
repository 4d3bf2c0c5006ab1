"""Concurrent writers through the help desk: throughput, latency, retries, failures, doubles.

    .venv/bin/python -m benchmarks.load                       # 8 processes x 12 operations
    .venv/bin/python -m benchmarks.load --processes 4 --ops 25 --fail-writes 0.2
    GO_SUPPORT_TEST_URL=... GO_SUPPORT_TEST_TOKEN=... .venv/bin/python -m benchmarks.load

``--processes`` P processes each run ``--ops`` N desk operations, one ticket after the other:
``tickets.create`` (with its first message), ``messages.reply``, ``messages.note``,
``tickets.assign``, ``tickets.close`` (with a public closing reply), then the next ticket. It
runs against the embedded emulator with ``--fail-writes`` of the ``/set`` calls failing as
Group-Office fails them under deadlock (default 10%), and, when ``GO_SUPPORT_TEST_URL`` and
``GO_SUPPORT_TEST_TOKEN`` (an admin API key) are set, against that Group-Office too
(``--target`` picks one). Every ticket, title and message text is unique; afterwards the
tickets of the run are read back and counted: a title found twice is a duplicated ticket, a
text found twice on a ticket a duplicated message, a text missing a lost one. On a real
Group-Office everything the run created is destroyed again.

Printed per target: operations per second, p50/p95 latency, the desk's retries, the failed
operations (with the first few errors) and the duplicated and missing tickets and messages.
The targets are 0 failed and 0 duplicated with 8 writers on the real server and with 10%
injected deadlocks on the emulator. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from go_support.desk import DeskConfig, SupportDesk
from go_support.desk.attribution import without_attribution
from go_support.jmap import Batch, GroupOfficeClient

REQUESTER = "Load Tester <load.tester@example.com>"
STEPS = ("create", "reply", "note", "assign", "close")


@dataclass
class WorkerResult:
    """What one process did."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    retries: int = 0
    expected: dict[str, list[str]] = field(default_factory=dict)  # title -> message texts


def worker(args: tuple[str, str, str, str, int, int]) -> WorkerResult:
    """One process: its own client and desk, ``ops`` operations on tickets of its own."""
    url, token, type_id, tag, number, ops = args
    result = WorkerResult()
    with GroupOfficeClient(url, api_key=token) as client:
        desk = SupportDesk(client, DeskConfig(feedback="none"))
        ticket: Any = None
        title = ""
        for op in range(ops):
            step = STEPS[op % len(STEPS)]
            if step == "create":
                title = f"{tag} p{number} t{op // len(STEPS)}"
                ticket = None
            text = f"<p>{step} of {title}</p>"
            started = time.perf_counter()
            try:
                if step == "create":
                    ticket = desk.tickets.create(type_id, title, text, REQUESTER)
                    result.expected[title] = [text]
                elif ticket is None:
                    continue  # its creation failed
                elif step == "reply":
                    desk.messages.reply(ticket, text)
                elif step == "note":
                    desk.messages.note(ticket, text)
                elif step == "assign":
                    desk.tickets.assign(ticket, None)
                    text = ""
                else:
                    desk.tickets.close(ticket, feedback=text)
                if text and step != "create":
                    result.expected[title].append(text)
            except Exception as exc:  # counted and shown; the run goes on
                result.failures.append(f"{step} {title}: {type(exc).__name__}: {exc}"[:300])
            result.latencies.append(time.perf_counter() - started)
        result.retries = desk.retries
    return result


def read_back(admin: GroupOfficeClient, type_id: str) -> dict[str, list[list[str]]]:
    """``{title: [message texts of each task with that title]}`` of the type's tasks."""
    batch = Batch()
    query = batch.call("Task/query", {"filter": {"tasklistId": [type_id]}})
    tasks = batch.call("Task/get", {"#ids": query.ref("/ids"), "properties": ["id", "title"]})
    found = admin.execute(batch).get(tasks)["list"]
    texts: dict[str, list[str]] = {str(t["id"]): [] for t in found}
    if found:
        batch = Batch()
        query = batch.call("Comment/query", {"filter": {"entity": "Task",
                                                        "entityId": list(texts)}})
        comments = batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                              "properties": ["id", "entityId", "text",
                                                             "mailStatus"]})
        for comment in admin.execute(batch).get(comments)["list"]:
            # as written: the web client's attribution line taken off received messages
            text = without_attribution(str(comment["text"]), comment.get("mailStatus"))
            texts[str(comment["entityId"])].append(text)
    by_title: dict[str, list[list[str]]] = {}
    for task in found:
        by_title.setdefault(str(task["title"]), []).append(texts[str(task["id"])])
    return by_title


def run(label: str, url: str, token: str, processes: int, ops: int,
        injected: Any = None) -> None:
    """Create a type, run the workers against it, count, print; the type's tasks stay."""
    from go_support.migrations import install

    tag = f"gs-load-{uuid.uuid4().hex[:6]}"
    with GroupOfficeClient(url, api_key=token) as admin:
        install(admin)
        desk = SupportDesk(admin, DeskConfig())
        ticket_type = desk.types.create(f"{tag} Load")
        try:
            if injected is not None:
                injected()
            started = time.perf_counter()
            jobs = [(url, token, ticket_type.id, tag, n, ops) for n in range(processes)]
            with multiprocessing.get_context("spawn").Pool(processes) as pool:
                results = pool.map(worker, jobs)
            wall = time.perf_counter() - started
            found = read_back(admin, ticket_type.id)
            report(label, processes, ops, wall, results, found)
        finally:
            if label.startswith("real"):
                clean_up(admin, ticket_type.id)


def report(label: str, processes: int, ops: int, wall: float, results: list[WorkerResult],
           found: dict[str, list[list[str]]]) -> None:
    latencies = sorted(x for r in results for x in r.latencies)
    failures = [f for r in results for f in r.failures]
    expected = {t: m for r in results for t, m in r.expected.items()}
    doubled_tickets = sum(len(v) - 1 for v in found.values() if len(v) > 1)
    doubled_messages = missing = 0
    for title, wanted in expected.items():
        copies = found.get(title, [])
        texts = Counter(x for copy in copies for x in copy)
        doubled_messages += sum(n - 1 for n in texts.values() if n > 1)
        missing += sum(1 for x in wanted if x not in texts) if copies else len(wanted)
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)] if latencies else 0.0
    print(f"{label}: {processes} processes x {ops} operations in {wall:.1f} s")
    print(f"  operations/s       {len(latencies) / wall:8.1f}")
    print(f"  latency p50 / p95  {statistics.median(latencies) * 1000 if latencies else 0:8.0f}"
          f" / {p95 * 1000:.0f} ms")
    print(f"  retries            {sum(r.retries for r in results):8d}")
    print(f"  failed operations  {len(failures):8d}")
    print(f"  tickets            {sum(len(v) for v in found.values()):8d} "
          f"(expected {len(expected)})")
    print(f"  duplicated tickets {doubled_tickets:8d}")
    print(f"  duplicated messages{doubled_messages:8d}")
    print(f"  missing messages   {missing:8d}")
    for failure in failures[:5]:
        print(f"    {failure}")


def clean_up(admin: GroupOfficeClient, type_id: str) -> None:
    """Destroy the run's tasks and its type (a real Group-Office is shared)."""
    ids = admin.tasks.query({"tasklistId": [type_id]}).ids
    for start in range(0, len(ids), 500):
        admin.tasks.set(destroy=list(ids[start:start + 500]))
    admin.task_lists.set(destroy=[type_id])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--ops", type=int, default=12, help="operations per process")
    parser.add_argument("--fail-writes", type=float, default=0.1,
                        help="fraction of /set calls the emulator fails as deadlocked")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--target", choices=["both", "emulator", "real"], default="both")
    args = parser.parse_args()
    if args.target in ("both", "emulator"):
        from go_support.emulator import Emulator

        emu = Emulator(fail_seed=args.seed)
        server = emu.start()
        try:
            def inject() -> None:
                emu.faults.fraction = args.fail_writes

            run(f"emulator, {args.fail_writes:.0%} of writes deadlocked", server.base_url,
                server.admin_api_key, args.processes, args.ops, inject)
            print(f"  deadlocks injected {emu.faults.injected:8d}")
        finally:
            emu.stop()
    url, token = os.environ.get("GO_SUPPORT_TEST_URL"), os.environ.get("GO_SUPPORT_TEST_TOKEN")
    if args.target in ("both", "real"):
        if url and token:
            run("real Group-Office", url, token, args.processes, args.ops)
        else:
            print("real Group-Office: skipped (GO_SUPPORT_TEST_URL and GO_SUPPORT_TEST_TOKEN "
                  "are not set)")


if __name__ == "__main__":
    main()
