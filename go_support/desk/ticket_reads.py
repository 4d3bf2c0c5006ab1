"""Reading tickets: users looked up in the request, a ticket and its messages, the ticket a
change starts from. The list query lives in :mod:`go_support.desk.ticket_list`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from go_support.desk._core import DeskCore, ReadPlan
from go_support.desk.actor import ACTOR_PROPERTIES, AGENT_LEVEL, ActorInfo, user_level
from go_support.desk.checks import PersonSpec, unknown_user
from go_support.desk.convert import (
    COMMENT_PROPERTIES,
    MESSAGES_PER_CALL,
    TASK_PROPERTIES,
    USER_PROPERTIES,
    is_disabled,
    like_exact,
    message_from_comment,
    optional,
    requester_id,
    requester_of,
    same_id,
    ticket_from_task,
    ticket_id_of,
    user_label,
    users_by_id,
)
from go_support.desk.discovery import DeskLayout
from go_support.desk.errors import InvalidTicket
from go_support.desk.lookups import NameLookup, add_names
from go_support.desk.models import Message, Person, Ticket, TicketType
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.results import GetResult, QueryResult

__all__ = ["UserLookups", "agent_id_of", "as_list", "read_for_change", "read_ticket"]


def as_list(value: Any) -> list[Any]:
    """A filter or argument that may be one value or several, as a list."""
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


class UserLookups:
    """User look-ups added to a read: ids with ``User/get``, addresses with ``User/query``."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.calls: dict[PersonSpec, tuple[Call, Call | None]] = {}

    def add(self, spec: PersonSpec, *, full: bool = False) -> None:
        if spec in self.calls:
            return
        props = ACTOR_PROPERTIES if full else [*USER_PROPERTIES, "enabled"]
        if spec.user_id:
            self.calls[spec] = (self.batch.call("User/get", {"ids": [spec.user_id],
                                                             "properties": props}), None)
        else:
            query = self.batch.call("User/query", {"filter": {"email": like_exact(spec.email)}})
            get = self.batch.call("User/get", {"#ids": query.ref("/ids"), "properties": props})
            self.calls[spec] = (get, query)

    def user(self, responses: Responses, spec: PersonSpec) -> dict[str, Any] | None:
        get, _ = self.calls[spec]
        found = GetResult.from_json(responses.get(get)).objects
        if spec.user_id:
            return found[0] if found else None
        return user_with_address(found, spec.email or "")

    def query(self, spec: PersonSpec) -> Call | None:
        """The ``User/query`` of an address (``None`` for a user id)."""
        return self.calls[spec][1]


def user_with_address(users: list[dict[str, Any]], address: str) -> dict[str, Any] | None:
    """The user whose address is exactly ``address`` (case-insensitive; the oldest of
    several): the query's LIKE may have matched more."""
    wanted = address.casefold()
    exact = [u for u in users if str(u.get("email") or "").casefold() == wanted]
    exact.sort(key=lambda u: int(u["id"]) if str(u["id"]).isdigit() else 0)
    return exact[0] if exact else None


def agent_id_of(user: Mapping[str, Any] | None, spec: PersonSpec,
                ticket_type: TicketType) -> str:
    """The id of ``user`` (as looked up for ``spec``) if they are an agent of the type."""
    if user is None:
        raise unknown_user("agent", spec)
    if is_disabled(user):
        raise InvalidTicket(
            f"{user_label(user['id'], user.get('displayName'))} is disabled and cannot be "
            f"assigned tickets of type '{ticket_type.name}'")
    level = user_level(ticket_type.acl, [str(g) for g in user.get("groups") or []],
                       bool(user.get("isAdmin")))
    if level < AGENT_LEVEL:
        raise InvalidTicket(
            f"user {user['id']} is not an agent of type '{ticket_type.name}' and cannot be "
            "assigned its tickets (needs write access on its task list)")
    return str(user["id"])


# --- the ticket a change starts from ------------------------------------------------------------


@dataclass(frozen=True)
class ForChange:
    """A ticket's task as read before a change, with what the change needs."""

    task: dict[str, Any]
    ticket_type: TicketType
    layout: DeskLayout
    user: dict[str, Any] | None = None  # the agent looked up, if one was named


@dataclass
class _ChangeRead:
    """The read before a change: the task, and the agent named (if any)."""

    core: DeskCore
    ticket_id: str
    agent: PersonSpec | None
    task: Call | None = None
    users: UserLookups | None = None

    def build(self, batch: Batch, layout: DeskLayout | None) -> Callable[
            [Responses, DeskLayout, ActorInfo | None], ForChange]:
        self.task = batch.call("Task/get", {"ids": [self.ticket_id],
                                            "properties": TASK_PROPERTIES})
        self.users = UserLookups(batch)
        if self.agent is not None:
            self.users.add(self.agent, full=True)
        return self.interpret

    def interpret(self, responses: Responses, layout: DeskLayout,
                  actor: ActorInfo | None) -> ForChange:
        assert self.task is not None and self.users is not None
        found, ticket_type = self.core.ticket_task(responses, self.task, self.ticket_id, layout)
        user = None if self.agent is None else self.users.user(responses, self.agent)
        return ForChange(found, ticket_type, layout, user)


def read_for_change(core: DeskCore, ticket: Any, *, agent: PersonSpec | None = None,
                    doing: str | None = None) -> ForChange:
    """Read the ticket (and look ``agent`` up) in one request with the layout check.

    With ``doing``, only agents of the ticket's type may go on (:class:`PermissionDenied`
    naming ``doing`` otherwise); without it the caller decides."""
    plan = _ChangeRead(core, ticket_id_of(ticket), agent)
    read: ForChange = core.read(ReadPlan(build=plan.build))
    if doing is not None:
        core.require_agent(read.ticket_type, read.layout, doing)
    return read


# --- a ticket and its messages --------------------------------------------------------------


def _add_messages(batch: Batch, ticket_id: str, position: int) -> tuple[Call, Call, Call]:
    query = batch.call("Comment/query", {
        "filter": {"entity": "Task", "entityId": ticket_id},
        "sort": [{"property": "date", "isAscending": True},
                 {"property": "id", "isAscending": True}],
        "position": position, "limit": MESSAGES_PER_CALL, "calculateTotal": True,
    })
    get = batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                     "properties": COMMENT_PROPERTIES})
    authors = batch.call("User/get", {"#ids": get.ref("/list/*/createdBy"),
                                      "properties": USER_PROPERTIES})
    return query, get, authors


def _more_comments(core: DeskCore, ticket_id: str, position: int, total: int,
                   users: dict[str, Person]) -> list[dict[str, Any]]:
    """The messages after the first page, in one more request."""
    comments: list[dict[str, Any]] = []
    while position < total:
        batch = Batch()
        more = []
        for start in range(position, total, MESSAGES_PER_CALL):
            more.append(_add_messages(batch, ticket_id, start))
            if len(more) * 3 >= 9:
                break
        extra = core.client.execute(batch)
        for query, get, authors in more:
            got = QueryResult.from_json(extra.get(query))
            comments.extend(GetResult.from_json(extra.get(get)).objects)
            users.update(users_by_id(optional(extra, authors)))
            position += len(got.ids)
            if not got.ids:
                position = total
    return comments


def _messages(core: DeskCore, responses: Responses, calls: tuple[Call, Call, Call],
              task: Mapping[str, Any], users: dict[str, Person], layout: DeskLayout,
              agent_view: bool) -> list[Message]:
    query, get, authors = calls
    ticket_id = str(task["id"])
    page = QueryResult.from_json(responses.get(query))
    comments = GetResult.from_json(responses.get(get)).objects
    users.update(users_by_id(optional(responses, authors)))
    comments += _more_comments(core, ticket_id, len(page.ids), page.total or 0, users)
    seen: set[str] = set()
    messages: list[Message] = []
    requester = requester_of(task, users)
    for comment in comments:
        key = str(comment.get("id"))
        if key in seen or not same_id(comment.get("entityId"), ticket_id):
            continue
        seen.add(key)
        message = message_from_comment(comment, requester, users, layout.private_label_id)
        if message.private and not agent_view:
            continue  # never show a private note to the requester
        messages.append(message)
    return messages


@dataclass
class _TicketRead:
    """A ticket with its names and its first page of messages."""

    core: DeskCore
    ticket_id: str
    with_messages: bool
    task: Call | None = None
    names: NameLookup | None = None
    messages: tuple[Call, Call, Call] | None = None

    def build(self, batch: Batch, layout: DeskLayout | None) -> Callable[
            [Responses, DeskLayout, ActorInfo | None], Ticket]:
        self.task = batch.call("Task/get", {"ids": [self.ticket_id],
                                            "properties": TASK_PROPERTIES})
        self.names = add_names(batch, self.task)
        if self.with_messages:
            self.messages = _add_messages(batch, self.ticket_id, 0)
        return self.interpret

    def interpret(self, responses: Responses, layout: DeskLayout,
                  actor: ActorInfo | None) -> Ticket:
        assert self.task is not None and self.names is not None
        core = self.core
        found, ticket_type = core.ticket_task(responses, self.task, self.ticket_id, layout)
        agent_view = core.is_agent(ticket_type, layout)
        if not agent_view and requester_id(found) != core.me():
            core.refuse_stranger(found.get("id"), ticket_type, "read")
        users, categories = self.names.result(responses)
        listed = None
        if self.messages is not None:
            listed = _messages(core, responses, self.messages, found, users, layout, agent_view)
        return ticket_from_task(found, layout, users, categories, listed)


def read_ticket(core: DeskCore, ticket: Any, with_messages: bool) -> Ticket:
    """A ticket the actor may read (an agent of its type, or its requester), in one request
    with its names and its first page of messages."""
    plan = _TicketRead(core, ticket_id_of(ticket), with_messages)
    result: Ticket = core.read(ReadPlan(build=plan.build))
    return result
