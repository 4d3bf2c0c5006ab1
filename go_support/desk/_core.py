"""The machinery every desk manager shares: the layout, the actor, one-POST reads, writes.

See the package docstring (:mod:`go_support.desk`) for the design; this module implements it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from go_support.desk import layout as names
from go_support.desk.errors import (
    NotATicket,
    NotInstalled,
    PermissionDenied,
    UnknownType,
    UnknownUser,
)
from go_support.desk.models import (
    Attachment,
    Category,
    Message,
    Person,
    Status,
    Ticket,
    TicketType,
)
from go_support.errors import GoSupportError
from go_support.jmap import Batch, Call, GroupOfficeClient, Responses
from go_support.jmap.errors import MethodError, SetError, SetFailed
from go_support.jmap.results import GetResult, SetResult

if TYPE_CHECKING:
    from go_support.desk.config import DeskSettings

__all__ = ["ActorInfo", "DeskCore", "DeskLayout", "Shared", "is_disabled", "user_label"]

R = TypeVar("R")

READ, CREATE, WRITE, DELETE, MANAGE = 10, 20, 30, 40, 50
AGENT_LEVEL = WRITE

TYPE_PROPERTIES = ["id", "name", "description", "groupingId", "acl", "permissionLevel", "role"]
TASK_PROPERTIES = [
    "id", "tasklistId", "title", "progress", "responsibleUserId", "categories", "createdAt",
    "modifiedAt", "createdBy", "customFields", "percentComplete",
]
COMMENT_PROPERTIES = [
    "id", "entityId", "text", "date", "createdBy", "labels", "attachments", "mailStatus",
    "mimeMessageId", "section",
]
USER_PROPERTIES = ["id", "displayName", "email"]
ACTOR_PROPERTIES = ["id", "displayName", "email", "groups", "isAdmin", "enabled"]
MESSAGES_PER_CALL = 100  # maxObjectsInGet

#: How long a layout is trusted without a check (a ``TaskList/get`` of the type lists in the
#: same request as the work). Zero: checked on every request.
VERIFY_AFTER = 0.0


def is_id(text: str) -> bool:
    """Whether ``text`` is an id: ASCII digits only (``"١٢"`` is no id, whatever ``int`` says)."""
    return text.isascii() and text.isdigit()


def like_exact(value: Any) -> str:
    """``value`` as a LIKE pattern that matches only itself.

    Group-Office hands text filters to MariaDB's ``LIKE`` as they are; its escape character is
    the backslash, so ``\\``, ``%`` and ``_`` are escaped (``a_b@x.org`` must not find
    ``axb@x.org``).
    """
    return (str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))


def same_id(a: Any, b: Any) -> bool:
    """Group-Office mixes string and integer ids (surprise 22)."""
    return a is not None and b is not None and str(a) == str(b)


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "" or value is False:
        return None
    return str(value)


# --- the layout --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskLayout:
    """The Group-Office objects the desk is made of, as found by one discovery request.

    ``key_levels`` holds the API key user's permission level on each type's list
    (``TaskList.permissionLevel``). ``tasklist_state`` is the ``TaskList`` state the layout
    was read at: while Group-Office still reports it, no list changed (ACL changes included).
    """

    grouping_id: str
    archive_grouping_id: str | None
    types: tuple[TicketType, ...]
    key_levels: Mapping[str, int]
    private_label_id: str
    tasklist_state: str | None
    loaded_at: float = field(default_factory=time.monotonic, compare=False)

    @property
    def active_types(self) -> tuple[TicketType, ...]:
        return tuple(t for t in self.types if not t.archived)

    @property
    def type_ids(self) -> list[str]:
        return [t.id for t in self.types]

    def by_id(self, type_id: Any) -> TicketType | None:
        return next((t for t in self.types if same_id(t.id, type_id)), None)

    def find(self, ref: Any) -> TicketType | None:
        """A type by id, by :class:`TicketType`, or by name (exact, then case-insensitive)."""
        if isinstance(ref, TicketType):
            return self.by_id(ref.id)
        if isinstance(ref, int) and not isinstance(ref, bool):
            return self.by_id(ref)
        if not isinstance(ref, str):
            return None
        text = ref.strip()
        exact = [t for t in self.types if t.name == text]
        if exact:
            return sorted(exact, key=lambda t: t.archived)[0]
        folded = [t for t in self.types if t.name.casefold() == text.casefold()]
        if folded:
            return sorted(folded, key=lambda t: t.archived)[0]
        if is_id(text):
            return self.by_id(text)
        return None

    def fingerprint(self) -> tuple[Any, ...]:
        """What decides which tickets exist and who sees them (not names or descriptions)."""
        return (
            self.grouping_id,
            self.archive_grouping_id,
            self.private_label_id,
            tuple(sorted((t.id, t.archived, tuple(sorted(t.acl.items()))) for t in self.types)),
            tuple(sorted(self.key_levels.items())),
        )


def _type_from_list(obj: Mapping[str, Any], archived: bool) -> TicketType:
    raw_acl = obj.get("acl")
    acl = {str(k): int(v) for k, v in raw_acl.items()} if isinstance(raw_acl, Mapping) else {}
    return TicketType(
        id=str(obj["id"]),
        name=str(obj.get("name") or ""),
        description=_str_or_none(obj.get("description")),
        archived=archived,
        acl=acl,
    )


@dataclass
class LayoutCalls:
    """The calls of a discovery (``verify`` False) or a check (``verify`` True)."""

    verify: bool
    lists: Call
    groupings: Call | None = None
    labels: Call | None = None
    fields: Call | None = None


def add_discovery(batch: Batch) -> LayoutCalls:
    return LayoutCalls(
        verify=False,
        groupings=batch.call("TaskListGrouping/get", {"ids": None}),
        lists=batch.call("TaskList/get", {"ids": None, "properties": TYPE_PROPERTIES}),
        labels=batch.call("CommentLabel/get", {"ids": None}),
        fields=batch.call("Field/get", {"ids": None,
                                        "properties": ["id", "databaseName", "fieldSetId"]}),
    )


def add_verification(batch: Batch, layout: DeskLayout) -> LayoutCalls:
    return LayoutCalls(
        verify=True,
        lists=batch.call("TaskList/get", {"ids": layout.type_ids,
                                          "properties": TYPE_PROPERTIES}),
        labels=batch.call("CommentLabel/get", {"ids": [layout.private_label_id],
                                               "properties": ["id", "name"]}),
    )


def _named(objects: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    found = [o for o in objects if o.get("name") == name]
    return sorted(found, key=lambda o: int(str(o.get("id"))) if str(o.get("id")).isdigit() else 0)


def parse_discovery(responses: Responses, calls: LayoutCalls) -> DeskLayout:
    assert calls.groupings is not None and calls.labels is not None and calls.fields is not None
    groupings = GetResult.from_json(responses.get(calls.groupings)).objects
    lists = GetResult.from_json(responses.get(calls.lists))
    labels = GetResult.from_json(responses.get(calls.labels)).objects
    fields = GetResult.from_json(responses.get(calls.fields)).objects
    problems: list[str] = []

    support = _named(groupings, names.GROUPING_NAME)
    archive = _named(groupings, names.ARCHIVE_GROUPING_NAME)
    if not support:
        problems.append(f'the task-list grouping "{names.GROUPING_NAME}" is missing')
    elif len(support) > 1:
        problems.append(f'{len(support)} task-list groupings are named "{names.GROUPING_NAME}"')
    if len(archive) > 1:
        problems.append(
            f'{len(archive)} task-list groupings are named "{names.ARCHIVE_GROUPING_NAME}"')
    private = _named(labels, names.PRIVATE_LABEL_NAME)
    if not private:
        problems.append(f'the comment label "{names.PRIVATE_LABEL_NAME}" is missing')
    elif len(private) > 1:
        problems.append(f'{len(private)} comment labels are named "{names.PRIVATE_LABEL_NAME}"')
    present = {str(f.get("databaseName")) for f in fields}
    missing = [db for db in names.FIELDS if db not in present]
    if missing:
        problems.append(f"the custom fields {', '.join(missing)} are missing")
    if problems:
        raise NotInstalled(
            "Group-Office is not prepared for the help desk: " + "; ".join(problems)
            + ". Run `go-support install` (it reports conflicts it cannot resolve)")

    grouping_id = str(support[0]["id"])
    archive_id = str(archive[0]["id"]) if archive else None
    types: list[TicketType] = []
    levels: dict[str, int] = {}
    for obj in lists.objects:
        gid = obj.get("groupingId")
        if obj.get("role") == "support":
            continue  # tasks in support lists are invisible to Task (surprise 9)
        if same_id(gid, grouping_id) or (archive_id and same_id(gid, archive_id)):
            ticket_type = _type_from_list(obj, archived=not same_id(gid, grouping_id))
            types.append(ticket_type)
            levels[ticket_type.id] = int(obj.get("permissionLevel") or 0)
    types.sort(key=lambda t: (t.archived, t.name.casefold(), t.id))
    return DeskLayout(
        grouping_id=grouping_id,
        archive_grouping_id=archive_id,
        types=tuple(types),
        key_levels=levels,
        private_label_id=str(private[0]["id"]),
        tasklist_state=lists.state,
    )


def verification_holds(responses: Responses, calls: LayoutCalls, layout: DeskLayout) -> bool:
    """Whether the check in ``calls`` shows the layout unchanged."""
    try:
        lists = GetResult.from_json(responses.get(calls.lists))
        labels = GetResult.from_json(responses.get(calls.labels)) if calls.labels else None
    except MethodError:
        return False
    if lists.state is None or lists.state != layout.tasklist_state or lists.not_found:
        return False
    by_id = lists.by_id()
    for ticket_type in layout.types:
        obj = by_id.get(ticket_type.id)
        if obj is None:
            return False
        expected = layout.archive_grouping_id if ticket_type.archived else layout.grouping_id
        if not same_id(obj.get("groupingId"), expected):
            return False
        if int(obj.get("permissionLevel") or 0) != layout.key_levels.get(ticket_type.id, 0):
            return False  # the key user's groups changed (the list state does not show that)
    if labels is not None:
        label = labels.by_id().get(layout.private_label_id)
        if label is None or label.get("name") != names.PRIVATE_LABEL_NAME:
            return False
    return True


# --- the actor -----------------------------------------------------------------------------


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


def user_label(user_id: Any, name: Any = None) -> str:
    """``user 12 (Alice)``, or ``user 12`` without a display name."""
    shown = _str_or_none(name)
    return f"user {user_id} ({shown})" if shown else f"user {user_id}"


def is_disabled(user: Mapping[str, Any]) -> bool:
    """Whether a ``User`` object (read with ``enabled``) is a disabled account."""
    return user.get("enabled") is False


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
        name=_str_or_none(user.get("displayName")),
        email=_str_or_none(user.get("email")),
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


# --- conversions -----------------------------------------------------------------------------


def person_from_user(obj: Mapping[str, Any]) -> Person:
    return Person(str(obj["id"]), _str_or_none(obj.get("email")),
                  _str_or_none(obj.get("displayName")))


def users_by_id(*results: Mapping[str, Any] | None) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for result in results:
        if result is None:
            continue
        for obj in GetResult.from_json(result).objects:
            people[str(obj["id"])] = person_from_user(obj)
    return people


def custom(task: Mapping[str, Any], name: str) -> Any:
    values = task.get("customFields")
    return values.get(name) if isinstance(values, Mapping) else None


def requester_of(task: Mapping[str, Any], users: Mapping[str, Person]) -> Person:
    """The requester: the User field, else the address and name fields, else the creator."""
    rid = _str_or_none(custom(task, names.REQUESTER_ID))
    email = _str_or_none(custom(task, names.REQUESTER_EMAIL))
    name = _str_or_none(custom(task, names.REQUESTER_NAME))
    if rid is not None and rid != "0":
        known = users.get(rid)
        if known is not None:
            return known
        return Person(rid, email, name)
    if email or name:
        return Person(None, email, name)
    creator = _str_or_none(task.get("createdBy"))
    if creator is not None:
        return users.get(creator, Person(creator))
    return Person()


def requester_id(task: Mapping[str, Any]) -> str | None:
    rid = _str_or_none(custom(task, names.REQUESTER_ID))
    return rid if rid and rid != "0" else None


def ticket_from_task(
    task: Mapping[str, Any],
    layout: DeskLayout,
    users: Mapping[str, Person],
    categories: Mapping[str, Category],
    messages: Sequence[Message] | None = None,
) -> Ticket:
    ticket_type = layout.by_id(task.get("tasklistId"))
    if ticket_type is None:
        raise NotATicket(f"task {task.get('id')} is not a ticket")
    agent_id = _str_or_none(task.get("responsibleUserId"))
    agent = None if agent_id is None else users.get(agent_id, Person(agent_id))
    cats = tuple(
        categories.get(str(c), Category(str(c), str(c))) for c in task.get("categories") or [])
    try:
        status = Status(task.get("progress") or "needs-action")
    except ValueError:
        status = Status.NEEDS_ACTION
    return Ticket(
        id=str(task["id"]),
        type=ticket_type,
        subject=str(task.get("title") or ""),
        status=status,
        agent=agent,
        requester=requester_of(task, users),
        categories=cats,
        created_at=parse_datetime(task.get("createdAt")),
        modified_at=parse_datetime(task.get("modifiedAt")),
        legacy_id=_str_or_none(custom(task, names.LEGACY_TICKET_ID)),
        first_message_id=_str_or_none(custom(task, names.FIRST_MESSAGE_ID)),
        messages=None if messages is None else tuple(messages),
    )


def categories_by_id(result: Mapping[str, Any] | None) -> dict[str, Category]:
    if result is None:
        return {}
    return {
        str(o["id"]): Category(str(o["id"]), str(o.get("name") or ""),
                               _str_or_none(o.get("tasklistId")))
        for o in GetResult.from_json(result).objects
    }


def message_from_comment(
    comment: Mapping[str, Any], requester: Person, users: Mapping[str, Person], label_id: str
) -> Message:
    labels = {str(x) for x in comment.get("labels") or []}
    status = _str_or_none(comment.get("mailStatus"))
    author: Person | None
    if status == "received":
        author = requester
    else:
        creator = _str_or_none(comment.get("createdBy"))
        if creator is None:
            author = None
        elif creator.isdigit():
            author = users.get(creator, Person(creator))
        else:
            author = Person(None, None, creator)  # a principal such as "Contact:12"
    attachments = tuple(
        Attachment(str(a.get("blobId")), str(a.get("name") or ""), _str_or_none(a.get("id")))
        for a in comment.get("attachments") or [] if isinstance(a, Mapping)
    )
    return Message(
        id=str(comment["id"]),
        ticket_id=str(comment.get("entityId")),
        html=str(comment.get("text") or ""),
        date=parse_datetime(comment.get("date")),
        author=author,
        private=label_id in labels,
        mail_status=status,
        message_id=_str_or_none(comment.get("mimeMessageId")),
        attachments=attachments,
    )


def optional(responses: Responses, call: Call) -> dict[str, Any] | None:
    """An optional call's result (a look-up of names that may fail harmlessly)."""
    try:
        return responses.get(call)
    except MethodError:
        return None


# --- set results ---------------------------------------------------------------------------------


def set_result(responses: Responses, call: Call, *, creates: Sequence[str] = (),
               updates: Sequence[str] = ()) -> SetResult:
    return SetResult.from_json(responses.get(call), create_ids=list(creates),
                               update_ids=list(updates))


def first_error(result: SetResult) -> SetError | None:
    errors = result.errors
    return errors[0] if errors else None


def raise_set_error(result: SetResult, method: str, what: str, actor: str) -> None:
    """Raise for a per-object failure: ``forbidden`` as :class:`PermissionDenied`."""
    errors = result.errors
    if not errors:
        return
    if any(e.type == "forbidden" for e in errors):
        raise PermissionDenied(
            f"Group-Office refused to let {actor} {what} (forbidden): the API key's user lacks "
            "the Group-Office right for it", actor=actor, right=what)
    raise SetFailed(method=method, errors=errors, result=result)


# --- shared state and the per-actor core ----------------------------------------------------------


class Shared:
    """What a desk and its :meth:`~SupportDesk.as_user` views share: client, settings, layout."""

    def __init__(self, client: GroupOfficeClient, settings: DeskSettings) -> None:
        self.client = client
        self.settings = settings
        self.layout: DeskLayout | None = None
        self.lock = threading.RLock()


@dataclass
class ReadPlan(Generic[R]):
    """What :meth:`DeskCore.read` runs: ``build(batch, layout)`` adds the calls and returns
    ``interpret(responses, layout, actor)``."""

    build: Callable[[Batch, DeskLayout | None], Callable[[Responses, DeskLayout,
                                                          ActorInfo | None], R]]
    needs_layout: bool = False
    actor: str = "levels"  # "none", "levels" (groups) or "full" (group names, me in self mode)


class DeskCore:
    """One actor's view: the shared layout plus who acts (``actor_id`` None: the key's user)."""

    def __init__(self, shared: Shared, actor_id: str | None) -> None:
        self.shared = shared
        self.actor_id = actor_id
        self.actor: ActorInfo | None = None

    @property
    def client(self) -> GroupOfficeClient:
        return self.shared.client

    @property
    def settings(self) -> DeskSettings:
        return self.shared.settings

    @property
    def self_mode(self) -> bool:
        return self.actor_id is None

    def me(self) -> str:
        """The actor's user id (in self mode: the session's, fetched once)."""
        return self.actor_id if self.actor_id is not None else str(self.client.user_id)

    def who(self) -> str:
        """``user 37``: how messages name the actor."""
        return f"user {self.me()}"

    # -- layout ---------------------------------------------------------------------------

    def discover(self, actor: str = "none") -> DeskLayout:
        """Read the layout (one POST; the actor's user too when asked)."""
        batch = Batch(prefix="d")
        calls = add_discovery(batch)
        actor_calls = self._add_actor(batch, actor)
        responses = self.client.execute(batch)
        found = parse_discovery(responses, calls)
        with self.shared.lock:
            self.shared.layout = found
        if actor_calls is not None:
            self.actor = parse_actor(responses, actor_calls)
        return found

    def layout(self) -> DeskLayout:
        """The cached layout, discovered if there is none (no check)."""
        current = self.shared.layout
        return current if current is not None else self.discover()

    def forget_layout(self) -> None:
        with self.shared.lock:
            self.shared.layout = None

    def _add_actor(self, batch: Batch, actor: str) -> ActorCalls | None:
        if actor == "none":
            return None
        if self.actor_id is None and actor != "full":
            return None  # the key user's levels come with the layout
        return add_actor(batch, self.me(), with_group_names=actor == "full")

    def read(self, plan: ReadPlan[R]) -> R:
        """Run ``plan`` in one POST together with the layout check (or discovery).

        A layout that the check finds changed is discovered again (a second POST); when what
        matters for the answer changed (types, ACLs, levels, label), the plan runs again.
        """
        for attempt in range(3):
            layout = self.shared.layout
            fresh = False
            # ``needs_layout`` plans build their calls from the layout and the actor's levels
            # (which tickets the query may return): both must be known before building.
            actor_first = plan.needs_layout and not self.self_mode and plan.actor != "none"
            if layout is None and plan.needs_layout:
                layout = self.discover(plan.actor if not self.self_mode else "none")
                fresh = True
            elif actor_first and self.actor is None:
                self.read(ReadPlan(build=lambda batch, known: lambda r, lay, a: None,
                                   actor=plan.actor))
                layout = self.shared.layout
                fresh = True
            used = _levels_key(self.actor)
            batch = Batch()
            layout_calls: LayoutCalls | None = None
            if layout is None:
                layout_calls = add_discovery(batch)
            elif not fresh and time.monotonic() - layout.loaded_at >= VERIFY_AFTER:
                layout_calls = add_verification(batch, layout)
            actor_calls = None
            if not (fresh and self.actor is not None and plan.actor != "full"):
                actor_calls = self._add_actor(batch, plan.actor)
            interpret = plan.build(batch, layout)
            responses = self.client.execute(batch)
            if actor_calls is not None:
                self.actor = parse_actor(responses, actor_calls)
                if actor_first and _levels_key(self.actor) != used and attempt < 2:
                    continue  # the actor's groups changed since the calls were built
            if layout_calls is not None and not layout_calls.verify:
                layout = parse_discovery(responses, layout_calls)
                with self.shared.lock:
                    self.shared.layout = layout
            elif layout_calls is not None:
                assert layout is not None
                if not verification_holds(responses, layout_calls, layout):
                    old = layout
                    layout = self.discover()
                    if layout.fingerprint() != old.fingerprint() and attempt < 2:
                        continue
            assert layout is not None
            return interpret(responses, layout, self.actor)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- roles ----------------------------------------------------------------------------

    def level(self, ticket_type: TicketType, layout: DeskLayout) -> int:
        """The actor's level on a type's list."""
        if self.self_mode:
            return layout.key_levels.get(ticket_type.id, 0)
        actor = self.actor
        if actor is None:
            return 0
        return user_level(ticket_type.acl, actor.group_ids, actor.is_admin)

    def is_agent(self, ticket_type: TicketType, layout: DeskLayout) -> bool:
        """Write access or more on the type's list, and an enabled account."""
        if self.actor is not None and not self.actor.enabled and not self.self_mode:
            return False
        return self.level(ticket_type, layout) >= AGENT_LEVEL

    def refuse_disabled(self, ticket_type: TicketType, layout: DeskLayout,
                        doing: str = "act") -> None:
        """:class:`PermissionDenied` when a disabled user would act as an agent of the type
        (through :meth:`~SupportDesk.as_user`; Group-Office refuses a disabled user's own key)."""
        actor = self.actor
        if (actor is None or actor.enabled or self.self_mode
                or self.level(ticket_type, layout) < AGENT_LEVEL):
            return
        raise PermissionDenied(
            f"{actor.label} is disabled and may not {doing} as an agent of type "
            f"'{ticket_type.name}'", actor=actor.id, right="agent")

    def require_agent(self, ticket_type: TicketType, layout: DeskLayout, doing: str = "") -> None:
        self.refuse_disabled(ticket_type, layout, doing or "act")
        if not self.is_agent(ticket_type, layout):
            what = f" to {doing}" if doing else ""
            raise PermissionDenied(
                f"{self.who()} is not an agent of type '{ticket_type.name}'{what}: needs write "
                "access on its task list", actor=self.me(), right="agent")

    def is_manager(self, actor: ActorInfo) -> bool:
        if actor.is_admin:
            return True
        group = self.settings.desk.managers_group
        return group is not None and in_groups([group], actor)

    def require_manager(self, actor: ActorInfo, doing: str) -> None:
        if not self.is_manager(actor):
            group = self.settings.desk.managers_group
            how = (f"a Group-Office admin or a member of the group '{group}'"
                   if group is not None else "a Group-Office admin (no managers group is set)")
            raise PermissionDenied(
                f"user {actor.id} is not a manager and may not {doing}: needs to be {how}",
                actor=actor.id, right="manager")

    def is_customer(self, ticket_type: TicketType, actor: ActorInfo) -> bool:
        return in_groups(self.settings.customer_groups(ticket_type.name), actor)

    def full_actor(self) -> ActorInfo:
        """The actor with group names (one POST, also a layout check)."""
        return self.read(ReadPlan(build=lambda batch, known: lambda r, lay, a: _need(a),
                                  actor="full"))

    # -- resolving --------------------------------------------------------------------------

    def resolve_type(self, ref: Any, layout: DeskLayout) -> TicketType:
        found = layout.find(ref)
        if found is None:
            # On a user's own key, the layout holds only the lists that user can read.
            hidden = self.self_mode and not self._key_user_reads_every_list(layout)
            if hidden and isinstance(ref, TicketType):
                # It exists, but this user's key cannot read its list.
                raise PermissionDenied(
                    f"{self.who()} is not an agent of type '{ref.name}': needs write access on "
                    "its task list (this user cannot even read it)", actor=self.me(),
                    right="agent")
            known = ", ".join(f"'{t.name}'" for t in layout.active_types) or "none yet"
            why = (" (with a user's own API key, only the types whose lists the user can read "
                   "are known)" if hidden else "")
            raise UnknownType(
                f"there is no ticket type {_show(ref)}; the types are {known}{why}")
        return found

    def _key_user_reads_every_list(self, layout: DeskLayout) -> bool:
        """Whether the API key's user is an admin (who reads every task list, so that a type
        missing from the layout does not exist). For error messages only: a level below
        manage on any type proves "no" at once; otherwise the user is read (the session and
        one request)."""
        if any(level < MANAGE for level in layout.key_levels.values()):
            return False  # admins have manage on every list
        if self.actor is not None:
            return self.actor.is_admin
        try:
            batch = Batch(prefix="k")
            calls = add_actor(batch, self.me(), with_group_names=False)
            return parse_actor(self.client.execute(batch), calls).is_admin
        except GoSupportError:
            return False  # cannot tell: the hint may be the reason

    def ticket_task(
        self, responses: Responses, call: Call, ticket_id: str, layout: DeskLayout
    ) -> tuple[dict[str, Any], TicketType]:
        """The task of a ticket from a ``Task/get``, or :class:`NotATicket`."""
        found = GetResult.from_json(responses.get(call)).objects
        if not found:
            raise NotATicket(f"there is no ticket {ticket_id} (no such task, or the API key's "
                             "user cannot read it)")
        task = found[0]
        ticket_type = layout.by_id(task.get("tasklistId"))
        if ticket_type is None:
            raise NotATicket(
                f"task {ticket_id} is not a ticket: its task list is not a ticket type "
                f'(a list in the grouping "{names.GROUPING_NAME}")')
        return task, ticket_type


def _need(actor: ActorInfo | None) -> ActorInfo:
    assert actor is not None
    return actor


def _show(ref: Any) -> str:
    if isinstance(ref, TicketType | Category):
        return repr(ref.name)
    return repr(ref)


def ticket_id_of(ref: Any) -> str:
    """A ticket id from an id, a :class:`Ticket` or a :class:`Message`."""
    if isinstance(ref, Ticket):
        return ref.id
    if isinstance(ref, Message):
        return ref.ticket_id
    if isinstance(ref, bool) or not isinstance(ref, int | str) or not is_id(str(ref).strip()):
        raise NotATicket(f"{ref!r} is not a ticket id (ticket ids are numbers)")
    return str(ref).strip()


def _levels_key(actor: ActorInfo | None) -> tuple[Any, ...] | None:
    """What of the actor decides their levels on the types' lists."""
    return None if actor is None else (actor.id, actor.is_admin, actor.group_ids)
