"""A command imports only what it uses: ``--version`` and ``--help`` load no desk, client or
emulator, and no command but ``emulator`` and ``demo`` loads the emulator.

Checked by the modules a whole process has loaded, not by timing (``benchmarks/startup.py``
prints the times).
"""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from go_support.cli.main import COMMANDS, cli

HEAVY = ("go_support.emulator", "go_support.desk", "go_support.jmap.client",
         "go_support.jmap.validation", "jmap_schema", "pydantic", "requests")

_RUN = """
import json, sys
from go_support.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded_by(*args: str) -> set[str]:
    """The modules loaded by a whole ``go-support <args>`` process (which must succeed)."""
    run = subprocess.run([sys.executable, "-c", _RUN, *args], capture_output=True, text=True,
                         timeout=60, check=False)
    report = json.loads(run.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, run.stderr
    return set(report["modules"])


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_load_nothing_heavy(args: list[str]) -> None:
    assert heavy(loaded_by(*args)) == []


@pytest.mark.parametrize("args", [["tickets", "list", "--help"], ["install", "--help"],
                                  ["check", "--help"], ["types", "--help"],
                                  ["config", "--help"]])
def test_commands_without_the_emulator_do_not_load_it(args: list[str]) -> None:
    modules = loaded_by(*args)
    assert "go_support.cli.main" in modules
    assert not [m for m in modules if m.startswith("go_support.emulator")]
    if args[0] == "config":  # the settings need pydantic, not the desk or the client
        assert not [m for m in heavy(modules) if not m.startswith("pydantic")]


def test_the_emulator_command_loads_it() -> None:  # the check above can see an import
    assert "go_support.emulator" in loaded_by("emulator", "--help")


def test_the_listing_says_what_each_command_says() -> None:
    lazy_help = CliRunner().invoke(cli, ["--help"]).output
    for name, entry in COMMANDS.items():
        command = entry.load()
        assert isinstance(command, click.Command)
        assert entry.summary == command.get_short_help_str(limit=10_000), name
    assert set(cli.list_commands(click.Context(cli))) == set(COMMANDS)
    # the commands are loaded now: click's own listing must be the same text
    assert CliRunner().invoke(cli, ["--help"]).output == lazy_help


def test_tickets_help_loads_no_desk() -> None:
    """``tickets list --help`` builds its options without the desk (the start-up target)."""
    assert heavy(loaded_by("tickets", "list", "--help")) == []


def test_the_page_limit_of_the_command_is_the_desks() -> None:
    from go_support.cli import tickets
    from go_support.desk import MAX_PER_PAGE

    assert tickets.MAX_PER_PAGE == MAX_PER_PAGE
