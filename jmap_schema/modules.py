"""Module (with its permissions and core settings) and Key (API keys); reference §9.2, §8.5."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from .common import (
    Id,
    NotNull,
    RefId,
    ServerDateTime,
    ServerObject,
    ServerPart,
    WireInput,
    WirePart,
)

__all__ = [
    "Key",
    "KeyCreate",
    "KeyPatch",
    "Module",
    "ModulePatch",
    "ModulePermission",
    "ModulePermissionInput",
]


# =========================================================================== read models


class ModulePermission(ServerPart):
    """One entry of ``Module.permissions``: the rights one group holds on a module.

    ``moduleId``/``groupId`` are JSON integers (12-modules-rights.json). Only granted rights
    appear; any entry at all means ``mayRead`` ("use").
    """

    rights: dict[str, bool] = {}
    moduleId: Id | None = None
    groupId: Id | None = None


class Module(ServerObject):
    """An installed module. ``package`` is ``None`` for legacy modules (12).

    With an explicit ``properties`` list, always ask for ``package`` and ``name``: without them
    ``settings`` reads ``None`` and ``rights`` ``[]`` (11, 12). Core settings such as
    ``allowRegistration`` are ``settings`` of the module ``core/core``; ``allowRegistration``
    reads ``""`` until first set (11): test it for truthiness.
    """

    entity_name = "Module"

    name: str | None = None
    package: str | None = None
    sort_order: int | None = None
    version: int | None = None
    enabled: bool | None = None
    permissions: dict[Id, ModulePermission] | None = None
    """Map relation keyed by group id; ``None`` means empty (12-modules-rights.json)."""
    userRights: dict[str, bool] | None = None
    """The caller's rights, e.g. ``{"mayRead": true, "mayManage": false}``."""
    rights: list[str] = []
    """The right names the module knows (besides ``mayRead``)."""
    settings: dict[str, Any] | None = None
    entities: dict[str, Any] | None = None
    title: str | None = None
    icon: str | None = None
    localizedPackage: str | None = None
    shadowAclId: Id | None = None
    shadowAcl: dict[str, Any] | None = None
    checkDepencencies: bool | None = None
    """Spelled so by the server."""


class Key(ServerObject):
    """An API key. ``userId`` is a JSON integer (13-apikeys.json).

    ``accessToken`` is the Bearer token; a user who owns a key cannot be destroyed (11).
    """

    entity_name = "Key"

    name: str | None = None
    userId: Id | None = None
    accessToken: str | None = None
    createdAt: ServerDateTime | None = None


# =========================================================================== write models


class ModulePermissionInput(WirePart):
    """The rights to give one group, e.g. ``{"mayChangeTasklists": true}``; an entry grants use."""

    rights: dict[str, bool] = {}


class ModulePatch(WireInput):
    """An update of a module.

    ``permissions`` **replaces the whole map**: groups left out lose their rights, and a ``null``
    entry wipes every group (12-modules-rights.json). Send the complete map; ``None`` values are
    therefore refused. ``settings`` merges, and must be sent in object form (11).
    """

    entity_name = "Module"

    permissions: Annotated[dict[RefId, ModulePermissionInput] | None, NotNull] = None
    settings: Annotated[dict[str, Any] | None, NotNull] = None
    enabled: Annotated[bool | None, NotNull] = None


class KeyCreate(WireInput):
    """A new API key; ``name`` is required (code 1, 13). An admin may set ``userId`` (11)."""

    entity_name = "Key"

    name: Annotated[str, StringConstraints(min_length=1)]
    userId: Annotated[RefId | None, NotNull] = None


class KeyPatch(WireInput):
    """A rename of an API key (13-apikeys.json)."""

    entity_name = "Key"

    name: Annotated[Annotated[str, StringConstraints(min_length=1)] | None, NotNull] = None
