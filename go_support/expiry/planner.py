"""Which tickets a run warns, closes or repairs: a few requests, whatever the desk's size.

Group-Office filters what it can (groupoffice-wire 18): ``Task/query`` with the ticket types
that are not excluded, ``progress`` in-progress and ``commentedAt`` (the newest comment's
``date``) at or before the cut-off finds the tickets that have been quiet long enough. But
``commentedAt`` counts private notes and our warnings too, which must not reset the clock, so
the comments written since the cut-off are read as well (``Comment/query`` on ``createdAt``;
it has no ``date`` filter): a ticket whose recent messages are all private notes or messages
of ours may still be due. Both sets are candidates; their tasks, people and all their messages
are then read in bulk (:func:`go_support.desk.lookups.add_messages_of`, 500 tickets a look-up)
and :func:`go_support.expiry.rule.decide` decides each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from go_support.desk import SupportDesk
from go_support.desk.convert import (
    TASK_PROPERTIES,
    message_from_comment,
    parse_datetime,
    requester_id,
    requester_of,
)
from go_support.desk.discovery import DeskLayout
from go_support.desk.errors import UnknownType
from go_support.desk.lookups import add_messages_of, add_names
from go_support.desk.models import Category, Message, Person, Status
from go_support.desk.operations import utc_text
from go_support.expiry.config import ExpirySettings
from go_support.expiry.rule import Action, Decision, Policy, TicketFacts, decide
from go_support.jmap import Batch
from go_support.jmap.results import GetResult, QueryResult
from go_support.settings import ConfigError, ConfigProblem

__all__ = ["CHUNK", "Candidate", "Plan", "plan_run", "resolve_policy"]

CHUNK = 500  # tickets per bulk read of messages
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Candidate:
    """One ticket read in full, and what the rule decided for it."""

    task: Mapping[str, Any]
    facts: TicketFacts
    decision: Decision
    requester: Person
    agent: Person | None

    @property
    def subject(self) -> str:
        return str(self.task.get("title") or "")

    @property
    def agent_id(self) -> str | None:
        value = self.task.get("responsibleUserId")
        return None if value in (None, "", 0, "0") else str(value)


@dataclass
class Plan:
    """The candidates of a run (``decisions`` in ticket order), and how it was made."""

    now: datetime
    policy: Policy
    layout: DeskLayout
    candidates: list[Candidate] = field(default_factory=list)
    examined: int = 0

    def acting(self) -> list[Candidate]:
        """The candidates something is done to (warn, close, finish, restore)."""
        return [c for c in self.candidates if c.decision.action is not Action.SKIP]


def _problem(settings_path: Path | None, key: str, message: str) -> ConfigError:
    source = str(settings_path) if settings_path else "configuration"
    return ConfigError([ConfigProblem(source, key, message)], path=settings_path)


def resolve_policy(expiry: ExpirySettings, layout: DeskLayout,
                   categories: Iterable[Category], settings_path: Path | None,
                   only_types: Sequence[str] | None = None) -> Policy:
    """The settings with names turned into ids; a name that does not exist is a
    :class:`ConfigError` naming the key and the file."""
    types = [t for t in layout.types if not t.archived]
    known_types = ", ".join(f"'{t.name}'" for t in types) or "none"
    excluded_types: set[str] = set()
    for name in expiry.excluded_types:
        found = layout.find(name)
        if found is None:
            raise _problem(settings_path, "expiry.excluded_types",
                           f"there is no ticket type '{name}'; the types are {known_types}")
        excluded_types.add(found.id)
    for name in expiry.types:
        if layout.find(name) is None:
            raise _problem(settings_path, f'expiry.types."{name}"',
                           f"there is no ticket type '{name}'; the types are {known_types}")
    cats = list(categories)
    excluded_categories: set[str] = set()
    for name in expiry.excluded_categories:
        matches = [c.id for c in cats if c.name == name] or [
            c.id for c in cats if c.name.casefold() == name.casefold()]
        if not matches:
            names = ", ".join(sorted({f"'{c.name}'" for c in cats})) or "none"
            raise _problem(settings_path, "expiry.excluded_categories",
                           f"there is no category '{name}'; the categories are {names}")
        excluded_categories.update(matches)
    scope = None
    if only_types is not None:
        scope = set()
        for name in only_types:
            chosen = layout.find(name)
            if chosen is None or chosen.archived:
                raise UnknownType(f"there is no ticket type '{name}'; the types are "
                                  f"{known_types}")
            scope.add(chosen.id)
    return Policy(expiry.days, expiry.warning_days, frozenset(excluded_types),
                  frozenset(excluded_categories), None if scope is None else frozenset(scope))


def cut_off(policy: Policy, now: datetime) -> datetime:
    """The newest date an agent's last message may have for the ticket to be warned (or,
    without a warning, closed)."""
    return now - (policy.days - policy.warning_days) * DAY


def _categories(batch: Batch) -> Any:
    query = batch.call("TaskCategory/query", {"filter": {}})
    return batch.call("TaskCategory/get", {"#ids": query.ref("/ids")})


def _category_list(objects: Sequence[Mapping[str, Any]]) -> list[Category]:
    return [Category(str(o["id"]), str(o.get("name") or ""),
                     None if o.get("tasklistId") in (None, "") else str(o.get("tasklistId")))
            for o in objects]


def find_candidates(desk: SupportDesk, expiry: ExpirySettings, now: datetime,
                    settings_path: Path | None, only_types: Sequence[str] | None = None,
                    ) -> tuple[Policy, DeskLayout, list[str], list[Category]]:
    """One request: the quiet tickets, the comments written since the cut-off, and the
    categories (to resolve ``excluded_categories``)."""
    layout = desk.layout
    # Names are checked before anything else is read (categories need the request below).
    scoped = resolve_policy(expiry.model_copy(update={"excluded_categories": []}), layout, (),
                            settings_path, only_types)
    batch = Batch()
    cats = _categories(batch)
    # A first policy only to know the cut-off; names are resolved once categories are read.
    rough = Policy(expiry.days, expiry.warning_days)
    since = cut_off(rough, now)
    active = [t.id for t in layout.types if not t.archived
              and (scoped.only_types is None or t.id in scoped.only_types)
              and t.id not in scoped.excluded_types]
    quiet = batch.call("Task/query", {"filter": {"operator": "AND", "conditions": [
        {"tasklistId": active or ["0"]}, {"progress": Status.IN_PROGRESS.value},
        {"commentedAt": f"<={utc_text(since)}"}]}})
    recent_q = batch.call("Comment/query", {"filter": {"entity": "Task",
                                                       "createdAt": f">={utc_text(since)}"}})
    recent = batch.call("Comment/get", {"#ids": recent_q.ref("/ids"), "properties": [
        "id", "entityId", "labels", "mailStatus", "date"]})
    responses = desk.client.execute(batch)
    categories = _category_list(GetResult.from_json(responses.get(cats)).objects)
    policy = resolve_policy(expiry, layout, categories, settings_path, only_types)
    ids = [str(i) for i in QueryResult.from_json(responses.get(quiet)).ids]
    # Only a comment dated after the cut-off can have kept a quiet ticket out of the query
    # above (a mail imported with its old date did not). A mail received from the requester
    # after the cut-off means the ticket is not quiet; any other such comment (a private note,
    # a warning of ours, an agent's answer) makes it a candidate for the rule to decide.
    active_now: set[str] = set()
    maybe: list[str] = []
    label = layout.private_label_id
    for comment in GetResult.from_json(responses.get(recent)).objects:
        when = parse_datetime(comment.get("date"))
        if when is not None and when <= since:
            continue
        ticket = str(comment.get("entityId"))
        private = label in {str(x) for x in comment.get("labels") or []}
        if not private and comment.get("mailStatus") == "received":
            active_now.add(ticket)
        else:
            maybe.append(ticket)
    found = dict.fromkeys(ids)
    found.update(dict.fromkeys(t for t in maybe if t not in active_now))
    return policy, layout, list(found), categories


def read_tickets(desk: SupportDesk, layout: DeskLayout, policy: Policy, ticket_ids: Sequence[str],
                 categories: Sequence[Category], now: datetime) -> list[Candidate]:
    """The tasks, people and messages of ``ticket_ids`` (a few requests), each decided."""
    if not ticket_ids:
        return []
    names = {c.id: c.name for c in categories}
    batch = Batch()
    chunks = []
    type_ids = [t.id for t in layout.types]
    for start in range(0, len(ticket_ids), CHUNK):
        chunk = list(ticket_ids[start:start + CHUNK])
        tasks = batch.call("Task/get", {"ids": chunk, "properties": TASK_PROPERTIES})
        chunks.append((tasks, add_names(batch, tasks), add_messages_of(batch, chunk)))
    responses = desk.client.execute(batch)
    found: list[Candidate] = []
    for tasks, people, messages in chunks:
        users, _ = people.result(responses)
        by_ticket: dict[str, list[Mapping[str, Any]]] = {}
        for comment in messages.result(responses, type_ids):
            by_ticket.setdefault(str(comment.get("entityId")), []).append(comment)
        for task in GetResult.from_json(responses.get(tasks)).objects:
            ticket_type = layout.by_id(task.get("tasklistId"))
            if ticket_type is None or ticket_type.archived:
                continue
            requester = requester_of(task, users)
            msgs: list[Message] = [
                message_from_comment(c, requester, users, layout.private_label_id)
                for c in by_ticket.get(str(task["id"]), [])]
            cat_ids = tuple(str(c) for c in task.get("categories") or [])
            try:
                status = Status(task.get("progress") or "needs-action")
            except ValueError:
                status = Status.NEEDS_ACTION
            facts = TicketFacts(str(task["id"]), ticket_type.id, ticket_type.name, status,
                                cat_ids, tuple(names.get(c, c) for c in cat_ids),
                                requester_id(task), msgs)
            agent_id = task.get("responsibleUserId")
            agent = None if agent_id in (None, "", 0, "0") else users.get(
                str(agent_id), Person(str(agent_id)))
            found.append(Candidate(task, facts, decide(facts, policy, now), requester, agent))
    found.sort(key=lambda c: int(c.facts.id) if c.facts.id.isdigit() else 0)
    return found


def plan_run(desk: SupportDesk, expiry: ExpirySettings, now: datetime, *,
             settings_path: Path | None = None, only: Sequence[str] | None = None,
             types: Sequence[str] | None = None) -> Plan:
    """Find and decide the tickets of a run; ``only``: decide these tickets (``--explain``),
    whether or not Group-Office's filters would have found them; ``types``: leave tickets of
    other types alone."""
    policy, layout, ids, categories = find_candidates(desk, expiry, now, settings_path, types)
    if only is not None:
        ids = [str(t) for t in only]
    plan = Plan(now, policy, layout)
    if policy.days <= 0 and only is None:
        return plan
    plan.candidates = read_tickets(desk, layout, policy, ids, categories, now)
    plan.examined = len(ids)
    return plan
