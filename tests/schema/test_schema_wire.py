"""Exact wire forms: what ``to_wire()`` emits, and how read models normalise server values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import jmap_schema as js

# ------------------------------------------------------------------------------ to_wire


def test_task_create_round_trip() -> None:
    task = js.TaskCreate(
        tasklistId=7,
        title="Printer on floor 2 is jammed",
        description="<p>It jams</p>",
        responsibleUserId=None,
        categories=[3, "4"],
        priority=1,
        due=date(2025, 3, 10),
        start="2025-03-01",
        progress=js.Progress.NEEDS_ACTION,
        customFields={"supportLegacyTicketId": "LEG-100", "supportRequesterId": 1},
    )
    assert task.to_wire() == {
        "tasklistId": "7",
        "title": "Printer on floor 2 is jammed",
        "description": "<p>It jams</p>",
        "responsibleUserId": None,
        "categories": ["3", "4"],
        "priority": 1,
        "due": "2025-03-10",
        "start": "2025-03-01",
        "progress": "needs-action",
        "customFields": {"supportLegacyTicketId": "LEG-100", "supportRequesterId": 1},
    }


def test_defaults_are_not_sent() -> None:
    task = js.TaskCreate(tasklistId="7", title="t")
    assert task.progress is js.Progress.NEEDS_ACTION  # the server's default, readable...
    assert task.to_wire() == {"tasklistId": "7", "title": "t"}  # ...but not sent


def test_task_patch_sends_only_what_was_set() -> None:
    assert js.TaskPatch().to_wire() == {}
    patch = js.TaskPatch(responsibleUserId=None, progress="in-progress")
    assert patch.to_wire() == {"responsibleUserId": None, "progress": "in-progress"}
    patch.due = None
    patch.title = "renamed"
    assert patch.to_wire() == {
        "responsibleUserId": None,
        "progress": "in-progress",
        "due": None,
        "title": "renamed",
    }


def test_comment_create_round_trip() -> None:
    comment = js.CommentCreate(
        entity="Task",
        entityId=71,
        text="<p>Customer wrote this by mail</p>",
        date=datetime(2024, 6, 10, 10, 0, tzinfo=timezone(timedelta(hours=2))),
        mimeMessageId="<abc@mail.example.com>",
        mailStatus="received",
        labels=[5],
        attachments=[{"blobId": "ee146a924503546448d6c5254643f770110d4a00", "name": "notes.txt"}],
    )
    assert comment.to_wire() == {
        "entity": "Task",
        "entityId": "71",
        "text": "<p>Customer wrote this by mail</p>",
        "date": "2024-06-10T08:00:00+00:00",
        "mimeMessageId": "<abc@mail.example.com>",
        "mailStatus": "received",
        "labels": ["5"],
        "attachments": [
            {"blobId": "ee146a924503546448d6c5254643f770110d4a00", "name": "notes.txt"}
        ],
    }


def test_comment_patch_round_trip() -> None:
    patch = js.CommentPatch(mailStatus=js.MailStatus.SENDERROR, mimeMessageId="<out@x.example>")
    assert patch.to_wire() == {"mailStatus": "senderror", "mimeMessageId": "<out@x.example>"}
    assert js.CommentPatch(labels=[]).to_wire() == {"labels": []}
    assert js.CommentPatch(date="2024-01-02T03:04:05+00:00").to_wire() == {
        "date": "2024-01-02T03:04:05+00:00"
    }


def test_result_reference_is_sent_under_a_hash_key() -> None:
    """The shape recorded in 09-comments.json: a comment on a task created in the same request."""
    ref = js.ResultReference(resultOf="c1", path="/created/t/id")
    comment = js.CommentCreate(entity="Task", entityId=ref, text="<p>first</p>")
    wire = comment.to_wire()
    assert wire == {
        "entity": "Task",
        "#entityId": {"resultOf": "c1", "path": "/created/t/id"},
        "text": "<p>first</p>",
    }
    assert js.CommentCreate.from_wire(wire) == comment
    task = js.TaskCreate(
        tasklistId={"resultOf": "x", "name": "TaskList/set", "path": "/created/n/id"}, title="t"
    )
    assert task.to_wire() == {
        "#tasklistId": {"resultOf": "x", "name": "TaskList/set", "path": "/created/n/id"},
        "title": "t",
    }


def test_task_list_create_round_trip() -> None:
    tasklist = js.TaskListCreate(
        name="Hardware",
        role="list",
        description="Ticket type",
        acl={3: js.AclLevel.WRITE, "12": 50},
        groupingId=3,
    )
    assert tasklist.to_wire() == {
        "name": "Hardware",
        "role": "list",
        "description": "Ticket type",
        "acl": {"3": 30, "12": 50},
        "groupingId": "3",
    }


def test_task_list_patch_removes_an_acl_group_with_none() -> None:
    assert js.TaskListPatch(acl={31: None, 32: 10}).to_wire() == {"acl": {"31": None, "32": 10}}


def test_board_columns() -> None:
    board = js.TaskListCreate(
        name="Board",
        role=js.TaskListRole.BOARD,
        groups=[{"name": "Doing", "progressChange": "in-progress"}, {"id": 9, "name": "Done"}],
    )
    assert board.to_wire() == {
        "name": "Board",
        "role": "board",
        "groups": [{"name": "Doing", "progressChange": "in-progress"}, {"id": "9", "name": "Done"}],
    }


def test_task_category_global_vs_personal() -> None:
    assert js.TaskCategoryCreate(name="Hardware", ownerId=None).to_wire() == {
        "name": "Hardware",
        "ownerId": None,
    }
    assert js.TaskCategoryCreate(name="Mine").to_wire() == {"name": "Mine"}
    assert js.TaskCategoryCreate(name="Per list", tasklistId=60).to_wire() == {
        "name": "Per list",
        "tasklistId": "60",
    }


def test_grouping_label_fieldset_field_user_key_module() -> None:
    assert js.TaskListGroupingCreate(name="Support").to_wire() == {"name": "Support"}
    assert js.CommentLabelCreate(name="Private", color="C62828").to_wire() == {
        "name": "Private",
        "color": "C62828",
    }
    assert js.FieldSetCreate(name="Support", entity="Task").to_wire() == {
        "name": "Support",
        "entity": "Task",
    }
    field = js.FieldCreate(
        fieldSetId={"resultOf": "a", "path": "/created/fs/id"},
        name="Legacy ticket id",
        databaseName="supportLegacyTicketId",
        type=js.FieldType.TEXT,
        options={"maxLength": 50},
    )
    assert field.to_wire() == {
        "#fieldSetId": {"resultOf": "a", "path": "/created/fs/id"},
        "name": "Legacy ticket id",
        "databaseName": "supportLegacyTicketId",
        "type": "Text",
        "options": {"maxLength": 50},
    }
    user = js.UserCreate(
        username="jdoe", displayName="John Doe", email="john@example.com", groups=[3]
    )
    assert user.to_wire() == {
        "username": "jdoe",
        "displayName": "John Doe",
        "email": "john@example.com",
        "groups": ["3"],
    }
    assert "s3cret" not in repr(js.UserCreate(**user.to_wire(), password="s3cretpw"))
    assert js.KeyCreate(name="sidecar", userId=37).to_wire() == {"name": "sidecar", "userId": "37"}
    module = js.ModulePatch(
        permissions={3: {"rights": {"mayRead": True}}, "12": {"rights": {"mayManage": True}}}
    )
    assert module.to_wire() == {
        "permissions": {"3": {"rights": {"mayRead": True}}, "12": {"rights": {"mayManage": True}}}
    }
    assert js.ModulePatch(settings={"allowRegistration": True}).to_wire() == {
        "settings": {"allowRegistration": True}
    }


def test_entity_names_of_write_models() -> None:
    assert js.TaskCreate.entity_name == js.TaskPatch.entity_name == js.Task.entity_name == "Task"
    assert js.CommentCreate.entity_name == "Comment"
    assert js.TaskCategoryCreate.entity_name == "TaskCategory"
    assert js.ModulePatch.entity_name == js.Module.entity_name == "Module"


# ------------------------------------------------------------------------------ read side


def test_ids_are_normalised_to_strings() -> None:
    tasklist = js.TaskList.model_validate(
        {"id": "55", "createdBy": 1, "aclId": 213, "groupingId": 3}
    )
    assert (tasklist.createdBy, tasklist.aclId, tasklist.groupingId) == ("1", "213", "3")
    category = js.TaskCategory.model_validate({"id": "13", "ownerId": 1, "tasklistId": 60})
    assert (category.ownerId, category.tasklistId) == ("1", "60")
    key = js.Key.model_validate({"id": "29", "userId": 1})
    assert key.userId == "1"
    user = js.User.model_validate({"id": "36", "groups": ["3", 2, "36"]})
    assert user.groups == ["3", "2", "36"]
    principal = js.Principal.model_validate({"id": "Contact:34"})
    assert principal.id == "Contact:34"
    assert js.loose_id_equal(1, "1") and not js.loose_id_equal(None, "1")


def test_empty_custom_fields_list_becomes_dict() -> None:
    assert js.User.model_validate({"id": "1", "customFields": []}).customFields == {}
    assert js.Task.model_validate({"id": "1", "customFields": {"a": ""}}).customFields == {"a": ""}
    assert js.Field.model_validate({"id": "12", "options": []}).options == {}


def test_null_map_relations() -> None:
    assert js.Task.model_validate({"id": "1", "alerts": None}).alerts is None
    module = js.Module.model_validate({"id": "15", "permissions": None})
    assert module.permissions is None
    module = js.Module.model_validate(
        {
            "id": "15",
            "permissions": {"3": {"rights": {"mayRead": True}, "moduleId": 15, "groupId": 3}},
        }
    )
    assert module.permissions is not None
    assert module.permissions["3"].groupId == "3"


def test_dates_and_datetimes() -> None:
    task = js.Task.model_validate(
        {"id": "1", "due": "2025-03-10", "createdAt": "2026-11-25T23:51:04+00:00"}
    )
    assert task.due == date(2025, 3, 10)
    assert task.createdAt == datetime(2026, 11, 25, 23, 51, 4, tzinfo=UTC)
    assert task.model_dump(mode="json", exclude_unset=True)["createdAt"] == (
        "2026-11-25T23:51:04+00:00"
    )


def test_defaults_and_unknown_keys() -> None:
    task = js.Task.model_validate({"id": "61", "categories": ["14"], "futureProperty": {"x": 1}})
    assert task.progress is js.Progress.NEEDS_ACTION
    assert "progress" not in task.model_fields_set  # not sent: the default is a guess
    assert task.model_extra == {"futureProperty": {"x": 1}}
    assert js.CommentLabel.model_validate({"id": "5"}).color == "243a80"
