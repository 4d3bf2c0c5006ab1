"""The desk's layout: the Group-Office objects it is made of, found in one request and checked
in the same request as each piece of work."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from go_support.desk import names
from go_support.desk.convert import is_id, same_id, str_or_none
from go_support.desk.errors import NotInstalled
from go_support.desk.models import TicketType
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.errors import MethodError
from go_support.jmap.results import GetResult

TYPE_PROPERTIES = ["id", "name", "description", "groupingId", "acl", "permissionLevel", "role"]


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
        description=str_or_none(obj.get("description")),
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
            continue  # tasks in support lists are invisible to Task (groupoffice-wire 04)
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
