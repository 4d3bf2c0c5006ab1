"""Where the emulator once disagreed with a real Group-Office (groupoffice-wire 17).

Each test names the corpus step whose behaviour it pins down: intermediate ``/changes`` states
refused, empty titles accepted, the ACL owner's personal group kept at MANAGE, the progress
reset decided by a changed value.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ._http import CREATOR_KEY, WRITER_KEY, Go, clock_at, running

MANAGER, AGENT_A, AGENT_B = "2", "3", "4"
MANAGER_GROUP, AGENT_A_GROUP, AGENT_B_GROUP = "5", "6", "7"
RESYNC = {"message": "Resync required", "type": "cannotCalculateChanges"}


@pytest.fixture(scope="module")
def admin() -> Iterator[Go]:
    with running({"users": [
        {"id": 2, "username": "manager17", "personalGroupId": 5, "apiKey": CREATOR_KEY},
        {"id": 3, "username": "agent17", "personalGroupId": 6, "apiKey": WRITER_KEY},
        {"id": 4, "username": "agent17b", "personalGroupId": 7},
    ]}) as go:
        yield go


@pytest.fixture
def manager(admin: Go) -> Go:
    return admin.as_user(CREATOR_KEY)


@pytest.fixture
def agent(admin: Go) -> Go:
    return admin.as_user(WRITER_KEY)


@pytest.fixture
def frozen() -> Iterator[list[datetime]]:
    with clock_at(datetime(2026, 12, 6, 21, 54, 8, tzinfo=UTC)) as now:
        yield now


@pytest.fixture
def tasklist(admin: Go) -> str:
    return admin.new_list(acl={AGENT_A_GROUP: 30, AGENT_B_GROUP: 30})  # 17 #0


def progress_after(admin: Go, task: str, *calls: list[Any]) -> tuple[str, str]:
    """Send ``calls`` in one request; the task's progress and responsible user afterwards."""
    answers = admin.post(*calls, ["Task/get", {"ids": [task]}, "get"])
    assert all(name != "error" for name, _, _ in answers), answers
    got = answers[-1][1]["list"][0]
    return got["progress"], got["responsibleUserId"]


# -- /changes ---------------------------------------------------------------------------------


def test_an_intermediate_changes_state_is_refused(admin: Go, tasklist: str) -> None:
    since = admin.state("Task")
    for _ in range(3):
        admin.new_task(tasklist)
    page = admin.ok("Task/changes", {"sinceState": since, "maxChanges": 2})  # 17 #3
    assert page["hasMoreChanges"] is True and len(page["changed"]) == 2
    assert "|" in page["newState"] and not page["newState"].startswith(since.split(":")[0])
    refused = admin.error("Task/changes", {"sinceState": page["newState"]})  # 17 #4
    assert refused == RESYNC
    fresh = admin.state("Task")  # 17 #5, #6: a state from /get is usable right away
    assert admin.ok("Task/changes", {"sinceState": fresh})["changed"] == []


# -- titles -----------------------------------------------------------------------------------


def test_an_empty_title_is_accepted_a_missing_one_refused(admin: Go, tasklist: str) -> None:
    task = admin.new_task(tasklist)
    res = admin.update("Task", task, {"title": ""})  # 17 #7
    assert res["updated"] == {task: None}
    assert admin.get("Task", task, "title")["title"] == ""
    res = admin.ok("Task/set", {"create": {"e": {"tasklistId": tasklist, "title": ""}}})
    assert res["created"]["e"]["id"] and res["notCreated"] is None  # 17 #8
    res = admin.ok("Task/set", {"create": {"n": {"tasklistId": tasklist}}})
    assert res["created"] is None
    assert res["notCreated"]["n"]["validationErrors"] == {
        "title": {"code": 1, "description": "Property is required"}}


# -- the ACL owner ----------------------------------------------------------------------------


def test_the_acl_owner_keeps_manage_whoever_patches(admin: Go, manager: Go) -> None:
    group = admin.ok("Group/set", {"create": {"g": {"name": "managers17", "users": [2]}}})
    gid = group["created"]["g"]["id"]
    assert group["created"]["g"]["acl"] == {"2": 10, gid: 10}  # 17 #9: Everyone reads it
    assert "users" not in group["created"]["g"]
    created = manager.ok("TaskList/set", {"create": {"l": {"name": "owned", "acl": {gid: 50}}}})
    lid = created["created"]["l"]["id"]
    owned = {MANAGER_GROUP: 50, gid: 50}
    assert created["created"]["l"]["acl"] == owned  # 17 #10
    before = manager.state("TaskList")
    res = manager.update("TaskList", lid, {"acl": {MANAGER_GROUP: None}})  # 17 #11
    assert res["updated"] == {lid: {"acl": owned}} and res["newState"] != before
    for level in (None, 30):  # 17 #12: the admin neither
        res = admin.update("TaskList", lid, {"acl": {MANAGER_GROUP: level}})
        assert res["updated"][lid]["acl"] == owned
    assert admin.get("TaskList", lid, "acl")["acl"] == owned


def test_the_admins_first_save_of_anothers_list_writes_his_row(admin: Go, manager: Go) -> None:
    lid = manager.new_list()
    before = admin.state("TaskList")
    res = admin.update("TaskList", lid, {"acl": {MANAGER_GROUP: None}})  # 17 #12 c1
    changed = res["updated"][lid]
    assert (changed["isVisible"], changed["isSubscribed"], changed["syncToDevice"]) == (
        False, False, False)
    assert isinstance(changed["color"], str)
    assert res["newState"].split(":")[2] != before.split(":")[2]  # the per-user modseq moved
    again = admin.update("TaskList", lid, {"acl": {MANAGER_GROUP: 30}})  # 17 #12 c2
    assert set(again["updated"][lid]) == {"acl"}


def test_the_super_admins_lists_get_no_owner_entry(admin: Go) -> None:
    lid = admin.new_list(acl={AGENT_A_GROUP: 30})
    admin.update("TaskList", lid, {"acl": {AGENT_A_GROUP: None}})
    assert admin.get("TaskList", lid, "acl")["acl"] in ({}, [])  # 04, 17 #0


# -- the progress reset -----------------------------------------------------------------------


def test_repeating_the_current_progress_does_not_keep_it(
    admin: Go, tasklist: str, frozen: Any
) -> None:
    task = admin.new_task(tasklist, progress="in-progress", responsibleUserId=int(AGENT_A))
    res = admin.update("Task", task, {"progress": "in-progress", "responsibleUserId": 4})
    assert res["updated"] == {task: {"progress": "needs-action",
                                     "responsibleUserId": AGENT_B}}  # 17 #14
    res = admin.update("Task", task, {"progress": "in-progress", "responsibleUserId": 3})
    assert res["updated"] == {task: {"responsibleUserId": AGENT_A}}  # 17 #15: a new value
    assert admin.get("Task", task, "progress")["progress"] == "in-progress"


def test_after_a_comment_hook_only_two_set_calls_end_as_asked(
    admin: Go, agent: Go, tasklist: str, frozen: Any
) -> None:
    task = agent.new_task(tasklist)  # 17 #16
    agent.comment(task, "<p>first, by the creator</p>")  # 17 #17
    comment = {"entity": "Task", "entityId": task, "text": "<p>for agent B</p>"}
    assert progress_after(  # 17 #18: the hook set in-progress, the patch repeats it
        admin, task,
        ["Comment/set", {"create": {"m": comment}}, "c1"],
        ["Task/set", {"update": {task: {"progress": "in-progress", "responsibleUserId": 4}}},
         "c2"],
    ) == ("needs-action", AGENT_B)
    assert progress_after(  # 17 #19
        admin, task,
        ["Comment/set", {"create": {"m": comment}}, "c1"],
        ["Task/set", {"update": {task: {"responsibleUserId": 3}}}, "c2"],
        ["Task/set", {"update": {task: {"progress": "in-progress"}}}, "c3"],
    ) == ("in-progress", AGENT_A)
