"""Shared building blocks: the id type, enums, date/time and value types, the base classes.

Two families of models live in this package:

* **read models** (:class:`ServerObject` subclasses) parse what Group-Office sends. They are
  lenient: ids may be JSON integers or strings, unknown keys are kept, every property is
  optional because ``*/get`` may be asked for a subset of properties;
* **write models** (:class:`WireInput` subclasses, ``*Create`` / ``*Patch``) describe what we
  send. They are strict (``extra="forbid"``, enums and lengths checked) because the server
  silently ignores several bad values instead of rejecting them (groupoffice-wire/08, 04).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
)

__all__ = [
    "AclLevel",
    "AwareDateTime",
    "CustomFields",
    "DatabaseName",
    "HexColor",
    "Id",
    "LooseObject",
    "MailStatus",
    "NotNull",
    "Progress",
    "RefId",
    "ResultReference",
    "ServerDateTime",
    "ServerObject",
    "ServerPart",
    "TaskListRole",
    "WireInput",
    "WirePart",
    "WritableRole",
    "loose_id_equal",
]


# --------------------------------------------------------------------------- enums


class Progress(StrEnum):
    """``Task.progress``. The API says ``in-progress``, not RFC 5545's ``in-process``.

    Any other string is silently ignored by the server (groupoffice-wire/08-task-lifecycle.json),
    so write models refuse it.
    """

    NEEDS_ACTION = "needs-action"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TaskListRole(StrEnum):
    """Role of a TaskList, TaskCategory or TaskListGrouping.

    ``support`` exists and may be *read*, but tasks in a support list are invisible to the
    community Task entity (groupoffice-wire/04-tasklist.json), so write models refuse it.
    """

    LIST = "list"
    BOARD = "board"
    PROJECT = "project"
    SUPPORT = "support"


class MailStatus(StrEnum):
    """``Comment.mailStatus``; the server checks this enum column for real (code 2, 09)."""

    RECEIVED = "received"
    PENDING = "pending"
    SENT = "sent"
    SENDERROR = "senderror"


class AclLevel(IntEnum):
    """Group-Office ACL levels (§9.1).

    ``permissionLevel`` may also be 0 (no access), so read models keep it an ``int``.
    """

    READ = 10
    CREATE = 20
    WRITE = 30
    DELETE = 40
    MANAGE = 50


# --------------------------------------------------------------------------- ids


def _coerce_id(value: object) -> object:
    """Ints become strings; the server mixes both for the same property (README surprise 22)."""
    if isinstance(value, bool):
        raise ValueError("an id must be a string or an integer, not a boolean")
    if isinstance(value, int):
        return str(value)
    return value


Id = Annotated[str, BeforeValidator(_coerce_id)]
"""An id as read from the server: JSON string or integer, always normalised to ``str``.

Principal ids may look like ``"Contact:34"`` (11-users.json), so no digit check.
"""

RefId = Annotated[str, BeforeValidator(_coerce_id), StringConstraints(min_length=1)]
"""An id we send: ``int`` or non-empty ``str`` accepted, always emitted as a string."""


def loose_id_equal(a: object, b: object) -> bool:
    """Compare two ids the way the server's mixed types require (``1 == "1"``)."""
    if a is None or b is None:
        return a is b
    return str(a) == str(b)


# --------------------------------------------------------------------------- dates


def _format_datetime(value: datetime) -> str:
    """The server's DATETIME format: UTC, seconds, ``+00:00`` (not pydantic's ``Z``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _assume_utc(value: datetime) -> datetime:
    # The server always sends an offset (08, 09); should one ever be missing, it is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


ServerDateTime = Annotated[
    datetime,
    AfterValidator(_assume_utc),
    PlainSerializer(_format_datetime, return_type=str, when_used="json"),
]
"""A DATETIME read from the server: always timezone-aware after parsing."""

AwareDateTime = Annotated[
    AwareDatetime,
    PlainSerializer(_format_datetime, return_type=str, when_used="json"),
]
"""A DATETIME we send: must carry a timezone; emitted in UTC as ``2024-06-10T08:00:00+00:00``."""

# --------------------------------------------------------------------------- value types


def _empty_list_to_dict(value: object) -> object:
    """PHP serialises an empty assoc array as ``[]`` (User ``customFields``, 11-users.json)."""
    if isinstance(value, list) and not value:
        return {}
    return value


LooseObject = Annotated[dict[str, Any], BeforeValidator(_empty_list_to_dict)]
"""A JSON object the server may send as ``[]`` when empty (Field ``options``, 07)."""

CustomFields = LooseObject
"""``customFields`` keyed by ``databaseName``; ``[]`` from the server becomes ``{}``."""

DatabaseName = Annotated[
    str, StringConstraints(min_length=1, max_length=190, pattern=r"^[A-Za-z0-9_]+$")
]
"""A custom field's ``databaseName``: ``[A-Za-z0-9_]+``, at most 190 characters (§7.2)."""

HexColor = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{6}$")]
"""Six hex digits without ``#`` (Task, TaskList, CommentLabel ``color``)."""


def _reject_null(value: object) -> object:
    if value is None:
        raise ValueError("may be left out, but not null: the server column is NOT NULL")
    return value


NotNull = BeforeValidator(_reject_null)
"""Marker for optional-but-not-nullable patch fields: ``Annotated[str | None, NotNull] = None``."""


def _not_support(value: TaskListRole) -> TaskListRole:
    if value is TaskListRole.SUPPORT:
        raise ValueError(
            "role 'support' is refused: tasks in such lists are invisible to the community "
            "Task entity (groupoffice-wire/04-tasklist.json); use 'list'"
        )
    return value


WritableRole = Annotated[TaskListRole, AfterValidator(_not_support)]
"""A role we may send: ``list``, ``board`` or ``project``."""


def ascii_only(value: str) -> str:
    """Validator for ASCII-only columns (``mimeMessageId``)."""
    if not value.isascii():
        raise ValueError("must be ASCII")
    return value


# --------------------------------------------------------------------------- base classes


class ServerPart(BaseModel):
    """A nested object read from the server (board column, attachment, module permission).

    Unknown keys are kept so that a newer server does not break us. Like every model here,
    its validator is built when first used, not on import (a command starts faster).
    """

    model_config = ConfigDict(extra="allow", defer_build=True)


class ServerObject(ServerPart):
    """A Group-Office entity as returned by ``*/get`` or in ``*/set`` ``created``.

    ``id`` is the only required property: every recorded object carries it (every recorded
    ``properties`` list asked for it, so always include ``"id"``). Every other property defaults
    to the server's default; use ``model_fields_set`` to tell what the server actually sent
    (it also lists unknown keys, which land in ``model_extra``).
    """

    entity_name: ClassVar[str]
    """The JMAP entity name, e.g. ``"Task"``: methods are ``f"{entity_name}/get"`` and so on."""

    id: Id
    permissionLevel: int | None = None
    """The caller's effective level (10..50, or 0 for a module without access); read-only."""


class ResultReference(BaseModel):
    """A JMAP result reference. A field holding one is sent as ``"#field": {...}``.

    Group-Office resolves them inside ``create`` entries (09-comments.json,
    14-result-references.json); ``name`` is optional there. RFC-style ``"#creationId"``
    values do not work (14).
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    resultOf: str
    path: str
    name: str | None = None


class WirePart(BaseModel):
    """Base of everything we send, nested parts included.

    Strict: unknown properties are refused (the server would fail the whole call with
    ``invalidArgumentException``, 03-errors.json), assignments are validated too.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        """Validate an object in wire form, the inverse of :meth:`to_wire`.

        A ``"#field"`` key holds a result reference for ``field``.
        """
        plain: dict[str, Any] = {}
        for key, value in data.items():
            name = key.removeprefix("#")
            if name in plain:
                raise ValueError(f"both {name!r} and '#{name}' given")
            plain[name] = ResultReference.model_validate(value) if key != name else value
        model = cls.model_validate(plain)
        for key in data:
            name = key.removeprefix("#")
            if key != name and not isinstance(getattr(model, name), ResultReference):
                raise ValueError(f"{name!r} does not take a result reference")
        return model

    def to_wire(self) -> dict[str, Any]:
        """The JSON object to put in ``create``/``update``: only the fields that were set.

        Explicit ``None`` is kept (it means "clear" or, for TaskCategory ``ownerId``, "global");
        ids are strings, dates ``YYYY-MM-DD``, datetimes ISO 8601 in UTC with ``+00:00``.
        A :class:`ResultReference` value is emitted under ``"#<field>"``.
        """
        dumped = self.model_dump(mode="json", exclude_unset=True, exclude_none=False)
        wire: dict[str, Any] = {}
        for key, value in dumped.items():
            if isinstance(getattr(self, key), ResultReference):
                wire["#" + key] = value
            else:
                wire[key] = value
        return wire


class WireInput(WirePart):
    """Base of every ``*Create`` / ``*Patch`` model: one object of a ``*/set`` call."""

    entity_name: ClassVar[str]
    """The entity whose ``/set`` takes this object, e.g. ``"Task"`` for ``Task/set``."""


# Patterns shared by several modules.
EMAIL_RE = re.compile(
    r"^(?=.{3,100}$)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$"
)
