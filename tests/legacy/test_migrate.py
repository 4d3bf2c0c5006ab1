"""``go-support migrate`` into the emulator: counts, idempotence, kills at any point, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from go_support.legacy.synthetic import SyntheticSpec
from tests._support import run_cli
from tests.legacy.migrate_support import (
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
