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
(:class:`RefusedTicket`); the others stay created. A transient failure is tried again for
the tickets still missing, what the failed request created kept (:mod:`go_support.desk.retry`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from go_support.desk import names
from go_support.desk._core import DeskCore, ReadPlan
from go_support.desk.actor import ACTOR_PROPERTIES, ActorInfo, ActorMode
from go_support.desk.attribution import attributed
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
from go_support.desk.lookups import add_messages_of
from go_support.desk.models import Category, Person, Status, TicketType
from go_support.desk.names import FIELDS, LEGACY_TICKET_ID
from go_support.desk.operations import (
    Created,
    MessagePost,
    NewMessage,
    NewTicket,
    Refused,
    TicketCreation,
    Writes,
    check_undone,
    undo_creations,
    utc_text,
)
from go_support.desk.retry import Transient, deadlocked, is_transient, run_write
from go_support.desk.ticket_reads import agent_id_of, as_list, user_with_address
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.errors import JMAPError
from go_support.jmap.results import GetResult, QueryResult

__all__ = ["CreatedTicket", "Planned", "RefusedTicket", "TicketDraft", "check_drafts",
           "plan_tickets", "write_tickets"]

log = logging.getLogger("go_support.desk")

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
    requester_email = (str(requester.get("email") or "") if requester
                       else item.requester.email or "")
    requester_name = (str(requester.get("displayName") or "") if requester
                      else item.requester.name or "")
    # the first message is the requester's: the web client must say so (it shows the key's user)
    text = attributed(item.text, Person(requester_id, requester_email, requester_name))
    return NewTicket(
        type_id=ticket_type.id, title=item.title,
        first=NewMessage(text, "received", message_id=item.message_id, date=item.when),
        requester_id=requester_id,
        requester_email=requester_email,
        requester_name=requester_name,
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

#: How far back a failed request's tasks are looked for (covers clocks that differ).
LOOK_BACK = dt.timedelta(minutes=5)
#: The task values that tell a ticket of a failed request from others of the same moment.
MATCHED = (names.FIRST_MESSAGE_ID, names.LEGACY_TICKET_ID, names.REQUESTER_EMAIL,
           names.REQUESTER_NAME)


@dataclass
class Planned:
    """The request that creates checked tickets, built ahead (:func:`plan_tickets`)."""

    bulk: _Bulk
    prepared: Prepared


def plan_tickets(core: DeskCore, prepared: Prepared) -> Planned:
    """Build the request that creates ``prepared`` (nothing is sent): a bulk writer builds the
    next bulk's calls in a thread while the current bulk is on the server, then hands this to
    :func:`write_tickets`. Tickets with attachments are refused here: their uploads are
    writes, made by :func:`write_tickets` itself."""
    if any(item.files for item in prepared.checked):
        raise ValueError("tickets with attachments are uploaded by write_tickets: not planned")
    bulk = _Bulk(core, list(prepared.new), None)
    bulk.planned = bulk.build()
    return Planned(bulk, prepared)


def write_tickets(core: DeskCore, prepared: Prepared,
                  read: ReadBack | None = None, planned: Planned | None = None) -> Written:
    """Write checked tickets: tasks and first messages in shared calls, then (one more
    request, when needed) the first statuses and the undoing of refused first messages.

    ``read(batch, handles, outcomes)`` may add read-backs to the last request (``outcomes``
    is ``None`` when that is the request that creates the tickets).

    A transient failure (:mod:`go_support.desk.retry`) is tried again for the tickets still
    missing: the tasks and first messages a failed request still created are found first
    (tasks of the types created since shortly before that were not there before the
    request, with the ticket's title and custom fields; comments on them with the first
    message's text) and kept, so no ticket or first message is written twice.

    ``planned``: the first request, built by :func:`plan_tickets` from ``prepared``.
    """
    if planned is not None and (planned.prepared is not prepared or read is not None
                                or planned.bulk.core is not core):
        raise ValueError("the planned request was built for other tickets or another desk")
    bulk = planned.bulk if planned is not None else _Bulk(core, _with_files(core, prepared),
                                                          read)
    run_write(core, bulk.attempt, f"open {len(bulk.new)} ticket(s)")
    return bulk.finish(prepared)


@dataclass(frozen=True)
class _Request:
    """One attempt's request of a :class:`_Bulk`: its calls and their handles."""

    batch: Batch
    handles: dict[int, TicketCreation | MessagePost]
    before: Call | None  # the tasks of the types created lately, before the writes


@dataclass
class _Bulk:
    """The tickets of one :func:`write_tickets`, attempt after attempt."""

    core: DeskCore
    new: list[NewTicket]
    read: ReadBack | None
    created: dict[int, Created] = field(default_factory=dict)
    tasks: dict[int, str] = field(default_factory=dict)  # created, first message missing
    refused: dict[int, Refused] = field(default_factory=dict)
    first: list[TicketCreation] = field(default_factory=list)
    read_done: bool = False
    retried: bool = False
    responses: Responses | None = None
    planned: _Request | None = None

    def build(self) -> _Request:
        """The next attempt's request: what is still missing."""
        batch = Batch()
        writes = Writes(batch)
        pending = [i for i in range(len(self.new))
                   if i not in self.created and i not in self.refused]
        creating = [i for i in pending if i not in self.tasks]
        before = self._add_recent(batch, creating) if creating else None
        handles: dict[int, TicketCreation | MessagePost] = {}
        for i in pending:
            handles[i] = (writes.post(self.tasks[i], self.new[i].first) if i in self.tasks
                          else writes.create_ticket(self.new[i]))
        if not self.first:
            self.first = [h for h in handles.values() if isinstance(h, TicketCreation)]
            if self.read is not None and not any(h.needs_state for h in self.first):
                self.read(batch, self.first, None)
                self.read_done = True
        return _Request(batch, handles, before)

    def attempt(self) -> None:
        request, self.planned = self.planned or self.build(), None
        batch, handles, before = request.batch, request.handles, request.before
        responses = self.core.client.execute(batch)
        self.responses = responses
        failed: dict[int, Refused] = {}
        for i, handle in handles.items():
            outcome = self._outcome(i, handle, responses)
            if isinstance(outcome, Created):
                self.created[i] = outcome
                self.tasks.pop(i, None)
            elif is_transient(outcome.error, responses):
                failed[i] = outcome
                if outcome.task_id:
                    self.tasks[i] = outcome.task_id
            else:
                self.refused[i] = outcome
        if not failed:
            return
        self.retried = True
        self.read_done = False  # it read what failed: read again at the end
        known = set() if before is None else {
            str(t) for t in QueryResult.from_json(responses.get(before)).ids}
        self._reconcile([i for i in failed if i not in self.tasks], known)
        cause = next(o.error for o in failed.values() if o.error is not None)
        raise Transient(cause, lambda: self._give_up(failed))

    def _outcome(self, i: int, handle: TicketCreation | MessagePost,
                 responses: Responses) -> Created | Refused:
        if isinstance(handle, TicketCreation):
            return handle.result(responses)
        posted = handle.result(responses)
        if isinstance(posted, Refused):
            return Refused(f"the first message: {posted.reason}", self.tasks[i], posted.error)
        return Created(self.tasks[i], str(posted["id"]))

    def _give_up(self, failed: Mapping[int, Refused]) -> None:
        for i, outcome in failed.items():
            if i not in self.created:
                self.refused[i] = Refused(outcome.reason, self.tasks.pop(i, None), outcome.error)

    def _type_ids(self, indexes: Sequence[int]) -> list[str]:
        return sorted({self.new[i].type_id for i in indexes})

    def _add_recent(self, batch: Batch, indexes: Sequence[int]) -> Call:
        """A query of the tasks of the types created lately (before the writes)."""
        since = utc_text(dt.datetime.now(dt.UTC) - LOOK_BACK)
        return batch.call("Task/query", {"filter": {"operator": "AND", "conditions": [
            {"tasklistId": self._type_ids(indexes)}, {"createdAt": f">={since}"}]}})

    def _reconcile(self, missing: Sequence[int], known: set[str]) -> None:
        """Find what a failed request still created: the tasks of ``missing`` (new since the
        request, same values), then the first messages of every task without one."""
        if missing:
            batch = Batch(prefix="r")
            recent = batch.call("Task/get", {
                "#ids": self._add_recent(batch, missing).ref("/ids"),
                "properties": ["id", "tasklistId", "title", "customFields"]})
            taken = set(self.tasks.values()) | {c.ticket_id for c in self.created.values()}
            found = [t for t in GetResult.from_json(
                self.core.client.execute(batch).get(recent)).objects
                if str(t["id"]) not in known and str(t["id"]) not in taken]
            for i in missing:
                match = next((t for t in found if _same_task(t, self.new[i])), None)
                if match is not None:
                    found.remove(match)
                    self.tasks[i] = str(match["id"])
                    log.warning("a request that failed still created task %s; it is kept",
                                match["id"])
        if not self.tasks:
            return
        batch = Batch(prefix="r")
        lookup = add_messages_of(batch, list(self.tasks.values()))
        comments = GetResult.from_json(self.core.client.execute(batch).get(lookup.get)).objects
        for i, task_id in list(self.tasks.items()):
            first = self.new[i].first
            match = next((c for c in comments if str(c.get("entityId")) == task_id
                          and c.get("text") == first.text
                          and (c.get("mimeMessageId") or None) == (first.message_id or None)),
                         None)
            if match is not None:
                self.created[i] = Created(task_id, str(match["id"]))
                del self.tasks[i]

    def finish(self, prepared: Prepared) -> Written:
        """The first statuses, the undoing of refused first messages, the read-back."""
        outcomes: list[Created | Refused] = [self.created.get(i) or self.refused[i]
                                             for i in range(len(self.new))]
        states = [(self.new[i], c) for i, c in self.created.items()
                  if self.new[i].status is not Status.NEEDS_ACTION]
        broken = [o.task_id for o in self.refused.values() if o.task_id]
        read = self.read if self.read is not None and not self.read_done else None
        left: list[str] = []
        if states or broken or read is not None:
            finishing = _Finish(self.core, states, broken, read, self.first, outcomes)
            run_write(self.core, finishing.attempt, "finish opening tickets")
            self.responses = finishing.responses
            left = finishing.left
        assert self.responses is not None
        return Written(_results(prepared, self.new, outcomes, left), self.responses)


def _same_task(task: Mapping[str, Any], new: NewTicket) -> bool:
    fields = task.get("customFields") or {}
    wanted = new.task()["customFields"]
    return (str(task.get("tasklistId")) == new.type_id and task.get("title") == new.title
            and all(str(fields.get(n) or "") == str(wanted.get(n) or "") for n in MATCHED))


@dataclass
class _Finish:
    """The request after the creations: states (absolute values) and destroys, both safe to
    send again."""

    core: DeskCore
    states: Sequence[tuple[NewTicket, Created]]
    broken: Sequence[str]
    read: ReadBack | None
    handles: Sequence[TicketCreation]
    outcomes: Sequence[Created | Refused]
    left: list[str] = field(default_factory=list)
    responses: Responses | None = None

    def attempt(self) -> None:
        batch = Batch()
        writes = Writes(batch)
        changes = [writes.change_state(c.ticket_id, n.status, n.agent_id)
                   for n, c in self.states]
        undo = undo_creations(batch, self.broken)
        if self.read is not None:
            self.read(batch, self.handles, self.outcomes)
        responses = self.core.client.execute(batch)
        self.responses = responses
        self.left = check_undone(responses, undo, self.broken)
        error = deadlocked(responses)
        if error is not None and (self.left or any(
                c.result(responses) is not None for c in changes)):
            self.broken = self.left
            raise Transient(error, lambda: None)


def _results(prepared: Prepared, new: Sequence[NewTicket],
             outcomes: Sequence[Created | Refused],
             left: Sequence[str]) -> list[CreatedTicket | RefusedTicket]:
    results: list[CreatedTicket | RefusedTicket] = []
    for item, ticket, outcome in zip(prepared.checked, new, outcomes, strict=True):
        if isinstance(outcome, Created):
            results.append(CreatedTicket(item.position, outcome.ticket_id, outcome.message_id,
                                         ticket.legacy_id, ticket.status))
        else:
            task = outcome.task_id
            results.append(RefusedTicket(
                item.position, outcome.reason, task if task and task not in left else None,
                task if task in left else None, outcome.error))
    return results
