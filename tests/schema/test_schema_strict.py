"""Write models refuse what the server would mishandle, naming the offending property."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

import jmap_schema as js

TASK = {"tasklistId": "7", "title": "Printer jammed"}
COMMENT = {"entity": "Task", "entityId": "42", "text": "<p>hi</p>"}


def refused(model: type[js.WirePart], data: dict[str, Any]) -> set[str]:
    """The property paths a ValidationError names (fails when the data is accepted)."""
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return {".".join(str(part) for part in err["loc"]) for err in info.value.errors()}


# ------------------------------------------------------------------------------ enums


@pytest.mark.parametrize("bad", ["done", "in-process", "NEEDS-ACTION", "open", ""])
def test_task_progress_must_be_one_of_the_five(bad: str) -> None:
    assert refused(js.TaskCreate, {**TASK, "progress": bad}) == {"progress"}
    assert refused(js.TaskPatch, {"progress": bad}) == {"progress"}


def test_the_five_progress_strings_are_accepted() -> None:
    assert [p.value for p in js.Progress] == [
        "needs-action",
        "in-progress",
        "completed",
        "failed",
        "cancelled",
    ]
    for progress in js.Progress:
        assert js.TaskPatch(progress=progress.value).to_wire() == {"progress": progress.value}


def test_assignment_is_validated_too() -> None:
    patch = js.TaskPatch()
    with pytest.raises(ValidationError, match="progress"):
        patch.progress = "done"  # type: ignore[assignment]
    assert patch.to_wire() == {}


@pytest.mark.parametrize(
    "model", [js.TaskListCreate, js.TaskListPatch, js.TaskListGroupingCreate, js.TaskCategoryCreate]
)
def test_support_role_is_refused(model: type[js.WireInput]) -> None:
    data: dict[str, Any] = {"name": "Helpdesk", "role": "support"}
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    assert [err["loc"] for err in info.value.errors()] == [("role",)]
    assert "invisible" in str(info.value)


def test_unknown_role_is_refused() -> None:
    assert refused(js.TaskListCreate, {"name": "x", "role": "nonsense"}) == {"role"}
    for role in ("list", "board", "project"):
        assert js.TaskListCreate(name="x", role=role).to_wire() == {"name": "x", "role": role}


def test_read_models_still_accept_support_lists() -> None:
    assert js.TaskList.model_validate({"id": 5, "role": "support"}).role is js.TaskListRole.SUPPORT


def test_mail_status_must_be_one_of_four() -> None:
    assert refused(js.CommentCreate, {**COMMENT, "mailStatus": "bogus-status"}) == {"mailStatus"}
    assert refused(js.CommentPatch, {"mailStatus": "SENT"}) == {"mailStatus"}
    assert [m.value for m in js.MailStatus] == ["received", "pending", "sent", "senderror"]


def test_acl_levels() -> None:
    assert [int(level) for level in js.AclLevel] == [10, 20, 30, 40, 50]
    assert refused(js.TaskListCreate, {"name": "x", "acl": {"3": 35}}) == {"acl.3"}


# ------------------------------------------------------------------------------ unknown properties


def test_task_category_has_no_color() -> None:
    with pytest.raises(ValidationError) as info:
        js.TaskCategoryCreate.model_validate({"name": "Hardware", "color": "FF0000"})
    (error,) = info.value.errors()
    assert error["loc"] == ("color",)
    assert error["type"] == "extra_forbidden"


@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (js.TaskCreate, {**TASK, "notAProperty": "y"}, "notAProperty"),
        (js.TaskPatch, {"customFields/ticketRef": "x"}, "customFields/ticketRef"),
        (js.CommentCreate, {**COMMENT, "createdBy": "46"}, "createdBy"),
        (js.CommentCreate, {**COMMENT, "validateXSS": False}, "validateXSS"),
        (js.TaskListPatch, {"acl/31": 30}, "acl/31"),
        (js.ModulePatch, {"settings/allowRegistration": True}, "settings/allowRegistration"),
        (js.UserCreate, {"username": "a", "displayName": "A", "email": "a@b.example", "x": 1}, "x"),
    ],
)
def test_unknown_property_is_refused(
    model: type[js.WireInput], data: dict[str, Any], field: str
) -> None:
    assert refused(model, data) == {field}


# ------------------------------------------------------------------------------ lengths and formats


def test_lengths_from_the_reference() -> None:
    assert js.TaskCreate(tasklistId="7", title="x" * 255).title == "x" * 255
    assert refused(js.TaskCreate, {**TASK, "title": "x" * 256}) == {"title"}
    # Required by presence only: Group-Office accepts an empty title (groupoffice-wire 17 #7, #8)
    assert js.TaskCreate(tasklistId="7", title="").title == ""
    assert js.TaskPatch(title="").to_wire() == {"title": ""}
    assert refused(js.TaskCreate, {"tasklistId": "7"}) == {"title"}
    assert refused(js.TaskListCreate, {"name": "x" * 101}) == {"name"}
    assert refused(js.TaskListCreate, {"name": "x", "description": "d" * 256}) == {"description"}
    assert refused(js.CommentLabelCreate, {"name": "x" * 128}) == {"name"}
    assert js.CommentLabelCreate(name="x" * 127).name == "x" * 127
    assert refused(js.CommentCreate, {**COMMENT, "section": "s" * 51}) == {"section"}
    assert refused(js.FieldSetCreate, {"name": "x" * 51, "entity": "Task"}) == {"name"}


def test_mime_message_id_is_ascii_and_at_most_255() -> None:
    ok = "<" + "a" * 240 + "@example.com>"
    assert js.CommentCreate(**COMMENT, mimeMessageId=ok).mimeMessageId == ok
    too_long = "<" + "a" * 250 + "@example.com>"
    assert refused(js.CommentCreate, {**COMMENT, "mimeMessageId": too_long}) == {"mimeMessageId"}
    assert refused(js.CommentPatch, {"mimeMessageId": "<é@example.com>"}) == {"mimeMessageId"}


@pytest.mark.parametrize("name", ["bad-name", "with space", "ümlaut", "", "x" * 191])
def test_database_name(name: str) -> None:
    data = {"fieldSetId": "4", "name": "Legacy id", "databaseName": name, "type": "Text"}
    assert refused(js.FieldCreate, data) == {"databaseName"}


def test_database_name_also_checked_in_custom_field_values() -> None:
    assert refused(js.TaskPatch, {"customFields": {"bad-key": 1}}) == {"customFields.bad-key.[key]"}


def test_field_type_must_be_known() -> None:
    data = {"fieldSetId": "4", "name": "x", "databaseName": "x", "type": "Txt"}
    assert refused(js.FieldCreate, data) == {"type"}


def test_hex_colors() -> None:
    assert refused(js.CommentLabelCreate, {"name": "x", "color": "#C62828"}) == {"color"}
    assert refused(js.TaskCreate, {**TASK, "color": "red"}) == {"color"}


def test_user_email_is_required_and_valid() -> None:
    base = {"username": "jdoe", "displayName": "John Doe"}
    assert refused(js.UserCreate, base) == {"email"}
    for bad in [
        "",
        "john",
        "john@",
        "@example.com",
        "john@@example.com",
        "john doe@example.com",
        "john@example",
        "a@" + "b" * 95 + ".com",
    ]:
        assert refused(js.UserCreate, {**base, "email": bad}) == {"email"}, bad
    assert js.UserCreate(**base, email="john.doe+help@mail.example.com").email


def test_username_characters() -> None:
    base = {"displayName": "John Doe", "email": "john@example.com"}
    assert refused(js.UserCreate, {**base, "username": "john doe"}) == {"username"}
    assert js.UserCreate(**base, username="john.doe@example.com").username


def test_comment_date_must_be_timezone_aware() -> None:
    assert refused(js.CommentCreate, {**COMMENT, "date": datetime(2024, 6, 10, 8)}) == {"date"}
    assert refused(js.CommentPatch, {"date": "2024-06-10T08:00:00"}) == {"date"}


def test_start_after_due_is_refused() -> None:
    with pytest.raises(ValidationError, match="start can not be greater than due"):
        js.TaskCreate(**TASK, start=date(2025, 3, 2), due=date(2025, 3, 1))


def test_percent_and_priority_ranges() -> None:
    assert refused(js.TaskPatch, {"percentComplete": 101}) == {"percentComplete"}
    assert refused(js.TaskPatch, {"priority": -1}) == {"priority"}


# ------------------------------------------------------------------------------ null and ids


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (js.TaskPatch, "title"),
        (js.TaskPatch, "progress"),
        (js.TaskPatch, "categories"),
        (js.TaskPatch, "tasklistId"),
        (js.CommentPatch, "text"),
        (js.CommentPatch, "labels"),
        (js.TaskListPatch, "name"),
        (js.ModulePatch, "permissions"),
    ],
)
def test_not_null_columns_refuse_none(model: type[js.WireInput], field: str) -> None:
    assert refused(model, {field: None}) == {field}


def test_module_permissions_refuse_null_entries() -> None:
    """``{"permissions": {"41": null}}`` wiped the whole map on the server (12)."""
    assert refused(js.ModulePatch, {"permissions": {"41": None}}) == {"permissions.41"}


def test_ids_refuse_booleans_and_empty_strings() -> None:
    for bad in (True, "", 1.5):
        paths = refused(js.TaskCreate, {**TASK, "tasklistId": bad})
        assert {path.split(".")[0] for path in paths} == {"tasklistId"}, bad
    assert refused(js.TaskPatch, {"responsibleUserId": ""}) == {"responsibleUserId"}


def test_comment_needs_a_parent_type() -> None:
    with pytest.raises(ValidationError, match="entity"):
        js.CommentCreate(entityId="42", text="x")
    assert js.CommentCreate(entityTypeId=47, entityId="42", text="x").to_wire() == {
        "entityTypeId": "47",
        "entityId": "42",
        "text": "x",
    }


def test_comment_attachment_needs_sha1_blob_and_name() -> None:
    good = {"blobId": "ee146a924503546448d6c5254643f770110d4a00", "name": "notes.txt"}
    assert js.CommentCreate(**COMMENT, attachments=[good]).attachments
    assert refused(js.CommentCreate, {**COMMENT, "attachments": [{**good, "blobId": "x"}]}) == {
        "attachments.0.blobId"
    }
    assert refused(js.CommentCreate, {**COMMENT, "attachments": [{"blobId": good["blobId"]}]}) == {
        "attachments.0.name"
    }


def test_from_wire_rejects_a_reference_where_none_is_allowed() -> None:
    with pytest.raises(ValidationError):
        js.TaskCreate.from_wire({"tasklistId": "7", "#title": {"resultOf": "a", "path": "/x"}})
    with pytest.raises(ValueError, match="both"):
        js.TaskCreate.from_wire(
            {"tasklistId": "7", "#tasklistId": {"resultOf": "a", "path": "/x"}, "title": "t"}
        )
