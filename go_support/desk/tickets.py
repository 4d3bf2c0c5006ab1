"""``desk.tickets``: create, show, list, assign, change status, close."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from go_support.desk import layout as names
from go_support.desk._core import (
    ACTOR_PROPERTIES,
    AGENT_LEVEL,
    COMMENT_PROPERTIES,
    MESSAGES_PER_CALL,
    TASK_PROPERTIES,
    USER_PROPERTIES,
    ActorInfo,
    DeskCore,
    DeskLayout,
    ReadPlan,
    categories_by_id,
    is_disabled,
    is_id,
    like_exact,
    message_from_comment,
    optional,
    raise_set_error,
    requester_id,
    requester_of,
    same_id,
    set_result,
    ticket_from_task,
    ticket_id_of,
    user_label,
    user_level,
    users_by_id,
)
from go_support.desk._writes import (
    AttachmentSource,
    PersonSpec,
    check_date,
    check_message,
    check_message_id,
    check_subject,
    compensate_created_task,
    needs_percent_reset,
    parse_person,
    prepare_attachments,
    unknown_user,
    upload_attachments,
    write_change,
)
from go_support.desk.errors import (
    InvalidPage,
    InvalidTicket,
    PermissionDenied,
    UnknownCategory,
)
from go_support.desk.models import (
    UNASSIGNED,
    Category,
    Message,
    Person,
    Status,
    Ticket,
    TicketFilter,
    TicketPage,
    TicketType,
    Unassigned,
)
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.errors import JMAPError
from go_support.jmap.results import GetResult, QueryResult

__all__ = ["MAX_PER_PAGE", "TicketManager"]

#: The most tickets :meth:`TicketManager.list` returns per page.
MAX_PER_PAGE = 100
Interpret = Callable[[Responses, DeskLayout, ActorInfo | None], Any]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


def _utc_text(value: datetime | date) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return f"{value.isoformat()}T00:00:00+00:00"


def _add_names(batch: Batch, tasks: Call) -> tuple[Call, Call, Call]:
    """What a ticket shows besides its task (agents, requesters, categories), read in the
    same request as the tasks through result references."""
    agents = batch.call("User/get", {"#ids": tasks.ref("/list/*/responsibleUserId"),
                                     "properties": USER_PROPERTIES})
    requesters = batch.call("User/get", {
        "#ids": tasks.ref(f"/list/*/customFields/{names.REQUESTER_ID}"),
        "properties": USER_PROPERTIES})
    cats = batch.call("TaskCategory/get", {"#ids": tasks.ref("/list/*/categories")})
    return agents, requesters, cats


def _category_scope(type_ids: Sequence[str]) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = [{"global": True}]
    if type_ids:
        conditions.append({"tasklistId": list(type_ids)})
    return {"operator": "OR", "conditions": conditions}


class _Users:
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
        wanted = (spec.email or "").casefold()
        exact = [u for u in found if str(u.get("email") or "").casefold() == wanted]
        exact.sort(key=lambda u: int(u["id"]) if str(u["id"]).isdigit() else 0)
        return exact[0] if exact else None

    def query(self, spec: PersonSpec) -> Call | None:
        """The ``User/query`` of an address (``None`` for a user id)."""
        return self.calls[spec][1]


def _agent_of(user: Mapping[str, Any] | None, spec: PersonSpec, ticket_type: TicketType) -> str:
    """The id of ``user`` (as :class:`_Users` found ``spec``) if they are an agent of the type."""
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


class TicketManager:
    """Tickets: Group-Office tasks in the ticket types' lists."""

    def __init__(self, core: DeskCore) -> None:
        self._core = core

    def _me_for(self, value: Any) -> str | None:
        """The actor's id when ``value`` is ``"me"`` (fetching the session only then)."""
        if isinstance(value, str) and value.strip().lower() == "me":
            return self._core.me()
        return None

    # --- create ------------------------------------------------------------------------------

    def create(
        self,
        type: str | int | TicketType | None,
        subject: str,
        message: str,
        requester: str | int | Person,
        *,
        category: str | int | Category | Sequence[str | int | Category] | None = None,
        attachments: Iterable[AttachmentSource] = (),
        agent: str | int | Person | None = None,
        message_id: str | None = None,
        date: datetime | None = None,
    ) -> Ticket:
        """Open a ticket for ``requester`` with a first message (``mailStatus`` received).

        ``requester`` is a user id, ``"me"``, a :class:`Person`, or an e-mail address
        (``"Ann <ann@example.com>"``): the user with that address when there is one, else the
        address and name are kept in the ticket's custom fields. Agents of the type create
        tickets for anyone; a customer of the type only for themself. The new ticket needs
        action, assigned to ``agent`` (an agent of the type: a user id, ``"me"``, a
        :class:`Person` or a user's address) or to nobody. ``message_id`` and ``date`` are
        those of the mail the message came from. Nothing is created when any value is
        refused; if the first message is refused after the task was created, the task is
        destroyed again (:class:`~go_support.desk.RolledBack`).
        """
        core = self._core
        title = check_subject(subject)
        files = prepare_attachments(attachments)
        text = check_message(message, what="the first message", attachments=files)
        wanted_requester = parse_person(requester, role="requester", me=self._me_for(requester))
        wanted_agent = (None if agent is None
                        else parse_person(agent, role="agent", me=self._me_for(agent)))
        mime_id = check_message_id(message_id)
        when = check_date(date)
        cats = _as_list(category)
        if type is None:
            type = core.settings.desk.default_type
            if type is None:
                raise InvalidTicket("no ticket type given, and the settings name no "
                                    "desk.default_type")

        def build(batch: Batch, layout: DeskLayout | None) -> Interpret:
            assert layout is not None
            ticket_type = core.resolve_type(type, layout)
            users = _Users(batch)
            users.add(wanted_requester)
            if wanted_agent is not None:
                users.add(wanted_agent, full=True)
            cat_get = None
            if cats:
                query = batch.call("TaskCategory/query",
                                   {"filter": _category_scope([ticket_type.id])})
                cat_get = batch.call("TaskCategory/get", {"#ids": query.ref("/ids")})

            def interpret(responses: Responses, layout: DeskLayout,
                          actor: ActorInfo | None) -> tuple[Any, ...]:
                found_requester = users.user(responses, wanted_requester)
                found_agent = (users.user(responses, wanted_agent)
                               if wanted_agent is not None else None)
                known = categories_by_id(responses.get(cat_get)) if cat_get else {}
                return ticket_type, found_requester, found_agent, known
            return interpret

        ticket_type, found_requester, found_agent, known_cats = core.read(ReadPlan(
            build=build, needs_layout=True, actor="levels" if core.self_mode else "full"))
        layout = core.layout()

        # who may open it
        if ticket_type.archived:
            raise InvalidTicket(f"the ticket type '{ticket_type.name}' is archived; open new "
                                "tickets in an active type")
        if wanted_requester.user_id and found_requester is None:
            raise unknown_user("requester", wanted_requester)
        requester_user = str(found_requester["id"]) if found_requester else None
        core.refuse_disabled(ticket_type, layout, "open tickets")
        if not core.is_agent(ticket_type, layout):
            actor = core.actor if core.actor and core.actor.group_names is not None else (
                core.full_actor())
            if requester_user != actor.id:
                raise PermissionDenied(
                    f"user {actor.id} is not an agent of type '{ticket_type.name}' and may only "
                    "open tickets for themself: needs write access on its task list",
                    actor=actor.id, right="agent")
            if not core.is_customer(ticket_type, actor):
                groups = ", ".join(str(g) for g in core.settings.customer_groups(
                    ticket_type.name)) or "none are configured"
                raise PermissionDenied(
                    f"user {actor.id} is not a customer of type '{ticket_type.name}': needs to "
                    f"be in one of its customer groups ({groups})", actor=actor.id,
                    right="customer")
        agent_id = (None if wanted_agent is None
                    else _agent_of(found_agent, wanted_agent, ticket_type))
        category_ids = [self._pick_category(c, known_cats, ticket_type).id for c in cats]

        values: dict[str, Any] = {
            names.REQUESTER_ID: int(requester_user) if requester_user else None,
            names.REQUESTER_EMAIL: (
                str(found_requester.get("email") or "") if found_requester
                else wanted_requester.email or ""),
            names.REQUESTER_NAME: (
                str(found_requester.get("displayName") or "") if found_requester
                else wanted_requester.name or "")[:190],
            names.FIRST_MESSAGE_ID: mime_id or "",
        }
        blobs = upload_attachments(core, files)

        batch = Batch()
        create_task = batch.set("Task", create={"t1": {
            "tasklistId": ticket_type.id,
            "title": title,
            "progress": Status.NEEDS_ACTION.value,
            "responsibleUserId": agent_id,
            "categories": category_ids,
            "customFields": values,
        }})
        first: dict[str, Any] = {
            "entity": "Task", "#entityId": create_task.created_ref("t1"), "text": text,
            "mailStatus": "received",
        }
        if mime_id:
            first["mimeMessageId"] = mime_id
        if when is not None:
            first["date"] = when
        if blobs:
            first["attachments"] = blobs
        create_comment = batch.set("Comment", create={"m1": first})
        read_task = batch.call("Task/get", {"#ids": create_task.ref("/created/*/id"),
                                            "properties": TASK_PROPERTIES})
        read_comment = batch.call("Comment/get", {"#ids": create_comment.ref("/created/*/id"),
                                                  "properties": COMMENT_PROPERTIES})
        responses = core.client.execute(batch)
        created = set_result(responses, create_task, creates=["t1"])
        raise_set_error(created, "Task/set", f"open a ticket in type '{ticket_type.name}'",
                        core.who())
        task_id = created.created_id("t1")
        try:
            posted = set_result(responses, create_comment, creates=["m1"])
            posted.raise_for_errors("Comment/set")
        except JMAPError as exc:
            raise compensate_created_task(core, task_id, exc) from exc
        tasks = GetResult.from_json(responses.get(read_task)).objects
        comments = GetResult.from_json(responses.get(read_comment)).objects
        people: dict[str, Person] = {}
        if found_requester and requester_user:
            people[requester_user] = Person(
                requester_user, found_requester.get("email"), found_requester.get("displayName"))
        if found_agent and agent_id:
            people[agent_id] = Person(agent_id, found_agent.get("email"),
                                      found_agent.get("displayName"))
        task = tasks[0] if tasks else {"id": task_id, "tasklistId": ticket_type.id,
                                       "title": title, "customFields": values}
        person = requester_of(task, people)
        messages = [message_from_comment(c, person, people, layout.private_label_id)
                    for c in comments]
        return ticket_from_task(task, layout, people, known_cats, messages)

    @staticmethod
    def _pick_category(ref: Any, known: Mapping[str, Category],
                       ticket_type: TicketType) -> Category:
        """A category of the type (or global) by id, object or name (the type's wins)."""
        usable = [c for c in known.values() if c.type_id is None or same_id(c.type_id,
                                                                             ticket_type.id)]
        if isinstance(ref, Category):
            ref = ref.id
        if isinstance(ref, int) and not isinstance(ref, bool):
            ref = str(ref)
        if isinstance(ref, str):
            text = ref.strip()
            by_id = [c for c in usable if c.id == text]
            if by_id:
                return by_id[0]
            by_name = [c for c in usable if c.name.casefold() == text.casefold()]
            by_name.sort(key=lambda c: (c.type_id is None, int(c.id)))
            if by_name:
                return by_name[0]
        names_ = ", ".join(sorted({f"'{c.name}'" for c in usable})) or "none"
        raise UnknownCategory(
            f"there is no category {ref!r} for type '{ticket_type.name}'; its categories "
            f"(with the global ones) are {names_}")

    # --- get -----------------------------------------------------------------------------------

    def get(self, id: str | int | Ticket, with_messages: bool = True) -> Ticket:
        """A ticket, with its messages (customers get the public ones only).

        Agents of the ticket's type see every ticket of it; anyone else only the tickets they
        requested (:class:`~go_support.desk.PermissionDenied` otherwise).
        """
        core = self._core
        ticket_id = ticket_id_of(id)

        def build(batch: Batch, layout: DeskLayout | None) -> Interpret:
            task = batch.call("Task/get", {"ids": [ticket_id], "properties": TASK_PROPERTIES})
            agents, requesters, cats = _add_names(batch, task)
            messages = self._add_messages(batch, ticket_id, 0) if with_messages else None

            def interpret(responses: Responses, layout: DeskLayout,
                          actor: ActorInfo | None) -> Ticket:
                found, ticket_type = core.ticket_task(responses, task, ticket_id, layout)
                agent_view = self._check_reader(found, ticket_type, layout)
                users = users_by_id(optional(responses, agents), optional(responses, requesters))
                categories = categories_by_id(optional(responses, cats))
                listed = None
                if messages is not None:
                    listed = self._read_messages(responses, messages, found, users, layout,
                                                 ticket_id, agent_view)
                return ticket_from_task(found, layout, users, categories, listed)
            return interpret

        result: Ticket = core.read(ReadPlan(build=build, actor="levels"))
        return result

    def _check_reader(self, task: Mapping[str, Any], ticket_type: TicketType,
                      layout: DeskLayout) -> bool:
        """True for an agent's view, False for the requester's; else PermissionDenied."""
        core = self._core
        if core.is_agent(ticket_type, layout):
            return True
        if requester_id(task) == core.me():
            return False
        raise PermissionDenied(
            f"{core.who()} may not read ticket {task.get('id')}: not its requester, and not an "
            f"agent of type '{ticket_type.name}' (needs write access on its task list)",
            actor=core.me(), right="agent")

    @staticmethod
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

    def _read_messages(
        self,
        responses: Responses,
        calls: tuple[Call, Call, Call],
        task: Mapping[str, Any],
        users: dict[str, Person],
        layout: DeskLayout,
        ticket_id: str,
        agent_view: bool,
    ) -> list[Message]:
        query, get, authors = calls
        page = QueryResult.from_json(responses.get(query))
        comments = GetResult.from_json(responses.get(get)).objects
        users.update(users_by_id(optional(responses, authors)))
        total = page.total or 0
        position = len(page.ids)
        while position < total:  # more than one page of messages: the rest in one request
            batch = Batch()
            more = []
            for start in range(position, total, MESSAGES_PER_CALL):
                more.append(self._add_messages(batch, ticket_id, start))
                if len(more) * 3 >= 9:
                    break
            extra = self._core.client.execute(batch)
            for q, g, a in more:
                got = QueryResult.from_json(extra.get(q))
                comments.extend(GetResult.from_json(extra.get(g)).objects)
                users.update(users_by_id(optional(extra, a)))
                position += len(got.ids)
                if not got.ids:
                    position = total
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

    # --- list ---------------------------------------------------------------------------------

    def list(
        self,
        filter: TicketFilter | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> TicketPage:
        """One page of the tickets the actor may see, newest first.

        Agents see every ticket of their types, anyone else the tickets they requested. The
        page comes in one HTTP request once the desk knows its layout (two from a fresh
        client: the layout, then the page); an agent given by address is looked up in the
        same request. ``page`` counts from 1, ``per_page`` is 1 to :data:`MAX_PER_PAGE`
        (:class:`~go_support.desk.InvalidPage` otherwise).
        """
        core = self._core
        wanted = filter or TicketFilter()
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise InvalidPage(f"the page number {page!r} is not a page: pages count from 1")
        if (isinstance(per_page, bool) or not isinstance(per_page, int)
                or not 1 <= per_page <= MAX_PER_PAGE):
            raise InvalidPage(f"{per_page!r} tickets per page: per_page must be between 1 and "
                              f"{MAX_PER_PAGE}")
        statuses = [Status.parse(s).value for s in _as_list(wanted.status)]
        text = wanted.text.strip() if wanted.text else None
        requester = (None if wanted.requester is None
                     else parse_person(wanted.requester, role="requester",
                                       me=self._me_for(wanted.requester)))
        agent_filter: Any = None
        if isinstance(wanted.agent, Unassigned):
            agent_filter = UNASSIGNED
        elif wanted.agent is not None:
            agent_filter = parse_person(wanted.agent, role="agent", me=self._me_for(wanted.agent))

        def build(batch: Batch, layout: DeskLayout | None) -> Interpret:
            assert layout is not None
            covered = self._covered_types(wanted, layout)
            agent_ids = [t.id for t in covered if core.is_agent(t, layout)]
            other_ids = [t.id for t in covered if not core.is_agent(t, layout)
                         and (not core.self_mode or layout.key_levels.get(t.id, 0) > 0)]
            scope: builtins.list[dict[str, Any]] = []
            if agent_ids:
                scope.append({"tasklistId": agent_ids})
            if other_ids:
                scope.append({"operator": "AND", "conditions": [
                    {"tasklistId": other_ids}, {names.REQUESTER_ID: core.me()}]})
            if not scope:
                return lambda r, lay, a: TicketPage((), 0, page, per_page, False)
            conditions: builtins.list[dict[str, Any]] = [
                scope[0] if len(scope) == 1 else {"operator": "OR", "conditions": scope}]
            if statuses:
                conditions.append({"progress": statuses})
            checks = self._category_conditions(batch, wanted, covered, conditions)
            if requester is not None:
                if requester.user_id:
                    conditions.append({names.REQUESTER_ID: requester.user_id})
                else:
                    conditions.append({names.REQUESTER_EMAIL: like_exact(requester.email)})
            if agent_filter is UNASSIGNED:
                conditions.append({"responsibleUserId": None})
            elif isinstance(agent_filter, PersonSpec) and agent_filter.user_id:
                conditions.append({"responsibleUserId": agent_filter.user_id})
            elif isinstance(agent_filter, PersonSpec):
                checks.append(self._agent_by_address(batch, wanted, agent_filter, conditions))
            if text:
                conditions.append({"text": text})
            if wanted.legacy_id is not None:
                conditions.append({names.LEGACY_TICKET_ID: like_exact(str(wanted.legacy_id))})
            for name, value, op in (
                ("createdAt", wanted.created_after, ">="),
                ("createdAt", wanted.created_before, "<"),
                ("modifiedAt", wanted.modified_after, ">="),
                ("modifiedAt", wanted.modified_before, "<"),
            ):
                if value is not None:
                    conditions.append({name: f"{op}{_utc_text(value)}"})
            query = batch.call("Task/query", {
                "filter": {"operator": "AND", "conditions": conditions},
                "sort": [{"property": "createdAt", "isAscending": False},
                         {"property": "id", "isAscending": False}],
                "position": (page - 1) * per_page, "limit": per_page,
                "calculateTotal": True, "calculateHasMore": True,
            })
            tasks = batch.call("Task/get", {"#ids": query.ref("/ids"),
                                            "properties": TASK_PROPERTIES})
            agents, requesters, cats = _add_names(batch, tasks)

            def interpret(responses: Responses, layout: DeskLayout,
                          actor: ActorInfo | None) -> TicketPage:
                for check in checks:
                    check(responses)
                result = QueryResult.from_json(responses.get(query))
                by_id = GetResult.from_json(responses.get(tasks)).by_id()
                users = users_by_id(optional(responses, agents), optional(responses, requesters))
                categories = categories_by_id(optional(responses, cats))
                found: builtins.list[Ticket] = []
                for task_id in result.ids:
                    task = by_id.get(task_id)
                    if task is None:
                        continue
                    ticket_type = layout.by_id(task.get("tasklistId"))
                    if ticket_type is None:
                        continue
                    # Defence in depth: Group-Office's answer is never shown unfiltered.
                    if not core.is_agent(ticket_type, layout) and requester_id(task) != (
                            core.me()):
                        continue
                    found.append(ticket_from_task(task, layout, users, categories))
                total = result.total if result.total is not None else len(found)
                return TicketPage(tuple(found), total, page, per_page,
                                  result.has_more or total > page * per_page)
            return interpret

        try:
            result: TicketPage = core.read(ReadPlan(build=build, needs_layout=True,
                                                    actor="levels"))
        except _Retry as retry:
            return self.list(retry.filter, page, per_page)
        return result

    @staticmethod
    def _agent_by_address(
        batch: Batch, wanted: TicketFilter, spec: PersonSpec,
        conditions: builtins.list[dict[str, Any]],
    ) -> Callable[[Responses], None]:
        """The agent filter for an address: the user looked up in the same request."""
        users = _Users(batch)
        users.add(spec)
        query = users.query(spec)
        assert query is not None
        conditions.append({"#responsibleUserId": query.ref("/ids")})

        def check(responses: Responses) -> None:
            user = users.user(responses, spec)
            if user is None:
                raise unknown_user("agent", spec)
            if {str(i) for i in QueryResult.from_json(responses.get(query)).ids} != {
                    str(user["id"])}:
                # The address filter (SQL LIKE) matched more users: ask again with the id.
                raise _Retry(replace(wanted, agent=str(user["id"])))
        return check

    def _covered_types(self, wanted: TicketFilter, layout: DeskLayout) -> builtins.list[TicketType]:
        refs = _as_list(wanted.type)
        if refs:
            return list(dict.fromkeys(self._core.resolve_type(r, layout) for r in refs))
        return [t for t in layout.types if wanted.include_archived or not t.archived]

    def _category_conditions(
        self, batch: Batch, wanted: TicketFilter, covered: Sequence[TicketType],
        conditions: builtins.list[dict[str, Any]],
    ) -> builtins.list[Callable[[Responses], None]]:
        """The category filter: ids directly, names through a look-up in the same request."""
        refs = _as_list(wanted.category)
        if not refs:
            return []
        ids: builtins.list[str] = []
        by_name: builtins.list[str] = []
        for ref in refs:
            if isinstance(ref, Category):
                ids.append(ref.id)
            elif isinstance(ref, int) and not isinstance(ref, bool):
                ids.append(str(ref))
            elif isinstance(ref, str) and is_id(ref.strip()):
                ids.append(ref.strip())
            elif isinstance(ref, str) and ref.strip():
                by_name.append(ref.strip())
            else:
                raise UnknownCategory(f"{ref!r} is not a category name or id")
        checks: builtins.list[Callable[[Responses], None]] = []
        if ids:
            # An id filters nothing out by itself: that it is a category is checked in the
            # same request (an unknown id would silently list nothing).
            by_id = batch.call("TaskCategory/get", {"ids": ids,
                                                    "properties": ["id", "name", "tasklistId"]})

            def check_ids(responses: Responses) -> None:
                found = categories_by_id(responses.get(by_id))
                for category_id in ids:
                    if category_id not in found:
                        raise UnknownCategory(
                            f"there is no category with the id {category_id!r} (or the API "
                            "key's user cannot read it)")
            checks.append(check_ids)
        if not by_name:
            conditions.append({"categories": ids})
            return checks
        scope = _category_scope([t.id for t in covered])
        query = batch.call("TaskCategory/query", {"filter": {"operator": "AND", "conditions": [
            {"operator": "OR", "conditions": [{"text": n} for n in by_name]}, scope]}})
        get = batch.call("TaskCategory/get", {"#ids": query.ref("/ids")})
        if ids:
            conditions.append({"operator": "OR", "conditions": [
                {"categories": ids}, {"#categories": query.ref("/ids")}]})
        else:
            conditions.append({"#categories": query.ref("/ids")})

        def check(responses: Responses) -> None:
            found = categories_by_id(responses.get(get))
            used = set(QueryResult.from_json(responses.get(query)).ids)
            for name in by_name:
                exact = {c.id for c in found.values() if c.name.casefold() == name.casefold()}
                if not exact:
                    raise UnknownCategory(
                        f"there is no category {name!r} (global or of the listed types)")
            exact_all = {c.id for c in found.values()
                         if any(c.name.casefold() == n.casefold() for n in by_name)}
            if used != exact_all:
                exact_all |= set(ids)
                # LIKE matched more than the exact names: ask again with the exact ids.
                raise _Retry(replace(wanted, category=sorted(exact_all)))
        checks.append(check)
        return checks

    # --- changes -----------------------------------------------------------------------------

    def _read_for_change(
        self, ticket: Any, doing: str, *, agent: PersonSpec | None = None,
    ) -> tuple[dict[str, Any], TicketType, DeskLayout, dict[str, Any] | None]:
        core = self._core
        ticket_id = ticket_id_of(ticket)

        def build(batch: Batch, layout: DeskLayout | None) -> Interpret:
            task = batch.call("Task/get", {"ids": [ticket_id], "properties": TASK_PROPERTIES})
            users = _Users(batch)
            if agent is not None:
                users.add(agent, full=True)

            def interpret(responses: Responses, layout: DeskLayout,
                          actor: ActorInfo | None) -> tuple[Any, ...]:
                found, ticket_type = core.ticket_task(responses, task, ticket_id, layout)
                user = users.user(responses, agent) if agent is not None else None
                return found, ticket_type, layout, user
            return interpret

        found, ticket_type, layout, user = core.read(ReadPlan(build=build, actor="levels"))
        core.require_agent(ticket_type, layout, doing)
        return found, ticket_type, layout, user

    def assign(self, id: str | int | Ticket, agent: str | int | Person | None) -> Ticket:
        """Give the ticket to ``agent`` (an agent of its type: a user id, ``"me"``, a
        :class:`Person` or a user's e-mail address, looked up in the request that reads the
        ticket), or to nobody (``None``).

        The status stays as it is (Group-Office would reset it to needs-action, surprise 11).
        """
        core = self._core
        spec = None if agent is None else parse_person(agent, role="agent",
                                                       me=self._me_for(agent))
        task, ticket_type, layout, user = self._read_for_change(id, "assign tickets",
                                                                agent=spec)
        responsible = None if spec is None else _agent_of(user, spec, ticket_type)
        status = Status(task.get("progress") or Status.NEEDS_ACTION.value)
        done = write_change(core, task, comment=None, progress=status, responsible=responsible,
                            what=f"assign ticket {task['id']}")
        return ticket_from_task(done.task, layout, done.users, done.categories)

    def set_status(self, id: str | int | Ticket, status: str | Status) -> Ticket:
        """Set the status; the agent stays."""
        core = self._core
        wanted = Status.parse(status)
        task, _type, layout, _ = self._read_for_change(id, "change the status of tickets")
        done = write_change(core, task, comment=None, progress=wanted,
                            responsible=_str(task.get("responsibleUserId")),
                            reset_percent=needs_percent_reset(task, wanted),
                            what=f"change the status of ticket {task['id']}")
        return ticket_from_task(done.task, layout, done.users, done.categories)

    def close(
        self,
        id: str | int | Ticket,
        status: str | Status = Status.COMPLETED,
        feedback: str | None = None,
        *,
        feedback_mode: str | None = None,
    ) -> Ticket:
        """Close the ticket (completed, failed or cancelled); the agent stays.

        What the requester gets follows the settings (``desk.close.feedback``: ``none``, a
        ``private`` note, or a ``public`` reply with ``desk.close.feedback_text``).
        ``feedback`` replaces the text (a public reply when the settings say ``none``);
        ``feedback_mode`` replaces the mode.
        """
        core = self._core
        wanted = Status.parse(status)
        if not wanted.is_closed:
            raise InvalidTicket(f"closing needs a closing status (Completed, Failed or "
                                f"Cancelled), not '{wanted.label}'")
        close_settings = core.settings.desk.close
        mode = feedback_mode or close_settings.feedback
        if mode not in ("none", "private", "public"):
            raise InvalidTicket(f"feedback_mode must be none, private or public (got {mode!r})")
        text = feedback if feedback is not None else close_settings.feedback_text
        if feedback is not None and feedback_mode is None and mode == "none":
            mode = "public"
        html_text = None
        if mode != "none":
            html_text = check_message(text, what="the closing feedback")
        task, _type, layout, _ = self._read_for_change(id, "close tickets")
        comment = None
        if html_text is not None:
            comment = ({"text": html_text, "labels": [layout.private_label_id]}
                       if mode == "private" else {"text": html_text, "mailStatus": "pending"})
        done = write_change(core, task, comment=comment, progress=wanted,
                            responsible=_str(task.get("responsibleUserId")),
                            what=f"close ticket {task['id']}")
        return ticket_from_task(done.task, layout, done.users, done.categories)


class _Retry(Exception):
    """A look-up in the request matched more than it should: list again with ``filter``."""

    def __init__(self, filter: TicketFilter) -> None:
        super().__init__("retry")
        self.filter = filter


def _str(value: Any) -> str | None:
    return None if value in (None, "", 0, "0") else str(value)

