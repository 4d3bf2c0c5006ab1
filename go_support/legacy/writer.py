"""Writing legacy tickets into the help desk: idempotent, resumable, in few requests.

Why this shape:

* **Natural keys, no journal.** A ticket is found again by its legacy id
  (``supportLegacyTicketId``), a message by its stable Message-ID
  (:func:`~go_support.legacy.mapping.legacy_message_id`). A run killed at any point, or a
  call that failed but still wrote (a real server that deadlocks under load may keep part of
  a failed ``Comment/set``), is repaired by the next run or the next attempt: it looks, then
  writes only what is missing, so every ticket and every message exists exactly once.
* **Chunks.** Tickets are read as a stream and written ``chunk`` at a time: one request
  checks what exists, two create the tasks with their first messages
  (:func:`~go_support.desk.ticket_creation.check_drafts` and ``write_tickets``, every check of
  ``tickets.create_many``), one per 500 other messages posts them and one sets the final statuses.
  The messages go in ``Comment/set`` calls of ``per_call`` comments (small enough for a
  loaded server), chained by twenty so that each twenty travel as one HTTP request.
* **Statuses last.** Every comment the migration writes resets the task's progress
  (groupoffice-wire 09, 16), so the status and the agent are written after the messages.
* **A rerun reads little.** At the start one paged read lists the tickets an earlier run
  made. Those are read from MariaDB without their messages; per chunk one query gives the ids
  of their legacy messages and one request the Message-IDs on their tasks. A ticket whose
  Message-IDs are all there is complete (replies written in the desk since do not count);
  only the others are read whole, mapped and given what they lack (a message the legacy
  ticket got since the last run too).
* **Counted as written.** A message counts once it is on its task: also when the answer to
  the request that wrote it was lost and the retry found it there.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from go_support.desk._core import DeskCore
from go_support.desk.checks import prepare_attachments, upload_attachments
from go_support.desk.desk import SupportDesk
from go_support.desk.errors import DeskError, RefusedTickets
from go_support.desk.lookups import add_tickets_by, add_tickets_with
from go_support.desk.models import Person, Status, TicketType
from go_support.desk.names import LEGACY_TICKET_ID
from go_support.desk.operations import MessagePost, NewMessage, StateChange, Writes
from go_support.desk.ticket_creation import (
    CreatedTicket,
    Planned,
    Prepared,
    TicketDraft,
    check_drafts,
    plan_tickets,
    write_tickets,
)
from go_support.jmap import Batch, GroupOfficeClient
from go_support.jmap.errors import JMAPError, MethodError
from go_support.jmap.results import GetResult, QueryResult
from go_support.legacy.mapping import (
    MappedMessage,
    MappedTicket,
    MappedType,
    attributed_html,
    legacy_message_id,
    map_ticket,
    map_types,
    select_types,
)
from go_support.legacy.reader import (
    LegacyDatabase,
    LegacyStatus,
    LegacyTicket,
    LegacyType,
    LegacyUser,
)

__all__ = [
    "MESSAGES_PER_CALL",
    "STOP_AFTER_ENV",
    "TICKETS_PER_CHUNK",
    "Failure",
    "Migration",
    "Progress",
    "Summary",
    "TypeCounts",
]

T = TypeVar("T")
U = TypeVar("U")

TICKETS_PER_CHUNK = 500
MESSAGES_PER_CALL = 25
"""Comments per ``Comment/set``: a real server under load deadlocks on ~30 and more."""
CALLS_PER_REQUEST = 20
"""Chained ``Comment/set`` calls per HTTP request: 500 comments, about ten seconds on a real
server (it writes some 50 per second), well inside the client's timeout."""
KNOWN_PAGE = 1000
ATTEMPTS = 3
MAX_LISTED = 1000  # problems and failures kept for the report (all are counted)
STOP_AFTER_ENV = "GO_SUPPORT_MIGRATE_STOP_AFTER"
"""Testing hook: the process kills itself (SIGKILL, no clean-up) after that many steps."""


class Progress(Protocol):
    """What the migration tells a progress display."""

    def start(self, total: int) -> None: ...

    def advance(self, tickets: int) -> None: ...


class _NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, tickets: int) -> None:
        pass


@dataclass
class TypeCounts:
    """Tickets of one legacy type: created, completed (existed, pieces were missing),
    skipped (already complete), failed."""

    migrated: int = 0
    completed: int = 0
    skipped: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Failure:
    """A ticket (or message) that could not be written, and why."""

    legacy_id: str | None
    reason: str


@dataclass
class Summary:
    """What a run did; ``to_json`` for ``--json``."""

    dry_run: bool = False
    tickets: int = 0
    migrated: int = 0
    completed: int = 0
    skipped: int = 0
    messages: int = 0
    attachments: int = 0
    failed: list[Failure] = field(default_factory=list)
    failed_count: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    per_type: dict[str, TypeCounts] = field(default_factory=dict)
    types_created: list[str] = field(default_factory=list)
    categories_created: list[str] = field(default_factory=list)
    orphan_messages: int = 0
    notes: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(text)

    def fail(self, legacy_id: str | None, reason: str) -> None:
        self.failed_count += 1
        if len(self.failed) < MAX_LISTED:
            self.failed.append(Failure(legacy_id, reason))

    def to_json(self) -> dict[str, Any]:
        return {
            "dryRun": self.dry_run, "tickets": self.tickets, "migrated": self.migrated,
            "completed": self.completed, "skipped": self.skipped,
            "failed": self.failed_count, "messages": self.messages,
            "attachments": self.attachments,
            "failures": [{"legacyId": f.legacy_id, "reason": f.reason} for f in self.failed],
            "problems": self.problem_count, "problemList": self.problems,
            "orphanMessages": self.orphan_messages,
            "perType": {name: dataclasses.asdict(c) for name, c in self.per_type.items()},
            "typesCreated": self.types_created, "categoriesCreated": self.categories_created,
            "notes": self.notes,
        }


@dataclass
class _Known:
    """A ticket an earlier run (or attempt) wrote: its task and its state."""

    task_id: str
    progress: str | None = None
    agent: str | None = None


@dataclass
class _Item:
    """One ticket of a chunk on its way: what to write and where it stands."""

    mapped: MappedTicket
    type: TicketType | None
    legacy_type: str
    comments: list[MappedMessage | None]  # None: the origin note
    requester: Person
    agent: str | None
    categories: tuple[str, ...]
    task_id: str | None = None
    existed: bool = False
    wrote: bool = False
    failed: bool = False
    #: read without its messages: the Message-IDs it needs (its messages', its origin note's)
    expected: list[str] | None = None
    #: Message-IDs on its task before this run wrote to it (None: not looked at yet)
    before: set[str] | None = None
    #: Message-IDs this run wrote, also those of a request whose answer was lost
    written: set[str] = field(default_factory=set)
    #: attachments uploaded per Message-ID (counted once its message is written)
    attached: dict[str, int] = field(default_factory=dict)

    def message_id(self, index: int) -> str:
        comment = self.comments[index]
        if comment is None:
            return origin_message_id(self.mapped.legacy_id)
        return comment.message_id


@dataclass
class _Looked:
    """The reads of a chunk done before its turn to write (nothing written): the Message-IDs
    on its tasks, the problems of tickets read whole again, the checks of the tickets to
    create (``checked`` for ``todo``, or the error that refused them)."""

    present: dict[str, set[str]]
    problems: list[str]
    todo: list[int]
    checked: Prepared | DeskError | None = None
    #: the request creating ``checked``, built ahead (none when a first message has files)
    planned: Planned | None = None
    #: the check failed (a transport error, ...): the attempt fails after the problems
    failed: JMAPError | None = None


def origin_message_id(legacy_id: str) -> str:
    """The Message-ID of a ticket's origin note (its facts without a place on a task)."""
    return f"<legacy-ticket-{legacy_id}-origin@tickets.migrated>"


class Migration:
    """One migration run of a legacy database into a desk (see the module docstring)."""

    def __init__(self, desk: SupportDesk, db: LegacyDatabase, *,
                 types: Sequence[str] = (), limit: int | None = None, dry_run: bool = False,
                 chunk: int = TICKETS_PER_CHUNK, per_call: int = MESSAGES_PER_CALL,
                 progress: Progress | None = None,
                 lookahead: SupportDesk | None = None) -> None:
        """``lookahead``: a second desk on a client of its own (own HTTP session) that reads
        what the next chunk needs while the current one is written; it never writes."""
        self.desk = desk
        self.db = db
        self.type_filter = list(types)
        self.limit = limit
        self.dry_run = dry_run
        self.chunk = max(1, chunk)
        self.per_call = max(1, per_call)
        self.progress: Progress = progress or _NoProgress()
        self.summary = Summary(dry_run=dry_run)
        self._core = desk._core
        self._client = desk.client
        self._look_core: DeskCore | None = lookahead._core if lookahead is not None else None
        self._steps = 0
        stop = os.environ.get(STOP_AFTER_ENV, "").strip()
        self._stop_after = int(stop) if stop.isdigit() else None
        self._types: dict[int | None, TicketType | None] = {}
        self._mapped_types: dict[int | None, MappedType] = {}
        self._categories: dict[str, str] = {}
        self._target_users: dict[str, dict[str, Any]] = {}
        self._known: dict[str, _Known] = {}
        self._private_label: str | None = None
        self._legacy: tuple[Mapping[int, LegacyType], Mapping[int, LegacyStatus],
                            Mapping[int, LegacyUser]] = ({}, {}, {})

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> Summary:
        """Migrate every selected ticket not yet complete; the summary of the run."""
        legacy_types = self.db.types()
        statuses = self.db.statuses()
        users = self.db.users()
        selected = select_types(legacy_types, self.type_filter) if self.type_filter else None
        self._mapped_types = map_types(legacy_types.values())
        per_type = self.db.count_tickets_per_type(selected)
        total = sum(per_type.values())
        if self.limit is not None:
            total = min(total, self.limit)
        for message_id, ticket_id in self.db.orphan_messages():
            self.summary.orphan_messages += 1
            self.summary.problem(f"message {message_id}: its ticket {ticket_id} is gone; the "
                                 f"message is not migrated")
        needed = {t if t in legacy_types else None for t in per_type}
        self._prepare_types(sorted(needed, key=lambda t: -1 if t is None else t))
        self._target_users = self._users(users)
        self._known = self._read_known()
        self._step()
        self.progress.start(total)
        self._legacy = (legacy_types, statuses, users)
        look = self._look_core if not self.dry_run else None
        if look is not None:  # the layout just read: the look-ahead's first read checks it
            with look.shared.lock:
                look.shared.layout = self._core.shared.layout
        waiting: tuple[list[_Item], Future[_Looked] | None] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="legacy-look") as pool:
            for chunk, mapped, message_ids in _ahead(self._read(selected)):
                items = self._items(chunk, mapped, message_ids)
                looked = pool.submit(self._look, items, look) if look is not None else None
                if waiting is not None:  # written while the look-ahead reads for `items`
                    self._chunk(*waiting)
                waiting = (items, looked)
            if waiting is not None:
                self._chunk(*waiting)
        return self.summary

    def _map(self, ticket: LegacyTicket) -> MappedTicket:
        return map_ticket(ticket, self._mapped_types, *self._legacy)

    def _read(self, selected: Sequence[int] | None) -> Iterator[
            tuple[list[LegacyTicket], list[MappedTicket], dict[int, list[int]]]]:
        """The chunks of tickets, mapped, with the message ids of those an earlier run wrote
        (runs in the read-ahead thread).

        A ticket an earlier run wrote is read without its messages: the rerun compares their
        ids with the Message-IDs on its task and reads the messages only when one is missing
        (:meth:`_complete`). The others are read whole, a chunk at a time.
        """
        if not self._known:
            for chunk in _chunks(self.db.tickets(selected, limit=self.limit), self.chunk):
                yield chunk, [self._map(t) for t in chunk], {}
            return
        rows = self.db.tickets(selected, limit=self.limit, messages=False)
        for light in _chunks(rows, self.chunk):
            new = [t.id for t in light if str(t.id) not in self._known]
            whole = {t.id: t for t in self.db.tickets(ids=new)} if new else {}
            chunk = [whole.get(t.id, t) for t in light]
            yield (chunk, [self._map(t) for t in chunk],
                   {t.id: list(t.message_ids or ()) for t in light if t.id not in whole})

    def _step(self) -> None:
        """A step boundary: the testing hook may end the process here, as a kill would."""
        self._steps += 1
        if self._stop_after is not None and self._steps >= self._stop_after:
            os.kill(os.getpid(), signal.SIGKILL)

    # -- types, categories, users ----------------------------------------------------------

    def _prepare_types(self, needed: Iterable[int | None]) -> None:
        """Find or create the ticket type of each legacy type that has tickets to migrate."""
        layout = self.desk.refresh()
        self._private_label = layout.private_label_id
        by_name = {t.name.casefold(): t for t in layout.types}
        wanted = [self._mapped_types[t] for t in needed]
        groups = self._existing_groups({g for m in wanted for g in m.acl}
                                       | {g for m in wanted for g in m.customer_groups})
        for legacy_id, mapped in zip(needed, wanted, strict=True):
            found = by_name.get(mapped.name.casefold())
            if found is None and not self.dry_run:
                agents = [g for g in mapped.acl if g in groups]
                lost = [g for g in mapped.acl if g not in groups]
                if lost:
                    self.summary.problem(f"type {mapped.name!r}: agent group(s) {lost} do not "
                                         f"exist in Group-Office; left out of its ACL")
                found = self._create_type(mapped, agents)
                self.summary.types_created.append(mapped.name)
            elif found is None:
                self.summary.types_created.append(mapped.name)
            self._customers_note(mapped, groups)
            self._types[legacy_id] = found
        if self.dry_run:
            return
        self._categories = {c.name.casefold(): c.id for c in self.desk.categories.list()
                            if c.type_id is None}

    def _customers_note(self, mapped: MappedType, groups: Mapping[str, str]) -> None:
        """Name the legacy type's customer groups the settings do not list for its type.

        They are not put on the list's ACL: any access to a task list shows every ticket
        in it, while a customer must see only their own; go-support keeps a type's customers
        in its settings and enforces that itself (docs/sysadmin.md, "the type's
        permissions")."""
        configured = {str(g).casefold() for g in self._core.settings.customer_groups(
            mapped.name)}
        missing = [g for g in mapped.customer_groups if g in groups
                   and g not in configured and groups[g].casefold() not in configured]
        if not missing:
            return
        shown = ", ".join(f"{groups[g]!r} ({g})" for g in missing)
        self.summary.notes.append(
            f"type {mapped.name!r}: in the Tickets module the group(s) {shown} could open "
            f"tickets and read their own; go-support keeps customers in its settings, not in "
            f"the type's ACL (which would show them every ticket): add "
            f"[types.{json.dumps(mapped.name, ensure_ascii=False)}] customer_groups = "
            f"[{', '.join(missing)}] to the settings")

    def _create_type(self, mapped: MappedType, agents: list[str]) -> TicketType:
        return _again(lambda: self._find_type(mapped.name),
                      lambda: self.desk.types.create(mapped.name, mapped.description,
                                                     agents=agents))

    def _find_type(self, name: str) -> TicketType | None:
        layout = self.desk.refresh()
        return next((t for t in layout.types if t.name.casefold() == name.casefold()), None)

    def _find_category(self, name: str) -> str | None:
        return next((c.id for c in self.desk.categories.list()
                     if c.type_id is None and c.name.casefold() == name.casefold()), None)

    def _existing_groups(self, ids: set[str]) -> dict[str, str]:
        """``{group id: name}`` of the groups of ``ids`` that exist in Group-Office."""
        if not ids:
            return {}
        found = self._client.call("Group/get", {"ids": sorted(ids),
                                                "properties": ["id", "name"]})
        return {str(g["id"]): str(g.get("name") or "") for g in found.get("list", [])}

    def _category(self, name: str) -> str | None:
        """The global category named after a custom status, created when missing."""
        key = name.casefold()
        if key not in self._categories and not self.dry_run:
            self._categories[key] = _again(lambda: self._find_category(name),
                                           lambda: self.desk.categories.create(name).id)
            self.summary.categories_created.append(name)
        return self._categories.get(key)

    def _users(self, users: Mapping[int, LegacyUser]) -> dict[str, dict[str, Any]]:
        """The legacy users that exist in Group-Office (same ids: the same installation)."""
        if not users:
            return {}
        found = self._client.call("User/get", {"ids": [str(u) for u in sorted(users)],
                                               "properties": ["id", "enabled", "email"]})
        return {str(u["id"]): u for u in found.get("list", [])}

    def _type_ids(self) -> list[str]:
        return sorted({t.id for t in self._types.values() if t is not None})

    def _read_known(self) -> dict[str, _Known]:
        """Every ticket of the migrated types with a legacy id: a few paged requests."""
        known: dict[str, _Known] = {}
        type_ids = self._type_ids()
        if not type_ids:
            return known
        position = 0
        pages = 4
        while True:
            batch = Batch()
            lookups = [add_tickets_with(batch, type_ids, LEGACY_TICKET_ID,
                                        position=position + k * KNOWN_PAGE, limit=KNOWN_PAGE)
                       for k in range(pages)]
            responses = self._client.execute(batch)
            short = False
            for lookup in lookups:
                page = lookup.result(responses)
                ids = QueryResult.from_json(responses.get(lookup.query)).ids
                for value, task in page.items():
                    known.setdefault(value, _known(task))
                if len(ids) < KNOWN_PAGE:
                    short = True
                    break
            if short:
                return known
            position += pages * KNOWN_PAGE

    # -- one chunk -------------------------------------------------------------------------

    def _items(self, tickets: Sequence[LegacyTicket], mapped: Sequence[MappedTicket],
               message_ids: Mapping[int, list[int]]) -> list[_Item]:
        items = [self._item(t, m, message_ids.get(t.id))
                 for t, m in zip(tickets, mapped, strict=True)]
        self.summary.tickets += len(items)
        for item in items:
            for problem in item.mapped.problems:
                self.summary.problem(problem)
        return items

    def _chunk(self, items: list[_Item], looked: Future[_Looked] | None) -> None:
        self._write_chunk(items, looked)
        self.progress.advance(len(items))

    def _write_chunk(self, items: list[_Item], looked: Future[_Looked] | None) -> None:
        if self.dry_run:
            for item in items:
                counts = self._counts(item)
                if item.mapped.legacy_id in self._known:
                    self.summary.skipped += 1
                    counts.skipped += 1
                else:
                    self.summary.migrated += 1
                    counts.migrated += 1
            return
        for attempt in range(ATTEMPTS):
            try:
                if attempt:
                    self._relookup(items)
                self._write(items, looked.result() if looked and not attempt else None)
                break
            except JMAPError as exc:
                if attempt == ATTEMPTS - 1:
                    for item in items:
                        if not item.failed and not self._done(item):
                            item.failed = True
                            self.summary.fail(item.mapped.legacy_id,
                                              f"Group-Office kept failing: {exc}")
        for item in items:
            self.summary.messages += len(item.written)
            self.summary.attachments += sum(item.attached.get(m, 0) for m in item.written)
            counts = self._counts(item)
            if item.failed:
                counts.failed += 1
            elif not item.existed:
                self.summary.migrated += 1
                counts.migrated += 1
            elif item.wrote:
                self.summary.completed += 1
                counts.completed += 1
            else:
                self.summary.skipped += 1
                counts.skipped += 1

    def _done(self, item: _Item) -> bool:
        return item.task_id is not None and not item.wrote and item.existed

    def _counts(self, item: _Item) -> TypeCounts:
        return self.summary.per_type.setdefault(item.legacy_type, TypeCounts())

    def _item(self, ticket: LegacyTicket, mapped: MappedTicket,
              message_ids: list[int] | None) -> _Item:
        legacy_type = ticket.type_id if ticket.type_id in self._mapped_types else None
        ticket_type = self._types.get(legacy_type)
        comments: list[MappedMessage | None] = [*mapped.messages, None]
        requester = mapped.requester.person
        if requester.id and requester.id not in self._target_users:
            self.summary.problem(f"ticket {mapped.legacy_id}: its requester (user "
                                 f"{requester.id}) does not exist in Group-Office; kept by "
                                 f"address")
            requester = Person(None, requester.email, requester.name)
        agent = mapped.agent.id if mapped.agent else None
        if agent is not None and not (self._target_users.get(agent) or {}).get("enabled"):
            self.summary.problem(f"ticket {mapped.legacy_id}: its agent (user {agent}) is "
                                 f"not an enabled Group-Office user; migrated unassigned")
            agent = None
        categories = tuple(c for c in (self._category(n) for n in mapped.categories) if c)
        known = self._known.get(mapped.legacy_id)
        item = _Item(mapped, ticket_type, mapped.type.name, comments, requester, agent,
                     categories, task_id=known.task_id if known else None,
                     existed=known is not None, before=None if known else set())
        if message_ids is not None:  # read without its messages
            item.expected = [legacy_message_id(ticket.id, m) for m in message_ids]
            item.expected.append(origin_message_id(mapped.legacy_id))
        return item

    def _relookup(self, items: Sequence[_Item]) -> None:
        """After a failed attempt: which tickets exist now (a failed call may have written)."""
        batch = Batch()
        lookup = add_tickets_by(batch, self._type_ids(), LEGACY_TICKET_ID,
                                [i.mapped.legacy_id for i in items])
        found = lookup.result(self._client.execute(batch))
        for item in items:
            task = found.get(item.mapped.legacy_id)
            if task is not None:
                self._known[item.mapped.legacy_id] = _known(task)
                item.task_id = str(task["id"])

    def _look(self, items: Sequence[_Item], core: DeskCore) -> _Looked:
        """The reads of a chunk before its writes, in the look-ahead thread with ``core``'s
        own client (or in the writing thread): nothing is written, so the process may die at
        any point of it; the results hold when the chunk's turn comes, because the chunks
        written meanwhile touch other tasks, and legacy tickets name only users, which the
        migration does not create."""
        present = self._present(items, core.client)
        problems = self._complete(items, present)
        todo = self._creatable(items)
        looked = _Looked(present, problems, [id(i) for i in todo])
        if todo:
            try:
                prepared = check_drafts(core, [self._draft(i, False) for i in todo])
            except DeskError as exc:  # RefusedTickets too: the writing thread degrades
                looked.checked = exc
                return looked
            except JMAPError as exc:  # the problems found so far are still reported
                looked.failed = exc
                return looked
            looked.checked = prepared
            if not any(_has_files(i.comments[0]) for i in todo):  # no upload: built here
                self._firsts(todo, prepared)
                looked.planned = plan_tickets(self._core, prepared)
        return looked

    def _firsts(self, todo: Sequence[_Item], prepared: Prepared) -> None:
        """The first messages as the migration writes them (dates, Message-IDs, files)."""
        for index, item in enumerate(todo):
            prepared.new[index] = dataclasses.replace(
                prepared.new[index], first=self._message(item, index=0))

    def _write(self, items: Sequence[_Item], looked: _Looked | None) -> None:
        if looked is None:
            looked = self._look(items, self._core)
        present = looked.present
        for problem in looked.problems:
            self.summary.problem(problem)
        if looked.failed is not None:
            raise looked.failed
        self._step()
        self._create([i for i in items if i.task_id is None and not i.failed], present,
                     looked)
        self._step()
        self._post(items, present)
        self._step()
        self._states(items)
        self._step()

    # -- what exists -----------------------------------------------------------------------

    def _present(self, items: Sequence[_Item],
                 client: GroupOfficeClient) -> dict[str, set[str]]:
        """``{task id: Message-IDs present}`` for the tickets that exist: one request."""
        existing = [i.task_id for i in items if i.task_id is not None]
        present: dict[str, set[str]] = {task_id: set() for task_id in existing}
        if not existing:
            return present
        batch = Batch()
        query = batch.call("Comment/query", {"filter": {"entity": "Task",
                                                        "entityId": existing}})
        get = batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                         "properties": ["id", "entityId", "mimeMessageId"]})
        for comment in GetResult.from_json(client.execute(batch).get(get)).objects:
            present.setdefault(str(comment["entityId"]), set()).add(
                str(comment.get("mimeMessageId") or ""))
        for item in items:
            if item.task_id is None:
                continue
            found = present[item.task_id]
            if item.before is None:  # the first look: what earlier runs wrote
                item.before = set(found)
            else:  # a later attempt: what an attempt of this run wrote, answered or not
                item.written |= found - item.before
                item.wrote = item.wrote or bool(item.written)  # its state is to be written
        return present

    def _complete(self, items: Sequence[_Item], present: Mapping[str, set[str]]) -> list[str]:
        """The tickets read without their messages: complete ones stay so (nothing to
        write), the others are read whole now and their missing messages written; the
        problems of their mapping not reported yet."""
        missing = [i for i in items if i.expected is not None and i.task_id is not None
                   and not present.get(i.task_id, set()).issuperset(i.expected)]
        for item in items:
            item.expected = None
        if not missing:
            return []
        problems: list[str] = []
        whole = {str(t.id): t for t in self.db.tickets(ids=[int(i.mapped.legacy_id)
                                                             for i in missing])}
        for item in missing:
            ticket = whole.get(item.mapped.legacy_id)
            if ticket is None:  # deleted meanwhile: what was written stays
                continue
            reported = set(item.mapped.problems)
            item.mapped = self._map(ticket)
            item.comments = [*item.mapped.messages, None]
            problems += [p for p in item.mapped.problems if p not in reported]
        return problems

    # -- creating tickets ------------------------------------------------------------------

    def _draft(self, item: _Item, degraded: bool) -> TicketDraft:
        first = item.comments[0]
        text = attributed_html(first) if first is not None else item.mapped.origin_note
        requester: Any = item.requester
        if degraded or not (requester.id or requester.email):
            requester = requester if requester.email and not degraded else "me"
        assert item.type is not None
        return TicketDraft(
            type=item.type.id, subject=item.mapped.subject, message=text,
            requester=requester, category=None if degraded else list(item.categories),
            agent=None if degraded else item.agent,
            message_id=item.message_id(0), date=first.date if first else item.mapped.created_at,
            legacy_id=item.mapped.legacy_id, start=item.mapped.start, due=item.mapped.due)

    @staticmethod
    def _creatable(items: Sequence[_Item]) -> list[_Item]:
        return [i for i in items if i.task_id is None and not i.failed and i.type is not None]

    def _create(self, items: Sequence[_Item], present: dict[str, set[str]],
                looked: _Looked) -> None:
        """Tasks with their first messages, through the desk's bulk creation (the first
        check done by the look-ahead when it checked the same tickets)."""
        todo = [i for i in items if i.type is not None]
        for item in items:
            if item.type is None:
                item.failed = True
                self.summary.fail(item.mapped.legacy_id,
                                  f"its ticket type {item.legacy_type!r} does not exist")
        degraded: set[int] = set()
        while todo:
            early = looked.checked if looked.todo == [id(i) for i in todo] else None
            planned = looked.planned if early is not None else None
            looked.checked, looked.todo, looked.planned = None, [], None
            try:
                if isinstance(early, DeskError):
                    raise early
                prepared = early or check_drafts(
                    self._core, [self._draft(i, id(i) in degraded) for i in todo])
            except RefusedTickets as exc:
                dropped = False
                for position, error in exc.problems:
                    item = todo[position]
                    if id(item) in degraded:
                        item.failed = True
                        self.summary.fail(item.mapped.legacy_id, str(error))
                        dropped = True
                    else:
                        degraded.add(id(item))
                        item.agent, item.categories = None, ()
                        self.summary.problem(f"ticket {item.mapped.legacy_id}: {error}; "
                                             f"migrated without agent and categories")
                if dropped:
                    todo = [i for i in todo if not i.failed]
                continue
            except DeskError as exc:  # a single draft's own error
                item = todo[0]
                if id(item) in degraded:
                    item.failed = True
                    self.summary.fail(item.mapped.legacy_id, str(exc))
                    todo = []
                else:
                    degraded.add(id(item))
                    item.agent, item.categories = None, ()
                continue
            if planned is None:
                self._firsts(todo, prepared)
            written = write_tickets(self._core, prepared, planned=planned)
            retry: str | None = None
            for result in written.results:
                item = todo[result.position]
                if isinstance(result, CreatedTicket):
                    item.task_id = result.ticket_id
                    item.wrote = True
                    self._known[item.mapped.legacy_id] = _Known(result.ticket_id)
                    present[result.ticket_id] = {item.message_id(0)}
                    item.written.add(item.message_id(0))
                elif isinstance(result.error, MethodError):
                    retry = result.reason  # the whole call failed (a deadlock): try again
                else:
                    item.failed = True
                    self.summary.fail(item.mapped.legacy_id,
                                      f"Group-Office refused it: {result.reason}")
            if retry is not None:
                raise _PostFailed(f"tickets not created: {retry}")
            return

    def _message(self, item: _Item, index: int) -> NewMessage:
        """The comment for one of the ticket's messages (or its origin note), attachments
        uploaded."""
        comment = item.comments[index]
        legacy = item.mapped.legacy_id
        if comment is None:
            return NewMessage(item.mapped.origin_note, None,
                              private_label_id=self._private_label,
                              message_id=item.message_id(index),
                              date=item.mapped.created_at)
        blobs: list[Mapping[str, str]] = []
        for attachment in comment.attachments:
            try:
                blobs += upload_attachments(self._client, prepare_attachments([attachment.path]))
            except (DeskError, OSError) as exc:
                self.summary.problem(f"ticket {legacy}: attachment {attachment.name!r} "
                                     f"could not be uploaded: {exc}")
        item.attached[comment.message_id] = len(blobs)  # counted once the message is written
        # No second cleaning: the mapping builds its HTML from escaped text only.
        return NewMessage(attributed_html(comment), comment.mail_status,
                          private_label_id=self._private_label if comment.private else None,
                          message_id=comment.message_id, date=comment.date,
                          attachments=tuple(blobs))

    # -- the other messages, then the states -----------------------------------------------

    def _post(self, items: Sequence[_Item], present: dict[str, set[str]]) -> None:
        """The missing messages, 500 (twenty chained calls) per request. Each request's
        calls are built (and checked) in a helper thread while the one before is on the
        server; attachments are uploaded first, here."""
        missing = [(item, index) for item in items
                   if item.task_id is not None and not item.failed
                   for index in range(len(item.comments))
                   if item.message_id(index) not in present.get(item.task_id, set())]
        if not missing:
            return
        messages = {(id(item), index): self._message(item, index)  # the uploads: here
                    for item, index in missing if _has_files(item.comments[index])}
        per_request = self.per_call * CALLS_PER_REQUEST

        def build(part: Sequence[tuple[_Item, int]]) -> tuple[Batch, list[
                tuple[_Item, str, MessagePost]]]:
            batch = Batch()
            writes = Writes(batch, per_call=self.per_call, chained=True)
            return batch, [(item, item.message_id(index), writes.post(
                item.task_id or "", messages.get((id(item), index))
                or self._message(item, index))) for item, index in part]

        parts = [missing[k:k + per_request] for k in range(0, len(missing), per_request)]
        refused = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="legacy-build") as pool:
            ahead = pool.submit(build, parts[0])
            for number in range(len(parts)):
                batch, posts = ahead.result()
                if number + 1 < len(parts):
                    ahead = pool.submit(build, parts[number + 1])
                responses = self._client.execute(batch)
                for item, message_id, post in posts:
                    item.wrote = True
                    outcome = post.result(responses)
                    if isinstance(outcome, dict):
                        item.written.add(message_id)
                    else:
                        refused.append((item, outcome))
        if refused:
            raise _PostFailed(f"{len(refused)} message(s) not written: {refused[0][1].reason}")

    def _states(self, items: Sequence[_Item]) -> None:
        batch = Batch()
        writes = Writes(batch)
        changes: list[tuple[_Item, StateChange]] = []
        for item in items:
            if item.task_id is None or item.failed:
                continue
            status = item.mapped.status
            known = self._known.get(item.mapped.legacy_id)
            if (not item.wrote and known is not None and known.progress == status.value
                    and (known.agent or None) == item.agent):
                continue
            # a task this run created has its agent already: only the progress is written
            changes.append((item, writes.change_state(
                item.task_id, status, item.agent,
                reset_percent=status is not Status.COMPLETED,
                agent_unchanged=not item.existed)))
        if not changes:
            return
        responses = self._client.execute(batch)
        for item, change in changes:
            outcome = change.result(responses)
            if outcome is not None:
                raise _PostFailed(f"ticket {item.mapped.legacy_id}: its status was not "
                                  f"written: {outcome.reason}")
            item.wrote = True
            self._known[item.mapped.legacy_id] = _Known(item.task_id or "", item.mapped.status
                                                        .value, item.agent)


class _PostFailed(JMAPError):
    """A write of the chunk failed: the chunk is looked at again and retried."""


def _again(find: Callable[[], T | None], create: Callable[[], T]) -> T:
    """``create()``, retried when Group-Office fails the call as a whole (a deadlock), after
    ``find()`` says whether the failed call created it anyway."""
    for attempt in range(ATTEMPTS):
        try:
            return create()
        except MethodError:
            if attempt == ATTEMPTS - 1:
                raise
            found = find()
            if found is not None:
                return found
    raise AssertionError("unreachable")


def _has_files(comment: MappedMessage | None) -> bool:
    return comment is not None and bool(comment.attachments)


def _known(task: Mapping[str, Any]) -> _Known:
    agent = task.get("responsibleUserId")
    return _Known(str(task["id"]), task.get("progress"), None if agent is None else str(agent))


def _ahead(items: Iterator[U]) -> Iterator[U]:
    """``items``, produced one ahead in a thread: the next chunk is read from MariaDB and
    mapped while Group-Office writes the current one."""
    ready: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        ready.put((True, item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put((False, None))
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put((False, exc))

    thread = threading.Thread(target=produce, name="legacy-reader", daemon=True)
    thread.start()
    try:
        while True:
            more, value = ready.get()
            if not more:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        stop.set()
        thread.join(timeout=5)


def _chunks(tickets: Iterator[LegacyTicket], size: int) -> Iterator[list[LegacyTicket]]:
    chunk: list[LegacyTicket] = []
    for ticket in tickets:
        chunk.append(ticket)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

