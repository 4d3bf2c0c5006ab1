"""``go-support migrate`` into the emulator: counts, idempotence, kills at any point, bad input."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from go_support.legacy.synthetic import SyntheticSpec
from go_support.legacy.writer import STOP_AFTER_ENV
from tests._support import run_cli
from tests.legacy.migrate_support import (
    LegacySite,
    desk_emulator,
    seed_for,
    synthetic_site,
    tickets_and_messages,
)
from tests.mariadb import MariaDBServer

SPEC = SyntheticSpec(tickets=40, messages_per_ticket=4, types=2, seed=3,
                     attachment_every=9, missing_file_every=13, deleted_type_every=11,
                     orphan_messages=2)


def migrate(capsys: pytest.CaptureFixture[str], url: str, token: str, config: Path,
            *extra: str) -> tuple[int, dict, str]:
    code, out, err = run_cli(capsys, "--url", url, "--api-key", token, "migrate",
                             f"-c={config}", "--json", *extra)
    return code, json.loads(out), err


def test_migrates_everything_once_and_a_rerun_skips_it(
        mariadb: MariaDBServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = synthetic_site(mariadb, tmp_path, "m_once", SPEC)
    assert site.counts is not None
    with desk_emulator(seed_for(SPEC)) as (url, token, _emu):
        code, report, err = migrate(capsys, url, token, site.config, "--userId=1")
        assert code == 0, (report, err)
        assert report["migrated"] == SPEC.tickets
        assert report["failed"] == 0
        legacy, messages = tickets_and_messages(url, token)
        assert len(legacy) == SPEC.tickets and set(legacy.values()) == {1}
        ours = {k: v for k, v in messages.items() if k.endswith("@tickets.migrated>")}
        assert len(ours) == site.counts.messages + SPEC.tickets  # + one origin note each
        assert set(ours.values()) == {1}
        code, again, _ = migrate(capsys, url, token, site.config, "--userId=1")
        assert code == 0
        assert again["skipped"] == SPEC.tickets and again["migrated"] == 0
        assert tickets_and_messages(url, token) == (legacy, messages)


# --- killed at any point ----------------------------------------------------------------------

KILL_SPEC = SyntheticSpec(tickets=30, messages_per_ticket=4, types=2, seed=5,
                          attachment_every=7, deleted_type_every=10)
CHUNK = "--chunk=10"  # three chunks: 1 + 3 x 4 step boundaries


def run_process(url: str, token: str, config: Path, *, stop_after: int | None = None,
                kill_after: float | None = None) -> int:
    """The command in its own process (so that it can die as a killed migration does)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO_SUPPORT_")}
    env.update(GO_SUPPORT_URL=url, GO_SUPPORT_API_KEY=token, GO_CONFIG_FILE=str(config))
    if stop_after is not None:
        env[STOP_AFTER_ENV] = str(stop_after)
    process = subprocess.Popen(
        [sys.executable, "-c", "from go_support.cli.main import main; main()", "migrate",
         "--userId=1", CHUNK, "--json"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = process.communicate(timeout=kill_after if kill_after is not None else 300)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate()
    if process.returncode not in (0, -signal.SIGKILL):
        print(err.decode(errors="replace"))  # shown when the test fails
    return process.returncode


def assert_exactly_once(url: str, token: str, site: LegacySite) -> None:
    assert site.counts is not None
    legacy, messages = tickets_and_messages(url, token)
    assert len(legacy) == site.counts.tickets, "a ticket is missing"
    assert set(legacy.values()) == {1}, "a ticket was created twice"
    ours = {k: v for k, v in messages.items() if k.endswith("@tickets.migrated>")}
    assert len(ours) == site.counts.messages + site.counts.tickets, "a message is missing"
    assert set(ours.values()) == {1}, "a message was written twice"


@pytest.fixture(scope="module")
def kill_site(mariadb: MariaDBServer, tmp_path_factory: pytest.TempPathFactory) -> LegacySite:
    return synthetic_site(mariadb, tmp_path_factory.mktemp("kill"), "m_kill", KILL_SPEC)


@pytest.mark.parametrize("step", range(1, 14))
def test_killed_at_a_step_boundary_then_run_again(kill_site: LegacySite, step: int) -> None:
    with desk_emulator(seed_for(KILL_SPEC)) as (url, token, _emu):
        assert run_process(url, token, kill_site.config, stop_after=step) == -signal.SIGKILL
        assert run_process(url, token, kill_site.config) == 0
        assert_exactly_once(url, token, kill_site)


def test_killed_at_random_points_then_run_again(kill_site: LegacySite) -> None:
    rnd = random.Random(11)
    with desk_emulator(seed_for(KILL_SPEC)) as (url, token, _emu):
        killed = 0
        for _ in range(6):
            code = run_process(url, token, kill_site.config, kill_after=rnd.uniform(0.8, 2.5))
            killed += code == -signal.SIGKILL
        assert killed >= 3, "the random kills came too late to interrupt anything"
        assert run_process(url, token, kill_site.config) == 0
        assert_exactly_once(url, token, kill_site)


def test_deadlocked_writes_are_retried_without_duplicates(kill_site: LegacySite) -> None:
    """One /set in ten fails as a deadlocked Group-Office call does; a rerun finishes."""
    with desk_emulator(seed_for(KILL_SPEC), fail_writes=0.1) as (url, token, emu):
        codes = [run_process(url, token, kill_site.config) for _ in range(3)]
        assert emu.faults.injected > 0
        assert 0 in codes
        assert_exactly_once(url, token, kill_site)
