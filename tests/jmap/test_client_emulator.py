"""End-to-end tests of the client against Group-Office.

Each test runs against the emulator (``[emulator]``) and again against a real
Group-Office (``[live]``) when GO_SUPPORT_TEST_URL and GO_SUPPORT_TEST_TOKEN (an admin
API key) are set; otherwise the live runs are reported as skipped (``pytest -ra``).
Everything a test creates is destroyed afterwards (the ``cleanup`` fixture).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from typing import TYPE_CHECKING, Any

import pytest
import requests

from go_support.jmap import (
    AuthenticationError,
    Batch,
    BlobNotFoundError,
    CannotCalculateChanges,
    ChangesTruncated,
    GroupOfficeClient,
    InvalidArgumentException,
    InvalidObjectError,
    MethodError,
    SecondFactorRequired,
    SetFailed,
    SetResult,
    StateMismatch,
    UnsupportedFilter,
)

if TYPE_CHECKING:  # the types of the `recorder` and `cleanup` fixtures
    from tests.jmap.conftest import Cleanup, RecordingTransport

pytestmark = pytest.mark.live


def _shrink_limits(client: GroupOfficeClient, **caps: int) -> None:
    """Pretend the server advertises smaller limits, to exercise splitting cheaply."""
    session = client.session
    client._session = dataclasses.replace(
        session, capabilities={**session.capabilities, **caps})


def _make_tasks(client: GroupOfficeClient, list_id: str, n: int, prefix: str) -> list[str]:
    return client.tasks.create_many(
        [{"tasklistId": list_id, "title": f"{prefix} {i:02d}"} for i in range(n)])


# --- session ------------------------------------------------------------------------------


def test_session_and_limits(client: GroupOfficeClient) -> None:
    session = client.session
    assert session.api_url.endswith("/api/jmap.php")
    assert session.user_id
    limits = client.limits
    assert limits.max_call_in_request >= 1 and limits.max_objects_in_get >= 1
    assert limits.max_objects_in_set >= 1
    rights = session.module_rights("community", "tasks")
    assert rights is not None and rights["mayRead"] is True
    assert session.module_rights("nosuch", "module") is None
    assert client.session is session  # cached


def test_bad_api_key(go_server: tuple[str, str]) -> None:
    url, token = go_server
    bad = "0" * len(token)
    client = GroupOfficeClient(url, api_key=bad)
    with pytest.raises(AuthenticationError) as info:
        _ = client.session
    assert bad not in str(info.value)


# --- query + get ----------------------------------------------------------------------------


def test_query_get_with_a_result_reference(
    client: GroupOfficeClient, task_list: str, recorder: RecordingTransport
) -> None:
    ids = _make_tasks(client, task_list, 3, "ref")
    recorder.clear()
    result = client.tasks.query_get({"tasklistId": task_list}, sort=["title"],
                                    properties=["id", "title"], calculate_total=True)
    assert [o["id"] for o in result.objects] == ids
    assert [o["title"] for o in result.objects] == ["ref 00", "ref 01", "ref 02"]
    assert result.query.total == 3
    [request] = recorder.api_requests()  # one HTTP request
    assert request[1][1]["#ids"] == {"resultOf": request[0][2], "name": "Task/query",
                                     "path": "/ids"}


def test_manual_batch_with_flattening_reference(
    client: GroupOfficeClient, task_list: str
) -> None:
    _make_tasks(client, task_list, 2, "flat")
    batch = Batch()
    q = batch.call("Task/query", {"filter": {"tasklistId": task_list}})
    g = batch.call("Task/get", {"#ids": q.ref("/ids"), "properties": ["tasklistId"]})
    lists = batch.call("TaskList/get", {"#ids": g.ref("/list/*/tasklistId"),
                                        "properties": ["id", "name"]})
    responses = client.execute(batch)
    assert [o["id"] for o in responses[lists]["list"]] == [task_list]


# --- one request: task list, tasks, first comments -------------------------------------------


def test_tasklist_tasks_and_first_comments_in_one_request(
    client: GroupOfficeClient, recorder: RecordingTransport, tag: str, cleanup: Cleanup
) -> None:
    batch = Batch()
    lists = batch.call("TaskList/set", {"create": {"l": {"name": f"{tag} desk"}}})
    tasks = batch.call("Task/set", {"create": {
        f"t{i}": {"#tasklistId": lists.created_ref("l"), "title": f"{tag} ticket {i}"}
        for i in range(3)}})
    comments = batch.call("Comment/set", {"create": {
        f"m{i}": {"entity": "Task", "#entityId": tasks.created_ref(f"t{i}"),
                  "text": f"<p>mail {i}</p>", "mimeMessageId": f"<{tag}-{i}@example.com>",
                  "mailStatus": "received", "date": "2024-01-02T03:04:05+00:00"}
        for i in range(3)}})
    recorder.clear()
    responses = client.execute(batch)
    assert len(recorder.api_requests()) == 1
    cleanup("TaskList", SetResult.from_json(responses[lists], create_ids=["l"]).created_id("l"))
    task_result = SetResult.from_json(responses[tasks], create_ids=["t0", "t1", "t2"])
    assert task_result.ok
    task_ids = [task_result.created_id(f"t{i}") for i in range(3)]
    comment_result = SetResult.from_json(responses[comments], create_ids=["m0", "m1", "m2"])
    assert comment_result.ok, comment_result.errors
    comment_ids = [cleanup("Comment", comment_result.created_id(f"m{i}")) for i in range(3)]
    # Comment/set reports the re-saved tasks too: they are side effects, not comments
    assert set(comment_result.side_effects) <= set(task_ids)
    got = client.comments.get(comment_ids, ["entityId", "mimeMessageId", "mailStatus"])
    assert [str(c["entityId"]) for c in got.objects] == task_ids
    assert got.objects[0]["mimeMessageId"] == f"<{tag}-0@example.com>"
    assert got.objects[0]["mailStatus"] == "received"


# --- splitting -----------------------------------------------------------------------------


def test_set_and_get_are_split_by_the_limits(
    client: GroupOfficeClient, task_list: str, recorder: RecordingTransport
) -> None:
    _shrink_limits(client, maxObjectsInSet=3, maxObjectsInGet=2, maxCallInRequest=2)
    recorder.clear()
    ids = _make_tasks(client, task_list, 7, "split")
    assert len(ids) == len(set(ids)) == 7
    # 7 creates -> 3 Task/set calls of <= 3 objects -> 2 HTTP requests of <= 2 calls
    requests_ = recorder.api_requests()
    assert [len(r) for r in requests_] == [2, 1]
    assert [len(call[1]["create"]) for r in requests_ for call in r] == [3, 3, 1]
    recorder.clear()
    got = client.tasks.get([*ids, ids[0], "987654321"], ["title"])
    assert [o["id"] for o in got.objects] == ids  # order kept, duplicates dropped
    assert got.not_found == ["987654321"]
    # 8 ids -> 4 Task/get calls of 2 ids -> 2 requests
    assert [len(r) for r in recorder.api_requests()] == [2, 2]
    result = client.tasks.set(update={i: {"title": "renamed"} for i in ids[:4]},
                              destroy=ids[4:])
    assert result.ok and sorted(result.destroyed) == sorted(ids[4:])
    assert set(result.updated) == set(ids[:4])


def test_create_many_returns_ids_in_order(client: GroupOfficeClient, task_list: str) -> None:
    ids = _make_tasks(client, task_list, 5, "order")
    titles = {o["id"]: o["title"] for o in client.tasks.get(ids, ["title"]).objects}
    assert [titles[i] for i in ids] == [f"order {i:02d}" for i in range(5)]


# --- paging --------------------------------------------------------------------------------


def test_paging(client: GroupOfficeClient, task_list: str, recorder: RecordingTransport) -> None:
    ids = _make_tasks(client, task_list, 7, "page")
    flt = {"tasklistId": task_list}
    page = client.tasks.query(flt, sort=["title"], limit=2, position=2, calculate_total=True)
    assert page.ids == ids[2:4] and page.total == 7
    recorder.clear()
    assert client.tasks.query_all(flt, sort=["title"], page_size=2) == ids
    # first page with the total, then the three other pages in one request
    assert [len(r) for r in recorder.api_requests()] == [1, 3]
    assert client.tasks.query_all(flt, sort=["title"], page_size=0) == ids
    assert client.tasks.query_all(flt, sort=["title"], page_size=7) == ids
    objects = client.tasks.query_all_objects(flt, sort=["-title"], page_size=3,
                                             properties=["title"])
    assert [o["id"] for o in objects] == list(reversed(ids))


# --- changes -------------------------------------------------------------------------------


def test_changes_are_normalised(
    client: GroupOfficeClient, task_list: str, request: pytest.FixtureRequest
) -> None:
    state = client.tasks.state()
    assert state
    ids = _make_tasks(client, task_list, 3, "chg")
    client.tasks.update(ids[0], {"title": "chg renamed"})
    client.tasks.destroy([ids[2]])
    try:
        changes = client.tasks.changes(state)
        assert ids[2] in changes.removed and ids[2] not in changes.changed
        assert {ids[0], ids[1]} <= set(changes.changed)
        assert len(changes.changed) == len(set(changes.changed))
        same = client.tasks.changes(changes.new_state or "")
        assert same.changed == [] and same.removed == [] and not same.has_more_changes
    except ChangesTruncated as exc:
        # A real Group-Office counts ACL changes too and pages Task/changes at 100 even
        # after one new task (groupoffice-wire 17); the emulator pages only past maxChanges.
        assert request.node.callspec.params["go_server"] == "live", exc
        page = exc.partial
        assert len(page.changed) == len(set(page.changed)) and page.has_more_changes
        assert not set(page.changed) & set(page.removed)
        with pytest.raises(CannotCalculateChanges, match="Resync required"):
            client.call("Task/changes", {"sinceState": page.new_state})


def test_foreign_state_needs_a_resync(client: GroupOfficeClient) -> None:
    with pytest.raises(CannotCalculateChanges, match="Task/changes"):
        client.tasks.changes("1:1:1")


# --- errors --------------------------------------------------------------------------------


def test_unknown_filter(client: GroupOfficeClient) -> None:
    with pytest.raises(UnsupportedFilter) as info:
        client.tasks.query({"noSuchFilter": 1})
    assert info.value.method == "Task/query"
    assert "Task/query" in str(info.value) and "nosuchfilter" in str(info.value)


def test_unknown_property_fails_the_whole_call(
    client: GroupOfficeClient, task_list: str, recorder: RecordingTransport
) -> None:
    bad = {"tasklistId": task_list, "title": "x", "notAProperty": "y"}
    recorder.clear()
    with pytest.raises(InvalidObjectError, match="notAProperty"):
        client.tasks.create(bad)  # refused by the client ...
    assert recorder.sent == []
    with pytest.raises(InvalidArgumentException, match="notAProperty") as info:
        client.tasks.create(bad, validate=False)  # ... because the server fails the call
    assert info.value.partial_result is not None


def test_per_object_errors_raise_set_failed(client: GroupOfficeClient, task_list: str) -> None:
    with pytest.raises(SetFailed) as info:
        client.tasks.create_many([{"tasklistId": task_list, "title": "ok"},
                                  {"title": "no list given"}], validate=False)
    err = info.value
    assert err.ids == ["new2"]
    assert err.errors[0].type == "invalidProperties" and "tasklistId" in str(err)
    assert err.result is not None and "new1" in err.result.created  # the good one exists
    with pytest.raises(SetFailed, match="notFound"):
        client.tasks.update("987654321", {"title": "x"})


def test_state_mismatch(client: GroupOfficeClient, task_list: str) -> None:
    with pytest.raises(StateMismatch):
        client.tasks.set(update={"987654321": {"title": "x"}}, if_in_state="nope")


def test_unknown_method_and_entity(client: GroupOfficeClient) -> None:
    with pytest.raises(MethodError) as info:
        client.call("Task/frobnicate", {})
    assert info.value.type == "serverFail" and "Task/frobnicate" in str(info.value)
    with pytest.raises(MethodError) as info2:
        client.entity("NoSuchEntity").get(["1"])
    assert info2.value.type == "exception"


# --- blobs ---------------------------------------------------------------------------------


def test_blob_upload_and_download(
    client: GroupOfficeClient, task_list: str, tag: str, cleanup: Cleanup
) -> None:
    data = f"hello from {tag}\n".encode()
    blob = client.upload_blob(data, "notes été 2024.txt", "text/plain")
    assert blob.id == hashlib.sha1(data).hexdigest()
    assert blob.name == "notes été 2024.txt" and blob.size == len(data)
    assert client.download_blob(blob.id) == data
    with client.download_blob_stream(blob.id) as stream:
        assert b"".join(stream.iter_bytes(4)) == data
        assert stream.filename is not None and stream.filename.endswith(".txt")
        assert (stream.content_type or "").startswith("text/plain")
    again = client.upload_blob(io.BytesIO(data), "copy.txt", "text/plain")
    assert again.id == blob.id  # content-addressed
    [task] = _make_tasks(client, task_list, 1, "blob")
    comment = cleanup("Comment", client.comments.create({
        "entity": "Task", "entityId": task, "text": "<p>see attachment</p>",
        "attachments": [{"blobId": blob.id, "name": "notes.txt"}]}))
    got: dict[str, Any] | None = client.comments.get_one(comment, ["attachments"])
    assert got is not None and got["attachments"][0]["blobId"] == blob.id


def test_unknown_blob(client: GroupOfficeClient) -> None:
    with pytest.raises(BlobNotFoundError) as info:
        client.download_blob("0" * 40)
    assert info.value.blob_id == "0" * 40


# --- login ---------------------------------------------------------------------------------


def test_password_login_against_the_emulator() -> None:
    emulator = pytest.importorskip("go_support.emulator")
    emu = emulator.Emulator(admin_password="correct horse battery")
    server = emu.start()
    try:
        with GroupOfficeClient(server.base_url, username="admin",
                               password="correct horse battery") as good:
            assert good.session.user_id == "1"
            assert good.tasks.query({"tasklistId": "any"}).ids is not None
        bad = GroupOfficeClient(server.base_url, username="admin", password="wrong-password")
        with pytest.raises(AuthenticationError, match="bad username or password") as info:
            _ = bad.session
        assert "wrong-password" not in str(info.value)
    finally:
        emu.stop()


def test_second_factor_is_refused_clearly() -> None:
    from go_support.emulator import Emulator

    password = "hunter2-secret"
    emu = Emulator()
    emu.seed({"users": [{"id": 60, "username": "otpuser", "password": password, "otp": True},
                        {"id": 61, "username": "plainuser", "password": password}]})
    server = emu.start()
    try:
        # what auth.php answers for a pending second factor (protocol §2.4)
        raw = requests.post(f"{server.base_url}/api/auth.php", timeout=10,
                            json={"username": "otpuser", "password": password})
        assert (raw.status_code, raw.reason) == (200, "Success, but more authorization required.")
        assert set(raw.json()) == {"loginToken", "authenticators", "debug"}
        assert raw.json()["authenticators"] == ["otpauthenticator"]

        client = GroupOfficeClient(server.base_url, username="otpuser", password=password)
        with pytest.raises(SecondFactorRequired, match="API key") as info:
            _ = client.session
        err = info.value
        assert err.authenticators == ("otpauthenticator",)
        assert "second factor" in str(err) and "otpauthenticator" in str(err)
        assert "api_key=" in str(err)
        assert password not in str(err) + repr(err.args)
        assert raw.json()["loginToken"] not in str(err)
        # the same password without a second factor logs in
        with GroupOfficeClient(server.base_url, username="plainuser", password=password) as ok:
            assert ok.session.user_id == "61"
    finally:
        emu.stop()


def test_upload_without_authentication(
    go_server: tuple[str, str], recorder: RecordingTransport, tag: str
) -> None:
    url, token = go_server
    with GroupOfficeClient(url, api_key=token) as admin:
        created = admin.keys.set(create={"k": {"name": f"{tag} doomed key"}}).created["k"]
        key_id, doomed = str(created["id"]), str(created["accessToken"])
        try:
            client = GroupOfficeClient(url, api_key=doomed, transport=recorder)
            upload_url = client.session.upload_url  # the key still works here
        finally:
            admin.keys.destroy([key_id])
    recorder.clear()
    # upload.php answers a token it does not accept with 500 problem JSON (corpus 10)
    with pytest.raises(AuthenticationError, match="not authenticated") as info:
        client.upload_blob(b"x", "x.txt", "text/plain")
    assert [(m, u) for m, u, _ in recorder.sent] == [("POST", upload_url)]  # not retried
    [answer] = recorder.received
    assert answer.status == 500 and answer.reason == "Upload failed"
    assert json.loads(answer.content)["detail"] == "go\\core\\http\\Exception"
    assert doomed not in str(info.value) and token not in str(info.value)


def test_dates_are_sent_as_iso_8601(
    client: GroupOfficeClient, task_list: str, cleanup: Cleanup
) -> None:
    import datetime

    [task] = _make_tasks(client, task_list, 1, "date")
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    comment = cleanup("Comment", client.comments.create(
        {"entity": "Task", "entityId": task, "text": "<p>old mail</p>", "date": when}))
    got = client.comments.get_one(comment, ["date"])
    assert got is not None and got["date"].startswith("2024-01-02T03:04:05")


def test_module_get_always_asks_for_package_and_name(client: GroupOfficeClient) -> None:
    found = client.modules.query_get({}, properties=["id", "permissions"], limit=0)
    names = {(m.get("package"), m.get("name")) for m in found.objects}
    assert ("community", "tasks") in names
    assert found.get.not_found == []
