"""The tasks module of the emulator over real HTTP: TaskList, TaskListGrouping, TaskCategory, Task.

Each test names the corpus step (``shared/groupoffice-wire``) whose behaviour it pins down.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ._http import READER_KEY, WRITER_KEY, Go, clock_at, running, unique

WRITER_GROUP = 33  # the writer's personal group, as in 08
READER_GROUP = 32


@pytest.fixture(scope="module")
def admin() -> Iterator[Go]:
    with running({"users": [
        {"id": 33, "username": "writer", "apiKey": WRITER_KEY, "personalGroupId": WRITER_GROUP},
        {"id": 32, "username": "reader", "apiKey": READER_KEY, "personalGroupId": READER_GROUP},
    ]}) as go:
        yield go


@pytest.fixture
def writer(admin: Go) -> Go:
    return admin.as_user(WRITER_KEY)


@pytest.fixture
def reader(admin: Go) -> Go:
    return admin.as_user(READER_KEY)


@pytest.fixture
def frozen_clock() -> Iterator[list[datetime]]:
    with clock_at(datetime(2026, 11, 25, 23, 51, 6, tzinfo=UTC)) as now:
        yield now


def modseq(state: str) -> int:
    return int(state.split(":")[1])


# -- TaskList -------------------------------------------------------------------------------------


def test_tasklist_created_reports_server_values_but_not_what_was_sent(admin: Go) -> None:
    res = admin.ok("TaskList/set", {"create": {"l": {
        "name": "helpdesk", "role": "list", "description": "d", "acl": {str(WRITER_GROUP): 30},
    }}})
    created = res["created"]["l"]
    # 04 #0: role, name, description and the (non-empty) acl sent are not echoed
    assert not {"role", "name", "description", "acl"} & set(created)
    assert created["createdBy"] == 1 and created["permissionLevel"] == 50
    assert created["isSubscribed"] is True and created["isVisible"] is True
    assert created["syncToDevice"] is False and created["sortOrder"] is None
    assert isinstance(created["aclId"], int)


def test_tasklist_invalid_role_is_silently_list(admin: Go) -> None:
    res = admin.ok("TaskList/set", {"create": {"l": {"name": "bad role", "role": "nonsense"}}})
    assert res["created"]["l"]["role"] == "list"  # 04 #10
    assert res["created"]["l"]["acl"] == {}  # the admin is never added to the acl (04 #8)


def test_tasklist_acl_merge_remove_and_pointer(admin: Go) -> None:
    lid = admin.new_list(acl={"31": 30})
    # merge: the answer reports the merged acl because the client expected only {"32": 10}
    res = admin.update("TaskList", lid, {"acl": {"32": 10}})
    assert res["updated"] == {lid: {"acl": {"31": 30, "32": 10}}}  # 04 #3
    res = admin.update("TaskList", lid, {"acl": {"31": None}})
    assert res["updated"] == {lid: {"acl": {"32": 10}}}  # 04 #4
    assert admin.get("TaskList", lid, "acl")["acl"] == {"32": 10}
    res = admin.update("TaskList", lid, {"acl/31": 30})
    assert res["updated"] == {lid: None}  # 04 #5
    assert admin.get("TaskList", lid, "acl")["acl"] == {"31": 30, "32": 10}


def test_tasklist_acl_changes_move_the_acl_part_of_states(admin: Go) -> None:
    def acl_part() -> str:
        return admin.state("TaskList").split(":")[3]

    before = acl_part()
    admin.new_list()  # the admin's list without acl: no ACL rows (04 #8)
    assert acl_part() == before
    lid = admin.new_list(acl={"31": 30})  # 04 #0
    after = acl_part()
    assert int(after) == int(before) + 1
    admin.update("TaskList", lid, {"name": "renamed"})
    assert acl_part() == after


def test_tasklist_empty_acl_is_always_reported(admin: Go) -> None:
    lid = admin.new_list()
    grouping = admin.ok("TaskListGrouping/set", {"create": {"g": {"name": "grp"}}})
    gid = grouping["created"]["g"]["id"]
    res = admin.update("TaskList", lid, {"groupingId": gid})
    # 05 #4: the empty acl (a PHP object) and the integer groupingId
    assert res["updated"] == {lid: {"acl": {}, "groupingId": int(gid)}}


def test_tasklist_user_properties_are_null_without_a_row(admin: Go, writer: Go) -> None:
    lid = admin.new_list(acl={str(WRITER_GROUP): 20})
    mine = admin.get("TaskList", lid)
    assert mine["isSubscribed"] is True and isinstance(mine["color"], str)
    theirs = writer.get("TaskList", lid)
    assert theirs["permissionLevel"] == 20
    for prop in ("color", "isSubscribed", "isVisible", "syncToDevice", "sortOrder"):
        assert theirs[prop] is None, prop  # 16 #14


def test_tasklist_read_only_user_cannot_update(admin: Go, reader: Go) -> None:
    lid = admin.new_list(acl={str(READER_GROUP): 10})
    assert reader.get("TaskList", lid, "permissionLevel")["permissionLevel"] == 10  # 04 #6
    res = reader.update("TaskList", lid, {"name": "renamed by reader"})
    assert res["notUpdated"][lid]["type"] == "forbidden"  # 04 #7


def test_no_groupingid_filter_but_sort_by_group(admin: Go) -> None:
    res = admin.post(["TaskList/query", {"filter": {"groupingId": "3"}}, "c"])
    assert res[0][1]["type"] == "unsupportedFilter"  # 05 #5
    gids = []
    for name in ("B grouping", "A grouping"):
        g = admin.ok("TaskListGrouping/set", {"create": {"g": {"name": name}}})
        gids.append(g["created"]["g"]["id"])
    tag = unique("grouped-")
    first = admin.new_list(name=f"{tag} 1", groupingId=gids[0])  # in "B grouping"
    second = admin.new_list(name=f"{tag} 2", groupingId=gids[1])  # in "A grouping"
    ids = admin.ok("TaskList/query", {
        "filter": {"text": tag}, "sort": [{"property": "group"}, {"property": "name"}],
    })["ids"]
    assert ids == [second, first]


def test_destroying_a_grouping_clears_groupingid_with_one_modseq(admin: Go) -> None:
    g = admin.ok("TaskListGrouping/set", {"create": {"g": {"name": "to destroy"}}})
    gid = g["created"]["g"]["id"]
    assert g["oldState"].count(":") == 2  # not an ACL entity: three parts (05 #0)
    lists = [admin.new_list(groupingId=gid), admin.new_list(groupingId=gid)]
    before = modseq(admin.state("TaskList"))
    admin.ok("TaskListGrouping/set", {"destroy": [gid]})
    for lid in lists:
        assert admin.get("TaskList", lid, "groupingId")["groupingId"] is None  # 05 #8
    assert modseq(admin.state("TaskList")) == before + 1


def test_grouping_query_defaults_to_role_list(admin: Go) -> None:
    g = admin.ok(
        "TaskListGrouping/set", {"create": {"g": {"name": "support grp", "role": "support"}}}
    )
    gid = g["created"]["g"]["id"]
    assert gid not in admin.ok("TaskListGrouping/query", {})["ids"]  # 05 #1
    assert gid in admin.ok("TaskListGrouping/query", {"filter": {"role": "support"}})["ids"]


# -- TaskCategory ---------------------------------------------------------------------------------


def test_category_owner_types_scopes_and_levels(admin: Go) -> None:
    lid = admin.new_list()
    res = admin.ok("TaskCategory/set", {"create": {
        "o": {"name": "personal"},
        "g": {"name": "global", "ownerId": None},
        "p": {"name": "per-list", "tasklistId": lid},
    }})
    o, g, p = (res["created"][k] for k in ("o", "g", "p"))
    # 06 #2: the default owner is a string in ``created``, tasklistId an integer
    assert o["ownerId"] == "1" and "ownerId" not in g and p["tasklistId"] == int(lid)
    assert (o["permissionLevel"], g["permissionLevel"], p["permissionLevel"]) == (50, 50, 40)
    got = admin.ok("TaskCategory/get", {"ids": [o["id"], p["id"]]})["list"]
    assert [c["ownerId"] for c in got] == [1, 1]  # 06 #3: integers once read back
    # 06 #4: ownerId only matches personal categories, not the per-list one of the same owner
    owned = admin.ok("TaskCategory/query", {"filter": {"ownerId": "1"}})["ids"]
    assert o["id"] in owned and p["id"] not in owned
    assert admin.ok("TaskCategory/query", {"filter": {"tasklistId": lid}})["ids"] == [p["id"]]
    glob = admin.ok("TaskCategory/query", {"filter": {"global": True}})["ids"]
    assert g["id"] in glob and o["id"] not in glob


def test_category_has_no_color(admin: Go) -> None:
    res = admin.post(["TaskCategory/set", {"create": {"x": {"name": "c", "color": "FF0000"}}}, "c"])
    assert res[0][1] == {
        "message": "Not existing property color for go\\modules\\community\\tasks\\model\\Category",
        "type": "invalidArgumentException",
    }  # 06 #1


def test_destroying_a_category_cascades_without_a_task_change(admin: Go) -> None:
    lid = admin.new_list()
    res = admin.ok("TaskCategory/set", {"create": {"a": {"name": "a"}, "b": {"name": "b"}}})
    a, b = res["created"]["a"]["id"], res["created"]["b"]["id"]
    tid = admin.new_task(lid, categories=[a, b])
    state = admin.state("Task")
    admin.ok("TaskCategory/set", {"destroy": [b]})
    assert admin.get("Task", tid, "categories")["categories"] == [a]  # 06 #8
    assert admin.state("Task") == state


# -- Task: writing --------------------------------------------------------------------------------


def test_task_created_omits_what_was_sent(admin: Go) -> None:
    lid = admin.new_list()
    res = admin.ok("Task/set", {"create": {"t": {
        "tasklistId": lid, "title": "x", "priority": 1, "responsibleUserId": "1",
    }}})
    created = res["created"]["t"]
    assert not {"tasklistId", "title", "priority", "responsibleUserId"} & set(created)  # 08 #1
    assert created["createdBy"] == "1" and created["progress"] == "needs-action"
    assert created["progressUpdated"] is None and created["uri"] == created["uid"] + ".ics"


def test_progress_and_percent_complete_side_effects(admin: Go, frozen_clock: Any) -> None:
    lid = admin.new_list()
    tid = admin.new_task(lid)
    res = admin.update("Task", tid, {"progress": "in-progress"})
    assert set(res["updated"][tid]) == {"progressUpdated"}  # 08 #3
    res = admin.update("Task", tid, {"progress": "completed"})
    assert res["updated"] == {tid: {"percentComplete": 100}}  # 08 #4
    assert admin.update("Task", tid, {"progress": "needs-action"})["updated"] == {tid: None}
    assert admin.get("Task", tid, "percentComplete")["percentComplete"] == 100  # 08 #5
    admin.update("Task", tid, {"progress": "needs-action", "percentComplete": 0})
    res = admin.update("Task", tid, {"percentComplete": 40})
    assert res["updated"] == {tid: {"progress": "in-progress"}}  # 08 #9
    res = admin.update("Task", tid, {"percentComplete": 100})
    assert res["updated"] == {tid: {"progress": "completed"}}


def test_invalid_progress_is_ignored_without_a_state_change(admin: Go) -> None:
    lid = admin.new_list()
    tid = admin.new_task(lid, progress="in-process")
    assert admin.get("Task", tid, "progress")["progress"] == "needs-action"  # 08 #8
    admin.update("Task", tid, {"progress": "failed"})
    res = admin.update("Task", tid, {"progress": "done"})
    assert res["updated"] == {tid: {"progress": "failed"}}
    assert res["oldState"] == res["newState"]


def test_responsible_user_alone_resets_progress(admin: Go, frozen_clock: Any) -> None:
    lid = admin.new_list(acl={str(WRITER_GROUP): 30})
    tid = admin.new_task(lid, progress="in-progress")
    res = admin.update("Task", tid, {"responsibleUserId": "33"})
    assert res["updated"] == {tid: {"progress": "needs-action"}}  # 08 #10
    res = admin.update("Task", tid, {"responsibleUserId": None, "progress": "in-progress"})
    assert res["updated"] == {tid: None}
    assert admin.get("Task", tid, "progress")["progress"] == "in-progress"


def test_modified_at_is_reported_once_the_second_changed(
    admin: Go, frozen_clock: list[datetime]
) -> None:
    lid = admin.new_list()
    tid = admin.new_task(lid)
    assert admin.update("Task", tid, {"title": "same second"})["updated"] == {tid: None}
    frozen_clock[0] += timedelta(seconds=1)
    res = admin.update("Task", tid, {"title": "a second later"})
    assert res["updated"] == {tid: {"modifiedAt": "2026-11-25T23:51:07+00:00"}}
    frozen_clock[0] += timedelta(seconds=1)
    res = admin.update("Task", tid, {"title": "a second later"})  # no change: no modifiedAt
    assert res["updated"] == {tid: None} and res["oldState"] == res["newState"]


def test_support_list_task_is_created_but_never_found(admin: Go) -> None:
    lid = admin.new_list(role="support")
    before = admin.state("Task")
    res = admin.post(
        ["Task/set", {"create": {"t": {"tasklistId": lid, "title": "ticket"}}}, "c1"],
        ["Task/query", {"filter": {"tasklistId": lid}}, "c2"],
    )
    assert res[0][1] == {"message": "Item was created but not found?", "type": "notFound"}  # 04 #9
    assert res[1][1]["ids"] == []
    assert modseq(res[1][1]["state"]) == modseq(before) + 1  # the row was inserted


def test_unknown_tasklist_fails_the_call_and_uses_up_an_id(admin: Go) -> None:
    lid = admin.new_list()
    first = int(admin.new_task(lid))
    res = admin.post(["Task/set", {"create": {"t": {"tasklistId": "#n", "title": "x"}}}, "c"])
    assert res[0][1]["type"] == "dbException"  # 14 #3
    assert int(admin.new_task(lid)) == first + 2  # 16: the failed insert skipped an id


def test_read_only_user_cannot_create(admin: Go, reader: Go) -> None:
    lid = admin.new_list(acl={str(READER_GROUP): 10})
    res = reader.ok("Task/set", {"create": {"t": {"tasklistId": lid, "title": "x"}}})
    assert res["notCreated"]["t"]["type"] == "forbidden"  # 09 #7
    assert res["oldState"] == res["newState"]


# -- Task: modseqs and states ---------------------------------------------------------------------


def test_one_modseq_per_set_call(admin: Go) -> None:
    lid = admin.new_list()
    res = admin.ok("Task/set", {"create": {f"t{i}": {"tasklistId": lid, "title": f"b{i}"}
                                            for i in range(3)}})
    assert modseq(res["newState"]) == modseq(res["oldState"]) + 1  # 15 #1
    ids = [res["created"][f"t{i}"]["id"] for i in range(3)]
    answers = admin.post(
        ["Task/set", {"update": {ids[0]: {"title": "u1"}}}, "a"],
        ["Task/set", {"update": {ids[1]: {"title": "u2"}}}, "b"],
    )
    assert modseq(answers[1][1]["newState"]) == modseq(res["newState"]) + 2  # 08 #9


def test_user_part_of_the_state_only_in_the_creating_request(admin: Go) -> None:
    lid = admin.new_list()
    answers = admin.post(
        ["Task/set", {"create": {"t": {"tasklistId": lid, "title": "x"}}}, "c1"],
        ["Task/get", {"ids": []}, "c2"],
    )
    user_part = answers[0][1]["newState"].split(":")[2]
    assert int(user_part) > 0  # 08 #1: "…:2:730:7"
    assert answers[1][1]["state"] == answers[0][1]["newState"]  # 09 #1: same request
    assert admin.state("Task").split(":")[2] == "0"  # a later request


# -- Task: query ----------------------------------------------------------------------------------


def test_query_defaults_to_subscribed_lists(admin: Go, writer: Go) -> None:
    lid = admin.new_list(acl={str(WRITER_GROUP): 30})
    tag = unique("sub")
    tid = admin.new_task(lid, title=f"t {tag}")
    flt = {"title": f"%{tag}"}
    assert admin.ok("Task/query", {"filter": flt})["ids"] == [tid]  # 08 #15
    assert writer.ok("Task/query", {"filter": flt})["ids"] == []  # 08 #16
    assert writer.ok("Task/query", {"filter": {**flt, "tasklistId": "any"}})["ids"] == [tid]


def test_query_filters(admin: Go, writer: Go) -> None:
    lid = admin.new_list(acl={str(WRITER_GROUP): 30})
    a = admin.new_task(lid, title="Printer on fire", percentComplete=60)
    b = admin.new_task(lid, title="other task", responsibleUserId="33")
    c = writer.new_task(lid, title="by writer")

    def ids(**flt: Any) -> list[str]:
        return list(admin.ok("Task/query", {"filter": {"tasklistId": lid, **flt}})["ids"])

    assert ids(responsibleUserId=None) == [a, c]  # 08 #13: null means IS NULL
    assert ids(responsibleUserId="33") == [b]
    assert ids(createdBy="33") == [c]
    assert ids(title="other%") == [b]
    assert ids(text="Printer") == [a]
    assert ids(progress=["in-progress"]) == [a]
    assert ids(percentComplete=">=50") == [a]  # 08 #14
    assert ids(createdByMe=True) == [a, b]
    assert ids(exclude=[a]) == [b, c]
    assert ids(commentedAt=">2000-01-01") == []
    unsupported = admin.post(["Task/query", {"filter": {"noSuchFilter": 1}}, "c"])[0][1]
    assert unsupported["message"] == (
        "The filter 'nosuchfilter' is not supported for entity 'Task' by the server."
    )  # 03 #6


def test_query_paging_total_and_has_more(admin: Go) -> None:
    lid = admin.new_list()
    res = admin.ok("Task/set", {"create": {f"t{i}": {"tasklistId": lid, "title": f"bulk {i}"}
                                            for i in range(1, 6)}})
    ids = [res["created"][f"t{i}"]["id"] for i in range(1, 6)]
    base = {"filter": {"tasklistId": lid}, "sort": [{"property": "title"}]}
    page = admin.ok("Task/query", {**base, "limit": 2, "position": 2, "calculateTotal": True})
    assert page["ids"] == ids[2:4] and page["total"] == 5  # 15 #3
    assert "hasMore" not in page
    last = admin.ok("Task/query", {**base, "limit": 2, "position": 4, "calculateHasMore": True})
    assert last["ids"] == ids[4:] and "hasMore" not in last
    more = admin.ok("Task/query", {**base, "limit": 2, "calculateHasMore": True})
    assert more["hasMore"] is True  # 08 #17
    assert admin.ok("Task/query", {**base, "position": 2})["ids"] == ids  # no limit: ignored
    assert admin.ok("Task/query", {**base, "limit": 0})["ids"] == ids
    assert admin.ok("Task/query", {**base, "position": 10, "limit": 5})["ids"] == []
    negative = admin.post(["Task/query", {"limit": -1}, "c"])[0][1]
    assert negative == {"message": "Limit MUST be positive", "type": "invalidArguments"}


def test_numeric_creation_ids_give_a_list(admin: Go) -> None:
    lid = admin.new_list()
    res = admin.ok("Task/set", {"create": {"0": {"tasklistId": lid, "title": "a"},
                                            "1": {"tasklistId": lid, "title": "b"}}})
    assert isinstance(res["created"], list) and len(res["created"]) == 2  # 15 #4


def test_sort_descending_keeps_ties_in_id_order_and_unknown_column_fails(admin: Go) -> None:
    lid = admin.new_list()
    ids = [admin.new_task(lid, title="same") for _ in range(3)]
    got = admin.ok("Task/query", {"filter": {"tasklistId": lid},
                                   "sort": [{"property": "title", "isAscending": False}]})
    assert got["ids"] == ids  # 08 #17 (ties keep the database order)
    bad = admin.post(["Task/query", {"sort": [{"property": "noSuchColumn"}]}, "c"])[0][1]
    assert bad["type"] == "dbException"  # 03 #6


# -- Task/changes ---------------------------------------------------------------------------------


def test_changes_union_duplicates_and_destroyed_ids(admin: Go, writer: Go) -> None:
    lid = admin.new_list(acl={str(WRITER_GROUP): 30})
    since = admin.state("Task")
    a = admin.new_task(lid)
    b = admin.new_task(lid)
    admin.update("Task", a, {"title": "changed"})
    c = writer.new_task(lid)
    res = admin.ok("Task/changes", {"sinceState": since})
    # 08 #18: one entity row per id, then the admin's per-user rows since user modseq 0 (the
    # user part of every state read outside the creating request): all tasks the admin
    # created, none of the writer's
    changed = res["changed"]
    assert changed[:3] == [a, b, c] and changed[-2:] == [a, b] and c not in changed[3:]
    assert res["updated"] == res["changed"] and res["removed"] == []
    assert res["totalChanges"] == 0 and res["hasMoreChanges"] is False
    current = res["newState"]
    admin.ok("Task/set", {"destroy": [b]})
    res = admin.ok("Task/changes", {"sinceState": current})
    assert res["removed"] == [b] and b in res["changed"]  # 08 #20


def test_changes_paging_and_current_state(admin: Go) -> None:
    lid = admin.new_list()
    since = admin.state("Task")
    admin.new_task(lid)
    admin.new_task(lid)
    res = admin.ok("Task/changes", {"sinceState": since, "maxChanges": 1})
    assert res["hasMoreChanges"] is True and len(res["changed"]) == 1
    _cca, seq, user, acl_part = since.split(":")
    assert res["newState"] == f"{seq}|0:{user}|1:{acl_part}|0"  # 08 #18: "1|0:0|1:7|0"
    current = admin.state("Task")
    res = admin.ok("Task/changes", {"sinceState": current})
    assert res == {"oldState": current, "newState": current, "changed": [], "removed": [],
                   "accountId": None, "updated": []}  # 08 #22
    errors = admin.post(
        ["Task/changes", {}, "a"],
        ["Task/changes", {"sinceState": "1:1:1"}, "b"],
    )
    assert errors[0][1]["message"] == "sinceState is required"  # 03 #13
    assert errors[1][1] == {"message": "Resync required", "type": "cannotCalculateChanges"}


# -- comments on tasks ----------------------------------------------------------------------------


def test_unchanged_task_is_reported_but_not_logged_after_a_comment(
    admin: Go, reader: Go
) -> None:
    lid = admin.new_list(acl={str(READER_GROUP): 10})
    answers = admin.post(
        ["Task/set", {"create": {"t": {"tasklistId": lid, "title": "ticket"}}}, "c1"],
        ["Comment/set", {"create": {"m": {
            "entity": "Task", "#entityId": {"resultOf": "c1", "path": "/created/t/id"},
            "text": "<p>hi</p>",
        }}}, "c2"],
    )
    tid = answers[0][1]["created"]["t"]["id"]
    # 09 #1: the hook saved the (unchanged) task: reported, but the Task state did not move
    assert answers[1][1]["updated"][tid]["title"] == "ticket"
    state = admin.state("Task")
    assert state.split(":")[1] == answers[0][1]["newState"].split(":")[1]
    reader.ok("Comment/set", {"create": {"r": {"entity": "Task", "entityId": tid,
                                                "text": "<p>reader</p>"}}})
    task = admin.get("Task", tid, "modifiedBy", "responsibleUserId")
    assert task["modifiedBy"] == "1" and task["responsibleUserId"] is None  # 09 #16
    assert admin.state("Task") == state


def test_pages_of_one_query_in_one_request_see_writes_between_them(admin: Go) -> None:
    """The emulator finds a query's rows once per request for its pages; a write between
    two pages of the same request is still seen by the second."""
    lid = admin.new_list()
    admin.ok("Task/set", {"create": {f"t{i}": {"tasklistId": lid, "title": f"p {i}"}
                                     for i in range(4)}})
    page = {"filter": {"tasklistId": lid}, "sort": [{"property": "title"}], "limit": 2,
            "calculateTotal": True}
    answers = admin.post(
        ["Task/query", page, "a"], ["Task/query", {**page, "position": 2}, "b"],
        ["Task/set", {"create": {"n": {"tasklistId": lid, "title": "p 0 new"}}}, "c"],
        ["Task/query", {**page, "position": 0}, "d"])
    first, second, third = answers[0][1], answers[1][1], answers[3][1]
    assert (first["total"], second["total"], third["total"]) == (4, 4, 5)
    assert set(first["ids"]).isdisjoint(second["ids"])
    assert answers[2][1]["created"]["n"]["id"] in third["ids"]  # "p 0 new" sorts second
