"""Emulator: FieldSet, Field and Task ``customFields`` (07), over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ._http import Go, running


@pytest.fixture
def go() -> Iterator[Go]:
    with running() as server:
        yield server


def _setup(go: Go) -> dict[str, Any]:
    """A task list, a field set for Task and three fields: Text, Number, User."""
    tasklist = go.new_list(name="cf list")
    fs = go.ok("FieldSet/set", {"create": {"fs": {"name": "Support", "entity": "Task"}}})
    fs_id = fs["created"]["fs"]["id"]
    fields = go.ok("Field/set", {"create": {
        "ft": {"fieldSetId": fs_id, "name": "Legacy id", "databaseName": "legacyId",
               "type": "Text", "options": {"maxLength": 10}},
        "fn": {"fieldSetId": fs_id, "name": "Score", "databaseName": "score", "type": "Number",
               "options": {"decimals": 0}},
        "fu": {"fieldSetId": fs_id, "name": "Requester", "databaseName": "requesterId",
               "type": "User"},
    }})
    return {"tasklist": tasklist, "fieldset": fs_id, "set": fs, "fields": fields}


def test_field_creation_answers_and_defaults(go: Go) -> None:
    s = _setup(go)
    assert s["set"]["created"]["fs"]["acl"] == {"2": 30}
    created = s["fields"]["created"]
    assert created["ft"]["default"] is None  # as sent ...
    assert created["ft"]["dataType"] == {"modelClass": False}
    assert "options" not in created["ft"] and created["fu"]["options"] == []
    ids = [created[k]["id"] for k in ("ft", "fn", "fu")]
    got = go.ok("Field/get", {"ids": ids})["list"]
    assert [f["default"] for f in got] == ["", None, None]  # ... "" once read back
    task = go.new_task(s["tasklist"], title="plain")
    values = go.ok("Task/get", {"ids": [task], "properties": ["customFields"]})["list"][0]
    assert values["customFields"] == {"legacyId": "", "score": None, "requesterId": None}


def test_field_create_changes_every_state_prefix_after_the_request(go: Go) -> None:
    tasklist = go.new_list(name="states")
    go.new_task(tasklist, title="before")
    old = go.ok("Task/get", {"ids": []})["state"]
    fs = go.ok("FieldSet/set", {"create": {"fs": {"name": "S", "entity": "Task"}}})
    fs_id = fs["created"]["fs"]["id"]
    responses = go.post(
        ["Field/set", {"create": {"f": {"fieldSetId": fs_id, "name": "F", "databaseName": "ff",
                                         "type": "Text"}}}, "c1"],
        ["Task/get", {"ids": []}, "c2"],
    )
    prefix = old.split(":")[0]
    assert responses[1][1]["state"].split(":")[0] == prefix  # same request: the old prefix
    new = go.ok("Task/get", {"ids": []})["state"]
    assert new.split(":")[0] != prefix
    assert go.call("Task/changes", {"sinceState": old}) == {
        "message": "Resync required", "type": "cannotCalculateChanges",
    }
    session = go.session(go.admin_key).json()
    assert str(session["cacheClearedAt"]) == new.split(":")[0]


def test_values_filters_and_sort(go: Go) -> None:
    s = _setup(go)
    tl = s["tasklist"]
    a = go.new_task(tl, title="A",
                    customFields={"legacyId": "LEG-100", "score": 7, "requesterId": 1})
    b = go.new_task(tl, title="B", customFields={"legacyId": "LEG-200", "score": "3"})
    c = go.new_task(tl, title="C")
    got = go.ok("Task/get", {"ids": [a, b], "properties": ["customFields"]})["list"]
    assert got[0]["customFields"] == {"legacyId": "LEG-100", "score": 7, "requesterId": 1}
    assert got[1]["customFields"]["score"] == 3  # Number with 0 decimals is an int

    def query(flt: dict[str, Any], sort: list[Any] | None = None) -> list[str]:
        args: dict[str, Any] = {"filter": {"tasklistId": tl, **flt}}
        if sort:
            args["sort"] = sort
        ids: list[str] = go.ok("Task/query", args)["ids"]
        return ids

    assert query({"legacyId": "LEG-100"}) == [a]
    assert query({"legacyId": "leg-%"}) == [a, b]
    assert query({"score": ">=5"}) == [a]
    assert query({"requesterId": 1}) == [a]
    assert query({"LEGACYID": "LEG-200"}) == [b]  # filter names are case-insensitive
    asc = [{"property": "customFields.score", "isAscending": True}]
    assert query({}, asc) == [c, b, a]  # NULL first
    desc = [{"property": "customFields.legacyId", "isAscending": False}]
    assert query({}, desc) == [b, a, c]


def test_updates_merge(go: Go) -> None:
    s = _setup(go)
    a = go.new_task(s["tasklist"], title="A", customFields={"legacyId": "X-1", "score": 7})
    res = go.ok("Task/set", {"update": {a: {"customFields": {"score": 1}}}})
    assert res["updated"][a]["customFields"] == {"legacyId": "X-1", "score": 1, "requesterId": None}
    res = go.ok("Task/set", {"update": {a: {"customFields/legacyId": "X-2"}}})
    assert res["updated"] == {a: None}
    got = go.ok("Task/get", {"ids": [a], "properties": ["customFields"]})["list"][0]
    assert got["customFields"] == {"legacyId": "X-2", "score": 1, "requesterId": None}


def test_value_errors(go: Go) -> None:
    s = _setup(go)
    tl = s["tasklist"]
    first = int(go.new_task(tl, title="first"))
    unknown = go.call("Task/set", {"create": {"x": {"tasklistId": tl, "title": "x",
                                                     "customFields": {"nope": 1}}}})
    assert unknown == {"message": "Property 'nope' doesn't exist", "type": "logicException"}
    bad_number = go.call("Task/set", {"create": {"y": {"tasklistId": tl, "title": "y",
                                                        "customFields": {"score": "abc"}}}})
    assert bad_number["type"] == "exception"
    message = bad_number["message"]
    assert message.startswith(
        "Database exception: SQLSTATE[22007]: Invalid datetime format: 1366 Incorrect decimal "
        "value: 'abc' for column `groupoffice`.`tasks_task_custom_fields`.`score` at row 1, "
        "Full SQL: INSERT INTO `tasks_task_custom_fields`  (\n\t`legacyId`,"
    )
    assert f"'value' => '{first + 1}',\n    'pdoType' => 1," in message  # the id used up
    too_long = go.call("Task/set", {"create": {"z": {"tasklistId": tl, "title": "z",
                                                      "customFields": {"legacyId": "X" * 11}}}})
    assert too_long["message"].startswith(
        "Database exception: SQLSTATE[22001]: String data, right truncated: 1406 Data too long "
        "for column 'legacyId' at row 1, Full SQL: INSERT INTO"
    )
    assert f"'value' => '{first + 2}'" in too_long["message"]
    assert int(go.new_task(tl, title="next")) == first + 3
    assert go.ok("Task/query", {"filter": {"tasklistId": tl}})["ids"] == [str(first),
                                                                           str(first + 3)]


def test_duplicate_database_name(go: Go) -> None:
    s = _setup(go)
    res = go.ok("Field/set", {"create": {"dup": {"fieldSetId": s["fieldset"], "name": "dup",
                                                  "databaseName": "legacyId", "type": "Text"}}})
    error = res["notCreated"]["dup"]
    assert error["properties"] == ["databaseName"]
    assert error["validationErrors"]["databaseName"] == {
        "code": 13,
        "description": "Database exception: SQLSTATE[42S21]: Column already exists: 1060 "
        "Duplicate column name 'legacyId', Full SQL: ALTER TABLE `tasks_task_custom_fields` "
        "ADD `legacyId` VARCHAR(190) NOT NULL DEFAULT '';",
    }
    assert res["oldState"] != res["newState"]  # the failed create still moves the state


def test_destroying_fields(go: Go) -> None:
    s = _setup(go)
    a = go.new_task(s["tasklist"], title="A", customFields={"legacyId": "L1", "score": 2})
    field_ids = [s["fields"]["created"][k]["id"] for k in ("ft", "fn", "fu")]
    responses = go.post(
        ["Field/set", {"destroy": field_ids}, "c1"],
        ["FieldSet/set", {"destroy": [s["fieldset"]]}, "c2"],
        ["Task/get", {"ids": [a], "properties": ["id", "customFields"]}, "c3"],
    )
    assert responses[0][1]["destroyed"] == field_ids
    assert responses[2][1]["list"] == [] and responses[2][1]["notFound"] == [a]
    again = go.ok("Task/get", {"ids": [a], "properties": ["id", "customFields"]})
    assert again["list"] == [{"id": a, "customFields": []}]
