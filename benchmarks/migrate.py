"""``go-support migrate`` at scale: tickets per second, HTTP requests, memory, a second run.

    .venv/bin/python -m benchmarks.migrate                      # 20,000 tickets, emulator
    .venv/bin/python -m benchmarks.migrate --tickets 2000
    GO_SUPPORT_TEST_URL=... GO_SUPPORT_TEST_TOKEN=... .venv/bin/python -m benchmarks.migrate \\
        --live --tickets 1000                                   # the real server (shared)

Starts a throw-away MariaDB (``tests/mariadb.py``) and generates ``--tickets`` tickets with
about ``--messages`` messages each (``go_support.legacy.synthetic``; one ticket in 1,000 with
a file on disk), then runs ``go-support migrate --userId=1`` in a process of its own against
the emulator, which serves from a third process as a real server would, or with ``--live``
against the Group-Office of ``GO_SUPPORT_TEST_URL``: there the legacy types get a unique prefix
and are destroyed with their tickets afterwards. Then the same command again, which finds
nothing new.

Peak memory is the migrating process's own high-water mark (``VmHWM``): ``ru_maxrss`` of a
process started by a large one includes the memory its parent had at the fork (Linux carries
it over ``exec``), which once reported the emulator's 400 MB as the migration's.
``--profile DIR`` writes cProfile statistics of both sides (``migrate-1.prof``,
``emulator.prof``, ...) for ``python -m pstats``.

Targets (issue 9): >= 300 tickets/s, <= 400 HTTP requests for 20,000 tickets and 100,000
messages, peak memory <= 250 MB, the second run <= a tenth of the first.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from go_support.emulator import Emulator
from go_support.jmap import GroupOfficeClient
from go_support.legacy.synthetic import SyntheticSpec
from tests.legacy.migrate_support import seed_for, synthetic_site
from tests.mariadb import MariaDBServer

RUNNER = """
import json, os, sys, time
from benchmarks.common import CountingTransport, peak_memory_mb
from go_support.cli.main import main
transport = CountingTransport()
profile = None
if os.environ.get("BENCH_PROFILE"):
    import cProfile
    profile = cProfile.Profile()
    profile.enable()
started = time.perf_counter()
code = 0
try:
    main(sys.argv[1:], transport=transport)
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
seconds = time.perf_counter() - started
if profile is not None:
    profile.disable()
    profile.dump_stats(os.environ["BENCH_PROFILE"])
times = os.times()
print(json.dumps({"code": code, "seconds": seconds, "requests": transport.requests,
                  "cpu": times.user + times.system, "peak_mb": peak_memory_mb()}),
      file=sys.stderr)
"""


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) a process has used so far; 0 where /proc is missing."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, token: str, config: Path, profile: Path | None = None,
        server_pid: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """One migration in its own process: ``(its --json report, its measurements)``, the
    CPU time of the emulator's process during the run among them."""
    server_cpu = cpu_seconds(server_pid)
    env = {**os.environ, "GO_SUPPORT_URL": url, "GO_SUPPORT_API_KEY": token,
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    if profile is not None:
        env["BENCH_PROFILE"] = str(profile)
    done = subprocess.run([sys.executable, "-c", RUNNER, "migrate", "--userId=1",
                           f"-c={config}", "--json"], env=env, capture_output=True,
                          check=False)
    figures = json.loads(done.stderr.decode().strip().splitlines()[-1])
    figures["server_cpu"] = cpu_seconds(server_pid) - server_cpu if server_pid else None
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = {"output": done.stdout.decode()[-2000:]}
    return report, figures


def _serve(seed: dict[str, Any], profile: str | None, pipe: Connection) -> None:
    """The emulator in a process of its own (a server apart from the migration, as a real
    one is): sends ``(url, admin key)``, serves until told to stop."""
    emu = Emulator()
    emu.seed(seed)
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:  # every request, whatever thread serves it
        app, lock = emu.app, threading.Lock()

        def profiled(environ: Any, start_response: Any) -> Any:
            with lock:
                return profiler.runcall(lambda: list(app(environ, start_response)))

        emu.app = profiled  # type: ignore[assignment]
    server = emu.start()
    try:
        from go_support.migrations import install

        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as client:
            install(client)
        pipe.send((server.base_url, server.admin_api_key))
        pipe.recv()
    finally:
        emu.stop()
        if profiler is not None and profile:
            profiler.dump_stats(profile)


@contextlib.contextmanager
def emulator_process(seed: dict[str, Any],
                     profile: Path | None = None) -> Iterator[tuple[str, str, int | None]]:
    """``(url, admin key, process id)`` of an emulator serving from its own process."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(seed, str(profile) if profile else None,
                                                   theirs), daemon=True)
    process.start()
    try:
        if not ours.poll(120):
            raise RuntimeError("the emulator process did not start within two minutes")
        url, token = ours.recv()
        yield url, token, process.pid
    finally:
        if process.is_alive():
            ours.send("stop")
            process.join(120)
        if process.is_alive():
            process.terminate()


def show(label: str, report: dict[str, Any], figures: dict[str, Any], tickets: int) -> None:
    rate = tickets / figures["seconds"] if figures["seconds"] else 0.0
    print(f"{label}: exit {figures['code']}, {figures['seconds']:.1f} s "
          f"({rate:.0f} tickets/s), {figures['requests']} HTTP requests, peak memory "
          f"{figures['peak_mb']:.0f} MB; migrated {report.get('migrated')}, skipped "
          f"{report.get('skipped')}, failed {report.get('failed')}, messages "
          f"{report.get('messages')}")
    cpu = f"CPU {figures['cpu']:.1f} s migrating"
    if figures.get("server_cpu") is not None:
        cpu += f", {figures['server_cpu']:.1f} s emulator"
    print(f"  {cpu} (the machine's other load shows in the wall time, not here)")


def both_runs(url: str, token: str, config: Path, tickets: int, profile: Path | None,
              server_pid: int | None = None
              ) -> tuple[tuple[dict[str, Any], dict[str, Any]], ...]:
    """The first run and the second (which finds nothing new), shown as they end."""
    runs = []
    for number, label in enumerate(("first run", "second run"), start=1):
        done = run(url, token, config, profile / f"migrate-{number}.prof" if profile else None,
                   server_pid)
        show(label, *done, tickets)
        runs.append(done)
    return tuple(runs)


def rename_types(server: MariaDBServer, database: str, prefix: str) -> None:
    """Give the legacy types a unique prefix (the real server is shared)."""
    with server.connect(database) as conn, conn.cursor() as cur:
        cur.execute("UPDATE ti_types SET name = CONCAT(%s, name)", (prefix,))
        conn.commit()


def destroy_types(url: str, token: str, prefix: str) -> None:
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
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="write cProfile statistics of the migration and the emulator here")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
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
                first, second = both_runs(url, token, site.config, site.counts.tickets,
                                          args.profile)
            finally:
                destroy_types(url, token, prefix)
        else:
            emulator_profile = args.profile / "emulator.prof" if args.profile else None
            with emulator_process(seed_for(spec), emulator_profile) as (url, token, pid):
                first, second = both_runs(url, token, site.config, site.counts.tickets,
                                          args.profile, pid)
        ratio = second[1]["seconds"] / first[1]["seconds"] if first[1]["seconds"] else 0.0
        print(f"second run / first run: {ratio:.2f}")
        cpu = [f[1]["cpu"] + (f[1]["server_cpu"] or 0.0) for f in (first, second)]
        print(f"second run / first run in CPU time (both processes): {cpu[1] / cpu[0]:.2f}")
        rate = site.counts.tickets / first[1]["seconds"] if first[1]["seconds"] else 0.0
        peak = max(first[1]["peak_mb"], second[1]["peak_mb"])
        if args.live:  # the targets are the emulator's (the real server writes ~50 a second)
            return
        print(f"targets (issue 9): {rate:.0f} tickets/s (>= 300), {first[1]['requests']} "
              f"requests (<= 400), peak {peak:.0f} MB (<= 250), second/first {ratio:.2f} "
              f"(<= 0.10)")


if __name__ == "__main__":
    main()
