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
CASES = (("--version", 0.15), ("tickets list --help", 0.25), ("--help", None))


def median_seconds(code: str, args: list[str], runs: int) -> float:
    """The median wall time of ``runs`` processes running ``code`` with ``args``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, *args], check=True,
                       stdout=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1])
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="processes per figure (default 10)")
    options = parser.parse_args()
    baseline = median_seconds("pass", [], options.runs)
    print(f"median of {options.runs} whole processes; python -c pass alone: {baseline:.3f} s")
    print(f"{'go-support ...':<24}{'lazy':>8}{'eager':>8}{'target':>8}")
    for line, target in CASES:
        args = line.split()
        lazy = median_seconds(LAZY, args, options.runs)
        eager = median_seconds(EAGER, args, options.runs)
        goal = f"{target:.2f}" if target else "-"
        verdict = "" if target is None else ("  met" if lazy <= target else "  MISSED")
        print(f"{line:<24}{lazy:>8.3f}{eager:>8.3f}{goal:>8}{verdict}")


if __name__ == "__main__":
    main()
