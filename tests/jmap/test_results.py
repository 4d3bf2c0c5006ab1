"""Parsing and normalising results (no server needed; shapes from the wire corpus)."""

from __future__ import annotations

from typing import Any

import pytest

from go_support.jmap import ChangesResult, GetResult, QueryResult, SetFailed, SetResult
from go_support.jmap.managers import chunked, normalise_sort
from go_support.jmap.results import Blob, as_map


def _response(wire: Any, file: str, note_part: str, call_id: str) -> dict[str, Any]:
    for step in wire(file)["steps"]:
        if note_part in step["note"]:
            for _name, args, cid in step["response"]:
                if cid == call_id:
                    assert isinstance(args, dict)
                    return args
    raise AssertionError(f"{note_part!r}/{call_id} not in {file}")


def test_changes_dedupes_and_removed_wins(wire: Any) -> None:
    # 08: a destroyed id appears in both changed and removed
    args = _response(wire, "08-task-lifecycle.json", "destroy and see it under 'removed'", "c2")
    assert args["changed"] == ["67", "68", "69"] and args["removed"] == ["69"]
    result = ChangesResult.from_json(args)
    assert result.changed == ["67", "68"]
    assert result.removed == ["69"]
    assert not result.has_more_changes


def test_changes_with_duplicates_and_paging_state(wire: Any) -> None:
    args = _response(wire, "08-task-lifecycle.json", "Task/changes from the state before", "c1")
    result = ChangesResult.from_json(args)
    assert result.changed == ["67", "68", "69", "70"]
    paged = ChangesResult.from_json(
        _response(wire, "08-task-lifecycle.json", "Task/changes from the state before", "c2"))
    assert paged.has_more_changes and paged.new_state == "1|0:0|1:7|0"


def test_changes_without_has_more_key(wire: Any) -> None:
    args = _response(wire, "08-task-lifecycle.json", "changes with the current state", "c1")
    result = ChangesResult.from_json(args)
    assert result.changed == [] and result.removed == [] and not result.has_more_changes
    assert result.old_state == result.new_state


def test_changes_merge_across_pages() -> None:
    first = ChangesResult.from_json({"changed": ["1", "2", 3], "removed": [], "newState": "a",
                                     "hasMoreChanges": True})
    first.merge(ChangesResult.from_json({"changed": ["2", "4"], "removed": ["1"],
                                         "newState": "b"}))
    assert first.changed == ["2", "3", "4"] and first.removed == ["1"]
    assert first.new_state == "b" and not first.has_more_changes
    first.merge(ChangesResult.from_json({"changed": ["1"], "removed": []}))
    assert "1" not in first.changed  # destroyed ids are never re-used


def test_changes_accepts_rfc_names_too() -> None:
    result = ChangesResult.from_json({"created": ["1"], "updated": ["2"], "destroyed": ["2"]})
    assert result.changed == ["1"] and result.removed == ["2"]


def test_set_result_numeric_creation_ids_list_is_tolerated(wire: Any) -> None:
    # 15: numeric creation ids made 'created' a JSON list
    args = _response(wire, "15-limits-paging.json", "numeric creation ids", "c1")
    assert isinstance(args["created"], list)
    result = SetResult.from_json(args, create_ids=["0", "1"])
    assert set(result.created) == {"0", "1"}
    assert result.created_id("0") != result.created_id("1")


def test_set_result_splits_side_effects_and_parses_set_errors() -> None:
    args = {
        "accountId": None,
        "created": {"m": {"id": 31, "date": "x"}},
        "updated": {"71": {"id": "71", "progress": "in-progress"}, "12": None},
        "destroyed": [5],
        "notCreated": {"bad": {"type": "invalidProperties", "description": None,
                               "properties": ["mailStatus"],
                               "validationErrors": {"mailStatus": {"code": 2,
                                                                   "description": "Invalid"}}}},
        "notUpdated": None, "notDestroyed": [],
        "oldState": "1:1:0:1", "newState": "1:2:0:1",
    }
    result = SetResult.from_json(args, create_ids=["m", "bad"], update_ids=["12"])
    assert result.created == {"m": {"id": "31", "date": "x"}}
    assert result.updated == {"12": None}
    assert result.side_effects == {"71": {"id": "71", "progress": "in-progress"}}
    assert result.destroyed == ["5"]
    assert result.not_created["bad"].properties == ("mailStatus",)
    assert not result.ok
    with pytest.raises(SetFailed, match="mailStatus") as info:
        result.raise_for_errors("Comment/set")
    assert info.value.result is result and info.value.ids == ["bad"]


def test_set_result_merge_keeps_first_old_state() -> None:
    a = SetResult.from_json({"created": {"a": {"id": "1"}}, "oldState": "s1", "newState": "s2"})
    b = SetResult.from_json({"created": {"b": {"id": "2"}}, "oldState": "s2", "newState": "s3"})
    a.merge(b)
    assert a.old_state == "s1" and a.new_state == "s3" and set(a.created) == {"a", "b"}


def test_get_and_query_results() -> None:
    get = GetResult.from_json({"accountId": [], "state": "s", "list": [{"id": 7, "x": 1}],
                               "notFound": [9]})
    assert get.objects == [{"id": "7", "x": 1}] and get.not_found == ["9"]
    assert get.by_id() == {"7": {"id": "7", "x": 1}}
    q = QueryResult.from_json({"queryState": "q", "ids": ["3"], "total": 5, "hasMore": True},
                              position=2, limit=1)
    assert (q.ids, q.total, q.has_more, q.position, q.limit) == (["3"], 5, True, 2, 1)
    assert QueryResult.from_json({"ids": []}).has_more is False


def test_php_empty_arrays() -> None:
    assert as_map([]) == {} and as_map(None) == {} and as_map({"1": 2}) == {"1": 2}


def test_blob_from_upload_answer(wire: Any) -> None:
    steps = wire("10-blobs.json")["steps"]
    blob = Blob.from_json(steps[0]["response"])
    assert blob.id == blob.blob_id == "ee146a924503546448d6c5254643f770110d4a00"
    assert blob.name == "notes 1125235104.txt" and blob.size == 34
    nameless = Blob.from_json(steps[2]["response"])
    assert nameless.name is None  # GO sends false


@pytest.mark.parametrize(("n", "size", "expected"), [
    (0, 100, []), (100, 100, [100]), (101, 100, [100, 1]), (250, 100, [100, 100, 50]),
    (2001, 1000, [1000, 1000, 1]),
])
def test_chunking_maths(n: int, size: int, expected: list[int]) -> None:
    chunks = chunked(list(range(n)), size)
    assert [len(c) for c in chunks] == expected
    assert [x for c in chunks for x in c] == list(range(n))


def test_sort_shorthand() -> None:
    assert normalise_sort(["title", "-createdAt"]) == [
        {"property": "title", "isAscending": True},
        {"property": "createdAt", "isAscending": False},
    ]
    assert normalise_sort([{"property": "x"}]) == [{"property": "x"}]
    assert normalise_sort(None) is None


def test_sort_single_string() -> None:
    assert normalise_sort("-title") == [{"property": "title", "isAscending": False}]
