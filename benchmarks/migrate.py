"""``go-support migrate`` at scale: tickets per second, HTTP requests, memory, a second run.

    .venv/bin/python -m benchmarks.migrate                      # 20,000 tickets, emulator
    .venv/bin/python -m benchmarks.migrate --tickets 2000
    GO_SUPPORT_TEST_URL=... GO_SUPPORT_TEST_TOKEN=... .venv/bin/python -m benchmarks.migrate \\
        --live --tickets 1000                                   # the real server (shared)

Starts a throw-away MariaDB (``tests/mariadb.py``) and generates ``--tickets`` tickets with
about ``--messages`` messages each (``go_support.legacy.synthetic``; one ticket in 1,000 with
a file on disk), then runs ``go-support migrate --userId=1`` in a process of its own (so that
its peak memory is its own) against the emulator, or with ``--live`` against the Group-Office
of ``GO_SUPPORT_TEST_URL``: there the legacy types get a unique prefix and are destroyed with
their tickets afterwards. Then the same command again, which finds nothing new.

Targets (issue 9): >= 300 tickets/s, <= 400 HTTP requests for 20,000 tickets and 100,000
messages, peak memory <= 250 MB, the second run <= a tenth of the first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from go_support.legacy.synthetic import SyntheticSpec
from tests.legacy.migrate_support import desk_emulator, seed_for, synthetic_site
from tests.mariadb import MariaDBServer

RUNNER = """
import json, resource, sys, time
from benchmarks.common import CountingTransport
from go_support.cli.main import main
transport = CountingTransport()
started = time.perf_counter()
code = 0
try:
    main(sys.argv[1:], transport=transport)
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
print(json.dumps({"code": code, "seconds": time.perf_counter() - started,
                  "requests": transport.requests,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
      file=sys.stderr)
"""


def run(url: str, token: str, config: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """One migration in its own process: ``(its --json report, its measurements)``."""
    env = {**os.environ, "GO_SUPPORT_URL": url, "GO_SUPPORT_API_KEY": token,
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", RUNNER, "migrate", "--userId=1",
                           f"-c={config}", "--json"], env=env, capture_output=True,
                          check=False)
    figures = json.loads(done.stderr.decode().strip().splitlines()[-1])
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = {"output": done.stdout.decode()[-2000:]}
    return report, figures


def show(label: str, report: dict[str, Any], figures: dict[str, Any], tickets: int) -> None:
    rate = tickets / figures["seconds"] if figures["seconds"] else 0.0
    print(f"{label}: exit {figures['code']}, {figures['seconds']:.1f} s "
          f"({rate:.0f} tickets/s), {figures['requests']} HTTP requests, peak memory "
          f"{figures['peak_mb']:.0f} MB; migrated {report.get('migrated')}, skipped "
          f"{report.get('skipped')}, failed {report.get('failed')}, messages "
          f"{report.get('messages')}")


def rename_types(server: MariaDBServer, database: str, prefix: str) -> None:
    """Give the legacy types a unique prefix (the real server is shared)."""
    with server.connect(database) as conn, conn.cursor() as cur:
        cur.execute("UPDATE ti_types SET name = CONCAT(%s, name)", (prefix,))
        conn.commit()


def destroy_types(url: str, token: str, prefix: str) -> None:
    from go_support.jmap import GroupOfficeClient

    with GroupOfficeClient(url, api_key=token) as client:
        lists = client.call("TaskList/query", {"filter": {"text": prefix.strip()}})["ids"]
        got = client.call("TaskList/get", {"ids": lists, "properties": ["id", "name"]})
        ours = [str(t["id"]) for t in got["list"] if str(t.get("name", "")).startswith(prefix)]
        for list_id in ours:
            tasks = client.call("Task/query", {"filter": {"tasklistId": [list_id]}})["ids"]
            if tasks:
                client.call("Task/set", {"destroy": tasks})
        if ours:
            client.call("TaskList/set", {"destroy": ours})
        print(f"destroyed {len(ours)} ticket types of this run and their tickets")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=5, help="messages per ticket (about)")
    parser.add_argument("--live", action="store_true",
                        help="migrate into GO_SUPPORT_TEST_URL (admin GO_SUPPORT_TEST_TOKEN)")
    args = parser.parse_args()
    spec = SyntheticSpec(tickets=args.tickets, messages_per_ticket=args.messages, types=3,
                         attachment_every=1000)
    with tempfile.TemporaryDirectory() as tmp, \
            MariaDBServer.started(Path(tmp) / "mariadb") as server:
        started = time.perf_counter()
        site = synthetic_site(server, Path(tmp), "bench", spec)
        assert site.counts is not None
        print(f"generated {site.counts.tickets} tickets, {site.counts.messages} messages "
              f"in {time.perf_counter() - started:.1f} s")
        if args.live:
            url, token = os.environ["GO_SUPPORT_TEST_URL"], os.environ["GO_SUPPORT_TEST_TOKEN"]
            prefix = f"bench-{uuid.uuid4().hex[:6]} "
            rename_types(server, site.database, prefix)
            try:
                first = run(url, token, site.config)
                show("first run", *first, site.counts.tickets)
                second = run(url, token, site.config)
                show("second run", *second, site.counts.tickets)
            finally:
                destroy_types(url, token, prefix)
        else:
            with desk_emulator(seed_for(spec)) as (url, token, _emu):
                first = run(url, token, site.config)
                show("first run", *first, site.counts.tickets)
                second = run(url, token, site.config)
                show("second run", *second, site.counts.tickets)
        ratio = second[1]["seconds"] / first[1]["seconds"] if first[1]["seconds"] else 0.0
        print(f"second run / first run: {ratio:.2f}")


if __name__ == "__main__":
    main()
