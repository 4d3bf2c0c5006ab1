"""Task, TaskList (with its board columns), TaskListGrouping and TaskCategory.

Reference: groupoffice-entities.md §1-§3; the corpus wins where they differ.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Self

from pydantic import Field, StringConstraints, model_validator

from .common import (
    AclLevel,
    CustomFields,
    DatabaseName,
    HexColor,
    Id,
    NotNull,
    Progress,
    RefId,
    ResultReference,
    ServerDateTime,
    ServerObject,
    ServerPart,
    TaskListRole,
    WireInput,
    WirePart,
    WritableRole,
)

__all__ = [
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
    "TaskPatch",
]

Title = Annotated[str, StringConstraints(max_length=255)]
"""Required on create by presence only: Group-Office accepts ``""`` on create and update (17)."""
ListName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ListDescription = Annotated[str, StringConstraints(max_length=255)]
Percent = Annotated[int, Field(ge=0, le=100)]
Priority = Annotated[int, Field(ge=0, le=9)]
"""0 normal, 1 high, 9 low (RFC 5545 range); the server does not check it."""
Seconds = Annotated[int, Field(ge=0)]


# =========================================================================== read models


class TaskAlert(ServerPart):
    """One entry of ``Task.alerts`` (a per-user reminder), §1.8."""

    id: Id | None = None
    acknowledged: ServerDateTime | None = None
    relatedTo: Any = None
    action: str | None = None
    trigger: dict[str, Any] | None = None


class Task(ServerObject):
    """A task: a ticket of the help desk (§1).

    ``createdBy`` arrives as a JSON string, unlike TaskList's (08-task-lifecycle.json).
    ``alerts`` and ``group`` are map relations, ``null`` when empty (08).
    """

    entity_name = "Task"

    uid: str | None = None
    uri: str | None = None
    tasklistId: Id | None = None
    responsibleUserId: Id | None = None
    """``None`` means unassigned."""
    groupId: Id | None = None
    """Board column (``TaskList.groups[].id``)."""
    group: dict[str, Any] | None = None
    projectId: Id | None = None
    mileStoneId: Id | None = None
    createdBy: Id | None = None
    createdAt: ServerDateTime | None = None
    modifiedBy: Id | None = None
    modifiedAt: ServerDateTime | None = None
    filesFolderId: Id | None = None
    due: date | None = None
    start: date | None = None
    startTime: str | None = None
    estimatedDuration: int | None = None
    progress: Progress = Progress.NEEDS_ACTION
    progressUpdated: ServerDateTime | None = None
    percentComplete: int = 0
    priority: int = 0
    title: str | None = None
    description: str | None = None
    location: str | None = None
    categories: list[Id] = []
    """TaskCategory ids, read back as strings (06-taskcategory.json)."""
    color: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    recurrenceRule: dict[str, Any] | None = None
    freeBusyStatus: str = "free"
    privacy: str = "public"
    vcalendarBlobId: str | None = None
    alerts: dict[Id, TaskAlert] | None = None
    """Map relation: ``None`` means no alerts (08-task-lifecycle.json)."""
    timeBooked: int | None = None
    customFields: CustomFields = {}


class TaskListGroup(ServerPart):
    """A board column, element of ``TaskList.groups``. Its ``id`` is a JSON integer (§2)."""

    id: Id | None = None
    tasklistId: Id | None = None
    name: str | None = None
    color: str | None = None
    sortOrder: int | None = None
    progressChange: Progress | None = None
    """A hint for clients; the server never applies it."""


class TaskList(ServerObject):
    """A task list; in the help desk, a ticket type (role ``list``).

    ``createdBy``, ``aclId`` and ``groupingId`` are JSON integers (04-tasklist.json,
    05-tasklistgrouping.json); they are normalised to strings here.
    """

    entity_name = "TaskList"

    name: str | None = None
    description: str | None = None
    role: TaskListRole = TaskListRole.LIST
    aclId: Id | None = None
    acl: dict[Id, int] = {}
    """``{groupId: level}``; compare levels with :class:`AclLevel`."""
    createdBy: Id | None = None
    color: str | None = None
    sortOrder: int | None = None
    isVisible: bool | None = None
    isSubscribed: bool | None = None
    syncToDevice: bool | None = None
    groups: list[TaskListGroup] = []
    projectId: Id | None = None
    groupingId: Id | None = None


class TaskListGrouping(ServerObject):
    """Groups task lists in the UI; ``go-support install`` creates "Support" (05)."""

    entity_name = "TaskListGrouping"

    name: str | None = None
    role: TaskListRole = TaskListRole.LIST


class TaskCategory(ServerObject):
    """A task category (PHP ``Category``); it has no ``color`` (06-taskcategory.json).

    ``ownerId`` is ``"1"`` in ``created`` but ``1`` in ``get``; ``tasklistId`` is an integer (06).
    Global: both ``None``; per list: ``tasklistId`` set; personal: only ``ownerId`` set.
    """

    entity_name = "TaskCategory"

    name: str | None = None
    ownerId: Id | None = None
    tasklistId: Id | None = None
    role: TaskListRole = TaskListRole.LIST


# =========================================================================== write models


def _check_start_before_due(start: date | None, due: date | None) -> None:
    if start is not None and due is not None and start > due:
        raise ValueError("start can not be greater than due (server code 10)")


class TaskCreate(WireInput):
    """A new task. Defaults are the server's and are not sent unless set.

    ``progress`` must be one of the five strings: the server would silently store
    ``needs-action`` instead of a bad value (08-task-lifecycle.json). There is no
    ``createdAt``: the server ignores it and creates the task now, so a migrated ticket
    cannot keep its original creation time there (18); ``start`` and ``due`` are kept.
    """

    entity_name = "Task"

    tasklistId: RefId | ResultReference
    title: Title
    description: str | None = None
    responsibleUserId: RefId | None = None
    progress: Progress = Progress.NEEDS_ACTION
    percentComplete: Percent = 0
    priority: Priority = 0
    due: date | None = None
    start: date | None = None
    categories: list[RefId] = []
    customFields: dict[DatabaseName, Any] = {}
    color: HexColor | None = None
    location: str | None = None
    groupId: RefId | None = None
    estimatedDuration: Seconds | None = None

    @model_validator(mode="after")
    def _start_before_due(self) -> Self:
        _check_start_before_due(self.start, self.due)
        return self


class TaskPatch(WireInput):
    """An update of a task. Fields left out are not touched; ``None`` clears nullable fields.

    Beware (08, 17): changing ``responsibleUserId`` resets ``progress`` to ``needs-action``
    unless the same patch changes ``progress`` to another value; a patch that repeats the
    current progress does not keep it. To assign and set a progress reliably, send them in two
    ``Task/set`` calls of one request. ``customFields`` merge.
    """

    entity_name = "Task"

    tasklistId: Annotated[RefId | None, NotNull] = None
    title: Annotated[Title | None, NotNull] = None
    description: str | None = None
    responsibleUserId: RefId | None = None
    progress: Annotated[Progress | None, NotNull] = None
    percentComplete: Annotated[Percent | None, NotNull] = None
    priority: Annotated[Priority | None, NotNull] = None
    due: date | None = None
    start: date | None = None
    categories: Annotated[list[RefId] | None, NotNull] = None
    customFields: Annotated[dict[DatabaseName, Any] | None, NotNull] = None
    color: HexColor | None = None
    location: str | None = None
    groupId: RefId | None = None
    estimatedDuration: Seconds | None = None

    @model_validator(mode="after")
    def _start_before_due(self) -> Self:
        _check_start_before_due(self.start, self.due)
        return self


class TaskListGroupInput(WirePart):
    """A board column to send in ``TaskList.groups``.

    ``groups`` is an array relation: columns with an ``id`` are patched, columns without one are
    created, columns left out are deleted. Send the ids of the columns you keep.
    """

    id: Annotated[RefId | None, NotNull] = None
    name: ListName
    color: HexColor | None = None
    progressChange: Progress | None = None


class TaskListCreate(WireInput):
    """A new task list. ``role`` ``support`` is refused (tasks in it vanish, 04-tasklist.json);
    the server would store any other unknown role as ``list`` without an error (04).
    """

    entity_name = "TaskList"

    name: ListName
    description: ListDescription | None = None
    role: WritableRole = TaskListRole.LIST
    color: HexColor | None = None
    acl: dict[RefId, AclLevel] = {}
    createdBy: RefId | None = None
    """Writable on TaskList only: the owner."""
    groupingId: RefId | ResultReference | None = None
    groups: list[TaskListGroupInput] = []
    isSubscribed: bool = True
    isVisible: bool = True
    syncToDevice: bool = False
    sortOrder: int | None = None


class TaskListPatch(WireInput):
    """An update of a task list. ``acl`` merges; a group mapped to ``None`` loses access (04)."""

    entity_name = "TaskList"

    name: Annotated[ListName | None, NotNull] = None
    description: ListDescription | None = None
    role: Annotated[WritableRole | None, NotNull] = None
    color: HexColor | None = None
    acl: Annotated[dict[RefId, AclLevel | None] | None, NotNull] = None
    createdBy: Annotated[RefId | None, NotNull] = None
    groupingId: RefId | ResultReference | None = None
    groups: Annotated[list[TaskListGroupInput] | None, NotNull] = None
    isSubscribed: Annotated[bool | None, NotNull] = None
    isVisible: Annotated[bool | None, NotNull] = None
    syncToDevice: Annotated[bool | None, NotNull] = None
    sortOrder: int | None = None


class TaskListGroupingCreate(WireInput):
    """A new task-list grouping (05-tasklistgrouping.json)."""

    entity_name = "TaskListGrouping"

    name: Annotated[str, StringConstraints(min_length=1)]
    role: WritableRole = TaskListRole.LIST


class TaskCategoryCreate(WireInput):
    """A new category. There is no ``color``: the server fails the whole call (06).

    Leave ``ownerId`` out for a personal category of the caller; set it to ``None`` explicitly
    for a global one (06-taskcategory.json). ``tasklistId`` makes it a per-list category.
    """

    entity_name = "TaskCategory"

    name: Title
    ownerId: RefId | None = None
    tasklistId: RefId | ResultReference | None = None
    role: WritableRole = TaskListRole.LIST


class TaskListGroupingPatch(WireInput):
    """An update of a task-list grouping (a rename, 05-tasklistgrouping.json)."""

    entity_name = "TaskListGrouping"

    name: Annotated[Annotated[str, StringConstraints(min_length=1)] | None, NotNull] = None
    role: Annotated[WritableRole | None, NotNull] = None


class TaskCategoryPatch(WireInput):
    """An update of a category; still no ``color`` (06)."""

    entity_name = "TaskCategory"

    name: Annotated[Title | None, NotNull] = None
    ownerId: RefId | None = None
    tasklistId: RefId | None = None
    role: Annotated[WritableRole | None, NotNull] = None
