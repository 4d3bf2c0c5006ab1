"""Comments and comment labels of the emulator over real HTTP (corpus files 09, 10 and 16).

Each test names the corpus step (``shared/groupoffice-wire``) whose behaviour it pins down.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from go_support.emulator.entities.comments import detect_xss, sanitize

from ._http import (
    CREATOR_KEY,
    DB_ERROR,
    FORBIDDEN,
    NOT_FOUND,
    OUTSIDER_KEY,
    READER_KEY,
    WRITER_KEY,
    Go,
    clock_at,
    running,
)

WRITER, READER, OUTSIDER, CREATOR = "34", "35", "36", "46"


@pytest.fixture
def admin() -> Iterator[Go]:
    with running({
        "users": [
            {"id": 34, "username": "writer9", "personalGroupId": 34, "apiKey": WRITER_KEY},
            {"id": 35, "username": "reader9", "personalGroupId": 35, "apiKey": READER_KEY},
            {"id": 36, "username": "outsider", "personalGroupId": 36, "apiKey": OUTSIDER_KEY},
            {"id": 46, "username": "creator16", "personalGroupId": 45, "apiKey": CREATOR_KEY},
        ],
        # comment ids apart from task ids, as on the recorded server (09 #1: task 71, comment 31)
        "counters": {"Comment": 31},
    }) as go:
        yield go


@pytest.fixture
def writer(admin: Go) -> Go:
    return admin.as_user(WRITER_KEY)


@pytest.fixture
def reader(admin: Go) -> Go:
    return admin.as_user(READER_KEY)


@pytest.fixture
def outsider(admin: Go) -> Go:
    return admin.as_user(OUTSIDER_KEY)


@pytest.fixture
def creator(admin: Go) -> Go:
    return admin.as_user(CREATOR_KEY)


@pytest.fixture
def clock() -> Iterator[list[datetime]]:
    with clock_at(datetime(2026, 11, 25, 23, 51, 7, tzinfo=UTC)) as now:
        yield now


@pytest.fixture
def tasklist(admin: Go) -> str:
    """A list where the writer has WRITE, the reader READ and the creator CREATE (09 #0, 16 #3)."""
    return admin.new_list(name="tickets", acl={"34": 30, "35": 10, "45": 20})


# -- Task/set + Comment/set in one request -----------------------------------------------------


def test_comment_set_reports_the_task_after_a_task_set_in_the_same_request(
    admin: Go, tasklist: str, clock: Any
) -> None:
    # 09 #1: entityId from /created/t/id; the commented Task under Comment/set's updated
    answer = admin.post(
        ["Task/set", {"create": {"t": {"tasklistId": tasklist, "title": "Ticket"}}}, "c1"],
        ["Comment/set", {"create": {"m": {
            "entity": "Task", "#entityId": {"resultOf": "c1", "path": "/created/t/id"},
            "text": "<p>Customer wrote this by mail</p>", "mimeMessageId": "<a@example.com>",
            "mailStatus": "received", "date": "2024-01-02T03:04:05+00:00",
        }}}, "c2"],
        ["Task/get", {"#ids": {"resultOf": "c1", "path": "/created/*/id"},
                      "properties": ["id", "progress", "responsibleUserId"]}, "c3"],
    )
    task_id = answer[0][1]["created"]["t"]["id"]
    task_state = answer[0][1]["newState"]
    comment_set = answer[1][1]
    created = comment_set["created"]["m"]
    assert list(created) == [
        "permissionLevel", "attachments", "id", "entityTypeId", "createdAt", "modifiedAt",
        "createdBy", "modifiedBy", "validateXSS", "labels", "section",
    ]
    assert created["entityTypeId"] == 47 and created["createdBy"] == "1"
    assert created["permissionLevel"] == 50 and created["validateXSS"] is True
    # the task, saved by the hook without a change, in full under "updated"
    assert list(comment_set["updated"]) == [task_id]
    full_task = comment_set["updated"][task_id]
    assert full_task["title"] == "Ticket" and full_task["tasklistId"] == tasklist
    assert full_task["customFields"] == []
    # nothing differed, so the Task state did not move (09 #1 c3)
    assert answer[2][1]["state"] == task_state
    assert answer[2][1]["list"] == [
        {"id": task_id, "progress": "needs-action", "responsibleUserId": None}
    ]
    # in a request of its own the same Comment/set reports no task (09 #9)
    assert admin.ok("Comment/set", {"create": {"x": {
        "entity": "Task", "entityId": task_id, "text": "<p>again</p>",
    }}})["updated"] is None


# -- properties -------------------------------------------------------------------------------


def test_mail_status_section_date_and_the_default_section_filter(
    admin: Go, tasklist: str
) -> None:
    task = admin.new_task(tasklist)
    mail = admin.comment(task, mailStatus="received", date="2024-01-02T05:04:05+02:00")
    assert mail["date"] == "2024-01-02T03:04:05+00:00"  # writable, stored in UTC (09 #1)
    private = admin.comment(task, section="private")
    assert "section" not in private and private["mimeMessageId"] is None  # 09 #2
    queued = admin.comment(task, mailStatus="PENDING")
    result = admin.ok("Comment/set", {"create": {"bad": {
        "entity": "Task", "entityId": task, "text": "<p>x</p>", "mailStatus": "bogus-status",
    }}})
    assert result["notCreated"]["bad"] == {
        "type": "invalidProperties", "description": None, "properties": ["mailStatus"],
        "validationErrors": {"mailStatus": {"code": 2, "description": (
            "Invalid value (bogus-status) for ENUM('RECEIVED','PENDING','SENT','SENDERROR')"
        )}},
    }
    # 09 #3: without a section filter only section null; date order by default
    assert admin.ok("Comment/query", {"filter": {"entityId": task}})["ids"] == [
        mail["id"], queued["id"]
    ]
    assert admin.ok("Comment/query", {"filter": {"entityId": task, "section": "private"}})[
        "ids"
    ] == [private["id"]]
    descending = admin.ok("Comment/query", {
        "filter": {"entity": "Task", "entityId": task, "section": None},
        "sort": [{"property": "date", "isAscending": False}],
    })
    assert descending["ids"] == [queued["id"], mail["id"]]
    [got] = admin.ok("Comment/get", {"ids": [queued["id"]], "properties": ["mailStatus"]})["list"]
    assert got == {"id": queued["id"], "mailStatus": "pending"}
    # 09 #4: mailStatus and mimeMessageId can be updated; nothing else changes
    updated = admin.ok("Comment/set", {"update": {mail["id"]: {
        "mailStatus": "sent", "mimeMessageId": "<out@example.com>",
    }}})
    assert updated["updated"] == {mail["id"]: None}
    # no labels filter (16 #8)
    error = admin.error("Comment/query", {"filter": {"labels": ["1"]}})
    assert error == {
        "message": "The filter 'labels' is not supported for entity 'Comment' by the server.",
        "type": "unsupportedFilter",
    }


def test_created_by_is_ignored(admin: Go, tasklist: str) -> None:
    # 16 #27: the comment is always the caller's
    task = admin.new_task(tasklist)
    created = admin.comment(task, createdBy=WRITER)
    assert created["createdBy"] == "1" and created["modifiedBy"] == "1"


def test_xss_is_stripped_or_refused(admin: Go, tasklist: str) -> None:
    # 09 #5, #6
    task = admin.new_task(tasklist)
    result = admin.ok("Comment/set", {"create": {
        "s": {"entity": "Task", "entityId": task, "text": "<p>hi</p><script>alert(1)</script>"},
        "e": {"entity": "Task", "entityId": task,
              "text": '<p>img <img src="x" onerror="alert(1)"></p>'},
        "j": {"entity": "Task", "entityId": task,
              "text": '<a href="javascript:alert(1)">click</a>'},
        "v": {"entity": "Task", "entityId": task, "text": "<p>hi</p><script>x</script>",
              "validateXSS": False},
    }})
    assert result["created"]["s"]["text"] == "<p>hi</p>"
    assert result["created"]["e"]["text"] == '<p>img <img src="x"></p>'
    assert result["created"]["v"]["text"] == "<p>hi</p>"
    assert result["created"]["v"]["validateXSS"] is True
    assert result["notCreated"]["j"]["validationErrors"] == {
        "text": {"code": 10, "description": "You're not allowed to use scripts in the content"}
    }
    # validateXSS false skips the check, not the sanitiser
    skipped = admin.comment(task, '<a href="javascript:alert(1)">x</a>', validateXSS=False)
    assert "text" not in skipped


def test_sanitize_and_detect_xss_follow_group_office() -> None:
    assert sanitize("<p onclick=\"a()\" class='x'>t</p>") == "<p class='x'>t</p>"
    assert sanitize("<p>a<!-- hidden -->b</p><style>p{}</style>") == "<p>ab</p>"
    assert sanitize("<div style='z-index: 99999'>x</div>") == "<div style='z-index:8000'>x</div>"
    assert sanitize("</ p >") == "</p>"
    assert detect_xss('<a href="javascript:x()">') is True
    assert detect_xss("<a href=\"jav&#x61;script:x()\">") is True
    assert detect_xss("<meta http-equiv='refresh'>") is True
    assert detect_xss("<p style='width: expression(alert(1))'>") is True
    assert detect_xss("<p>just text, no scripts</p>") is False


# -- permissions ------------------------------------------------------------------------------


def test_permission_levels_of_comments(
    admin: Go, reader: Go, outsider: Go, tasklist: str
) -> None:
    task = admin.new_task(tasklist)
    admins = admin.comment(task)
    # a READ user may comment and owns the comment (09 #16)
    own = reader.comment(task)
    assert own["permissionLevel"] == 50 and own["createdBy"] == READER
    got = reader.ok("Comment/get", {"ids": [admins["id"], own["id"]],
                                     "properties": ["permissionLevel"]})
    assert [c["permissionLevel"] for c in got["list"]] == [20, 50]
    # ... but may not edit or delete other people's comments (09 #17)
    result = reader.ok("Comment/set", {"update": {admins["id"]: {"text": "<p>mine</p>"}}})
    assert result["notUpdated"] == {admins["id"]: FORBIDDEN}
    assert result["oldState"] == result["newState"]
    result = reader.ok("Comment/set", {"destroy": [admins["id"]]})
    assert result["notDestroyed"] == {admins["id"]: FORBIDDEN}
    assert reader.ok("Comment/set", {"destroy": [own["id"]]})["destroyed"] == [own["id"]]
    # no access at all (16 #22, #23): query works, get/update notFound, create forbidden
    query = outsider.ok("Comment/query", {"filter": {"entityId": task}})
    assert query["ids"] == [admins["id"]]
    assert outsider.ok("Comment/query", {"filter": {"entity": "Task"}, "limit": 1,
                                          "calculateTotal": True})["total"] == 1
    got = outsider.ok("Comment/get", {"ids": [admins["id"]]})
    assert got["list"] == [] and got["notFound"] == [admins["id"]]
    result = outsider.ok("Comment/set", {"create": {"m": {
        "entity": "Task", "entityId": task, "text": "<p>outsider</p>",
    }}})
    assert result["notCreated"] == {"m": FORBIDDEN}
    result = outsider.ok("Comment/set", {"update": {admins["id"]: {"text": "<p>x</p>"}}})
    assert result["notUpdated"] == {admins["id"]: NOT_FOUND}


# -- onCommentAdded -----------------------------------------------------------------------------


def test_admin_and_writer_comments_assign_and_move_progress(
    admin: Go, writer: Go, tasklist: str, clock: Any
) -> None:
    props = ("progress", "responsibleUserId", "modifiedBy")
    # the creator's own comment does not assign (09 #1, 16 #27)
    task = admin.new_task(tasklist)
    admin.comment(task)
    assert admin.get("Task", task, *props) == {
        "id": task, "progress": "needs-action", "responsibleUserId": None, "modifiedBy": "1",
    }
    # a writer's first reply on a task that already has a comment: assigned AND in-progress
    # in one step (16 #28)
    writer.comment(task)
    assert admin.get("Task", task, *props) == {
        "id": task, "progress": "in-progress", "responsibleUserId": WRITER, "modifiedBy": WRITER,
    }
    # the creator (not the responsible user) comments: back to needs-action (16 #29)
    admin.comment(task)
    assert admin.get("Task", task, *props) == {
        "id": task, "progress": "needs-action", "responsibleUserId": WRITER, "modifiedBy": "1",
    }
    # an admin commenting on someone else's task is auto-assigned; the first comment leaves
    # needs-action, the second sets in-progress (09 #9, #10)
    other = writer.new_task(tasklist)
    admin.comment(other)
    assert admin.get("Task", other, *props) == {
        "id": other, "progress": "needs-action", "responsibleUserId": "1", "modifiedBy": "1",
    }
    admin.comment(other)
    assert admin.get("Task", other, "progress")["progress"] == "in-progress"
    # the writer, its creator, comments: needs-action again, still assigned to the admin (09 #11)
    writer.comment(other)
    assert admin.get("Task", other, *props) == {
        "id": other, "progress": "needs-action", "responsibleUserId": "1", "modifiedBy": WRITER,
    }


def test_a_readers_comment_never_assigns_and_unchanged_tasks_are_not_saved(
    admin: Go, reader: Go, creator: Go, tasklist: str, clock: list[datetime]
) -> None:
    task = admin.new_task(tasklist)
    state = admin.state("Task")
    # 09 #16: same second, nothing differs: no save, modifiedBy stays "1", the state stays
    reader.comment(task)
    assert admin.get("Task", task, "progress", "responsibleUserId", "modifiedBy") == {
        "id": task, "progress": "needs-action", "responsibleUserId": None, "modifiedBy": "1",
    }
    assert admin.state("Task") == state
    # a second later modifiedAt differs, so the task is saved as the commenter
    clock[0] += timedelta(seconds=1)
    reader.comment(task)
    after = admin.get("Task", task, "responsibleUserId", "modifiedBy", "modifiedAt")
    assert after["responsibleUserId"] is None and after["modifiedBy"] == READER
    assert after["modifiedAt"] == "2026-11-25T23:51:08+00:00"
    assert admin.state("Task") != state
    # CREATE (20) is not WRITE either: no auto-assign (16 #18, #20)
    own = creator.new_task(tasklist)
    creator.comment(own)
    admin.comment(own)
    assert admin.get("Task", own, "progress", "responsibleUserId") == {
        "id": own, "progress": "in-progress", "responsibleUserId": "1",
    }


def test_commented_at_and_comment_filters_on_tasks(admin: Go, writer: Go, tasklist: str) -> None:
    # 09 #19
    quiet = admin.new_task(tasklist)
    busy = admin.new_task(tasklist)
    writer.comment(busy, "<p>agent picks it up</p>", date="2024-01-02T03:04:05+00:00")
    query = {"tasklistId": tasklist, "commentedAt": ">2000-01-01"}
    assert admin.ok("Task/query", {"filter": query})["ids"] == [busy]
    query = {"tasklistId": tasklist, "commentedAt": "<2025-01-01"}
    assert admin.ok("Task/query", {"filter": query})["ids"] == [busy]
    assert admin.ok("Task/query", {"filter": {"tasklistId": tasklist, "comment": "%agent%"}})[
        "ids"
    ] == [busy]
    assert admin.ok("Task/query", {"filter": {"tasklistId": tasklist}})["ids"] == [quiet, busy]


# -- labels -----------------------------------------------------------------------------------


def test_comment_labels(admin: Go, tasklist: str) -> None:
    # 16 #0-#2: default colour, createdBy null, names need not be unique
    created = admin.ok("CommentLabel/set", {"create": {
        "p": {"name": "Private", "color": "C62828"},
        "e": {"name": "Escalated"},
        "d": {"name": "Private", "color": "C62828"},
    }})["created"]
    assert created["p"] == {"permissionLevel": 50, "id": "1", "createdBy": None}
    assert created["e"] == {"permissionLevel": 50, "id": "2", "color": "243a80", "createdBy": None}
    assert created["d"]["id"] == "3"
    by_name = admin.ok("CommentLabel/query", {"sort": [{"property": "name"}]})
    assert by_name["ids"] == ["2", "1", "3"]
    # 16 #5-#7: ids as strings, an update replaces the whole list
    task = admin.new_task(tasklist)
    a = admin.comment(task, labels=["1"])
    assert "labels" not in a
    b = admin.comment(task)
    assert b["labels"] == []
    assert admin.ok("Comment/set", {"update": {a["id"]: {"labels": ["1", "2"]},
                                                b["id"]: {"labels": [2]}}})["updated"] == {
        a["id"]: None, b["id"]: {"labels": ["2"]},
    }
    admin.ok("Comment/set", {"update": {b["id"]: {"labels": ["1"]}}})
    got = admin.ok("Comment/get", {"ids": [a["id"], b["id"]], "properties": ["labels"]})
    assert [c["labels"] for c in got["list"]] == [["1", "2"], ["1"]]
    # 16 #9: an unknown label fails the whole call, and the failed insert uses up an id
    assert admin.error("Comment/set", {"create": {"x": {
        "entity": "Task", "entityId": task, "text": "<p>x</p>", "labels": [987654321],
    }}}) == DB_ERROR
    assert admin.error("Comment/set", {"update": {b["id"]: {"labels": ["987654321"]}}}) == DB_ERROR
    assert admin.comment(task)["id"] == str(int(b["id"]) + 2)
    # 16 #10, #11: destroying a label cascades without touching the comments
    comment_state = admin.state("Comment")
    label_state = admin.state("CommentLabel")
    before = admin.ok("Comment/get", {"ids": [a["id"]], "properties": ["modifiedAt"]})["list"]
    answer = admin.post(
        ["CommentLabel/set", {"destroy": ["1"]}, "c1"],
        ["Comment/get", {"ids": [a["id"], b["id"]], "properties": ["labels", "modifiedAt"]}, "c2"],
        ["Comment/changes", {"sinceState": comment_state}, "c3"],
        ["CommentLabel/changes", {"sinceState": label_state}, "c4"],
    )
    assert answer[0][1]["destroyed"] == ["1"]
    assert [c["labels"] for c in answer[1][1]["list"]] == [["2"], []]
    assert answer[1][1]["list"][0]["modifiedAt"] == before[0]["modifiedAt"]
    new_state = answer[1][1]["state"]
    assert new_state.split(":")[:3] == comment_state.split(":")[:3]
    assert new_state.split(":")[3] != comment_state.split(":")[3]
    assert answer[2][1]["changed"] == [] and answer[2][1]["removed"] == []
    assert answer[3][1]["removed"] == ["1"]


def test_a_label_without_name_fails_like_php(admin: Go) -> None:
    error = admin.error("CommentLabel/set", {"create": {"x": {"color": "112233"}}})
    assert error["type"] == "error"
    assert "Label::$name must not be accessed before initialization" in error["message"]


# -- attachments ------------------------------------------------------------------------------


def test_attachments(admin: Go, tasklist: str) -> None:
    # 10 #5-#7
    task = admin.new_task(tasklist)
    one = admin.upload(b"one\n", "one.txt")
    two = admin.upload(b"two\n", "two.txt")
    created = admin.comment(task, attachments=[{"blobId": one, "name": "one.txt"},
                                               {"blobId": two, "name": "two.txt"}])
    cid = created["id"]
    assert created["attachments"] == [
        {"id": 1, "commentId": cid, "blobId": one, "name": "one.txt"},
        {"id": 2, "commentId": cid, "blobId": two, "name": "two.txt"},
    ]
    # an array relation: known ids are patched, new items added, the rest removed
    admin.ok("Comment/set", {"update": {cid: {"attachments": [
        {"id": 2, "name": "renamed.txt"}, {"blobId": one, "name": "again.txt"},
    ]}}})
    [got] = admin.ok("Comment/get", {"ids": [cid], "properties": ["attachments"]})["list"]
    assert got["attachments"] == [
        {"id": 2, "commentId": cid, "blobId": two, "name": "renamed.txt"},
        {"id": 3, "commentId": cid, "blobId": one, "name": "again.txt"},
    ]
    assert admin.error("Comment/set", {"create": {"x": {
        "entity": "Task", "entityId": task, "text": "<p>bad blob</p>",
        "attachments": [{"blobId": "0" * 40, "name": "missing.txt"}],
    }}}) == DB_ERROR
    error = admin.error("Comment/set", {"create": {"x": {
        "entity": "Task", "entityId": task, "text": "<p>x</p>",
        "attachments": [{"blobId": one, "name": "x", "size": 3}],
    }}})
    assert error["type"] == "invalidArgumentException"
    assert error["message"].startswith("Not existing property size for ")


def test_many_comments_in_one_call(admin: Go, tasklist: str) -> None:
    # the hook counts through an index: 300 comments on 300 tasks stay quick and correct
    tasks = admin.ok("Task/set", {"create": {
        f"t{i}": {"tasklistId": tasklist, "title": f"t{i}"} for i in range(300)
    }})["created"]
    ids = [t["id"] for t in tasks.values()]
    created = admin.ok("Comment/set", {"create": {
        f"c{i}": {"entity": "Task", "entityId": tid, "text": "<p>x</p>"}
        for i, tid in enumerate(ids)
    }})["created"]
    assert len(created) == 300
    progress = admin.ok("Task/get", {"ids": ids, "properties": ["progress"]})["list"]
    assert {t["progress"] for t in progress} == {"needs-action"}


def test_a_side_effect_save_with_the_id_of_a_created_object_is_dropped() -> None:
    # EntityController::mergeOtherSaves filters the collected saves by id only: a Task whose id
    # equals the new comment's id is not reported (compare 09 #1, where the ids differ)
    with running({"counters": {"Task": 500, "Comment": 500}}) as api:
        tasklist = api.new_list(name="l")
        answer = api.post(
            ["Task/set", {"create": {"t": {"tasklistId": tasklist, "title": "t"}}}, "c1"],
            ["Comment/set", {"create": {"m": {
                "entity": "Task", "#entityId": {"resultOf": "c1", "path": "/created/t/id"},
                "text": "<p>x</p>",
            }}}, "c2"],
        )
        assert answer[0][1]["created"]["t"]["id"] == "500"
        assert answer[1][1]["created"]["m"]["id"] == "500"
        assert answer[1][1]["updated"] is None



def test_comments_of_tasks_by_id_list_are_the_same_with_any_spelling(admin: Go) -> None:
    """Comment/query by entityId looks the tasks' comments up (not every comment): ids as
    numbers or strings, unknown ids, and the other conditions still apply."""
    lid = admin.new_list()
    first, second = admin.new_task(lid), admin.new_task(lid)
    later = datetime.now(UTC) - timedelta(days=1)
    made = [admin.comment(first, "<p>one</p>")["id"],
            admin.comment(second, "<p>two</p>", date=later.isoformat())["id"],
            admin.comment(first, "<p>three</p>", section="other")["id"]]
    both = admin.ok("Comment/query", {"filter": {"entity": "Task",
                                                 "entityId": [int(second), first, "999999"]}})
    assert both["ids"] == [made[1], made[0]]  # date order; the section's comment left out
    one = admin.ok("Comment/query", {"filter": {"entityId": int(first), "section": "other"}})
    assert one["ids"] == [made[2]]
    assert admin.ok("Comment/query", {"filter": {"entityId": "999999"}})["ids"] == []
