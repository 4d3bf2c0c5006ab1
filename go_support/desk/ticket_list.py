"""The ticket list: one ``Task/query`` scoped to what the actor may see, with its filters, and
the look-ups the filters need (an agent's address, category names) in the same request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from go_support.desk import names
from go_support.desk._core import DeskCore
from go_support.desk.actor import ActorInfo
from go_support.desk.categories import category_scope
from go_support.desk.checks import PersonSpec, unknown_user
from go_support.desk.convert import (
    TASK_PROPERTIES,
    categories_by_id,
    is_id,
    like_exact,
    requester_id,
    ticket_from_task,
)
from go_support.desk.discovery import DeskLayout
from go_support.desk.errors import UnknownCategory
from go_support.desk.lookups import NameLookup, add_names
from go_support.desk.models import (
    UNASSIGNED,
    Category,
    Status,
    Ticket,
    TicketFilter,
    TicketPage,
    TicketType,
)
from go_support.desk.operations import utc_text
from go_support.desk.ticket_reads import UserLookups, as_list
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.results import GetResult, QueryResult

__all__ = ["ListQuery", "Retry"]

Check = Callable[[Responses], None]


class Retry(Exception):
    """A look-up in the request matched more than it should: list again with ``filter``."""

    def __init__(self, filter: TicketFilter) -> None:
        super().__init__("retry")
        self.filter = filter


@dataclass
class ListQuery:
    """One page of the list: :meth:`build` adds the calls, :meth:`interpret` reads the page."""

    core: DeskCore
    wanted: TicketFilter
    page: int
    per_page: int
    requester: PersonSpec | None
    agent: PersonSpec | object | None  # UNASSIGNED, a person, or no agent filter
    checks: list[Check] = field(default_factory=list)
    query: Call | None = None
    tasks: Call | None = None
    names: NameLookup | None = None

    def build(self, batch: Batch, layout: DeskLayout | None) -> Callable[
            [Responses, DeskLayout, ActorInfo | None], TicketPage]:
        assert layout is not None
        covered = self._covered_types(layout)
        scope = self._scope(covered, layout)
        if scope is None:
            return lambda r, lay, a: TicketPage((), 0, self.page, self.per_page, False)
        conditions = [scope, *self._conditions(batch, covered)]
        self.query = batch.call("Task/query", {
            "filter": {"operator": "AND", "conditions": conditions},
            "sort": [{"property": "createdAt", "isAscending": False},
                     {"property": "id", "isAscending": False}],
            "position": (self.page - 1) * self.per_page, "limit": self.per_page,
            "calculateTotal": True, "calculateHasMore": True,
        })
        self.tasks = batch.call("Task/get", {"#ids": self.query.ref("/ids"),
                                             "properties": TASK_PROPERTIES})
        self.names = add_names(batch, self.tasks)
        return self.interpret

    def _scope(self, covered: Sequence[TicketType], layout: DeskLayout) -> dict[str, Any] | None:
        """Agents' types as they are; other types only with the actor as requester."""
        core = self.core
        agent_ids = [t.id for t in covered if core.is_agent(t, layout)]
        other_ids = [t.id for t in covered if not core.is_agent(t, layout)
                     and (not core.self_mode or layout.key_levels.get(t.id, 0) > 0)]
        scope: list[dict[str, Any]] = []
        if agent_ids:
            scope.append({"tasklistId": agent_ids})
        if other_ids:
            scope.append({"operator": "AND", "conditions": [
                {"tasklistId": other_ids}, {names.REQUESTER_ID: core.me()}]})
        if not scope:
            return None
        return scope[0] if len(scope) == 1 else {"operator": "OR", "conditions": scope}

    def _conditions(self, batch: Batch, covered: Sequence[TicketType]) -> list[dict[str, Any]]:
        wanted = self.wanted
        conditions: list[dict[str, Any]] = []
        statuses = [Status.parse(s).value for s in as_list(wanted.status)]
        if statuses:
            conditions.append({"progress": statuses})
        self.checks = self._category_conditions(batch, covered, conditions)
        if self.requester is not None:
            if self.requester.user_id:
                conditions.append({names.REQUESTER_ID: self.requester.user_id})
            else:
                conditions.append({names.REQUESTER_EMAIL: like_exact(self.requester.email)})
        if self.agent is UNASSIGNED:
            conditions.append({"responsibleUserId": None})
        elif isinstance(self.agent, PersonSpec) and self.agent.user_id:
            conditions.append({"responsibleUserId": self.agent.user_id})
        elif isinstance(self.agent, PersonSpec):
            self.checks.append(self._agent_by_address(batch, self.agent, conditions))
        text = wanted.text.strip() if wanted.text else None
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
                conditions.append({name: f"{op}{utc_text(value)}"})
        return conditions

    def interpret(self, responses: Responses, layout: DeskLayout,
                  actor: ActorInfo | None) -> TicketPage:
        assert self.query is not None and self.tasks is not None and self.names is not None
        for check in self.checks:
            check(responses)
        result = QueryResult.from_json(responses.get(self.query))
        by_id = GetResult.from_json(responses.get(self.tasks)).by_id()
        users, categories = self.names.result(responses)
        found: list[Ticket] = []
        for task_id in result.ids:
            task = by_id.get(task_id)
            ticket_type = None if task is None else layout.by_id(task.get("tasklistId"))
            if task is None or ticket_type is None:
                continue
            # Defence in depth: Group-Office's answer is never shown unfiltered.
            if not self.core.is_agent(ticket_type, layout) and requester_id(task) != (
                    self.core.me()):
                continue
            found.append(ticket_from_task(task, layout, users, categories))
        total = result.total if result.total is not None else len(found)
        return TicketPage(tuple(found), total, self.page, self.per_page,
                          result.has_more or total > self.page * self.per_page)

    def _agent_by_address(self, batch: Batch, spec: PersonSpec,
                          conditions: list[dict[str, Any]]) -> Check:
        """The agent filter for an address: the user looked up in the same request."""
        users = UserLookups(batch)
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
                raise Retry(replace(self.wanted, agent=str(user["id"])))
        return check

    def _covered_types(self, layout: DeskLayout) -> list[TicketType]:
        refs = as_list(self.wanted.type)
        if refs:
            return list(dict.fromkeys(self.core.resolve_type(r, layout) for r in refs))
        return [t for t in layout.types if self.wanted.include_archived or not t.archived]

    def _category_conditions(self, batch: Batch, covered: Sequence[TicketType],
                             conditions: list[dict[str, Any]]) -> list[Check]:
        """The category filter: ids directly, names through a look-up in the same request."""
        refs = as_list(self.wanted.category)
        if not refs:
            return []
        ids, by_name = _split_category_refs(refs)
        checks: list[Check] = []
        if ids:
            # An id filters nothing out by itself: that it is a category is checked in the
            # same request (an unknown id would silently list nothing).
            checks.append(_check_category_ids(batch, ids))
        if not by_name:
            conditions.append({"categories": ids})
            return checks
        query = batch.call("TaskCategory/query", {"filter": {"operator": "AND", "conditions": [
            {"operator": "OR", "conditions": [{"text": n} for n in by_name]},
            category_scope([t.id for t in covered])]}})
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
                if not any(c.name.casefold() == name.casefold() for c in found.values()):
                    raise UnknownCategory(
                        f"there is no category {name!r} (global or of the listed types)")
            exact = {c.id for c in found.values()
                     if any(c.name.casefold() == n.casefold() for n in by_name)}
            if used != exact:
                # LIKE matched more than the exact names: ask again with the exact ids.
                raise Retry(replace(self.wanted, category=sorted(exact | set(ids))))
        checks.append(check)
        return checks


def _split_category_refs(refs: Sequence[Any]) -> tuple[list[str], list[str]]:
    """Category references as ids and names; :class:`UnknownCategory` for anything else."""
    ids: list[str] = []
    by_name: list[str] = []
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
    return ids, by_name


def _check_category_ids(batch: Batch, ids: Sequence[str]) -> Check:
    by_id = batch.call("TaskCategory/get", {"ids": list(ids),
                                            "properties": ["id", "name", "tasklistId"]})

    def check(responses: Responses) -> None:
        found = categories_by_id(responses.get(by_id))
        for category_id in ids:
            if category_id not in found:
                raise UnknownCategory(
                    f"there is no category with the id {category_id!r} (or the API "
                    "key's user cannot read it)")
    return check
