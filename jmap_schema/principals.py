"""User, Group and Principal (reference §8)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints
from pydantic import Field as _F

from .common import (
    EMAIL_RE,
    CustomFields,
    DatabaseName,
    Id,
    NotNull,
    RefId,
    ServerDateTime,
    ServerObject,
    WireInput,
)

__all__ = [
    "ADMINS_GROUP_ID",
    "EVERYONE_GROUP_ID",
    "INTERNAL_GROUP_ID",
    "Group",
    "Principal",
    "User",
    "UserCreate",
]

# Fixed group ids (11-users.json).
ADMINS_GROUP_ID = "1"
EVERYONE_GROUP_ID = "2"
INTERNAL_GROUP_ID = "3"


def _valid_email(value: str) -> str:
    if not EMAIL_RE.match(value):
        raise ValueError("not a valid e-mail address (at most 100 characters)")
    return value


Email = Annotated[str, AfterValidator(_valid_email)]
"""An address the server will take: ``local@domain.tld``, at most 100 characters (§8.1)."""
Username = Annotated[
    str, StringConstraints(min_length=1, max_length=190, pattern=r"^[A-Za-z0-9_\-.@]+$")
]
"""Letters, digits and ``_-.@`` only (the server's intent; its own check is unanchored)."""
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=190)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=255)]


# =========================================================================== read models


class Group(ServerObject):
    """A group. Admins = 1, Everyone = 2, Internal = 3; ``users`` ids are strings (11)."""

    entity_name = "Group"

    name: str | None = None
    isUserGroupFor: Id | None = None
    """The user id for a personal group, else ``None``."""
    createdBy: Id | None = None
    users: list[Id] = []
    acl: dict[Id, int] = {}


class User(ServerObject):
    """A user. Only the properties the help desk uses are declared; the many display
    preferences the server sends are kept as extra attributes.

    ``customFields`` is ``[]`` when no field exists (11) and becomes ``{}``. ``groups`` may even
    mix integers and strings in a ``created`` result (``["3", 2, "36"]``, 11): all become strings.
    ``password`` always reads back ``null``. ``User/query`` ``{"email": ...}`` matches the whole
    address, case-insensitively; a prefix finds nothing (18).
    """

    entity_name = "User"

    username: str | None = None
    displayName: str | None = None
    email: str | None = None
    recoveryEmail: str | None = None
    enabled: bool = True
    isAdmin: bool | None = None
    groups: list[Id] = []
    personalGroup: Group | None = None
    avatarId: str | None = None
    timezone: str | None = None
    dateFormat: str | None = None
    timeFormat: str | None = None
    language: str | None = None
    createdAt: ServerDateTime | None = None
    modifiedAt: ServerDateTime | None = None
    lastLogin: ServerDateTime | None = None
    loginCount: int | None = None
    forcePasswordChange: bool | None = None
    emailAliases: list[str] = []
    authenticators: list[str] = []
    """``["password"]``, or ``[]`` for a user created without a password (11)."""
    profile: dict[str, Any] | None = None
    """The linked Contact; its ``emailAddresses`` lists the address twice (11)."""
    tasksSettings: dict[str, Any] | None = None
    customFields: CustomFields = {}


class Principal(ServerObject):
    """A principal: users (id = user id) and others (id like ``"Contact:34"``, 11).

    ``Principal/query`` with ``email`` finds users and contacts with that address.
    """

    entity_name = "Principal"

    type: str | None = None
    """``individual``, ``group``, ``resource``, ``location`` or ``other``."""
    name: str | None = None
    email: str | None = None
    description: str | None = None
    """The username, for users."""
    timeZone: str | None = None
    avatarId: str | None = None
    emailAliases: list[str] = []
    acl: dict[Id, int] = {}


# =========================================================================== write models


class UserCreate(WireInput):
    """A new user; needs the core right ``mayChangeUsers``.

    ``email`` is required here: without it the server fails the whole call with a PHP
    ``type: "error"`` (11-users.json). The server also requires it to be unique (code 11).
    ``password`` is optional (such a user cannot log in with a password); its minimum length is
    the server's ``passwordMinLength`` setting (default 6), checked by the server.
    """

    entity_name = "User"

    username: Username
    displayName: DisplayName
    email: Email
    recoveryEmail: Annotated[Email | None, NotNull] = None
    password: Annotated[Password | None, NotNull, _F(repr=False)] = None
    enabled: bool = True
    groups: list[RefId] = []
    """Everyone (2) and the server's default groups are always added (11)."""
    timezone: Annotated[str | None, NotNull] = None
    language: Annotated[str | None, NotNull] = None
    customFields: dict[DatabaseName, Any] = {}
