"""Pydantic models of the Group-Office JMAP entities go-support uses.

Attribute names are the wire names, camelCase as the server spells them (``tasklistId``,
``customFields``, ``mimeMessageId``); there are no aliases.

* Read models (``Task``, ``Comment``, ...) parse server objects leniently:
  ``Task.model_validate(obj)``. Ids become ``str``, unknown keys are kept.
* Write models (``TaskCreate``, ``TaskPatch``, ...) are strict; ``to_wire()`` gives the JSON
  object to put in a ``*/set`` call, with only the fields that were set.
* Every model has a ``ClassVar`` ``entity_name`` (``"Task"``) naming its JMAP entity.
"""

from __future__ import annotations

from .comments import (
    Comment,
    CommentAttachment,
    CommentAttachmentInput,
    CommentCreate,
    CommentLabel,
    CommentLabelCreate,
    CommentPatch,
)
from .common import (
    AclLevel,
    Id,
    MailStatus,
    Progress,
    RefId,
    ResultReference,
    ServerObject,
    ServerPart,
    TaskListRole,
    WireInput,
    WirePart,
    loose_id_equal,
)
from .customfields import Field, FieldCreate, FieldSet, FieldSetCreate, FieldType
from .modules import (
    Key,
    KeyCreate,
    KeyPatch,
    Module,
    ModulePatch,
    ModulePermission,
    ModulePermissionInput,
)
from .principals import (
    ADMINS_GROUP_ID,
    EVERYONE_GROUP_ID,
    INTERNAL_GROUP_ID,
    Group,
    Principal,
    User,
    UserCreate,
)
from .tasks import (
    Task,
    TaskAlert,
    TaskCategory,
    TaskCategoryCreate,
    TaskCategoryPatch,
    TaskCreate,
    TaskList,
    TaskListCreate,
    TaskListGroup,
    TaskListGrouping,
    TaskListGroupingCreate,
    TaskListGroupingPatch,
    TaskListGroupInput,
    TaskListPatch,
    TaskPatch,
)

ENTITY_MODELS: dict[str, type[ServerObject]] = {
    model.entity_name: model
    for model in (
        Task,
        TaskList,
        TaskListGrouping,
        TaskCategory,
        Comment,
        CommentLabel,
        FieldSet,
        Field,
        User,
        Group,
        Principal,
        Module,
        Key,
    )
}
"""Read model per JMAP entity name, e.g. ``ENTITY_MODELS["Task"] is Task``."""

__all__ = [
    "ADMINS_GROUP_ID",
    "ENTITY_MODELS",
    "EVERYONE_GROUP_ID",
    "INTERNAL_GROUP_ID",
    "AclLevel",
    "Comment",
    "CommentAttachment",
    "CommentAttachmentInput",
    "CommentCreate",
    "CommentLabel",
    "CommentLabelCreate",
    "CommentPatch",
    "Field",
    "FieldCreate",
    "FieldSet",
    "FieldSetCreate",
    "FieldType",
    "Group",
    "Id",
    "Key",
    "KeyCreate",
    "KeyPatch",
    "MailStatus",
    "Module",
    "ModulePatch",
    "ModulePermission",
    "ModulePermissionInput",
    "Principal",
    "Progress",
    "RefId",
    "ResultReference",
    "ServerObject",
    "ServerPart",
    "Task",
    "TaskAlert",
    "TaskCategory",
    "TaskCategoryCreate",
    "TaskCategoryPatch",
    "TaskCreate",
    "TaskList",
    "TaskListCreate",
    "TaskListGroup",
    "TaskListGroupInput",
    "TaskListGrouping",
    "TaskListGroupingCreate",
    "TaskListGroupingPatch",
    "TaskListPatch",
    "TaskListRole",
    "TaskPatch",
    "User",
    "UserCreate",
    "WireInput",
    "WirePart",
    "loose_id_equal",
]
