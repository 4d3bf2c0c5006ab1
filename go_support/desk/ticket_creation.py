"""Opening tickets, one or thousands: the desk's checks, then :mod:`~go_support.desk.operations`.

One ticket and a bulk go through the same code. First every draft is checked on its own
(subject, message, people, Message-ID, dates, status, legacy id); then one request reads the
layout with every look-up the drafts need (the users named by id in one ``User/get``, by
address in one ``User/query``, the categories of the types involved); then the permissions,
agents and categories of each draft are checked. **A bulk with a refused draft is refused as a
whole** (:class:`~go_support.desk.RefusedTickets` names every refused draft by position, legacy
id or subject): nothing is sent, the caller drops or fixes the drafts and sends the bulk again.

Then the tasks and first messages are written in shared calls (1,000 per call); a ticket whose
first status is not needs-action gets its state in one more request (its first message reset
it, groupoffice-wire 09). If Group-Office refuses a ticket's first message after its task was
created, that task is destroyed in the same further request and the ticket is reported refused
(:class:`RefusedTicket`); the others stay created.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from go_support.desk._core import DeskCore, ReadPlan
from go_support.desk.actor import ACTOR_PROPERTIES, ActorInfo, ActorMode
from go_support.desk.categories import category_scope, pick_category
from go_support.desk.checks import (
    AttachmentSource,
    PersonSpec,
    check_date,
    check_message,
    check_message_id,
    check_subject,
    parse_person,
    prepare_attachments,
    unknown_user,
    upload_attachments,
)
from go_support.desk.convert import categories_by_id, like_exact
from go_support.desk.discovery import DeskLayout
from go_support.desk.errors import (
    DeskError,
    InvalidTicket,
    PermissionDenied,
    RefusedTickets,
    UnknownCategory,
)
from go_support.desk.models import Category, Person, Status, TicketType
from go_support.desk.names import FIELDS, LEGACY_TICKET_ID
from go_support.desk.operations import (
    Created,
    NewMessage,
    NewTicket,
    Refused,
    TicketCreation,
    Writes,
    check_undone,
    undo_creations,
)
from go_support.desk.ticket_reads import agent_id_of, as_list, user_with_address
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.errors import JMAPError
from go_support.jmap.results import GetResult

__all__ = ["CreatedTicket", "RefusedTicket", "TicketDraft", "check_drafts", "write_tickets"]

MAX_LEGACY_ID = FIELDS[LEGACY_TICKET_ID][2]["maxLength"]
ADDRESSES_PER_QUERY = 200
MAX_NAMED = 5  # refused drafts named in the message (all are in .problems)


@dataclass(frozen=True)
class TicketDraft:
    """One ticket to open, as a caller names it (the arguments of
    :meth:`~go_support.desk.tickets.TicketManager.create`, plus ``legacy_id``, a first
    ``status`` and the task's ``start`` and ``due`` dates)."""

    type: str | int | TicketType | None
    subject: str
    message: str
    requester: str | int | Person
    category: str | int | Category | Sequence[str | int | Category] | None = None
    attachments: Sequence[AttachmentSource] = ()
    agent: str | int | Person | None = None
    message_id: str | None = None
    date: dt.datetime | None = None
    legacy_id: str | None = None
    status: str | Status | None = None
    start: dt.date | None = None
    due: dt.date | None = None
    first_key: str | None = None
    """``supportFirstMessageId`` when it is not ``message_id`` (mail intake's per-mail key)."""


@dataclass(frozen=True)
class CreatedTicket:
    """A ticket a bulk created: its id, its first message's id, and what it was asked as."""

    position: int
    ticket_id: str
    message_id: str
    legacy_id: str | None
    status: Status


@dataclass(frozen=True)
class RefusedTicket:
    """A draft Group-Office refused after the desk's checks: its task was refused, or its
    first message (the task then destroyed again: ``undone``, or ``left_over`` when that
    failed too)."""

    position: int
    reason: str
    undone: str | None = None
    left_over: str | None = None
    error: JMAPError | None = None


@dataclass
class _Checked:
    """A draft after the checks that need no request."""

    position: int
    draft: TicketDraft
    title: str
    text: str
    files: list[Any]
    requester: PersonSpec
    agent: PersonSpec | None
    message_id: str | None
    when: dt.datetime | None
    categories: list[Any]
    type_ref: Any
    legacy_id: str | None
    status: Status | None


def _label(position: int, draft: TicketDraft) -> str:
    if draft.legacy_id:
        return f"ticket {position} (legacy id {draft.legacy_id!r})"
    return f"ticket {position} ({str(draft.subject)[:40]!r})"


def _check_alone(position: int, draft: TicketDraft, core: DeskCore) -> _Checked:
    """The checks of one draft that need no request."""
    files = prepare_attachments(draft.attachments)
    legacy = None if draft.legacy_id is None else str(draft.legacy_id).strip()
    if legacy is not None and not (0 < len(legacy) <= MAX_LEGACY_ID):
        raise InvalidTicket(f"the legacy id {draft.legacy_id!r} must have 1 to "
                            f"{MAX_LEGACY_ID} characters")
    type_ref = draft.type if draft.type is not None else core.settings.desk.default_type
    if type_ref is None:
        raise InvalidTicket("no ticket type given, and the settings name no desk.default_type")
    return _Checked(
        position=position, draft=draft, title=check_subject(draft.subject),
        text=check_message(draft.message, what="the first message", attachments=files),
        files=files,
        requester=parse_person(draft.requester, role="requester",
                               me=_me_for(core, draft.requester)),
        agent=None if draft.agent is None else parse_person(
            draft.agent, role="agent", me=_me_for(core, draft.agent)),
        message_id=check_message_id(draft.message_id), when=check_date(draft.date),
        categories=as_list(draft.category), type_ref=type_ref, legacy_id=legacy,
        status=None if draft.status is None else Status.parse(draft.status),
    )


def _me_for(core: DeskCore, value: Any) -> str | None:
    """The actor's id when ``value`` is ``"me"`` (fetching the session only then)."""
    if isinstance(value, str) and value.strip().lower() == "me":
        return core.me()
    return None


# --- the look-ups of many drafts in one request ---------------------------------------------


@dataclass
class _Lookups:
    """Users by id (one ``User/get``), by address (``User/query`` per 200 addresses), and the
    categories of the types involved, added to one read."""

    by_id: Call | None = None
    by_address: list[Call] = field(default_factory=list)
    categories: Call | None = None

    @classmethod
    def add(cls, batch: Batch, checked: Sequence[_Checked],
            types: Sequence[TicketType]) -> _Lookups:
        specs = [s for c in checked for s in (c.requester, c.agent) if s is not None]
        ids = sorted({s.user_id for s in specs if s.user_id})
        addresses = sorted({(s.email or "").casefold() for s in specs if not s.user_id})
        found = cls()
        if ids:
            found.by_id = batch.call("User/get", {"ids": ids, "properties": ACTOR_PROPERTIES})
        for start in range(0, len(addresses), ADDRESSES_PER_QUERY):
            chunk = addresses[start:start + ADDRESSES_PER_QUERY]
            query = batch.call("User/query", {"filter": {"operator": "OR", "conditions": [
                {"email": like_exact(a)} for a in chunk]}})
            found.by_address.append(batch.call("User/get", {
                "#ids": query.ref("/ids"), "properties": ACTOR_PROPERTIES}))
        if any(c.categories for c in checked):
            query = batch.call("TaskCategory/query", {
                "filter": category_scope([t.id for t in types])})
            found.categories = batch.call("TaskCategory/get", {"#ids": query.ref("/ids")})
        return found

    def result(self, responses: Responses) -> _Found:
        users: dict[str, dict[str, Any]] = {}
        if self.by_id is not None:
            users = GetResult.from_json(responses.get(self.by_id)).by_id()
        with_address: list[dict[str, Any]] = []
        for call in self.by_address:
            with_address += GetResult.from_json(responses.get(call)).objects
        cats = categories_by_id(responses.get(self.categories)) if self.categories else {}
        return _Found(users, with_address, cats)


@dataclass(frozen=True)
class _Found:
    users: Mapping[str, dict[str, Any]]
    with_address: list[dict[str, Any]]
    categories: Mapping[str, Category]

    def user(self, spec: PersonSpec) -> dict[str, Any] | None:
        if spec.user_id:
            return self.users.get(spec.user_id)
        return user_with_address(self.with_address, spec.email or "")


@dataclass
class _DraftRead:
    """The read of a bulk: each draft's type (from the layout) and every look-up."""

    core: DeskCore
    checked: Sequence[_Checked]
    problems: list[tuple[int, DeskError]] = field(default_factory=list)
    lookups: _Lookups | None = None
    types: list[TicketType | None] = field(default_factory=list)

    def build(self, batch: Batch, layout: DeskLayout | None) -> Callable[
            [Responses, DeskLayout, ActorInfo | None], tuple[list[TicketType | None], _Found]]:
        assert layout is not None
        self.problems, self.types = [], []
        for item in self.checked:
            try:
                self.types.append(self.core.resolve_type(item.type_ref, layout))
            except DeskError as exc:
                self.problems.append((item.position, exc))
                self.types.append(None)
        known = [t for t in self.types if t is not None]
        self.lookups = _Lookups.add(batch, self.checked, list(dict.fromkeys(known)))
        return self.interpret

    def interpret(self, responses: Responses, layout: DeskLayout,
                  actor: ActorInfo | None) -> tuple[list[TicketType | None], _Found]:
        assert self.lookups is not None
        return self.types, self.lookups.result(responses)


# --- the checks that need the look-ups --------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """Drafts that passed every check: what to write, and the people it names."""

    new: list[NewTicket]
    checked: list[_Checked]
    people: dict[str, Person]
    categories: Mapping[str, Category]
    layout: DeskLayout


def _check_people(core: DeskCore, item: _Checked, ticket_type: TicketType, found: _Found,
                  layout: DeskLayout, actor: ActorInfo | None) -> tuple[
                      dict[str, Any] | None, str | None]:
    """The requester found (or ``None`` for an address that is no user) and the agent's id;
    refuses who may not open the ticket."""
    if ticket_type.archived:
        raise InvalidTicket(f"the ticket type '{ticket_type.name}' is archived; open new "
                            "tickets in an active type")
    requester = found.user(item.requester)
    if item.requester.user_id and requester is None:
        raise unknown_user("requester", item.requester)
    core.refuse_disabled(ticket_type, layout, "open tickets")
    if not core.is_agent(ticket_type, layout):
        assert actor is not None
        if requester is None or str(requester["id"]) != actor.id:
            raise PermissionDenied(
                f"user {actor.id} is not an agent of type '{ticket_type.name}' and may only "
                "open tickets for themself: needs write access on its task list",
                actor=actor.id, right="agent")
        core.require_customer(ticket_type, actor)
        if item.status not in (None, Status.NEEDS_ACTION):
            raise PermissionDenied(
                f"user {actor.id} may not set the status of a new ticket: only agents of type "
                f"'{ticket_type.name}' may (needs write access on its task list)",
                actor=actor.id, right="agent")
    agent_id = (None if item.agent is None
                else agent_id_of(found.user(item.agent), item.agent, ticket_type))
    return requester, agent_id


def _category_ids(refs: Iterable[Any], known: Mapping[str, Category],
                  ticket_type: TicketType) -> tuple[str, ...]:
    usable = [c for c in known.values() if c.type_id is None or c.type_id == ticket_type.id]
    picked: list[str] = []
    for ref in refs:
        category = pick_category(ref, usable)
        if category is None:
            names_ = ", ".join(sorted({f"'{c.name}'" for c in usable})) or "none"
            raise UnknownCategory(
                f"there is no category {ref!r} for type '{ticket_type.name}'; its categories "
                f"(with the global ones) are {names_}")
        picked.append(category.id)
    return tuple(picked)


def _new_ticket(core: DeskCore, item: _Checked, ticket_type: TicketType, found: _Found,
                layout: DeskLayout, actor: ActorInfo | None,
                people: dict[str, Person]) -> NewTicket:
    requester, agent_id = _check_people(core, item, ticket_type, found, layout, actor)
    requester_id = str(requester["id"]) if requester else None
    for user_id, user in ((requester_id, requester),
                          (agent_id, found.user(item.agent) if item.agent else None)):
        if user_id and user:
            people[user_id] = Person(user_id, user.get("email"), user.get("displayName"))
    return NewTicket(
        type_id=ticket_type.id, title=item.title,
        first=NewMessage(item.text, "received", message_id=item.message_id, date=item.when),
        requester_id=requester_id,
        requester_email=(str(requester.get("email") or "") if requester
                         else item.requester.email or ""),
        requester_name=(str(requester.get("displayName") or "") if requester
                        else item.requester.name or ""),
        agent_id=agent_id, status=item.status or Status.NEEDS_ACTION,
        category_ids=_category_ids(item.categories, found.categories, ticket_type),
        legacy_id=item.legacy_id, start=item.draft.start, due=item.draft.due,
        first_key=item.draft.first_key)


def _refuse(problems: list[tuple[int, DeskError]], drafts: Sequence[TicketDraft]) -> None:
    if not problems:
        return
    if len(drafts) == 1:
        raise problems[0][1]
    named = "; ".join(f"{_label(i, drafts[i])}: {e}" for i, e in problems[:MAX_NAMED])
    more = f"; and {len(problems) - MAX_NAMED} more" if len(problems) > MAX_NAMED else ""
    raise RefusedTickets(f"{len(problems)} of {len(drafts)} tickets were refused, nothing was "
                         f"created: {named}{more}", problems)


def check_drafts(core: DeskCore, drafts: Sequence[TicketDraft]) -> Prepared:
    """Every check of every draft, with one request for the layout and the look-ups (two when
    a non-agent needs their group names); :class:`RefusedTickets` (one draft: its own error)
    when any draft is refused."""
    problems: list[tuple[int, DeskError]] = []
    checked: list[_Checked] = []
    for position, draft in enumerate(drafts):
        try:
            checked.append(_check_alone(position, draft, core))
        except DeskError as exc:
            problems.append((position, exc))
    if len(drafts) == 1 or not checked:
        _refuse(problems, drafts)

    plan = _DraftRead(core, checked)
    types, found = core.read(ReadPlan(build=plan.build, needs_layout=True, actor=(
        ActorMode.LEVELS if core.self_mode else ActorMode.FULL)))
    problems += plan.problems
    layout = core.layout()
    actor = core.actor
    if any(t is not None and not core.is_agent(t, layout) for t in types) and (
            actor is None or actor.group_names is None):
        actor = core.full_actor()
    people: dict[str, Person] = {}
    new: list[NewTicket] = []
    for item, ticket_type in zip(checked, types, strict=True):
        if ticket_type is None:
            continue  # its type is unknown: in plan.problems
        try:
            new.append(_new_ticket(core, item, ticket_type, found, layout, actor, people))
        except DeskError as exc:
            problems.append((item.position, exc))
    _refuse(sorted(problems, key=lambda p: p[0]), drafts)
    return Prepared(new, checked, people, found.categories, layout)


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """What :func:`write_tickets` sent and got back."""

    results: list[CreatedTicket | RefusedTicket]
    responses: Responses  # of the last request (with what ``read`` added)


def _with_files(core: DeskCore, prepared: Prepared) -> list[NewTicket]:
    """The tickets with their attachments uploaded (one request per file)."""
    new = list(prepared.new)
    for index, item in enumerate(prepared.checked):
        if item.files:
            blobs = upload_attachments(core.client, item.files)
            first = new[index].first
            new[index] = _replace_first(new[index], NewMessage(
                first.text, first.mail_status, message_id=first.message_id, date=first.date,
                attachments=tuple(blobs)))
    return new


def _replace_first(ticket: NewTicket, first: NewMessage) -> NewTicket:
    values = {k: getattr(ticket, k) for k in ticket.__dataclass_fields__}
    values["first"] = first
    return NewTicket(**values)


ReadBack = Callable[[Batch, Sequence[TicketCreation], Sequence[Created | Refused] | None], None]


def write_tickets(core: DeskCore, prepared: Prepared,
                  read: ReadBack | None = None) -> Written:
    """Write checked tickets: tasks and first messages in shared calls, then (one more
    request, when needed) the first statuses and the undoing of refused first messages.

    ``read(batch, handles, outcomes)`` may add read-backs to the last request (``outcomes``
    is ``None`` when that is the request that creates the tickets)."""
    new = _with_files(core, prepared)
    batch = Batch()
    writes = Writes(batch)
    handles = [writes.create_ticket(n) for n in new]
    needs_more = any(h.needs_state for h in handles)
    if read is not None and not needs_more:
        read(batch, handles, None)
    responses = core.client.execute(batch)
    outcomes: list[Created | Refused] = [h.result(responses) for h in handles]
    broken = [o.task_id for o in outcomes if isinstance(o, Refused) and o.task_id]
    states = [(h, o) for h, o in zip(handles, outcomes, strict=True)
              if isinstance(o, Created) and h.needs_state]
    left: list[str] = []
    if states or broken:
        batch = Batch()
        writes = Writes(batch)
        for handle, created in states:
            writes.change_state(created.ticket_id, handle.new.status, handle.new.agent_id)
        undo = undo_creations(batch, broken)
        if read is not None and needs_more:
            read(batch, handles, outcomes)
        responses = core.client.execute(batch)
        left = check_undone(responses, undo, broken)
    return Written(_results(prepared, handles, outcomes, left), responses)


def _results(prepared: Prepared, handles: Sequence[TicketCreation],
             outcomes: Sequence[Created | Refused],
             left: Sequence[str]) -> list[CreatedTicket | RefusedTicket]:
    results: list[CreatedTicket | RefusedTicket] = []
    for item, handle, outcome in zip(prepared.checked, handles, outcomes, strict=True):
        if isinstance(outcome, Created):
            results.append(CreatedTicket(item.position, outcome.ticket_id, outcome.message_id,
                                         handle.new.legacy_id, handle.new.status))
        else:
            task = outcome.task_id
            results.append(RefusedTicket(
                item.position, outcome.reason, task if task and task not in left else None,
                task if task in left else None, outcome.error))
    return results
