"""``go-support migrate`` into the emulator: counts, idempotence, kills at any point, bad input."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from go_support.jmap import GroupOfficeClient
from go_support.legacy.synthetic import SyntheticSpec
from go_support.legacy.writer import STOP_AFTER_ENV
from tests._support import run_cli
from tests.legacy.migrate_support import (
    LegacySite,
    desk_emulator,
    expected_states,
    seed_for,
    synthetic_site,
    tickets_and_messages,
    write_config,
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


def test_every_ticket_ends_with_its_status_and_agent(
        mariadb: MariaDBServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The comments reset a task's progress (groupoffice-wire 09): the final state is written
    last; a task created with its agent gets only its progress."""
    site = synthetic_site(mariadb, tmp_path, "m_states", SPEC)
    with desk_emulator(seed_for(SPEC)) as (url, token, _emu):
        assert migrate(capsys, url, token, site.config, "--userId=1")[0] == 0
        with GroupOfficeClient(url, api_key=token) as client:
            ids = client.call("Task/query", {"filter": {"tasklistId": "any"}})["ids"]
            tasks = client.call("Task/get", {"ids": ids, "properties": [
                "progress", "responsibleUserId", "customFields"]})["list"]
        found = {str(t["customFields"]["supportLegacyTicketId"]): (
            t["progress"], None if t["responsibleUserId"] is None
            else str(t["responsibleUserId"])) for t in tasks}
        expected = expected_states(site.config)
        assert found == expected
        assert len({p for p, _ in expected.values()}) >= 3  # several statuses and
        assert sum(a is not None for _, a in expected.values()) > SPEC.tickets / 3  # agents


def test_customer_groups_of_legacy_types_are_named_with_the_settings_that_keep_them(
        mariadb: MariaDBServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Everyone could open tickets of the generated types (level 30): the note says which
    settings make them customers, until the settings list them."""
    site = synthetic_site(mariadb, tmp_path, "m_customers", SPEC)
    with desk_emulator(seed_for(SPEC)) as (url, token, _emu):
        code, report, _ = migrate(capsys, url, token, site.config, "--dry-run")
        assert code == 0
        notes = [n for n in report["notes"] if "customer_groups = [2]" in n]
        assert len(notes) == SPEC.types, report["notes"]
        assert "'Everyone' (2)" in notes[0] and '[types."Typ 1: Störung"]' in notes[0]
        settings = tmp_path / "go-support.toml"
        settings.write_text('[desk]\ncustomer_groups = ["everyone"]\n', encoding="utf-8")
        code, out, _ = run_cli(capsys, "--config", str(settings), "--url", url, "--api-key",
                               token, "migrate", f"-c={site.config}", "--json", "--dry-run")
        assert code == 0
        assert not [n for n in json.loads(out)["notes"] if "customer_groups" in n]


def test_a_rerun_writes_the_messages_a_ticket_got_since_exactly_once(
        mariadb: MariaDBServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A ticket complete on the first run is read without its messages on the next one,
    unless a message is missing: here ticket 3 got a new legacy message, and ticket 5 a
    reply in the desk (which must not hide the missing one of another ticket)."""
    site = synthetic_site(mariadb, tmp_path, "m_grow", SPEC)
    assert site.counts is not None
    with desk_emulator(seed_for(SPEC)) as (url, token, _emu):
        assert migrate(capsys, url, token, site.config, "--userId=1")[0] == 0
        with mariadb.connect(site.database) as conn, conn.cursor() as cur:
            cur.execute("SELECT MAX(id) FROM ti_messages")
            new_id = int(cur.fetchone()[0]) + 1
            cur.execute("INSERT INTO ti_messages (id, ticket_id, content, user_id, ctime, mtime) "
                        "VALUES (%s, 3, 'a late answer', 0, %s, %s)",
                        (new_id, SPEC.start_time + 10**6, SPEC.start_time + 10**6))
        with GroupOfficeClient(url, api_key=token) as client:
            found = client.call("Task/query", {"filter": {"supportLegacyTicketId": "5"}})
            client.call("Comment/set", {"create": {"r": {
                "entity": "Task", "entityId": found["ids"][0], "text": "a reply in the desk",
                "mimeMessageId": "<reply-1@desk.test>"}}})
        code, again, err = migrate(capsys, url, token, site.config, "--userId=1")
        assert code == 0, (again, err)
        # ticket 5's reply reset its progress (groupoffice-wire 09), which the rerun puts back
        assert (again["migrated"], again["completed"], again["messages"]) == (0, 2, 1)
        assert again["skipped"] == SPEC.tickets - 2
        legacy, messages = tickets_and_messages(url, token)
        assert messages[f"<legacy-ticket-3-message-{new_id}@tickets.migrated>"] == 1
        ours = {k: v for k, v in messages.items() if k.endswith("@tickets.migrated>")}
        assert len(ours) == site.counts.messages + 1 + SPEC.tickets
        assert set(ours.values()) == {1} and set(legacy.values()) == {1}
        code, third, _ = migrate(capsys, url, token, site.config, "--userId=1")
        assert (code, third["skipped"], third["messages"]) == (0, SPEC.tickets, 0)


class _LosesAnAnswer(requests.Session):
    """Sends every request to the server; the answer to the first one that only posts
    messages is lost (a read timeout after the server wrote them), as when a loaded
    Group-Office takes longer than the client waits."""

    lost = 0

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        body = kwargs.get("data")
        if not self.lost and isinstance(body, bytes) and body.startswith(b"[["):
            calls = json.loads(body)  # Group-Office's bare array of method calls
            if all(c[0] == "Comment/set" for c in calls):
                self.lost += 1
                raise requests.ReadTimeout("read timed out (the answer was lost)")
        return response


def test_messages_of_a_request_whose_answer_was_lost_are_counted_once(
        mariadb: MariaDBServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The summary counts what was written: the messages a timed-out request still wrote,
    found on the retry, too (a live run once reported 5,116 of 6,008)."""
    from go_support.cli.main import main
    from go_support.jmap import RequestsTransport

    site = synthetic_site(mariadb, tmp_path, "m_lost", SPEC)
    assert site.counts is not None
    session = _LosesAnAnswer()
    with desk_emulator(seed_for(SPEC)) as (url, token, _emu):
        with pytest.raises(SystemExit) as done:
            main(["--url", url, "--api-key", token, "migrate", f"-c={site.config}", "--json",
                  "--userId=1"], transport=RequestsTransport(session=session))
        out, err = capsys.readouterr()
        report = json.loads(out)
        assert done.value.code in (0, None), (report, err)
        assert session.lost == 1
        assert report["failed"] == 0 and report["migrated"] == SPEC.tickets
        assert report["messages"] == site.counts.messages + SPEC.tickets
        assert report["attachments"] == site.counts.attachments
        assert_exactly_once(url, token, site)


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
    # the kill times are fractions of a whole run on this machine, so that they fall inside the
    # run on a fast machine as on a slow one
    with desk_emulator(seed_for(KILL_SPEC)) as (url, token, _emu):
        started = time.monotonic()
        assert run_process(url, token, kill_site.config) == 0
        whole_run = time.monotonic() - started
    killed = 0
    for _ in range(3):  # a fresh desk each time: a rerun of finished work is quick
        with desk_emulator(seed_for(KILL_SPEC)) as (url, token, _emu):
            for _ in range(2):
                code = run_process(url, token, kill_site.config,
                                   kill_after=rnd.uniform(0.3, 0.8) * whole_run)
                killed += code == -signal.SIGKILL
            assert run_process(url, token, kill_site.config) == 0
            assert_exactly_once(url, token, kill_site)
    assert killed >= 3, "the random kills came too late to interrupt anything"


def test_deadlocked_writes_are_retried_without_duplicates(kill_site: LegacySite) -> None:
    """One /set in ten fails as a deadlocked Group-Office call does; a rerun finishes."""
    with desk_emulator(seed_for(KILL_SPEC), fail_writes=0.1) as (url, token, emu):
        codes = [run_process(url, token, kill_site.config) for _ in range(3)]
        assert emu.faults.injected > 0
        assert 0 in codes
        assert_exactly_once(url, token, kill_site)


# --- bad input --------------------------------------------------------------------------------


def test_bad_pieces_are_reported_per_ticket_and_the_rest_goes_on(
        mariadb: MariaDBServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A subject that is not UTF-8, a message whose ticket is gone, a missing file, a deleted
    type: each is named in the summary, every ticket is migrated, a rerun writes nothing."""
    site = synthetic_site(mariadb, tmp_path, "m_bad", SPEC)
    with mariadb.connect(site.database) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE ti_tickets MODIFY subject VARBINARY(255) NOT NULL")
        cur.execute("UPDATE ti_tickets SET subject = X'4772f6dfe92050726f626c656d' WHERE id = 2")
        conn.commit()
    with desk_emulator(seed_for(SPEC)) as (url, token, _emu):
        code, report, _ = migrate(capsys, url, token, site.config)
        assert code == 0 and report["migrated"] == SPEC.tickets and report["failed"] == 0
        problems = "\n".join(report["problemList"])
        assert "ticket 2: the subject is not valid UTF-8 (byte 0xf6" in problems
        assert report["orphanMessages"] == 2
        assert "message 1" in problems and "its ticket 1040 is gone" in problems
        assert "is missing on disk" in problems
        assert "was deleted; it goes to the type 'Tickets of deleted types'" in problems
        assert report["perType"]["Tickets of deleted types"]["migrated"] == 3
        with GroupOfficeClient(url, api_key=token) as client:
            found = client.call("Task/query", {"filter": {"tasklistId": "any",
                                                          "supportLegacyTicketId": "2"}})
            task = client.call("Task/get", {"ids": found["ids"], "properties": ["title"]})
            assert task["list"][0]["title"] == "Gr\u00f6\u00df\u00e9 Problem"  # read as cp1252
        code, again, _ = migrate(capsys, url, token, site.config)
        assert code == 0 and again["skipped"] == SPEC.tickets and again["messages"] == 0


@pytest.mark.parametrize("content, expected", [
    (None, "does not exist"),
    ("this is not PHP at all\n", "PHP"),
    ("<?php\n$config['title'] = 'Group-Office';\n", "holds no database settings"),
])
def test_unusable_config_php_is_exit_3_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], emulator: tuple[str, str],
        content: str | None, expected: str) -> None:
    config = tmp_path / "config.php"
    if content is not None:
        config.write_text(content, encoding="utf-8")
    code, out, err = run_cli(capsys, "--url", emulator[0], "--api-key", emulator[1],
                             "migrate", "-c", str(config))
    assert code == 3, (out, err)
    assert expected in err and str(config) in err


def test_refused_login_and_missing_table_are_exit_3(
        mariadb: MariaDBServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        emulator: tuple[str, str]) -> None:
    site = synthetic_site(mariadb, tmp_path, "m_refused", SyntheticSpec(tickets=2))
    wrong = write_config(tmp_path / "wrong.php", mariadb, site.database, site.storage,
                         password="not-the-password")
    code, _, err = run_cli(capsys, "--url", emulator[0], "--api-key", emulator[1],
                           "migrate", f"--config={wrong}")
    assert code == 3 and "refused the login" in err and "not-the-password" not in err
    with mariadb.connect(site.database) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE ti_messages")
    code, _, err = run_cli(capsys, "--url", emulator[0], "--api-key", emulator[1],
                           "migrate", "-c", str(site.config))
    assert code == 3 and "table ti_messages is missing" in err


def test_config_from_go_config_file_and_global_config_clash(
        mariadb: MariaDBServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``--config`` after ``migrate`` is config.php; ``GO_CONFIG_FILE`` when it is absent."""
    site = synthetic_site(mariadb, tmp_path, "m_env", SyntheticSpec(tickets=3, seed=9))
    with desk_emulator(seed_for(SyntheticSpec(tickets=3))) as (url, token, _emu):
        monkeypatch.setenv("GO_CONFIG_FILE", str(site.config))
        code, out, err = run_cli(capsys, "--url", url, "--api-key", token, "migrate",
                                 "--dry-run", "--json")
        assert code == 0, err
        assert json.loads(out)["migrated"] == 3 and json.loads(out)["dryRun"] is True
        monkeypatch.delenv("GO_CONFIG_FILE")
        code, out, err = run_cli(capsys, "--url", url, "--api-key", token, "migrate",
                                 f"--config={site.config}", "--type", "1", "--limit", "1",
                                 "--json")
        assert code == 0, err
        report = json.loads(out)
        assert report["migrated"] == 1 and list(report["perType"]) == ["Typ 1: St\u00f6rung"]


@pytest.mark.parametrize("user, expected", [("999", "there is no Group-Office user with id 999"),
                                            ("11", "is disabled")])
def test_user_id_that_does_not_exist_or_is_disabled(
        mariadb: MariaDBServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        user: str, expected: str) -> None:
    site = synthetic_site(mariadb, tmp_path, f"m_user{user}", SyntheticSpec(tickets=2))
    with desk_emulator(seed_for(SPEC)) as (url, token, _emu):
        code, _, err = run_cli(capsys, "--url", url, "--api-key", token, "migrate",
                               f"--userId={user}", f"-c={site.config}")
        assert code == 2 and expected in err
        legacy, _ = tickets_and_messages(url, token)
        assert legacy == {}


def test_user_key_is_destroyed_after_success_and_failure(
        mariadb: MariaDBServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = synthetic_site(mariadb, tmp_path, "m_keys", SyntheticSpec(tickets=3))
    seed = seed_for(SPEC)
    seed["users"][0]["groups"] = [1, 3]  # agent2 is an admin: may create the ticket types
    with desk_emulator(seed) as (url, token, emu):
        before = {k["id"] for k in emu.store.all("Key")}
        code, _, err = run_cli(capsys, "--url", url, "--api-key", token, "migrate",
                               "--userId=2", f"-c={site.config}")
        assert code == 0, err
        assert {k["id"] for k in emu.store.all("Key")} == before
        with GroupOfficeClient(url, api_key=token) as client:
            tasks = client.call("Task/get", {"ids": client.call("Task/query", {
                "filter": {"tasklistId": "any"}})["ids"], "properties": ["createdBy"]})
        assert {str(t["createdBy"]) for t in tasks["list"]} == {"2"}  # acted as user 2
        with mariadb.connect(site.database) as conn, conn.cursor() as cur:
            cur.execute("DROP TABLE ti_types")
        code, _, err = run_cli(capsys, "--url", url, "--api-key", token, "migrate",
                               "--userId=2", f"-c={site.config}")
        assert code == 3
        assert {k["id"] for k in emu.store.all("Key")} == before
