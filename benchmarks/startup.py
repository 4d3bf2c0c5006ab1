"""How long ``go-support`` takes to start: whole processes, median of N runs.

An MTA starts the command once per mail and cron starts the expiry job, so the start is paid
every time. Commands are imported when used (``go_support.cli.lazy``); for comparison, the
same commands with every command module imported first (what the command did before).
Targets (issue 11): ``--version`` at most 0.15 s, ``tickets list --help`` at most 0.25 s.

    .venv/bin/python -m benchmarks.startup
    .venv/bin/python -m benchmarks.startup --runs 20
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: What the command runs as a whole process (the console script's body).
LAZY = "import sys; from go_support.cli.main import main; sys.exit(main())"
#: The same, with every command module imported before the command runs.
EAGER = (
    "import sys; from go_support.cli.main import COMMANDS, main; "
    "[c.load() for c in COMMANDS.values()]; sys.exit(main())"
)
CASES = (("--version", 0.15), ("tickets list --help", 0.25), ("ingest --help", 0.25),
         ("--help", None))
#: What ``go-support ingest`` imports before it can hand one mail to Group-Office (the
#: client, the desk, the mail pipeline): the part of each delivery that is start-up cost.
INGEST_IMPORTS = (
    "import go_support.cli.main, go_support.desk, go_support.mail.runner, "
    "go_support.mail.sources"
)


def median_seconds(code: str, args: list[str], runs: int) -> tuple[float, float]:
    """The median wall time and CPU time of ``runs`` processes running ``code`` with ``args``.

    On a busy machine the wall time grows with the load; the CPU time much less.
    """
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, *args], check=True,
                       stdout=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1])
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


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
    wall, cpu = median_seconds(INGEST_IMPORTS, [], options.runs)
    print(f"{'ingest, one mail:':<22}{wall:>7.3f} ({cpu:.3f})  start-up before the mail is "
          "handled (the modules it needs, no emulator)")


if __name__ == "__main__":
    main()
