"""How long ``go-support`` takes to start: whole processes, median of N runs.

An MTA starts the command once per mail and cron starts the expiry job, so the start is paid
every time. Commands are imported when used (``go_support.cli.lazy``); for comparison, the
same commands with every command module imported first (what the command did before).
Targets (issue 11): ``--version`` at most 0.15 s, ``tickets list --help`` at most 0.25 s,
and the same for the per-mail intake command (``ingest --help``). Also printed: a whole
``go-support ingest`` of one new mail into an emulator in a process of its own (reading the
settings, parsing, the HTTP requests, the reply), what it costs without bytecode, and the
same mail over LMTP to a running ``go-support lmtp`` (no process start at all).

Python reads each module's cached bytecode (``__pycache__``); an installed package has it
(pip compiles on install) and ``scripts/bootstrap.sh`` compiles the checkout's, but where
``PYTHONDONTWRITEBYTECODE`` is set and nothing compiled them, every start compiles every
module again: the last line shows that cost.

    .venv/bin/python -m benchmarks.startup
    .venv/bin/python -m benchmarks.startup --runs 20
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GO_SUPPORT = str(Path(sys.executable).with_name("go-support"))

#: What the command runs as a whole process (the console script's body).
LAZY = "import sys; from go_support.cli.main import main; sys.exit(main())"
#: The same, with every command module imported before the command runs.
EAGER = (
    "import sys; from go_support.cli.main import COMMANDS, main; "
    "[c.load() for c in COMMANDS.values()]; sys.exit(main())"
)
CASES = (("--version", 0.15), ("tickets list --help", 0.25), ("ingest --help", 0.25),
         ("--help", None))
def timed(command: list[str], *, stdin: bytes | None = None,
          env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, input=stdin, stdout=subprocess.DEVNULL, cwd=ROOT,
                   env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def median_seconds(code: str, args: list[str], runs: int) -> tuple[float, float]:
    """The median wall time and CPU time of ``runs`` processes running ``code`` with ``args``.

    On a busy machine the wall time grows with the load; the CPU time much less.
    """
    times = [timed([sys.executable, "-c", code, *args]) for _ in range(runs)]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def a_mail(number: int) -> bytes:
    return (f"From: Ann <ann@example.com>\r\nTo: support@example.com\r\n"
            f"Subject: Start-up {number}\r\nMessage-ID: <startup-{number}@example.com>\r\n"
            "Date: Mon, 7 Dec 2026 09:00:00 +0000\r\n\r\nThe printer is broken.\r\n"
            ).encode()


def ingest_seconds(runs: int) -> tuple[tuple[float, float], tuple[float, float], float]:
    """Median wall and CPU of ``go-support ingest`` handing one new mail each time to an
    emulator in a process of its own; with the bytecode cache, then without it."""
    emulator = subprocess.Popen([GO_SUPPORT, "emulator", "--port", "0"],
                                stdout=subprocess.PIPE, text=True)
    folder = Path(tempfile.mkdtemp(prefix="go-support-startup-"))
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().split()[-1]
        key = emulator.stdout.readline().split()[-1]
        config = folder / "go-support.toml"
        config.write_text(f'[groupoffice]\nurl = "{url}"\n[desk]\ndefault_type = "IT"\n'
                          f'[mail]\naddresses = ["support@example.com"]\n'
                          f'quarantine_dir = "{folder / "quarantine"}"\n')
        env = {**os.environ, "GO_SUPPORT_CONFIG": str(config), "GO_SUPPORT_API_KEY": key}
        for setup in (["install"], ["types", "create", "IT"]):
            subprocess.run([GO_SUPPORT, *setup], check=True, env=env, stdout=subprocess.DEVNULL)
        numbers = iter(range(1, 10 * runs + 10))
        timed([GO_SUPPORT, "ingest"], stdin=a_mail(next(numbers)), env=env)  # warm caches
        cached = [timed([GO_SUPPORT, "ingest"], stdin=a_mail(next(numbers)), env=env)
                  for _ in range(runs)]
        compiling = {**env, "PYTHONDONTWRITEBYTECODE": "1",
                     "PYTHONPYCACHEPREFIX": str(folder / "no-cache")}
        uncached = [timed([GO_SUPPORT, "ingest"], stdin=a_mail(next(numbers)), env=compiling)
                    for _ in range(runs)]
        over_lmtp = lmtp_seconds(env, [a_mail(next(numbers)) for _ in range(runs + 1)])
    finally:
        emulator.terminate()
        emulator.wait()
        shutil.rmtree(folder, ignore_errors=True)
    return ((statistics.median(t[0] for t in cached), statistics.median(t[1] for t in cached)),
            (statistics.median(t[0] for t in uncached),
             statistics.median(t[1] for t in uncached)), over_lmtp)


def lmtp_seconds(env: dict[str, str], mails: list[bytes]) -> float:
    """Median seconds of one LMTP transaction (connect, LHLO, MAIL, RCPT, DATA, the answer
    once Group-Office holds the mail) to a running ``go-support lmtp``."""
    import smtplib
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([GO_SUPPORT, "lmtp", "--listen", f"127.0.0.1:{port}"], env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        while "listening on" not in (line := server.stderr.readline()):
            assert line, "go-support lmtp ended before it listened"
        seconds = []
        for raw in mails:
            started = time.perf_counter()
            with smtplib.LMTP("127.0.0.1", port, timeout=60) as client:
                client.ehlo()
                client.sendmail("ann@example.com", ["support@example.com"], raw)
            seconds.append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait()
    return statistics.median(seconds[1:])  # the first one also warms the process up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="processes per figure (default 10)")
    options = parser.parse_args()
    wall, cpu = median_seconds("pass", [], options.runs)
    print(f"median of {options.runs} whole processes, wall (cpu) seconds; "
          f"python -c pass alone: {wall:.3f} ({cpu:.3f}); load average {os.getloadavg()[0]:.1f}")
    print(f"{'go-support ...':<22}{'lazy':>15}{'eager':>15}{'target':>8}")
    for line, target in CASES:
        args = line.split()
        lazy, lazy_cpu = median_seconds(LAZY, args, options.runs)
        eager, eager_cpu = median_seconds(EAGER, args, options.runs)
        goal = f"{target:.2f}" if target else "-"
        verdict = "" if target is None else ("  met" if lazy <= target else "  missed")
        print(f"{line:<22}{lazy:>7.3f} ({lazy_cpu:.3f}){eager:>7.3f} ({eager_cpu:.3f})"
              f"{goal:>8}{verdict}")
    (wall, cpu), (slow, slow_cpu), lmtp = ingest_seconds(options.runs)
    print(f"{'ingest < one mail':<22}{wall:>7.3f} ({cpu:.3f})  a whole delivery into the "
          "emulator (its own process): start, settings, parse, requests, exit")
    print(f"{'  without bytecode':<22}{slow:>7.3f} ({slow_cpu:.3f})  the same, compiling "
          f"every module at each start: x{slow / wall:.1f}")
    print(f"{'lmtp, one mail':<22}{lmtp:>7.3f}          the same mail over LMTP to a running "
          f"`go-support lmtp`: x{wall / lmtp:.0f} faster than a process per mail")


if __name__ == "__main__":
    main()
