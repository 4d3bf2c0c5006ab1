"""What every migration step builds on: errors, actions, the state snapshot and the record.

The record of applied steps lives in Group-Office itself, in the ``description`` of the
"Support" field set, so that every host that runs go-support against the same Group-Office
agrees on it::

    Managed by go-support (help desk): do not rename or delete this field set or its fields.
    go-support schema: 0001_field_set 0002_groupings 0003_fields 0004_private_label

It is parsed tolerantly (any line that starts with ``go-support schema:``; ids are the tokens
that look like ``0001_name``); other text an administrator adds is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from go_support.desk import names as layout
from go_support.errors import GoSupportError
from go_support.jmap import Batch, GetResult, GroupOfficeClient

__all__ = [
    "ENTITIES",
    "MANAGED_SENTENCE",
    "Action",
    "Conflict",
    "MigrationError",
    "MissingRight",
    "State",
    "format_record",
    "parse_record",
    "read_state",
    "same_id",
]

#: The entities the steps create, read together in one request.
ENTITIES = ("FieldSet", "Field", "TaskListGrouping", "CommentLabel")

MANAGED_SENTENCE = (
    "Managed by go-support (help desk): do not rename or delete this field set or its "
    "fields; run go-support install to repair them."
)
_RECORD_LINE = re.compile(r"^\s*go-support\s+schema\s*:(?P<ids>.*)$", re.IGNORECASE | re.MULTILINE)
_STEP_ID = re.compile(r"\b\d{4}_[A-Za-z0-9_]+\b")


# --- errors ------------------------------------------------------------------------------


class MigrationError(GoSupportError):
    """``go-support install`` could not prepare Group-Office (the CLI exits with 6)."""


class Conflict(MigrationError):
    """Group-Office holds objects that clash with what a step would create.

    ``conflicts`` lists one sentence per clashing object, each naming it (entity, id, name)
    and saying what to do. Nothing is guessed: an administrator decides.
    """

    def __init__(self, conflicts: Iterable[str]) -> None:
        self.conflicts = tuple(conflicts)
        if len(self.conflicts) == 1:
            text = self.conflicts[0]
        else:
            text = f"{len(self.conflicts)} conflicts:\n" + "\n".join(
                f"  - {c}" for c in self.conflicts)
        super().__init__(f"{text}\nNothing was changed for these; resolve them in Group-Office "
                         "and run go-support install again.")


class MissingRight(MigrationError):
    """The API key's user lacks a right the pending steps need."""

    def __init__(self, rights: Iterable[str], *, user_id: str) -> None:
        self.rights = tuple(rights)
        self.user_id = user_id
        super().__init__(
            f"user {user_id} lacks the right {', '.join(self.rights)}, which go-support "
            "install needs to create custom fields. Use an API key of a Group-Office "
            "administrator (System settings > API keys), or grant the right under System "
            "settings > Modules > core"
        )


# --- helpers -----------------------------------------------------------------------------


def same_id(a: Any, b: Any) -> bool:
    """Group-Office mixes integer and string ids: compare them loosely."""
    return a is not None and b is not None and str(a) == str(b)


def _named(objects: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    return [o for o in objects if (o.get("name") or "").strip() == name]


def describe(entity: str, obj: Mapping[str, Any]) -> str:
    """``TaskListGrouping "Support" (id 4)``."""
    return f'{entity} "{obj.get("name")}" (id {obj.get("id")})'


@dataclass(frozen=True)
class Action:
    """One change a step makes: what to create, in words and in wire form."""

    entity: str
    name: str
    summary: str
    values: Mapping[str, Any] = field(default_factory=dict)
    right: tuple[str, str, str] | None = None
    """``(package, module, right)`` the user needs, if it can be checked up front."""

    def __str__(self) -> str:
        return self.summary


# --- the record --------------------------------------------------------------------------


def parse_record(description: str | None) -> tuple[str, ...]:
    """The step ids recorded in a field set description (in order, without duplicates)."""
    found: list[str] = []
    for match in _RECORD_LINE.finditer(description or ""):
        for step_id in _STEP_ID.findall(match.group("ids")):
            if step_id not in found:
                found.append(step_id)
    return tuple(found)


def format_record(description: str | None, step_ids: Iterable[str]) -> str:
    """``description`` with its record line set to ``step_ids``; other text is kept."""
    ids = sorted(set(step_ids))
    kept = [line for line in (description or "").splitlines()
            if not _RECORD_LINE.match(line)]
    while kept and not kept[-1].strip():
        kept.pop()
    if not any("go-support" in line for line in kept):
        kept.insert(0, MANAGED_SENTENCE)
    return "\n".join([*kept, f"go-support schema: {' '.join(ids)}"])


# --- the state ----------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """What Group-Office holds that the steps care about, read in one request.

    ``states`` are the entities' state strings at that moment: writes carry them as
    ``ifInState``, so that a concurrent install makes them fail instead of duplicating.
    """

    field_sets: tuple[Mapping[str, Any], ...] = ()
    fields: tuple[Mapping[str, Any], ...] = ()
    groupings: tuple[Mapping[str, Any], ...] = ()
    labels: tuple[Mapping[str, Any], ...] = ()
    states: Mapping[str, str | None] = field(default_factory=dict)

    def task_field_sets(self) -> list[Mapping[str, Any]]:
        return [s for s in self.field_sets if s.get("entity") == layout.FIELD_SET_ENTITY]

    def support_field_sets(self) -> list[Mapping[str, Any]]:
        """Every field set named "Support" on Task (more than one is a conflict)."""
        return _named(self.task_field_sets(), layout.FIELD_SET_NAME)

    @property
    def support_field_set(self) -> Mapping[str, Any] | None:
        """The "Support" field set, if there is exactly one."""
        found = self.support_field_sets()
        return found[0] if len(found) == 1 else None

    @property
    def recorded(self) -> tuple[str, ...]:
        """The step ids recorded as applied (none without the field set)."""
        fs = self.support_field_set
        return parse_record(fs.get("description")) if fs else ()

    def groupings_named(self, name: str) -> list[Mapping[str, Any]]:
        return _named(self.groupings, name)

    def labels_named(self, name: str) -> list[Mapping[str, Any]]:
        return _named(self.labels, name)


def read_state(client: GroupOfficeClient) -> State:
    """One request: every field set, field, task-list grouping and comment label."""
    batch = Batch(prefix="state")
    handles = {entity: batch.call(f"{entity}/get", {"ids": None}) for entity in ENTITIES}
    responses = client.execute(batch)
    results = {entity: GetResult.from_json(responses.get(h)) for entity, h in handles.items()}
    return State(
        field_sets=tuple(results["FieldSet"].objects),
        fields=tuple(results["Field"].objects),
        groupings=tuple(results["TaskListGrouping"].objects),
        labels=tuple(results["CommentLabel"].objects),
        states={entity: r.state for entity, r in results.items()},
    )


def sort_ids(ids: Sequence[str]) -> list[str]:
    return sorted(ids, key=lambda i: (0, int(i)) if str(i).isdigit() else (1, str(i)))
