"""Create N tasks, each with a first comment, through the client against the emulator.

Prints the HTTP requests and the wall time of the batched path (Task/set and Comment/set of up
to ``maxObjectsInSet`` objects, the comments pointing at ``/created/<cid>/id`` of the tasks in
the same request) beside the naive loop (one request per object), measured in the same run on
two fresh emulators. Targets (issue 2): at most 12 requests batched, at least 20 times faster.

    .venv/bin/python -m benchmarks.jmap_batching            # 5,000 tasks
    .venv/bin/python -m benchmarks.jmap_batching --count 500

The emulator's own throughput for one 1,000-object Task/set is printed too, to show that it is
not what this benchmark measures.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from go_support.emulator import Emulator
from go_support.jmap import Batch, GroupOfficeClient, created_ref

from .common import CountingTransport


def _client(base_url: str, key: str) -> tuple[GroupOfficeClient, CountingTransport]:
    transport = CountingTransport()
    return GroupOfficeClient(base_url, api_key=key, transport=transport), transport


def _make_list(client: GroupOfficeClient) -> str:
    return client.task_lists.create({"name": "Benchmark", "role": "list"})


def batched(client: GroupOfficeClient, tasklist_id: str, count: int) -> list[str]:
    """Tasks and first comments, ``maxObjectsInSet`` per call, pairs in the same request."""
    per_call = client.limits.max_objects_in_set
    ids: list[str] = []
    batch = Batch()
    pending: list[tuple[Any, list[str]]] = []
    for start in range(0, count, per_call):
        cids = [f"t{i}" for i in range(start, min(count, start + per_call))]
        tasks = batch.call("Task/set", {"create": {
            cid: {"tasklistId": tasklist_id, "title": f"Ticket {cid}"} for cid in cids
        }})
        batch.call("Comment/set", {"create": {
            f"m{cid}": {"entity": "Task", "#entityId": created_ref(tasks, cid),
                        "text": f"<p>First message of {cid}</p>", "mailStatus": "received"}
            for cid in cids
        }})
        pending.append((tasks, cids))
    responses = client.execute(batch)
    for handle, cids in pending:
        created = responses.get(handle)["created"]
        ids += [created[cid]["id"] for cid in cids]
    return ids


def naive(client: GroupOfficeClient, tasklist_id: str, count: int) -> list[str]:
    """One request per object: the loop a first script would write."""
    ids = []
    for i in range(count):
        task_id = client.tasks.create({"tasklistId": tasklist_id, "title": f"Ticket {i}"})
        client.comments.create({"entity": "Task", "entityId": task_id,
                                "text": f"<p>First message of {i}</p>",
                                "mailStatus": "received"})
        ids.append(task_id)
    return ids


def run(kind: str, count: int) -> tuple[float, int, int]:
    emu = Emulator()
    server = emu.start()
    try:
        client, transport = _client(server.base_url, server.admin_api_key)
        with client:
            tasklist_id = _make_list(client)
            before = transport.requests
            started = time.perf_counter()
            ids = (batched if kind == "batched" else naive)(client, tasklist_id, count)
            elapsed = time.perf_counter() - started
            used = transport.requests - before
            stored = client.comments.query({"entity": "Task"}, calculate_total=True).total
        assert len(set(ids)) == count, "every task must have its own id"
        assert stored == count, f"{stored} comments stored, {count} expected"
        return elapsed, used, count
    finally:
        emu.stop()


def emulator_throughput() -> float:
    """Objects per second of one in-process 1,000-object Task/set (no HTTP client)."""
    emu = Emulator()
    server = emu.start()
    try:
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as client:
            tasklist_id = _make_list(client)
            batch = Batch()
            batch.call("Task/set", {"create": {
                f"t{i}": {"tasklistId": tasklist_id, "title": f"T{i}"} for i in range(1000)
            }})
            started = time.perf_counter()
            client.execute(batch)
            return 1000 / (time.perf_counter() - started)
    finally:
        emu.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="tasks to create (default 5000)")
    args = parser.parse_args()
    print(f"emulator: one 1,000-object Task/set runs at {emulator_throughput():,.0f} objects/s")
    b_time, b_requests, n = run("batched", args.count)
    print(f"batched: {n} tasks + {n} comments in {b_requests} HTTP requests, {b_time:.2f} s")
    n_time, n_requests, _ = run("naive", args.count)
    print(f"naive:   {n} tasks + {n} comments in {n_requests} HTTP requests, {n_time:.2f} s")
    ratio = n_time / b_time
    fewer = n_requests / max(b_requests, 1)
    print(f"batched is {ratio:.1f}x faster with {fewer:.0f}x fewer requests"
          " (targets: <= 12 requests, >= 20x)")
    ok = b_requests <= 12 and ratio >= 20
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
