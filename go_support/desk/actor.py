"""Who acts: the actor as Group-Office knows them, and their levels on the types' lists."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from go_support.desk.convert import is_id, str_or_none, user_label
from go_support.desk.errors import UnknownUser
from go_support.desk.models import Person
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.results import GetResult

READ, CREATE, WRITE, DELETE, MANAGE = 10, 20, 30, 40, 50
AGENT_LEVEL = WRITE
ACTOR_PROPERTIES = ["id", "displayName", "email", "groups", "isAdmin", "enabled"]


class ActorMode(enum.Enum):
    """How much of the actor a read needs, besides its work."""

    NONE = "none"  # nothing: the work does not depend on who acts
    LEVELS = "levels"  # the actor's groups (levels on the types' lists)
    FULL = "full"  # the groups' names too (managers and customers are named groups)


@dataclass(frozen=True)
class ActorInfo:
    """The user the desk acts for, as Group-Office knows them."""

    id: str
    name: str | None
    email: str | None
    group_ids: frozenset[str]
    group_names: frozenset[str] | None
    is_admin: bool
    enabled: bool = True

    @property
    def person(self) -> Person:
        return Person(self.id, self.email, self.name)

    @property
    def label(self) -> str:
        """``user 12 (Alice)``: how an error names them."""
        return user_label(self.id, self.name)


@dataclass
class ActorCalls:
    user: Call
    groups: Call | None
    user_id: str


def add_actor(batch: Batch, user_id: str, *, with_group_names: bool) -> ActorCalls:
    user = batch.call("User/get", {"ids": [user_id], "properties": ACTOR_PROPERTIES})
    groups = None
    if with_group_names:
        groups = batch.call("Group/get", {"#ids": user.ref("/list/0/groups"),
                                          "properties": ["id", "name"]})
    return ActorCalls(user=user, groups=groups, user_id=user_id)


def parse_actor(responses: Responses, calls: ActorCalls) -> ActorInfo:
    found = GetResult.from_json(responses.get(calls.user)).objects
    if not found:
        raise UnknownUser(f"there is no user {calls.user_id} (or the API key's user cannot "
                          "read it)")
    user = found[0]
    group_names: frozenset[str] | None = None
    if calls.groups is not None:
        group_names = frozenset(
            str(g.get("name")) for g in GetResult.from_json(responses.get(calls.groups)).objects
            if g.get("name") is not None)
    group_ids = frozenset(str(g) for g in user.get("groups") or [])
    return ActorInfo(
        id=str(user["id"]),
        name=str_or_none(user.get("displayName")),
        email=str_or_none(user.get("email")),
        group_ids=group_ids,
        group_names=group_names,
        is_admin=bool(user.get("isAdmin")) or "1" in group_ids,
        enabled=user.get("enabled") is not False,
    )


def user_level(acl: Mapping[str, int], group_ids: Iterable[str], is_admin: bool) -> int:
    """A user's level on an ACL: admins 50, else the highest level of their groups."""
    if is_admin:
        return MANAGE
    groups = set(group_ids)
    return max((level for gid, level in acl.items() if gid in groups), default=0)


def in_groups(refs: Iterable[int | str], actor: ActorInfo) -> bool:
    """Whether the actor is in any of the groups (names or ids) of the settings."""
    names_ = actor.group_names or frozenset()
    for ref in refs:
        text = str(ref).strip()
        if isinstance(ref, int) or is_id(text):
            if text in actor.group_ids:
                return True
        elif text in names_:
            return True
    return False
