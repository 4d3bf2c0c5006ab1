"""``cli`` and ``migrations`` exist under one name only: ``go_support.cli``/``.migrations``.

Under a second name the same file would be a second module with its own classes, and an
``except MigrationError`` would miss the other one's errors.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("short", "full"), [("cli", "go_support.cli"),
                                             ("migrations", "go_support.migrations")])
def test_the_short_name_does_not_import(short: str, full: str) -> None:
    run = subprocess.run([sys.executable, "-c", f"import {full}; import {short}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1
    assert f"ImportError: import {full}, not {short} " in run.stderr


def test_ruff_refuses_the_short_names() -> None:
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed next to this Python (pip install -e '.[dev]')")
    source = "import cli.main\nfrom migrations import MigrationError\nimport go_support.cli\n"
    run = subprocess.run(
        [str(ruff), "check", "--no-cache", "--select", "TID251", "--output-format", "concise",
         "--stdin-filename", "benchmarks/example.py", "-"],
        input=source, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    lines = [line for line in run.stdout.splitlines() if "TID251" in line]
    assert [line.split(":")[1] for line in lines] == ["1", "2"], run.stdout
    assert "import go_support.migrations" in lines[1]
