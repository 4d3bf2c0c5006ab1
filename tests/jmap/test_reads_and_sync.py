"""Reads that cannot mislead: checked ``properties`` and changes that never hand out a state
Group-Office refuses (groupoffice-wire 17 and 18).

Like ``test_client_emulator.py``, each end-to-end test runs against the emulator and, when
GO_SUPPORT_TEST_URL and GO_SUPPORT_TEST_TOKEN are set, against a real Group-Office.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from go_support.jmap import (
    Batch,
    CannotCalculateChanges,
    ChangesTruncated,
    GroupOfficeClient,
    UnknownPropertiesError,
    check_properties,
)

if TYPE_CHECKING:
    from tests.jmap.conftest import RecordingTransport

pytestmark = pytest.mark.live


@pytest.fixture
def live(request: pytest.FixtureRequest, go_server: tuple[str, str]) -> bool:
    """Whether this run talks to a real Group-Office (``[live]``)."""
    return bool(request.node.callspec.params["go_server"] == "live")


def ids_of(objects: list[dict[str, Any]]) -> list[str]:
    return [str(o["id"]) for o in objects]


# --- properties --------------------------------------------------------------------------


def test_unknown_properties_are_refused_before_anything_is_sent(
    go_server: tuple[str, str], recorder: RecordingTransport
) -> None:
    url, token = go_server
    with GroupOfficeClient(url, api_key=token, transport=recorder) as client:
        attempts = [
            lambda: client.tasks.get(["1"], ["id", "commentedAt"]),
            lambda: client.tasks.get_one("1", ["id", "commentedAt"]),
            lambda: client.tasks.query_get({}, properties=["commentedAt"]),
            lambda: client.tasks.query_all_objects({}, properties=["commentedAt"]),
            lambda: client.tasks.sync(None, properties=["commentedAt"]),
            lambda: Batch().get("Task", ["1"], properties=["id", "commentedAt"]),
        ]
        for attempt in attempts:
            with pytest.raises(UnknownPropertiesError) as info:
                attempt()
            assert info.value.entity == "Task" and info.value.unknown == ("commentedAt",)
            assert info.value.method == "Task/get" and "'commentedAt'" in str(info.value)
            assert "notFound" in str(info.value) and "validate=False" in str(info.value)
            assert token not in str(info.value)
        with pytest.raises(UnknownPropertiesError, match="'titel', 'stat'"):
            client.comments.get(["1"], ["id", "titel", "text", "stat"])
        assert recorder.sent == []  # not even the session


def test_what_is_checked_and_what_is_not() -> None:
    assert check_properties("Task", ["id", "title", "customFields"]) == [
        "id", "title", "customFields"]
    assert check_properties("Task", None) is None
    assert check_properties("Task", ("id",)) == ["id"]
    assert check_properties("Task", ["typo"], validate=False) == ["typo"]
    assert check_properties("User", ["anyPreference"]) == ["anyPreference"]  # partial model
    assert check_properties("Note", ["anything"]) == ["anything"]  # no model at all
    with pytest.raises(TypeError, match="list of names"):
        check_properties("Task", "title")


def test_the_escape_hatch_shows_why_unknown_properties_are_refused(
    client: GroupOfficeClient, task_list: str
) -> None:
    task = client.tasks.create({"tasklistId": task_list, "title": "typo"})
    assert client.tasks.get_one(task, ["id", "title"]) == {"id": task, "title": "typo"}
    # Group-Office calls the task notFound instead of naming the bad property (18 #2).
    result = client.tasks.get([task], ["id", "commentedAt"], validate=False)
    assert result.objects == [] and result.not_found == [task]
    modules = client.modules.get(None, ["enabled"])  # package and name are added, all known
    assert modules.objects and all("package" in m for m in modules.objects)


# --- changes -----------------------------------------------------------------------------


def test_paged_changes_are_refused_not_handed_out(
    client: GroupOfficeClient, task_list: str
) -> None:
    state = client.tasks.state()
    assert state
    client.tasks.create_many([{"tasklistId": task_list, "title": f"page {i}"}
                              for i in range(3)])
    with pytest.raises(ChangesTruncated) as info:
        client.tasks.changes(state, max_changes=1)
    assert isinstance(info.value, CannotCalculateChanges)  # one except clause for both
    partial = info.value.partial
    assert partial.has_more_changes and partial.new_state and partial.changed
    assert "query and get everything again" in str(info.value)
    # What the client withheld: Group-Office refuses its own intermediate state (17 #4).
    with pytest.raises(CannotCalculateChanges, match="Resync required"):
        client.call("Task/changes", {"sinceState": partial.new_state})


def test_sync_follows_changes_or_resyncs(
    client: GroupOfficeClient, task_list: str, live: bool
) -> None:
    flt = {"tasklistId": task_list}
    state = client.tasks.state()
    assert state
    ids = client.tasks.create_many([{"tasklistId": task_list, "title": f"sync {i}"}
                                    for i in range(3)])
    client.tasks.update(ids[0], {"title": "sync renamed"})
    client.tasks.destroy([ids[2]])
    first = client.tasks.sync(state, filter=flt, properties=["id", "title"])
    titles = {str(o["id"]): o["title"] for o in first.changed}
    assert len(titles) == len(first.changed)  # each object once
    assert titles[ids[0]] == "sync renamed" and titles[ids[1]] == "sync 1"
    assert ids[2] not in titles
    if first.resynced:
        # A busy real server pages Task/changes (ACL changes count): everything, then.
        assert live, first.reason
        assert set(titles) == {ids[0], ids[1]} and first.removed == []
    else:
        assert ids[2] in first.removed
    # The state handed out is always usable, whichever way it was taken.
    second = client.tasks.sync(first.state, filter=flt, properties=["id", "title"])
    if second.resynced:
        assert live, second.reason
        assert set(ids_of(second.changed)) == {ids[0], ids[1]}
    else:
        assert not {ids[0], ids[1], ids[2]} & set(ids_of(second.changed) + second.removed)


def test_sync_resyncs_when_the_changes_are_paged(
    client: GroupOfficeClient, task_list: str
) -> None:
    state = client.tasks.state()
    ids = client.tasks.create_many([{"tasklistId": task_list, "title": f"paged {i}"}
                                    for i in range(3)])
    result = client.tasks.sync(state, filter={"tasklistId": task_list}, max_changes=1,
                               properties=["id"])
    assert result.resynced and "hasMoreChanges" in (result.reason or "")
    assert sorted(ids_of(result.changed)) == sorted(ids) and result.removed == []
    client.tasks.sync(result.state, max_changes=1)  # a state taken by /get: accepted


def test_sync_resyncs_from_a_foreign_state_or_none(
    client: GroupOfficeClient, task_list: str
) -> None:
    task = client.tasks.create({"tasklistId": task_list, "title": "foreign"})
    flt = {"tasklistId": task_list}
    foreign = client.tasks.sync("1:1:1", filter=flt)
    assert foreign.resynced and "Resync required" in (foreign.reason or "")
    assert ids_of(foreign.changed) == [task]
    fresh = client.tasks.sync(None, filter=flt)
    assert fresh.resynced and ids_of(fresh.changed) == [task]
    assert fresh.reason == "no state to continue from"
