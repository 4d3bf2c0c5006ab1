"""FieldSet and Field: custom fields (reference §7). Values travel in ``customFields``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field as _F
from pydantic import StringConstraints

from .common import (
    AclLevel,
    DatabaseName,
    Id,
    LooseObject,
    RefId,
    ResultReference,
    ServerDateTime,
    ServerObject,
    WireInput,
)

__all__ = [
    "Field",
    "FieldCreate",
    "FieldSet",
    "FieldSetCreate",
    "FieldType",
]


class FieldType(StrEnum):
    """Custom field type names (the PHP class short names, §7.2).

    The server turns an unknown name into ``Text`` without an error, so write models refuse it.
    ``Contact``/``MultiContact`` need the addressbook module and ``File`` the files module.
    """

    TEXT = "Text"
    TEXT_AREA = "TextArea"
    HTML = "Html"
    NUMBER = "Number"
    CHECKBOX = "Checkbox"
    YES_NO = "YesNo"
    SELECT = "Select"
    MULTI_SELECT = "MultiSelect"
    DATE = "Date"
    DATE_TIME = "DateTime"
    USER = "User"
    ATTACHMENTS = "Attachments"
    DATA = "Data"
    ENCRYPTED_TEXT = "EncryptedText"
    FUNCTION_FIELD = "FunctionField"
    GROUP = "Group"
    NOTES = "Notes"
    TEMPLATE_FIELD = "TemplateField"
    CONTACT = "Contact"
    MULTI_CONTACT = "MultiContact"
    FILE = "File"


# =========================================================================== read models


class FieldSet(ServerObject):
    """A set of custom fields for one entity (``entity`` is a client name such as ``"Task"``).

    Without an explicit ``acl``, a new set copied the default ACL ``{"2": 30}`` (07).
    """

    entity_name = "FieldSet"

    name: str | None = None
    description: str | None = None
    entity: str | None = None
    sortOrder: int | None = None
    parentFieldSetId: Id | None = None
    isTab: bool = False
    collapseIfEmpty: bool = False
    columns: int = 2
    filter: LooseObject = {}
    acl: dict[Id, int] = {}


class Field(ServerObject):
    """A custom field. Its ``databaseName`` is the key in ``customFields`` and a Task/query
    filter name (07-customfields.json). ``type`` stays a plain string when reading.
    """

    entity_name = "Field"

    fieldSetId: Id | None = None
    name: str | None = None
    databaseName: str | None = None
    type: str | None = None
    options: LooseObject = {}
    """Type-specific options, e.g. Text ``{"maxLength": 50}``; ``[]`` on the wire becomes ``{}``."""
    default: Any = None
    unique: bool = False
    required: bool = False
    """Not enforced by the server."""
    conditionallyRequired: bool = False
    conditionallyHidden: bool = False
    relatedFieldCondition: str | None = None
    hint: str | None = None
    prefix: str = ""
    suffix: str = ""
    hiddenInGrid: bool = True
    sortOrder: int | None = None
    dataType: LooseObject = {}
    customFieldRelations: list[Any] = []
    forceAlterTable: bool = False
    skipAlterTable: bool = False
    createdAt: ServerDateTime | None = None
    modifiedAt: ServerDateTime | None = None


# =========================================================================== write models


class FieldSetCreate(WireInput):
    """A new field set; needs the core right ``mayChangeCustomFields`` (12)."""

    entity_name = "FieldSet"

    name: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    entity: Annotated[str, StringConstraints(min_length=1)]
    """Client name of the target entity, e.g. ``"Task"``."""
    description: str | None = None
    sortOrder: int = 0
    parentFieldSetId: RefId | None = None
    isTab: bool = False
    collapseIfEmpty: bool = False
    columns: Annotated[int, _F(ge=1)] = 2
    filter: dict[str, Any] = {}
    acl: dict[RefId, AclLevel] = {}


class FieldCreate(WireInput):
    """A new custom field.

    Creating one resets every entity state on the server (``cannotCalculateChanges``, 07):
    re-sync afterwards. A bad value later fails the whole Task/set with raw SQL (07), so check
    values against ``options`` (e.g. Text ``maxLength``, default 190) before sending.
    """

    entity_name = "Field"

    fieldSetId: RefId | ResultReference
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    databaseName: DatabaseName
    type: FieldType
    options: dict[str, Any] = {}
    default: Any = None
    unique: bool = False
    required: bool = False
    hint: str | None = None
    prefix: str = ""
    suffix: str = ""
    hiddenInGrid: bool = True
    sortOrder: int = 0
    dataType: dict[str, Any] = {}
