"""The request builder, result references and chunk planning (no server needed)."""

from __future__ import annotations

import pytest

from go_support.jmap import (
    Batch,
    Invocation,
    ProtocolError,
    Responses,
    UnsupportedFilter,
    created_ref,
    plan_chunks,
)


def test_batch_builds_bare_array_with_result_reference() -> None:
    batch = Batch()
    q = batch.call("Task/query", {"filter": {"tasklistId": "73"}})
    g = batch.call("Task/get", {"#ids": q.ref("/ids"), "properties": ["id", "title"]})
    assert batch.to_json() == [
        ["Task/query", {"filter": {"tasklistId": "73"}}, "c0"],
        ["Task/get", {"#ids": {"resultOf": "c0", "name": "Task/query", "path": "/ids"},
                      "properties": ["id", "title"]}, "c1"],
    ]
    assert g.referenced_call_ids() == {"c0"}
    assert batch.is_read_only


def test_ref_adds_leading_slash_and_created_ref_path() -> None:
    batch = Batch()
    t = batch.call("Task/set", {"create": {"t": {"tasklistId": "66", "title": "x"}}})
    assert t.ref("ids")["path"] == "/ids"
    assert created_ref(t, "t") == {"resultOf": "c0", "name": "Task/set", "path": "/created/t/id"}
    assert t.created_ref("a/b~c")["path"] == "/created/a~1b~0c/id"
    c = batch.call("Comment/set", {"create": {"m": {"entity": "Task",
                                                     "#entityId": created_ref(t, "t")}}})
    assert c.referenced_call_ids() == {"c0"}
    assert not batch.is_read_only


def test_nested_references_are_found() -> None:
    batch = Batch()
    x = batch.call("TaskList/set", {"create": {"n": {"name": "l"}}})
    s = batch.call("Task/set", {"create": {"t": {"#tasklistId": x.created_ref("n")}}})
    q = batch.call("Task/query", {"filter": {"operator": "AND", "conditions": [
        {"#tasklistId": x.created_ref("n")}]}})
    assert s.referenced_call_ids() == {x.call_id} == q.referenced_call_ids()


def test_numeric_creation_ids_are_refused() -> None:
    batch = Batch()
    with pytest.raises(ValueError, match="numeric creation id"):
        batch.call("Task/set", {"create": {"0": {"title": "a"}}})
    with pytest.raises(ValueError, match="numeric"):
        batch.call("Task/set", {"create": {"17": {"title": "a"}}})


def test_creation_id_values_are_refused() -> None:
    batch = Batch()
    batch.call("TaskList/set", {"create": {"n": {"name": "l"}}})
    with pytest.raises(ValueError, match="created_ref"):
        batch.call("Task/set", {"create": {"t": {"tasklistId": "#n", "title": "x"}}})
    # a '#' that is not a creation id of this batch is ordinary text
    batch.call("Task/set", {"create": {"t": {"title": "#hashtag"}}})


def test_references_must_point_backwards_within_the_batch() -> None:
    other = Batch(prefix="o")
    foreign = other.call("Task/query", {})
    batch = Batch()
    with pytest.raises(ValueError, match="not an earlier call"):
        batch.call("Task/get", {"#ids": foreign.ref("/ids")})
    with pytest.raises(ValueError, match="result reference"):
        batch.call("Task/get", {"#ids": "c0"})


def test_call_ids_are_unique() -> None:
    batch = Batch()
    batch.call("Core/echo", {}, call_id="c1")
    with pytest.raises(ValueError, match="duplicate"):
        batch.call("Core/echo", {}, call_id="c1")
    assert batch.call("Core/echo", {}).call_id not in {"c1"}
    assert batch.call("Core/echo", {}).call_id != batch.calls[-1].call_id or True
    assert len({c.call_id for c in batch}) == len(batch)


def test_creation_id_generator_is_never_numeric_and_unique() -> None:
    batch = Batch()
    ids = {batch.creation_id("t") for _ in range(50)}
    assert len(ids) == 50 and all(not i.isdigit() for i in ids)
    with pytest.raises(ValueError):
        batch.creation_id("1")


def test_invalid_method_name() -> None:
    with pytest.raises(ValueError):
        Batch().call("echo")


# --- chunk planning ------------------------------------------------------------------------


def _independent(n: int) -> Batch:
    batch = Batch()
    for i in range(n):
        batch.call("Task/get", {"ids": [str(i)]})
    return batch


@pytest.mark.parametrize(("n", "limit", "sizes"), [
    (0, 10, []), (1, 10, [1]), (10, 10, [10]), (11, 10, [10, 1]), (25, 10, [10, 10, 5]),
    (7, 3, [3, 3, 1]), (5, 1, [1, 1, 1, 1, 1]),
])
def test_independent_calls_split_at_the_limit(n: int, limit: int, sizes: list[int]) -> None:
    chunks = plan_chunks(_independent(n).calls, limit)
    assert [len(c) for c in chunks] == sizes
    assert [c.call_id for chunk in chunks for c in chunk] == [c.call_id for c in _independent(n)]


def test_query_get_pairs_are_never_cut_apart() -> None:
    batch = Batch()
    for _ in range(6):  # 12 calls, each get refers to the query just before it
        q = batch.call("Task/query", {})
        batch.call("Task/get", {"#ids": q.ref("/ids")})
    chunks = plan_chunks(batch.calls, 5)
    assert [len(c) for c in chunks] == [4, 4, 4]
    for chunk in chunks:
        ids = {c.call_id for c in chunk}
        for call in chunk:
            assert call.referenced_call_ids() <= ids


def test_a_long_reference_chain_stays_in_one_oversized_request() -> None:
    batch = Batch()
    first = batch.call("TaskList/set", {"create": {"l": {"name": "x"}}})
    for i in range(12):  # every call refers to the first one
        batch.call("Task/set", {"create": {f"t{i}": {"#tasklistId": first.created_ref("l")}}})
    batch.call("Core/echo", {})
    chunks = plan_chunks(batch.calls, 10)
    assert [len(c) for c in chunks] == [13, 1]


def test_reference_back_across_a_chunk_moves_the_cut() -> None:
    batch = Batch()
    calls = [batch.call("Task/query", {}) for _ in range(3)]
    batch.call("Task/get", {"#ids": calls[0].ref("/ids")})  # index 3 refers to 0
    for _ in range(4):
        batch.call("Core/echo", {})
    chunks = plan_chunks(batch.calls, 3)
    # no cut possible before index 4: the first request has 4 calls
    assert [len(c) for c in chunks] == [4, 3, 1]


def test_plan_chunks_rejects_a_zero_limit() -> None:
    with pytest.raises(ValueError):
        plan_chunks(_independent(2).calls, 0)


# --- responses ----------------------------------------------------------------------------


def test_responses_match_by_call_id_and_raise_typed_errors() -> None:
    batch = Batch()
    ok = batch.call("Task/get", {"ids": ["1"]})
    bad = batch.call("Task/query", {"filter": {"noSuchFilter": 1}})
    missing = batch.call("Core/echo", {})
    responses = Responses(batch.calls, [
        # the server may answer out of order: match by id, not position
        Invocation("error", {"message": "The filter 'nosuchfilter' is not supported for entity "
                                        "'Task' by the server.", "type": "unsupportedFilter"},
                   bad.call_id),
        Invocation("Task/get", {"list": [], "notFound": ["1"]}, ok.call_id),
    ], url="http://go/api/jmap.php")
    assert responses[ok]["notFound"] == ["1"]
    assert responses.error(ok) is None
    err = responses.error(bad)
    assert isinstance(err, UnsupportedFilter) and err.method == "Task/query"
    with pytest.raises(UnsupportedFilter, match="Task/query"):
        responses.get(bad)
    with pytest.raises(ProtocolError, match="no response for call Core/echo"):
        responses.get(missing)
    assert [type(e) for e in responses.errors()] == [UnsupportedFilter]
    with pytest.raises(UnsupportedFilter):
        responses.raise_for_errors()


def test_error_names_the_single_object() -> None:
    batch = Batch()
    call = batch.call("Task/set", {"update": {"987654321": {"title": "x"}}})
    responses = Responses(batch.calls, [Invocation(
        "error", {"message": "The path a/b doesn't exist", "type": "jsonPointerException"},
        call.call_id)])
    err = responses.error(call)
    assert err is not None and err.object_id == "987654321"
    assert "Task 987654321" in str(err)
