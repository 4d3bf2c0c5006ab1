"""Look-ups a caller adds to its own :class:`~go_support.jmap.Batch`: tickets by legacy id or
first Message-ID, the messages of many tickets at once, the messages waiting to be mailed, and
the names around tickets. Each returns a handle whose ``result(responses)`` parses the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from go_support.desk import names
from go_support.desk.convert import (
    COMMENT_PROPERTIES,
    TASK_PROPERTIES,
    USER_PROPERTIES,
    categories_by_id,
    like_exact,
    optional,
    users_by_id,
)
from go_support.desk.models import Category, Person
from go_support.desk.operations import PER_CALL, utc_text
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.results import GetResult, QueryResult

__all__ = [
    "MessageLookup",
    "NameLookup",
    "TicketLookup",
    "add_messages_of",
    "add_names",
    "add_pending_messages",
    "add_tickets_by",
    "add_tickets_with",
]


@dataclass(frozen=True)
class TicketLookup:
    """Tasks found by a custom field (legacy id or first Message-ID), in the ticket types."""

    query: Call
    get: Call
    field_name: str

    def result(self, responses: Responses) -> dict[str, dict[str, Any]]:
        """``{value: task}`` (the value as asked; the oldest task when several carry it)."""
        found: dict[str, dict[str, Any]] = {}
        tasks = GetResult.from_json(responses.get(self.get)).objects
        tasks.sort(key=lambda t: int(t["id"]) if str(t["id"]).isdigit() else 0)
        for task in tasks:
            values = task.get("customFields")
            value = values.get(self.field_name) if isinstance(values, Mapping) else None
            if value:
                found.setdefault(str(value), task)
        return found


def add_tickets_by(batch: Batch, type_ids: Sequence[str], field_name: str,
                   values: Sequence[str]) -> TicketLookup:
    """Look tickets up by ``names.LEGACY_TICKET_ID`` or ``names.FIRST_MESSAGE_ID``: one query
    whose conditions match each value exactly (the filter is SQL LIKE, groupoffice-wire 07)."""
    conditions = [{field_name: like_exact(v)} for v in dict.fromkeys(values)]
    query = batch.call("Task/query", {"filter": {"operator": "AND", "conditions": [
        {"tasklistId": list(type_ids)},
        {"operator": "OR", "conditions": conditions or [{"tasklistId": []}]},
    ]}})
    get = batch.call("Task/get", {"#ids": query.ref("/ids"), "properties": TASK_PROPERTIES})
    return TicketLookup(query, get, field_name)


def add_tickets_with(batch: Batch, type_ids: Sequence[str], field_name: str, *,
                     position: int = 0, limit: int = PER_CALL,
                     properties: Sequence[str] = ("id", "customFields", "progress",
                                                  "responsibleUserId")) -> TicketLookup:
    """One page (by id) of the tickets of ``type_ids`` whose custom field ``field_name`` is
    not empty: a bulk job (the migration) learns what an earlier run wrote in a few requests
    instead of one query per value (a LIKE of ``_%`` matches any non-empty text,
    groupoffice-wire 07)."""
    query = batch.call("Task/query", {
        "filter": {"operator": "AND", "conditions": [
            {"tasklistId": list(type_ids) or ["0"]}, {field_name: "_%"}]},
        "sort": [{"property": "id", "isAscending": True}],
        "position": position, "limit": limit})
    get = batch.call("Task/get", {"#ids": query.ref("/ids"), "properties": list(properties)})
    return TicketLookup(query, get, field_name)


@dataclass(frozen=True)
class MessageLookup:
    """Comments found by a query, with their tasks (to tell tickets from other tasks)."""

    query: Call
    get: Call
    tasks: Call
    pending_only: bool = False

    def result(self, responses: Responses, type_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The comments on tickets of ``type_ids``, oldest first (date, then id)."""
        in_types = {str(t) for t in type_ids}
        tickets = {str(t["id"]) for t in GetResult.from_json(responses.get(self.tasks)).objects
                   if str(t.get("tasklistId")) in in_types}
        comments = [c for c in GetResult.from_json(responses.get(self.get)).objects
                    if str(c.get("entityId")) in tickets
                    and (not self.pending_only or c.get("mailStatus") == "pending")]
        comments.sort(key=lambda c: (str(c.get("date") or ""), int(str(c["id"]))))
        return comments

    def has_more(self, responses: Responses) -> bool:
        result = QueryResult.from_json(responses.get(self.query))
        return bool(result.total is not None and result.total > result.position + len(
            result.ids))


def _messages(batch: Batch, condition: dict[str, Any], limit: int | None,
              pending_only: bool) -> MessageLookup:
    args: dict[str, Any] = {"filter": {"entity": "Task", **condition},
                            "sort": [{"property": "date", "isAscending": True}]}
    if limit is not None:
        args.update(limit=limit, calculateTotal=True)
    query = batch.call("Comment/query", args)
    get = batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                     "properties": COMMENT_PROPERTIES})
    tasks = batch.call("Task/get", {"#ids": get.ref("/list/*/entityId"),
                                    "properties": ["id", "tasklistId"]})
    return MessageLookup(query, get, tasks, pending_only)


def add_messages_of(batch: Batch, ticket_ids: Sequence[str]) -> MessageLookup:
    """The messages of many tickets at once, private notes included (they carry the desk's
    "Private" label: :func:`~go_support.desk.convert.message_from_comment` tells them)."""
    return _messages(batch, {"entityId": list(ticket_ids)}, None, False)


def add_pending_messages(batch: Batch, since: datetime | date,
                         limit: int = PER_CALL) -> MessageLookup:
    """Messages waiting to be mailed (``mailStatus`` pending) written or changed since
    ``since``. Group-Office's ``Comment/query`` has no ``mailStatus`` filter
    (groupoffice-wire 18): the comments modified since then are read and the pending ones
    kept."""
    return _messages(batch, {"modifiedAt": f">={utc_text(since)}"}, limit, True)


@dataclass(frozen=True)
class NameLookup:
    """What a ticket shows besides its task: agents, requesters, categories."""

    agents: Call
    requesters: Call
    categories: Call

    def result(self, responses: Responses) -> tuple[dict[str, Person], dict[str, Category]]:
        """``(users by id, categories by id)``; a look-up that failed names nobody."""
        users = users_by_id(optional(responses, self.agents),
                            optional(responses, self.requesters))
        return users, categories_by_id(optional(responses, self.categories))


def add_names(batch: Batch, tasks: Call) -> NameLookup:
    """The names around the tasks of ``tasks`` (a ``Task/get``), read in the same request
    through result references."""
    return NameLookup(
        batch.call("User/get", {"#ids": tasks.ref("/list/*/responsibleUserId"),
                                "properties": USER_PROPERTIES}),
        batch.call("User/get", {"#ids": tasks.ref(f"/list/*/customFields/{names.REQUESTER_ID}"),
                                "properties": USER_PROPERTIES}),
        batch.call("TaskCategory/get", {"#ids": tasks.ref("/list/*/categories")}),
    )
