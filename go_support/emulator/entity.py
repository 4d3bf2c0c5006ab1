"""Generic ``Foo/get``, ``Foo/query``, ``Foo/set`` and ``Foo/changes``, as Group-Office runs them.

Each entity subclasses :class:`EntityHandler`, declares its properties and filters and overrides
hooks (permissions, setters, validation, side effects). The generic part reproduces what the
recorded server does for every entity (groupoffice-jmap-protocol.md §9, corpus file 03):

- get: ``ids: null`` returns all readable, falsy ids are dropped, duplicates removed, ``list``
  follows the requested order and unreadable ids land in ``notFound`` as sent;
- query: ``notfound`` (lower case) and ``canCalculateUpdates: false``, no ``position``;
  ``limit: 0`` means unlimited and then ``position`` is ignored (15); ``hasMore`` only when true;
- set: all nine result keys, ``created`` = what differs from what the client sent plus ``id``,
  ``updated`` = what differs from the client's expectation or ``null``; an unknown property fails
  the whole call; side-effect saves are merged into ``created``/``updated``;
- changes: the union of the entity's change rows (last change per id; destroyed ones go to
  ``removed``) and the caller's per-user rows (to ``changed``), so ids repeat and destroyed ids
  can show under ``changed`` too; ``updated`` copies ``changed``, ``totalChanges`` is always 0
  (08); all changes of one call share one modseq (store.begin_call).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from . import acl
from .context import Context, SideEffects
from .errors import (
    MethodError,
    SetError,
    db_exception,
    forbidden,
    invalid_arguments,
    not_found,
    unsupported_filter,
)
from .store import Record

FilterFn = Callable[[Context, Record, Any], bool]
SortKey = Callable[[Context, Record], Any]

_MISSING = object()


@dataclass(frozen=True)
class Prop:
    """One API property of an entity.

    ``default`` is the value of a new record (a callable is called with the context);
    ``readonly`` properties are silently ignored on write (createdBy, createdAt, ...);
    ``writeonly`` ones are accepted but never returned; ``stored=False`` marks computed
    properties (``permissionLevel``) which :meth:`EntityHandler.read_property` provides.
    """

    default: Any = None
    readonly: bool = False
    writeonly: bool = False
    stored: bool = True
    in_default: bool = True


def strict_equal(a: Any, b: Any) -> bool:
    """PHP's ``===`` on decoded JSON: ``1`` and ``"1"`` differ, and so do ``1`` and ``True``."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is str or kind is int or a is None:  # the common case first: no recursion
        return bool(a == b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class EntityHandler:
    name: ClassVar[str] = ""
    #: PHP classes, used verbatim in the server's error messages.
    model_class: ClassVar[str] = ""
    controller_class: ClassVar[str] = ""
    #: (package, module) whose mayRead right every call needs; None for core entities.
    module: ClassVar[tuple[str | None, str] | None] = None
    #: ACL entities append the global ACL modseq to their state strings (03, 04).
    acl_state: ClassVar[bool] = False
    methods: ClassVar[frozenset[str]] = frozenset({"get", "query", "set", "changes"})
    props: ClassVar[dict[str, Prop]] = {}
    default_filters: ClassVar[dict[str, Any]] = {}
    #: Filters (lower case) that become an SQL ``IN`` and refuse an empty list, as
    #: Group-Office's query builder does ("IN condition can not be empty!").
    in_filters_refusing_empty: ClassVar[frozenset[str]] = frozenset()
    #: /set answers use this name in "Not existing property" messages.

    #: Properties that :meth:`read_property` computes; the others are read straight from the
    #: record. ``None`` (the default) sends every property through ``read_property``, which
    #: is always right; hot entities list theirs to skip the call.
    computed: ClassVar[frozenset[str] | None] = None

    def __init__(self) -> None:
        self._plain_props: dict[str, Prop] = (
            {}
            if self.computed is None
            else {
                name: spec
                for name, spec in self.props.items()
                if spec.stored and not spec.writeonly and name not in self.computed
                and name not in ("id", "permissionLevel")
            }
        )
        self._filters: dict[str, FilterFn] = {k.lower(): v for k, v in self.filters().items()}
        self._record_template: dict[str, Any] | None = None
        self._default_props: list[str] | None = None

    # -- hooks an entity overrides ------------------------------------------------------------

    def filters(self) -> dict[str, FilterFn]:
        """Filter name -> predicate. Names are matched case-insensitively (07)."""
        return {
            "exclude": lambda ctx, r, v: str(r["id"]) not in {str(x) for x in v or []},
        }

    def sort_key(self, ctx: Context, prop: str) -> SortKey | None:
        """A key function for a sort property, or None for an unknown column (dbException)."""
        spec = self.props.get(prop)
        if spec is None or not spec.stored or spec.writeonly:
            return None
        return lambda _ctx, r: r.get(prop)

    def permission_level(self, ctx: Context, record: Record) -> int:
        return acl.MANAGE if ctx.is_admin else acl.READ

    def can_create(self, ctx: Context, record: Record) -> bool:
        return self.permission_level(ctx, record) >= acl.CREATE

    def can_update(self, ctx: Context, record: Record, changes: dict[str, Any]) -> bool:
        return self.permission_level(ctx, record) >= acl.WRITE

    def can_destroy(self, ctx: Context, record: Record) -> bool:
        return self.permission_level(ctx, record) >= acl.DELETE

    def readable(self, ctx: Context, record: Record) -> bool:
        return self.permission_level(ctx, record) >= acl.READ

    def query_applies_acl(self) -> bool:
        """Comment/query famously does not (16); everything else filters to readable rows."""
        return True

    def visible(self, ctx: Context, record: Record) -> bool:
        """Rows the entity never shows at all (Tasks in support lists, 04)."""
        return True

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        if prop == "permissionLevel":
            return self.permission_level(ctx, record)
        spec = self.props[prop]
        value = record.get(prop, _MISSING)
        if value is _MISSING:
            return self.default_value(ctx, spec)
        return value

    def default_value(self, ctx: Context, spec: Prop) -> Any:
        default = spec.default
        if callable(default):
            return default(ctx)
        if default is None or isinstance(default, str | int | float):
            return default
        return _copy(default)

    def new_record(self, ctx: Context) -> Record:
        template = self._record_template
        if template is None:
            # Scalar defaults are shared by every new record: copy them in one go.
            template = self._record_template = {
                name: spec.default
                for name, spec in self.props.items()
                if spec.stored and name != "id"
                and (spec.default is None or isinstance(spec.default, str | int | float))
            }
        record = dict(template)
        for name, spec in self.props.items():
            if spec.stored and name != "id" and name not in template:
                record[name] = self.default_value(ctx, spec)
        return record

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        """Copy client values into the record; setters that drop bad values override this."""
        for key, value in values.items():
            spec = self.props[key]
            if spec.readonly or (not spec.stored and not spec.writeonly):
                continue
            record[key] = _copy(value)

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        """Validation errors as ``{property: {"code", "description"}}``."""
        return {}

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        """Side effects on the record itself, after validation (progress rules and the like)."""

    def after_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        """Side effects on other records."""

    def before_destroy(self, ctx: Context, record: Record) -> None:
        """Checks or cascades; raising MethodError fails the whole call."""

    def after_destroy(self, ctx: Context, record: Record) -> None:
        """Cascades on other records."""

    def merge_patch(self, ctx: Context, key: str, current: Any, value: Any) -> Any:
        """A top-level key replaces the property; ACLs and custom fields override to merge."""
        return value

    def differs(self, key: str, actual: Any, expected: Any) -> bool:
        """Whether ``created``/``updated`` report a property: PHP's ``!==`` on the two values.

        Entities whose property is a PHP object override this: objects are never identical.
        """
        return not strict_equal(actual, expected)

    def touch_user_row(self, ctx: Context, id_: str) -> None:
        """The caller's per-user row of a record was written (``core_change_user``).

        It shows in ``Foo/changes`` (08 #18) and, for the rest of the request, as the third
        part of the entity's state strings (03 #3, 04 #9).
        """
        ctx.request.user_modseq[self.name] = ctx.store.log_user_change(
            self.name, id_, ctx.uid
        )

    def unknown_property(self, key: str) -> MethodError:
        return MethodError(
            "invalidArgumentException", f"Not existing property {key} for {self.model_class}"
        )

    # -- helpers ------------------------------------------------------------------------------

    def state(self, ctx: Context) -> str:
        store = ctx.store
        user = ctx.request.user_modseq.get(self.name, 0)
        base = f"{store.meta.cache_cleared_at}:{store.modseq(self.name)}:{user}"
        return f"{base}:{store.meta.acl_modseq}" if self.acl_state else base

    def default_properties(self) -> list[str]:
        if self._default_props is None:
            self._default_props = [
                n for n, p in self.props.items() if p.in_default and not p.writeonly
            ]
        return self._default_props

    def to_wire(self, ctx: Context, record: Record, properties: Iterable[str] | None) -> Record:
        names = list(properties) if properties else self.default_properties()
        out: Record = {}
        plain = self._plain_props
        for name in names:
            if name == "id":
                out["id"] = str(record["id"])
            elif name in plain:
                # Hot path (a 1,000-object /set serialises 1,000 objects twice).
                value = record.get(name, _MISSING)
                out[name] = self.default_value(ctx, plain[name]) if value is _MISSING else value
            elif name in self.props and not self.props[name].writeonly:
                out[name] = self.read_property(ctx, record, name)
        if "id" not in out:
            out["id"] = str(record["id"])
        return out

    def find(self, ctx: Context, id_: Any) -> Record | None:
        rec = ctx.store.get(self.name, id_)
        if rec is None or not self.visible(ctx, rec):
            return None
        return rec

    def save(self, ctx: Context, record: Record, old: Record | None) -> None:
        """Persist a record changed by a hook (not by the /set call's own objects)."""
        created = old is None
        if created:
            record["id"] = ctx.store.next_id(self.name)
        ctx.store.put(self.name, record)
        ctx.store.log_change(self.name, record["id"])
        ctx.saved(self, record, created)

    # -- get ----------------------------------------------------------------------------------

    def get(self, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        ids = args.get("ids")
        properties = args.get("properties") or None
        result: dict[str, Any] = {"accountId": args.get("accountId", [])}
        if ids is not None and not isinstance(ids, list):
            raise MethodError("invalidArgumentException", "ids must be of type array")
        records: list[Record] = []
        not_found_ids: list[Any] = []
        if ids is None:
            records = [r for r in self.records(ctx) if self.get_readable(ctx, r)]
        else:
            seen: set[str] = set()
            for raw in ids:
                if not raw or raw == "0" or str(raw) in seen:
                    continue
                seen.add(str(raw))
                rec = self.find(ctx, raw)
                if rec is None or not self.get_readable(ctx, rec):
                    not_found_ids.append(raw)
                else:
                    records.append(rec)
        result["state"] = self.state(ctx)
        result["list"] = [self.to_wire(ctx, r, self.get_properties(properties)) for r in records]
        result["notFound"] = not_found_ids
        return result

    def get_readable(self, ctx: Context, record: Record) -> bool:
        if self.name in ctx.request.broken_entities:
            # A custom field of this entity was dropped earlier in the request: the entity
            # cannot be loaded any more, so every id is notFound (07 #13).
            return False
        return self.visible(ctx, record) and self.readable(ctx, record)

    def records(self, ctx: Context) -> Iterable[Record]:
        """Every row get (``ids: null``) and query look at; Principal merges two sources."""
        return ctx.store.all(self.name)

    #: Filters on a stored id column whose value a query may look up in the store's index
    #: instead of testing every row (e.g. a task's comments).
    indexed_filters: frozenset[str] = frozenset()

    def candidates(self, ctx: Context, flt: dict[str, Any] | list[Any]) -> Iterable[Record]:
        """The rows a query tests, in the order of :meth:`records`: all of them, or only those
        an indexed top-level condition (an id or a list of ids, ANDed with the rest) can
        match. The filter is still applied to each, so the answer is the same either way."""
        if isinstance(flt, dict) and "operator" not in flt:
            for name, value in flt.items():
                if name.lower() not in self.indexed_filters:
                    continue
                values = value if isinstance(value, list) else [value]
                if values and all(isinstance(v, str | int) and not isinstance(v, bool)
                                  for v in values):
                    return ctx.store.find_by_any(self.name, self.indexed_column(name), values)
        return self.records(ctx)

    def indexed_column(self, filter_name: str) -> str:
        """The stored property behind an indexed filter."""
        return next(p for p in self.props if p.lower() == filter_name.lower())

    def get_properties(self, properties: list[str] | None) -> list[str] | None:
        return properties

    # -- query --------------------------------------------------------------------------------

    def query(self, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        flt = args.get("filter")
        if flt is None:
            flt = {}
        if not isinstance(flt, dict | list):
            raise invalid_arguments("Parameter 'filter' must be an array")
        sort = args.get("sort") or []
        if not isinstance(sort, list):
            raise invalid_arguments("Parameter 'sort' must be an array")
        position = int(args.get("position") or 0)
        limit = int(args.get("limit") or 0)
        if limit < 0:
            raise invalid_arguments("Limit MUST be positive")
        if position < 0:
            raise invalid_arguments("Position MUST be positive")
        predicate = self.compile_filter(ctx, flt)
        keys = self.compile_sort(ctx, sort)
        # the same query again in this request, nothing written since (the pages of a long
        # list): the rows it found
        memo_key = (self.name, json.dumps([flt, sort], sort_keys=True, default=str),
                    ctx.store.writes, str(ctx.user_id))
        rows = ctx.request.queried.get(memo_key)
        if rows is None:
            rows = [
                r
                for r in self.candidates(ctx, flt)
                if self.visible(ctx, r)
                and (not self.query_applies_acl() or self.readable(ctx, r))
                and predicate(r)
            ]
            rows = self.sort_rows(ctx, rows, keys)
            ctx.request.queried[memo_key] = rows
        total = len(rows)
        has_more = False
        if limit > 0:
            has_more = len(rows) > position + limit
            rows = rows[position : position + limit]
        state = self.state(ctx)
        result: dict[str, Any] = {
            "accountId": args.get("accountId"),
            "state": state,
            "queryState": state,
            "ids": [str(r["id"]) for r in rows],
            "notfound": [],
            "canCalculateUpdates": False,
        }
        if args.get("calculateHasMore") and limit > 0 and has_more:
            result["hasMore"] = True
        if args.get("calculateTotal"):
            result["total"] = total
        return result

    def compile_filter(
        self, ctx: Context, flt: dict[str, Any] | list[Any]
    ) -> Callable[[Record], bool]:
        used: set[str] = set()
        tree = self._compile_node(ctx, flt, used)
        defaults = [
            self._compile_condition(ctx, {name: value}, set())
            for name, value in self.default_filters.items()
            if name.lower() not in used
        ]
        return _all_of([*defaults, tree])

    def _compile_node(
        self, ctx: Context, node: Any, used: set[str]
    ) -> Callable[[Record], bool]:
        if isinstance(node, dict) and "operator" in node and "conditions" in node:
            op = str(node["operator"]).upper()
            subs = [self._compile_node(ctx, c, used) for c in node["conditions"] or []]
            if op == "OR":
                return lambda r: any(s(r) for s in subs)
            if op == "NOT":
                return lambda r: not any(s(r) for s in subs)
            return _all_of(subs)
        if isinstance(node, list):  # a PHP array of conditions: AND
            return _all_of([self._compile_node(ctx, c, used) for c in node])
        return self._compile_condition(ctx, node or {}, used)

    def _compile_condition(
        self, ctx: Context, cond: dict[str, Any], used: set[str]
    ) -> Callable[[Record], bool]:
        tests: list[Callable[[Record], bool]] = []
        for name, value in cond.items():
            fn = self._filters.get(name.lower())
            if fn is None:
                fn = self.dynamic_filter(ctx, name)
            if fn is None:
                raise unsupported_filter(name, self.name)
            if value == [] and name.lower() in self.in_filters_refusing_empty:
                raise MethodError("invalidArgumentException", "IN condition can not be empty!")
            used.add(name.lower())
            tests.append(self._bind(ctx, fn, value))
        return _all_of(tests)

    @staticmethod
    def _bind(ctx: Context, fn: FilterFn, value: Any) -> Callable[[Record], bool]:
        return lambda r: fn(ctx, r, value)

    def dynamic_filter(self, ctx: Context, name: str) -> FilterFn | None:
        """Filters that depend on data, such as one per custom field (07)."""
        return None

    def compile_sort(self, ctx: Context, sort: list[Any]) -> list[tuple[SortKey, bool]]:
        keys: list[tuple[SortKey, bool]] = []
        for item in sort:
            if not isinstance(item, dict) or "property" not in item:
                raise MethodError("invalidArgumentException", "'sort' parameter is invalid.")
            key = self.sort_key(ctx, str(item["property"]))
            if key is None:
                raise db_exception()
            keys.append((key, item.get("isAscending", True) is not False))
        return keys

    def sort_rows(
        self, ctx: Context, rows: list[Record], keys: list[tuple[SortKey, bool]]
    ) -> list[Record]:
        # Stable sorts applied from the last key to the first; NULLs sort first ascending, as
        # in MariaDB.
        for key, ascending in reversed(keys):

            def sort_value(r: Record, k: SortKey = key) -> tuple[int, Any]:
                return _null_first(k(ctx, r))

            rows.sort(key=sort_value, reverse=not ascending)
        return rows

    # -- set ----------------------------------------------------------------------------------

    def set(self, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        create = args.get("create")
        update = args.get("update")
        destroy = args.get("destroy")
        if create is None and update is None and destroy is None:
            raise invalid_arguments(
                "You must pass one of these arguments: create, update or destroy"
            )
        count = len(create or {}) + len(update or {}) + len(destroy or [])
        if count > 1000:
            # The message really says 100 while the limit is 1000 (EntityController).
            raise invalid_arguments("You can't set more than 100 objects")
        old_state = self.state(ctx)
        if_in_state = args.get("ifInState")
        if if_in_state is not None and if_in_state != old_state:
            raise MethodError(
                "stateMismatch",
                f"State mismatch. The server state {old_state} does not match your state "
                f"{if_in_state}",
            )
        ctx.request.set_listeners.add(self.name)
        effects = SideEffects()
        outer_effects, outer_primary = ctx.request.current_set, ctx.request.current_primary
        ctx.request.current_set, ctx.request.current_primary = effects, set()
        created: dict[str, Any] = {}
        updated: dict[str, Any] = {}
        destroyed: list[str] = []
        not_created: dict[str, Any] = {}
        not_updated: dict[str, Any] = {}
        not_destroyed: dict[str, Any] = {}
        try:
            for cid, values in (create or {}).items():
                try:
                    created[str(cid)] = self.create_one(ctx, values or {})
                except SetError as e:
                    not_created[str(cid)] = e.to_wire()
            for id_, patch in (update or {}).items():
                try:
                    updated[str(id_)] = self.update_one(ctx, str(id_), patch or {})
                except SetError as e:
                    not_updated[str(id_)] = e.to_wire()
            destroyed, not_destroyed = self.destroy_many(ctx, list(destroy or []))
        finally:
            ctx.request.current_set, ctx.request.current_primary = outer_effects, outer_primary
        # EntityController::mergeOtherSaves drops side-effect saves whose id (of whatever
        # type) equals the id of an object this call created or updated.
        own_ids = {str(v["id"]) for v in created.values() if isinstance(v, dict) and "id" in v}
        own_ids |= set(updated)
        for key, obj in effects.created.items():
            if key not in own_ids:
                created.setdefault(key, obj)
        for key, obj in effects.updated.items():
            if key not in own_ids:
                updated.setdefault(key, obj)
        return {
            "accountId": args.get("accountId"),
            "created": _php_map(created),
            "updated": _php_map(updated),
            "destroyed": destroyed,
            "notCreated": _php_map(not_created),
            "notUpdated": _php_map(not_updated),
            "notDestroyed": _php_map(not_destroyed),
            "oldState": old_state,
            "newState": self.state(ctx),
        }

    def check_properties(self, values: dict[str, Any]) -> None:
        for key in values:
            if key not in self.props:
                raise self.unknown_property(key)

    def create_one(self, ctx: Context, values: dict[str, Any]) -> Record:
        self.check_properties(values)
        record = self.new_record(ctx)
        self.apply_values(ctx, record, values, new=True)
        record["id"] = None
        self.check_create(ctx, record)
        errors = self.validate(ctx, record, True, None)
        if errors:
            raise SetError("invalidProperties", None, errors)
        self.before_save(ctx, record, None)
        record["id"] = ctx.store.next_id(self.name)
        ctx.request.current_primary.add((self.name, str(record["id"])))
        self.insert(ctx, record)
        ctx.store.put(self.name, record)
        ctx.store.log_change(self.name, record["id"])
        self.after_save(ctx, record, None)
        record = ctx.store.get(self.name, record["id"]) or record
        return self.created_diff(ctx, record, values)

    def check_create(self, ctx: Context, record: Record) -> None:
        if not self.can_create(ctx, record):
            raise forbidden()

    def insert(self, ctx: Context, record: Record) -> None:
        """Last chance to fail like a database would (an unknown foreign key: dbException)."""

    def created_diff(self, ctx: Context, record: Record, sent: dict[str, Any]) -> Record:
        full = self.to_wire(ctx, record, None)
        out = {k: v for k, v in full.items() if k not in sent or self.differs(k, v, sent[k])}
        out["id"] = str(record["id"])
        return out

    def update_one(self, ctx: Context, id_: str, patch: dict[str, Any]) -> Record | None:
        record = self.find(ctx, id_)
        if record is None or not self.readable(ctx, record):
            raise not_found()
        old = ctx.store.snapshot(record)
        current = self.to_wire(ctx, record, None)
        values = self.resolve_patch(ctx, current, patch)
        self.check_properties(values)
        expected = dict(current)
        expected.update(values)
        if not self.can_update(ctx, record, values):
            raise forbidden()
        new = ctx.store.snapshot(record)
        self.apply_values(ctx, new, values, new=False)
        errors = self.validate(ctx, new, False, old)
        if errors:
            raise SetError("invalidProperties", None, errors)
        self.before_save(ctx, new, old)
        ctx.request.current_primary.add((self.name, id_))
        if self.has_changed(new, old):
            ctx.store.put(self.name, new)
            ctx.store.log_change(self.name, id_)
            self.after_save(ctx, new, old)
        new = ctx.store.get(self.name, id_) or new
        after = self.to_wire(ctx, new, None)
        diff = {
            k: v for k, v in after.items() if k not in expected or self.differs(k, v, expected[k])
        }
        return diff or None

    def has_changed(self, new: Record, old: Record) -> bool:
        return not strict_equal(new, old)

    def resolve_patch(
        self, ctx: Context, current: dict[str, Any], patch: dict[str, Any]
    ) -> dict[str, Any]:
        """Turn a patch with JSON-pointer keys into new top-level values."""
        values: dict[str, Any] = {}
        for raw_key, value in patch.items():
            path = raw_key.lstrip("/").split("/")
            top = path[0].replace("~1", "/").replace("~0", "~")
            if len(path) == 1:
                base = values.get(top, current.get(top))
                values[top] = self.merge_patch(ctx, top, base, value)
                continue
            if top not in current and top not in values and top not in self.props:
                raise self.unknown_property(top)
            target = _copy(values.get(top, current.get(top)))
            if isinstance(target, list) and not target:
                target = {}
            node = target
            for part in path[1:-1]:
                part = part.replace("~1", "/").replace("~0", "~")
                if isinstance(node, dict) and part in node:
                    node = node[part]
                elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                    node = node[int(part)]
                else:
                    raise MethodError(
                        "jsonPointerException", f"The path {raw_key.lstrip('/')} doesn't exist"
                    )
            last = path[-1].replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict):
                node[last] = value
            elif isinstance(node, list) and last.isdigit():
                node[int(last)] = value
            else:
                raise MethodError(
                    "jsonPointerException", f"The path {raw_key.lstrip('/')} doesn't exist"
                )
            values[top] = self.merge_patch(ctx, top, current.get(top), target)
        return values

    def destroy_many(self, ctx: Context, ids: list[Any]) -> tuple[list[str], dict[str, Any]]:
        destroyed: list[str] = []
        failed: dict[str, Any] = {}
        doomed: list[Record] = []
        for raw in ids:
            record = self.find(ctx, raw)
            if record is None or not self.readable(ctx, record):
                failed[str(raw)] = not_found().to_wire()
            elif not self.can_destroy(ctx, record):
                failed[str(raw)] = forbidden().to_wire()
            else:
                doomed.append(record)
        for record in doomed:
            self.before_destroy(ctx, record)
        for record in doomed:
            ctx.store.delete(self.name, str(record["id"]))
            ctx.store.log_change(self.name, str(record["id"]), destroyed=True)
            destroyed.append(str(record["id"]))
        for record in doomed:
            self.after_destroy(ctx, record)
        return destroyed, failed

    # -- changes ------------------------------------------------------------------------------

    def changes(self, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        since = args.get("sinceState")
        if not since:
            raise invalid_arguments("sinceState is required")
        max_changes = int(args.get("maxChanges") or 100)
        if max_changes < 1 or max_changes > 100:
            raise invalid_arguments("maxChanges should be greater than 0 and smaller than 50")
        parts = str(since).split(":")
        # A state without the current cacheClearedAt prefix cannot be continued from. That
        # includes Group-Office's own intermediate states ("0|0:0|2:20|0" after hasMoreChanges
        # true): it refuses them every time (groupoffice-wire 17 #3, #4).
        if parts[0] != str(ctx.store.meta.cache_cleared_at) or len(parts) < 3:
            raise MethodError("cannotCalculateChanges", "Resync required")
        try:
            since_seq = int(parts[1])
            since_user = int(parts[2])
        except ValueError as e:
            raise MethodError("cannotCalculateChanges", "Resync required") from e
        current = self.state(ctx)
        if since == current:
            return {
                "oldState": since,
                "newState": current,
                "changed": [],
                "removed": [],
                "accountId": args.get("accountId"),
                "updated": [],
            }
        # The union of the entity's change rows (one per id, its last change; a destroyed id
        # counts as removed) and the caller's per-user rows (always "changed", even for an id
        # destroyed since): hence duplicates and destroyed ids under ``changed`` (08 #18, #20;
        # 16 #11: a destroyed label is only under ``removed``).
        rows = [(c.id, c.destroyed) for c in ctx.store.latest_changes_since(self.name, since_seq)]
        rows += [
            (i, False) for i in ctx.store.user_changes_since(self.name, ctx.user_id, since_user)
        ]
        has_more = len(rows) > max_changes
        if has_more:
            rows = rows[:max_changes]
            # Intermediate states are "modseq|offset" per part, the offset oddly on the user
            # part, and lack the cacheClearedAt prefix: "1|0:0|1:7|0" after "…:1:0:7" (08 #18).
            new_state = f"{since_seq}|0:{since_user}|{max_changes}"
            if self.acl_state:
                acl_part = parts[3] if len(parts) > 3 else str(ctx.store.meta.acl_modseq)
                new_state += f":{acl_part}|0"
        else:
            new_state = current
        changed = [i for i, destroyed in rows if not destroyed]
        removed = [i for i, destroyed in rows if destroyed]
        return {
            "oldState": since,
            "changed": changed,
            "removed": removed,
            "totalChanges": 0,
            "newState": new_state,
            "hasMoreChanges": has_more,
            "accountId": args.get("accountId"),
            "updated": list(changed),
        }


def _all_of(tests: list[Callable[[Record], bool]]) -> Callable[[Record], bool]:
    """AND of predicates, without a generator per row for the usual one or two."""
    if not tests:
        return lambda r: True
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda r: first(r) and second(r)
    return lambda r: all(t(r) for t in tests)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _php_map(items: dict[str, Any]) -> Any:
    """PHP's json_encode of an array: null when empty here, a list when keyed 0, 1, 2... (15)."""
    if not items:
        return None
    keys = list(items)
    if keys == [str(i) for i in range(len(keys))]:
        return [items[k] for k in keys]
    return items


def _null_first(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return (1, int(value))
    return (2, str(value).lower())
