"""``go-support migrate`` against a real Group-Office (``GO_SUPPORT_TEST_URL`` and
``GO_SUPPORT_TEST_TOKEN``; skipped otherwise). The server is shared: every object has a
unique tag and is destroyed afterwards, and only those objects are looked at."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from go_support.jmap import GroupOfficeClient
from go_support.jmap.errors import AuthenticationError, JMAPError
from go_support.legacy.acting import UnknownUser, acting_key
from go_support.migrations import install
from tests._support import Cleanup, destroyed_afterwards, live_server, run_cli
from tests.legacy.migrate_support import expected_states, write_config
from tests.mariadb import MariaDBServer

pytestmark = pytest.mark.live  # only against the real server (skipped without it)


@pytest.fixture
def live() -> Iterator[tuple[str, str, GroupOfficeClient]]:
    url, token = live_server()
    with GroupOfficeClient(url, api_key=token) as admin:
        yield url, token, admin


@pytest.fixture
def tag() -> str:
    return f"gs-mig-{uuid.uuid4().hex[:8]}"


def new_user(admin: GroupOfficeClient, cleanup: Cleanup, tag: str, enabled: bool = True) -> int:
    user_id = admin.users.create({"username": tag, "displayName": f"Migration {tag[-4:]}",
                                  "email": f"{tag}@example.com", "enabled": enabled})
    cleanup("User", user_id)
    return int(user_id)


def test_live_user_key_acts_as_the_user_and_is_destroyed(
        live: tuple[str, str, GroupOfficeClient], tag: str) -> None:
    url, _, admin = live
    with destroyed_afterwards(admin) as cleanup:
        user_id = new_user(admin, cleanup, tag)
        with acting_key(admin, user_id) as key, GroupOfficeClient(url, api_key=key) as client:
            assert str(client.session.user_id) == str(user_id)
        with GroupOfficeClient(url, api_key=key) as client, pytest.raises(AuthenticationError):
            client.session  # noqa: B018 - the destroyed key no longer logs in
        with pytest.raises(RuntimeError), acting_key(admin, user_id) as key2:
            raise RuntimeError("the migration failed")
        with GroupOfficeClient(url, api_key=key2) as client, pytest.raises(AuthenticationError):
            client.session  # noqa: B018


def test_live_user_id_missing_or_disabled(
        live: tuple[str, str, GroupOfficeClient], tag: str) -> None:
    _, _, admin = live
    with destroyed_afterwards(admin) as cleanup:
        disabled = new_user(admin, cleanup, tag, enabled=False)
        with pytest.raises(UnknownUser, match="is disabled"), acting_key(admin, disabled):
            pass
        with pytest.raises(UnknownUser, match="there is no Group-Office user with id"), \
                acting_key(admin, 987654321):
            pass


def test_live_go65_demo_migrates_once(
        live: tuple[str, str, GroupOfficeClient], tag: str, mariadb: MariaDBServer,
        go65_copy: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The Group-Office 6.5 demo database, its types renamed with the test's tag."""
    url, token, admin = live
    install(admin)
    with mariadb.connect(go65_copy) as conn, conn.cursor() as cur:
        cur.execute("UPDATE ti_types SET name = CONCAT(%s, ' ', COALESCE(name, ''))", (tag,))
        cur.execute("SELECT COUNT(*) FROM ti_tickets")
        tickets = int(cur.fetchone()[0])
        conn.commit()
    config = write_config(tmp_path / "config.php", mariadb, go65_copy, tmp_path)
    report: dict[str, list[str]] = {}
    try:
        code, out, err = run_cli(capsys, "--url", url, "--api-key", token, "migrate",
                                 "--userId=1", f"-c={config}", "--json")
        assert code == 0, err
        report = json.loads(out)
        assert report["migrated"] == tickets and report["failed"] == 0
        ours = our_tasks(admin, tag)
        assert sorted(ours.values()) == [1] * tickets  # one task per legacy id
        # the status is written after the messages, whose comments reset it
        assert our_progress(admin, tag) == {k: p for k, (p, _) in
                                            expected_states(config).items()}
        code, out, err = run_cli(capsys, "--url", url, "--api-key", token, "migrate",
                                 "--userId=1", f"-c={config}", "--json")
        assert code == 0, err
        assert json.loads(out)["skipped"] == tickets
        assert our_tasks(admin, tag) == ours
    finally:
        destroy_ours(admin, tag, report.get("categoriesCreated", []))


def our_lists(admin: GroupOfficeClient, tag: str) -> list[str]:
    found = admin.call("TaskList/query", {"filter": {"text": tag}})["ids"]
    got = admin.call("TaskList/get", {"ids": found, "properties": ["id", "name"]})
    return [str(t["id"]) for t in got["list"] if str(t.get("name", "")).startswith(tag)]


def our_tasks(admin: GroupOfficeClient, tag: str) -> dict[str, int]:
    lists = our_lists(admin, tag)
    ids = admin.call("Task/query", {"filter": {"tasklistId": lists}})["ids"] if lists else []
    got = admin.call("Task/get", {"ids": ids, "properties": ["id", "customFields"]})
    counts: dict[str, int] = {}
    for task in got["list"]:
        legacy = str((task.get("customFields") or {}).get("supportLegacyTicketId") or "")
        counts[legacy] = counts.get(legacy, 0) + 1
    return counts


def our_progress(admin: GroupOfficeClient, tag: str) -> dict[str, str]:
    lists = our_lists(admin, tag)
    ids = admin.call("Task/query", {"filter": {"tasklistId": lists}})["ids"] if lists else []
    got = admin.call("Task/get", {"ids": ids, "properties": ["customFields", "progress"]})
    return {str((t.get("customFields") or {}).get("supportLegacyTicketId")): t["progress"]
            for t in got["list"]}


def destroy_ours(admin: GroupOfficeClient, tag: str, categories: list[str]) -> None:
    """The test's types and tickets, and the categories this run created (by name)."""
    try:
        if categories:
            found = admin.call("TaskCategory/query", {})["ids"]
            got = admin.call("TaskCategory/get", {"ids": found})["list"]
            made = [str(c["id"]) for c in got if c.get("name") in categories
                    and not c.get("tasklistId")]
            if made:
                admin.call("TaskCategory/set", {"destroy": made})
        lists = our_lists(admin, tag)
        for list_id in lists:
            tasks = admin.call("Task/query", {"filter": {"tasklistId": [list_id]}})["ids"]
            if tasks:
                admin.call("Task/set", {"destroy": tasks})
        if lists:
            admin.call("TaskList/set", {"destroy": lists})
    except JMAPError:
        pass  # clean-up must not hide the test's own failure
