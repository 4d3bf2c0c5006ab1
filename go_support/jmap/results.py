"""Typed results of the generic entity methods, parsed leniently.

Group-Office's answers differ from RFC 8620 (no ``position`` in query results,
``changed``/``removed`` in changes, ``[]`` where PHP had an empty map, ids that are
sometimes integers, ``created`` as a JSON list after numeric creation ids). These
classes absorb that so that the rest of go-support sees one clean shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from go_support.jmap.errors import SetError, SetFailed

__all__ = [
    "Blob",
    "ChangesResult",
    "GetResult",
    "QueryGetResult",
    "QueryResult",
    "SetResult",
    "as_id_list",
    "as_map",
    "dedupe",
]


def as_map(value: Any) -> dict[str, Any]:
    """A JSON object as a dict with string keys; ``null``/``[]`` → ``{}``.

    A list (what PHP emits for keys ``0..n-1``) maps index → item.
    """
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return {}


def as_id_list(value: Any) -> list[str]:
    """A list of ids as strings (Group-Office mixes strings and integers)."""
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return []


def dedupe(ids: Iterable[str]) -> list[str]:
    """Remove duplicates, keeping the first occurrence's position."""
    return list(dict.fromkeys(ids))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass
class GetResult:
    """``Foo/get``: the objects found (in the order asked), ids not found, the state."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    state: str | None = None

    @classmethod
    def from_json(cls, args: Mapping[str, Any]) -> GetResult:
        """Parse a ``Foo/get`` response; object ids become strings."""
        objects = []
        raw = args.get("list")
        for obj in raw if isinstance(raw, list) else []:
            if isinstance(obj, Mapping):
                item = dict(obj)
                if "id" in item and item["id"] is not None:
                    item["id"] = str(item["id"])
                objects.append(item)
        return cls(
            objects=objects,
            not_found=as_id_list(args.get("notFound")),
            state=_opt_str(args.get("state")),
        )

    def merge(self, other: GetResult) -> None:
        """Append another chunk's result (the first state is kept: it is the oldest)."""
        self.objects.extend(other.objects)
        self.not_found.extend(other.not_found)
        if self.state is None:
            self.state = other.state

    def by_id(self) -> dict[str, dict[str, Any]]:
        """The objects keyed by id."""
        return {str(o.get("id")): o for o in self.objects}


@dataclass
class QueryResult:
    """``Foo/query``: ids and, when asked for, ``total`` and ``has_more``.

    ``position`` and ``limit`` echo what was asked: Group-Office does not return them.
    """

    ids: list[str] = field(default_factory=list)
    query_state: str | None = None
    total: int | None = None
    has_more: bool = False
    position: int = 0
    limit: int | None = None

    @classmethod
    def from_json(
        cls, args: Mapping[str, Any], *, position: int = 0, limit: int | None = None
    ) -> QueryResult:
        """Parse a ``Foo/query`` response."""
        total = args.get("total")
        return cls(
            ids=as_id_list(args.get("ids")),
            query_state=_opt_str(args.get("queryState", args.get("state"))),
            total=int(total) if isinstance(total, int | str) and str(total).isdigit() else None,
            has_more=bool(args.get("hasMore", False)),
            position=position,
            limit=limit,
        )


@dataclass
class SetResult:
    """``Foo/set``: what was created/updated/destroyed and what was not.

    ``created`` and ``updated`` hold only the objects the caller asked for; the full
    objects Group-Office adds for side-effect saves (a Task re-saved by ``Comment/set``,
    keyed by the task's id) go to ``side_effects``.
    """

    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    updated: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    destroyed: list[str] = field(default_factory=list)
    not_created: dict[str, SetError] = field(default_factory=dict)
    not_updated: dict[str, SetError] = field(default_factory=dict)
    not_destroyed: dict[str, SetError] = field(default_factory=dict)
    old_state: str | None = None
    new_state: str | None = None
    side_effects: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    @classmethod
    def from_json(
        cls,
        args: Mapping[str, Any],
        *,
        create_ids: Iterable[str] | None = None,
        update_ids: Iterable[str] | None = None,
    ) -> SetResult:
        """Parse a ``Foo/set`` response; pass the request's ids to split off side effects."""
        wanted_create = None if create_ids is None else {str(c) for c in create_ids}
        wanted_update = None if update_ids is None else {str(u) for u in update_ids}
        result = cls(
            destroyed=as_id_list(args.get("destroyed")),
            old_state=_opt_str(args.get("oldState")),
            new_state=_opt_str(args.get("newState")),
        )
        for key, obj in as_map(args.get("created")).items():
            if wanted_create is None or key in wanted_create:
                item = dict(obj) if isinstance(obj, Mapping) else {}
                if item.get("id") is not None:
                    item["id"] = str(item["id"])
                result.created[key] = item
            else:
                result.side_effects[key] = dict(obj) if isinstance(obj, Mapping) else None
        for key, obj in as_map(args.get("updated")).items():
            value = dict(obj) if isinstance(obj, Mapping) else None
            if wanted_update is None or key in wanted_update:
                result.updated[key] = value
            else:
                result.side_effects[key] = value
        for attr, key, operation in (
            ("not_created", "notCreated", "create"),
            ("not_updated", "notUpdated", "update"),
            ("not_destroyed", "notDestroyed", "destroy"),
        ):
            target: dict[str, SetError] = getattr(result, attr)
            for oid, err in as_map(args.get(key)).items():
                target[oid] = SetError.from_json(oid, operation, err)  # type: ignore[arg-type]
        return result

    def merge(self, other: SetResult) -> None:
        """Fold in the result of another chunk (``old_state`` stays the first one's)."""
        self.created.update(other.created)
        self.updated.update(other.updated)
        self.destroyed.extend(other.destroyed)
        self.not_created.update(other.not_created)
        self.not_updated.update(other.not_updated)
        self.not_destroyed.update(other.not_destroyed)
        self.side_effects.update(other.side_effects)
        if self.old_state is None:
            self.old_state = other.old_state
        if other.new_state is not None:
            self.new_state = other.new_state

    @property
    def errors(self) -> list[SetError]:
        """Every per-object error: not created, then not updated, then not destroyed."""
        return [*self.not_created.values(), *self.not_updated.values(),
                *self.not_destroyed.values()]

    @property
    def ok(self) -> bool:
        """Whether no object failed."""
        return not (self.not_created or self.not_updated or self.not_destroyed)

    def created_id(self, creation_id: str) -> str:
        """The server id of an object created as ``creation_id`` (``KeyError`` if none)."""
        obj = self.created[creation_id]
        if obj.get("id") is None:
            raise KeyError(f"the server returned no id for creation id {creation_id!r}")
        return str(obj["id"])

    def raise_for_errors(self, method: str) -> None:
        """Raise :class:`SetFailed` with every per-object error, if there is any."""
        if not self.ok:
            raise SetFailed(method=method, errors=self.errors, result=self)


@dataclass
class ChangesResult:
    """``Foo/changes`` normalised: ``changed`` and ``removed`` are disjoint and unique.

    Group-Office's ``changed`` mixes created and updated ids, repeats ids, lists ids
    that did not change and also lists destroyed ids; a destroyed id wins.
    """

    old_state: str | None = None
    new_state: str | None = None
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    has_more_changes: bool = False

    @classmethod
    def from_json(cls, args: Mapping[str, Any]) -> ChangesResult:
        """Parse a ``Foo/changes`` response (also RFC-style created/updated/destroyed)."""
        removed = dedupe(
            [*as_id_list(args.get("removed")), *as_id_list(args.get("destroyed"))]
        )
        gone = set(removed)
        changed = [
            i
            for i in dedupe(
                [
                    *as_id_list(args.get("created")),
                    *as_id_list(args.get("changed")),
                    *as_id_list(args.get("updated")),
                ]
            )
            if i not in gone
        ]
        return cls(
            old_state=_opt_str(args.get("oldState")),
            new_state=_opt_str(args.get("newState")),
            changed=changed,
            removed=removed,
            has_more_changes=bool(args.get("hasMoreChanges", False)),
        )

    def merge(self, later: ChangesResult) -> None:
        """Append a later page; a removed id wins on every page (ids are never reused)."""
        self.removed = dedupe([*self.removed, *later.removed])
        gone = set(self.removed)
        self.changed = [i for i in dedupe([*self.changed, *later.changed]) if i not in gone]
        self.new_state = later.new_state
        self.has_more_changes = later.has_more_changes


@dataclass(frozen=True)
class Blob:
    """An uploaded blob. ``id`` is the SHA-1 of the content; ``name`` may be ``None``."""

    id: str
    size: int | None = None
    type: str | None = None
    name: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def blob_id(self) -> str:
        """Alias of ``id`` (Group-Office returns both keys)."""
        return self.id

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Blob:
        """Parse ``upload.php``'s answer (``name`` is ``false`` when it was not sent)."""
        blob_id = data.get("id") or data.get("blobId")
        if not isinstance(blob_id, str) or not blob_id:
            raise ValueError("the upload answer has no blob id")
        size = data.get("size")
        name = data.get("name")
        mime = data.get("type")
        return cls(
            id=blob_id,
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            type=mime if isinstance(mime, str) else None,
            name=name if isinstance(name, str) else None,
            raw=dict(data),
        )


@dataclass
class QueryGetResult:
    """A ``Foo/query`` and the ``Foo/get`` of its ids, made in one request."""

    query: QueryResult
    get: GetResult

    @property
    def objects(self) -> list[dict[str, Any]]:
        """The objects, in query order."""
        return self.get.objects
