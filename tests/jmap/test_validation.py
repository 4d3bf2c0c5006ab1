"""Objects are checked against the strict write models before anything is sent.

Group-Office silently drops bad values (Task ``progress: "done"``, TaskList
``role: "nonsense"``; groupoffice-wire README, "Validation that silently does nothing").
The end-to-end tests count the HTTP requests (the ``recorder`` transport) to show that a
refused object costs none, then send the same object with ``validate=False`` to show
that the server would indeed have accepted it without an error and kept the old value.
They run against the emulator and, when configured, a real Group-Office.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

import jmap_schema as js
from go_support.errors import GoSupportError
from go_support.jmap import (
    Batch,
    GroupOfficeClient,
    InvalidObjectError,
    JMAPError,
    SetResult,
    validate_set,
    write_model,
)

if TYPE_CHECKING:  # the types of the `recorder` and `cleanup` fixtures
    from tests.jmap.conftest import Cleanup, RecordingTransport

REF = {"resultOf": "c0", "name": "TaskList/set", "path": "/created/l/id"}


def refused(entity: str, **sections: Any) -> InvalidObjectError:
    with pytest.raises(InvalidObjectError) as info:
        validate_set(entity, **sections)
    return info.value


# --- without a server -----------------------------------------------------------------------


def test_the_error_names_entity_ids_and_properties() -> None:
    err = refused("Task", create={"new1": {"tasklistId": "1", "title": "ok"},
                                  "new2": {"tasklistId": "1", "title": "x" * 256,
                                           "progress": "done"}},
                  update={"7": {"progress": "in-process"}})
    assert isinstance(err, JMAPError) and isinstance(err, GoSupportError)
    assert err.entity == "Task" and err.method == "Task/set"
    assert err.ids == ["new2", "7"]
    first, second = err.objects
    assert (first.operation, first.id, first.model) == ("create", "new2", "TaskCreate")
    assert set(first.properties) == {"title", "progress"}
    assert "in-progress" in first.properties["progress"]
    assert (second.operation, second.id, second.model) == ("update", "7", "TaskPatch")
    text = str(err)
    assert "Task/set was not sent" in text and "create new2" in text and "update 7" in text
    assert "validate=False" in text
    assert "done" not in text.replace("'", " ").split()  # values are never quoted


def test_unknown_and_missing_properties() -> None:
    err = refused("Task", create={"t": {"title": "x", "notAProperty": 1}})
    props = err.objects[0].properties
    assert props["tasklistId"] == "required"
    assert "invalidArgumentException" in props["notAProperty"]


def test_nested_and_key_errors_have_readable_paths() -> None:
    err = refused("Comment", create={"m": {
        "entity": "Task", "entityId": "1", "text": "x", "date": "2024-01-02T03:04:05",
        "attachments": [{"blobId": "not-a-sha1"}]}})
    props = err.objects[0].properties
    assert set(props) == {"date", "attachments.0.blobId", "attachments.0.name"}
    err = refused("Task", update={"5": {"customFields": {"bad name": 1}}})
    assert err.objects[0].properties["customFields.bad name"].startswith("invalid key")
    err = refused("Comment", create={"m": {"entityId": "1", "text": "x"}})
    assert err.objects[0].properties == {"": "entity (e.g. 'Task') or entityTypeId is required"}


def test_a_password_never_shows() -> None:
    secret = "S3cret-Passw0rd!"
    err = refused("User", create={"u": {"username": "jdoe", "displayName": "J", "email": "no",
                                        "password": secret, "passwrd": secret}})
    assert set(err.objects[0].properties) == {"email", "passwrd"}
    everything = str(err) + repr(err.args) + repr(err.objects)
    assert secret not in everything


def test_result_reference_keys() -> None:
    creates, _ = validate_set("Task", create={"t": {
        "#tasklistId": REF, "title": "ticket",
        "#responsibleUserId": {"resultOf": "c1", "path": "/ids/0"},  # model has no ref type
        "progress": "in-progress"}})
    assert creates["t"] == {
        "#tasklistId": REF, "title": "ticket",
        "#responsibleUserId": {"resultOf": "c1", "path": "/ids/0"},
        "progress": "in-progress"}
    # the rest of the object is still checked
    err = refused("Task", create={"t": {"#tasklistId": REF, "title": "x", "progress": "done"}})
    assert set(err.objects[0].properties) == {"progress"}
    # a broken reference, a reference for a property that does not exist, both forms at once
    err = refused("Task", create={
        "a": {"#tasklistId": {"resultOf": "c0"}, "title": "x"},
        "b": {"#nope": REF, "tasklistId": "1", "title": "x"},
        "c": {"#tasklistId": REF, "tasklistId": "1", "title": "x"}})
    assert err.objects[0].properties == {"#tasklistId.path": "required"}
    assert list(err.objects[1].properties) == ["#nope"]
    assert "both" in err.objects[2].properties["#tasklistId"]


def test_json_pointer_patch_keys() -> None:
    _, updates = validate_set("TaskList", update={"5": {"acl/31": 30, "acl/32": None}})
    assert updates["5"] == {"acl/31": 30, "acl/32": None}
    _, updates = validate_set("Task", update={"5": {"customFields/ticketRef": "LEG-1",
                                                     "customFields/a~1b/deeper": 1}})
    assert updates["5"]["customFields/ticketRef"] == "LEG-1"
    assert updates["5"]["customFields/a~1b/deeper"] == 1  # deeper pointers pass unchecked
    err = refused("TaskList", update={"5": {"acl/31": 35, "nope/1": 1}})
    props = err.objects[0].properties
    assert "10, 20, 30, 40 or 50" in props["acl/31"]
    assert "not a property" in props["nope/1"]
    err = refused("Task", update={"5": {"customFields/bad-name": 1}})
    assert "invalid key" in err.objects[0].properties["customFields/bad-name"]
    # the recorded server fails this pointer form with a PHP typeError (corpus 11)
    err = refused("Module", update={"1": {"settings/allowRegistration": True}})
    assert "typeError" in err.objects[0].properties["settings/allowRegistration"]
    # in a create, a pointer is just an unknown property
    err = refused("TaskList", create={"l": {"name": "x", "acl/31": 30}})
    assert list(err.objects[0].properties) == ["acl/31"]


def test_write_models_are_accepted_and_must_fit() -> None:
    creates, updates = validate_set(
        "Task",
        create={"t": js.TaskCreate(tasklistId=7, title="x", due="2024-06-01")},  # type: ignore[arg-type]
        update={"9": js.TaskPatch(progress=js.Progress.COMPLETED)})
    assert creates["t"] == {"tasklistId": "7", "title": "x", "due": "2024-06-01"}
    assert updates["9"] == {"progress": "completed"}
    ref = js.TaskCreate(tasklistId=js.ResultReference(**REF), title="x")
    assert validate_set("Task", create={"t": ref})[0]["t"]["#tasklistId"] == REF
    err = refused("Task", create={"a": js.TaskPatch(title="y")},
                  update={"b": js.TaskListPatch(name="x")})
    assert "use TaskCreate" in err.objects[0].properties[""]
    assert "use TaskPatch" in err.objects[1].properties[""]
    err = refused("TaskList", create={"l": js.TaskCreate(tasklistId="1", title="x")})
    assert "TaskListCreate" in str(err)
    with pytest.raises(TypeError, match="dict or a jmap_schema write model"):
        validate_set("Task", create={"t": ["not", "an", "object"]})  # type: ignore[dict-item]


def test_values_are_normalised() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    creates, _ = validate_set("Comment", create={"m": {
        "entity": "Task", "entityId": 12, "text": "x", "date": when, "labels": [3]}})
    assert creates["m"] == {"entity": "Task", "entityId": "12", "text": "x",
                            "date": "2024-01-02T03:04:05+00:00", "labels": ["3"]}


def test_escape_hatch_and_entities_without_a_model() -> None:
    bad = {"tasklistId": "1", "title": "", "progress": "done", "extra": 1}
    assert validate_set("Task", create={"t": bad}, validate=False)[0]["t"] == bad
    assert validate_set("Group", create={"g": {"anything": 1}})[0]["g"] == {"anything": 1}
    assert validate_set("User", update={"5": {"whatever": 1}})[1]["5"] == {"whatever": 1}
    assert write_model("Task", "create") is js.TaskCreate
    assert write_model("Module", "create") is None and write_model("Note", "update") is None


def test_batch_set_validates_too() -> None:
    batch = Batch()
    lists = batch.set("TaskList", create={"l": {"name": "desk"}})
    with pytest.raises(InvalidObjectError, match="progress"):
        batch.set("Task", create={"t": {"#tasklistId": lists.created_ref("l"), "title": "x",
                                        "progress": "done"}})
    assert len(batch) == 1  # the refused call was not added
    batch.set("Task", create={"t": {"#tasklistId": lists.created_ref("l"), "title": "x"}},
              destroy=["99"])
    assert batch.calls[1].args == {
        "create": {"t": {"#tasklistId": lists.created_ref("l"), "title": "x"}},
        "destroy": ["99"]}


# --- against Group-Office: nothing is sent, and the server would have accepted it --------------


def test_bad_progress_costs_no_request_and_the_server_would_ignore_it(
    client: GroupOfficeClient, task_list: str, recorder: RecordingTransport
) -> None:
    task = client.tasks.create({"tasklistId": task_list, "title": "t", "progress": "in-progress"})
    recorder.clear()
    with pytest.raises(InvalidObjectError) as info:
        client.tasks.update(task, {"progress": "done"})
    assert recorder.sent == []
    assert info.value.ids == [task] and "progress" in info.value.objects[0].properties
    with pytest.raises(InvalidObjectError):
        client.tasks.set(update={task: {"progress": "done"}}, destroy=[task])
    assert recorder.sent == []  # the destroy in the same call was not sent either

    # the escape hatch: Group-Office answers "updated" and keeps the old value
    client.tasks.update(task, {"progress": "done"}, validate=False)
    assert len(recorder.api_requests()) == 1
    got = client.tasks.get_one(task, ["progress"])
    assert got is not None and got["progress"] == "in-progress"


def test_bad_role_costs_no_request_and_the_server_would_replace_it(
    client: GroupOfficeClient, recorder: RecordingTransport, tag: str, cleanup: Cleanup
) -> None:
    recorder.clear()
    with pytest.raises(InvalidObjectError, match="role"):
        client.task_lists.create({"name": f"{tag} odd", "role": "nonsense"})
    assert recorder.sent == []
    odd = cleanup("TaskList", client.task_lists.create({"name": f"{tag} odd", "role": "nonsense"},
                                                       validate=False))
    got = client.task_lists.get_one(odd, ["role"])
    assert got is not None and got["role"] == "list"  # no error, another value stored

    board = cleanup("TaskList", client.task_lists.create({"name": f"{tag} board",
                                                          "role": "board"}))
    recorder.clear()
    with pytest.raises(InvalidObjectError):
        client.task_lists.update(board, {"role": "nonsense"})
    assert recorder.sent == []
    client.task_lists.update(board, {"role": "nonsense"}, validate=False)
    got = client.task_lists.get_one(board, ["role"])
    assert got is not None and got["role"] == "board"  # the old value stays


def test_a_fresh_client_sends_nothing_at_all(
    go_server: tuple[str, str], recorder: RecordingTransport
) -> None:
    url, token = go_server
    with GroupOfficeClient(url, api_key=token, transport=recorder) as client:
        with pytest.raises(InvalidObjectError) as info:
            client.tasks.create_many([{"tasklistId": "1", "title": "fine"},
                                      {"tasklistId": "1", "title": "x", "progress": "done"},
                                      {"tasklistId": "1", "title": "x" * 256, "priority": 12}])
        assert recorder.sent == []  # not even the session
        assert info.value.ids == ["new2", "new3"]
        assert set(info.value.objects[1].properties) == {"title", "priority"}
        assert token not in str(info.value)


def test_write_models_and_pointer_patches_reach_the_server(
    client: GroupOfficeClient, task_list: str, recorder: RecordingTransport
) -> None:
    task = client.tasks.create(js.TaskCreate(tasklistId=task_list, title="modelled",
                                             priority=1))
    client.tasks.update(task, js.TaskPatch(progress=js.Progress.COMPLETED))
    got = client.tasks.get_one(task, ["title", "progress", "priority"])
    assert got is not None
    assert (got["title"], got["progress"], got["priority"]) == ("modelled", "completed", 1)

    client.task_lists.update(task_list, {"acl/3": 30})  # the group Internal (corpus 04)
    got = client.task_lists.get_one(task_list, ["acl"])
    assert got is not None and got["acl"].get("3") == 30
    recorder.clear()
    with pytest.raises(InvalidObjectError, match="acl/3"):
        client.task_lists.update(task_list, {"acl/3": 35})
    with pytest.raises(InvalidObjectError, match="use TaskListPatch"):
        client.task_lists.update(task_list, js.TaskPatch(title="wrong entity"))
    assert recorder.sent == []


def test_a_checked_batch_with_result_references(
    client: GroupOfficeClient, recorder: RecordingTransport, tag: str, cleanup: Cleanup
) -> None:
    batch = Batch()
    lists = batch.set("TaskList", create={"l": js.TaskListCreate(name=f"{tag} batch")})
    tasks = batch.set("Task", create={
        "t": {"#tasklistId": lists.created_ref("l"), "title": "by reference"}})
    recorder.clear()
    responses = client.execute(batch)
    assert len(recorder.api_requests()) == 1
    list_id = cleanup("TaskList", SetResult.from_json(responses[lists], create_ids=["l"])
                      .created_id("l"))
    task_id = SetResult.from_json(responses[tasks], create_ids=["t"]).created_id("t")
    got = client.tasks.get_one(task_id, ["tasklistId"])
    assert got is not None and str(got["tasklistId"]) == list_id
