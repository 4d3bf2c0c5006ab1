"""What mail intake, expiry and migration stand on, as recorded in groupoffice-wire 18.

Each test names the corpus step whose behaviour it pins down: ``Task/get`` with an unknown
property, ``createdAt`` ignored on create, ``commentedAt`` following the newest comment's
``date``, the ``Comment/query`` filters that exist and those that do not, the service marking an
agent's comment, and e-mail lookups of users.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ._http import DB_ERROR, WRITER_KEY, Go, clock_at, running

AGENT = "2"
AGENT_EMAIL = "wire-a18@example.com"
MAIL_ID = "<old-18@example.org>"


@pytest.fixture(scope="module")
def admin() -> Iterator[Go]:
    with running({"users": [
        {"id": 2, "username": "agent18", "personalGroupId": 5, "apiKey": WRITER_KEY,
         "email": AGENT_EMAIL},
    ]}) as go:
        yield go


@pytest.fixture
def agent(admin: Go) -> Go:
    return admin.as_user(WRITER_KEY)


@pytest.fixture
def clock() -> Iterator[list[datetime]]:
    with clock_at(datetime(2026, 12, 6, 22, 16, 8, tzinfo=UTC)) as now:
        yield now


@pytest.fixture
def tasklist(admin: Go) -> str:
    return admin.new_list(acl={"5": 30})  # 18 #0


def query_ids(go: Go, entity: str, flt: dict[str, Any], **extra: Any) -> list[str]:
    return [str(i) for i in go.ok(f"{entity}/query", {"filter": flt, **extra})["ids"]]


def test_an_unknown_property_in_task_get_finds_nothing(admin: Go, tasklist: str) -> None:
    task = admin.new_task(tasklist)
    for prop in ("commentedAt", "noSuchProperty"):  # 18 #2 c2, c3
        res = admin.ok("Task/get", {"ids": [task], "properties": ["id", prop]})
        assert (res["list"], res["notFound"]) == ([], [task])
    assert admin.get("Task", task, "title")["id"] == task  # 18 #2 c1


def test_created_at_is_ignored_on_create(admin: Go, tasklist: str, clock: Any) -> None:
    res = admin.ok("Task/set", {"create": {"a": {
        "tasklistId": tasklist, "title": "old ticket", "createdAt": "2020-01-01T10:00:00+00:00",
        "start": "2020-01-01", "priority": 1}}})  # 18 #1
    created = res["created"]["a"]
    assert created["createdAt"] == "2026-12-06T22:16:08+00:00"
    got = admin.get("Task", created["id"], "createdAt", "start", "priority")
    assert (got["createdAt"], got["start"], got["priority"]) == (
        "2026-12-06T22:16:08+00:00", "2020-01-01", 1)


def test_commented_at_follows_the_newest_comments_date(
    admin: Go, tasklist: str, clock: Any
) -> None:
    old, new = admin.new_task(tasklist), admin.new_task(tasklist)
    admin.comment(old, "<p>a mail from 2020</p>", date="2020-02-01T10:00:00+00:00",
                  mimeMessageId=MAIL_ID, mailStatus="received")  # 18 #3
    admin.comment(new, "<p>a mail from today</p>", mimeMessageId=MAIL_ID,
                  mailStatus="received")

    def commented(expr: str) -> list[str]:
        return query_ids(admin, "Task", {"tasklistId": tasklist, "commentedAt": expr})

    assert commented("<2021-01-01") == [old]  # 18 #5 c1-c4
    assert commented(">2021-01-01") == [new]
    assert commented("<now-30days") == [old]
    assert commented("2020-01-01..2020-12-31") == [old]
    sort = [{"property": "commentedAt", "isAscending": False}]
    assert admin.error("Task/query", {"filter": {"tasklistId": tasklist}, "sort": sort}) == (
        DB_ERROR)  # 18 #5 c5


def test_comment_query_filters_and_sort(admin: Go, tasklist: str, clock: Any) -> None:
    old, new = admin.new_task(tasklist), admin.new_task(tasklist)
    first = admin.comment(old, "<p>a mail from 2020 only</p>", date="2020-02-01T10:00:00+00:00",
                          mimeMessageId=MAIL_ID)["id"]
    admin.comment(new, "<p>later</p>", mimeMessageId=MAIL_ID)  # the same Message-ID: allowed
    on_old = {"entity": "Task", "entityId": int(old)}
    assert query_ids(admin, "Comment", {**on_old, "createdAt": "<2021-01-01"}) == []  # 18 #6
    assert query_ids(admin, "Comment", {**on_old, "modifiedAt": ">2021-01-01"}) == [first]
    assert query_ids(admin, "Comment", {"entity": "Task", "text": "a mail from 2020 only"}) == [
        first]
    assert query_ids(admin, "Comment", {"entity": "Task", "createdBy": 2}) == []
    for name, shown in (("date", "date"), ("mimeMessageId", "mimemessageid")):
        err = admin.error("Comment/query", {"filter": {"entity": "Task", name: "x"}})
        assert err == {"type": "unsupportedFilter", "message":
                       f"The filter '{shown}' is not supported for entity 'Comment' by the server."}
    by_date = query_ids(admin, "Comment", {"entity": "Task", "entityId": int(new)},
                        sort=[{"property": "date", "isAscending": False}])
    assert len(by_date) == 1


def test_the_service_marking_a_comment_moves_its_modified_fields(
    admin: Go, agent: Go, tasklist: str, clock: list[datetime]
) -> None:
    task = admin.new_task(tasklist)
    mine = agent.comment(task, "<p>agent answer</p>")["id"]  # 18 #7
    before = admin.get("Task", task, "progress", "responsibleUserId", "modifiedAt")
    clock[0] += timedelta(seconds=2)
    res = admin.update("Comment", mine, {"mailStatus": "sent",
                                         "mimeMessageId": "<sent-18@example.org>"})  # 18 #9
    assert res["updated"] == {mine: {"modifiedAt": "2026-12-06T22:16:10+00:00",
                                     "modifiedBy": "1"}}
    assert admin.get("Task", task, "progress", "responsibleUserId", "modifiedAt") == before
    clock[0] += timedelta(seconds=2)
    res = agent.update("Comment", mine, {"text": "<p>agent answer, edited</p>"})  # 18 #10
    assert res["updated"] == {mine: {"modifiedAt": "2026-12-06T22:16:12+00:00",
                                     "modifiedBy": AGENT}}


def test_users_are_found_by_their_whole_address_in_any_case(admin: Go) -> None:
    assert query_ids(admin, "User", {"email": AGENT_EMAIL}) == [AGENT]  # 18 #11
    assert query_ids(admin, "User", {"email": AGENT_EMAIL.upper()}) == [AGENT]
    assert query_ids(admin, "User", {"email": AGENT_EMAIL.split("@")[0]}) == []
