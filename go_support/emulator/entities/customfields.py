"""Custom fields: ``FieldSet``, ``Field`` and the ``customFields`` property of entities (07).

Other entities call the module-level helpers: ``values_for`` (the ``customFields`` object of a
record), ``merge_values`` (a write, which merges), ``filter_for`` (one filter per field, named
after its ``databaseName``) and ``sort_key_for`` (``customFields.<databaseName>``).
"""

from __future__ import annotations

from typing import Any

from .. import acl
from ..context import Context
from ..entity import EntityHandler, FilterFn, Prop, SortKey
from ..errors import MethodError
from ..filters import number_filter, text_filter
from ..registry import Registry
from ..store import Record


def fields_of(ctx: Context, entity: str) -> list[Record]:
    sets = {
        str(s["id"]) for s in ctx.store.all("FieldSet") if s.get("entity") == entity
    }
    return [f for f in ctx.store.all("Field") if str(f.get("fieldSetId")) in sets]


def _default(field: Record) -> Any:
    if field.get("type") in ("Text", "TextArea", "Html"):
        return field.get("default") or ""
    return field.get("default") if field.get("default") not in ("", None) else None


def values_for(ctx: Context, entity: str, record: Record) -> dict[str, Any] | list[Any]:
    """An entity without fields serialises ``customFields`` as ``[]`` (11)."""
    fields = fields_of(ctx, entity)
    if not fields:
        return []
    stored = record.get("customFields") or {}
    out: dict[str, Any] = {}
    for field in fields:
        name = field["databaseName"]
        out[name] = stored.get(name, _default(field)) if isinstance(stored, dict) else _default(field)
    return out


def merge_values(ctx: Context, entity: str, record: Record, values: Any) -> None:
    """Writes merge into the stored values; an unknown key fails the whole call (07)."""
    if not isinstance(values, dict):
        return
    known = {f["databaseName"]: f for f in fields_of(ctx, entity)}
    stored = record.get("customFields")
    if not isinstance(stored, dict):
        stored = {}
    for key, value in values.items():
        if key not in known:
            raise MethodError("logicException", f"Property '{key}' doesn't exist")
        stored[key] = value
    record["customFields"] = stored


def filter_for(ctx: Context, entity: str, name: str) -> FilterFn | None:
    for field in fields_of(ctx, entity):
        if field["databaseName"].lower() == name.lower():
            db = field["databaseName"]
            kind = field.get("type")

            def test(c: Context, r: Record, v: Any, db: str = db, kind: Any = kind) -> bool:
                value = (r.get("customFields") or {}).get(db) if isinstance(
                    r.get("customFields"), dict
                ) else None
                if kind in ("Number", "User"):
                    return number_filter(value, v)
                return text_filter(value if value is not None else "", v)

            return test
    return None


def sort_key_for(ctx: Context, entity: str, prop: str) -> SortKey | None:
    if not prop.startswith("customFields."):
        return None
    db = prop.split(".", 1)[1]
    if not any(f["databaseName"] == db for f in fields_of(ctx, entity)):
        return None
    return lambda c, r: (r.get("customFields") or {}).get(db) if isinstance(
        r.get("customFields"), dict
    ) else None


class FieldSetHandler(EntityHandler):
    name = "FieldSet"
    model_class = "go\\core\\model\\FieldSet"
    controller_class = "go\\core\\controller\\FieldSet"
    acl_state = True
    props = {
        "filter": Prop(default=lambda ctx: {}),
        "entity": Prop(),
        "permissionLevel": Prop(stored=False),
        "acl": Prop(default=lambda ctx: {"2": 30}),
        "id": Prop(),
        "name": Prop(),
        "description": Prop(),
        "sortOrder": Prop(default=0),
        "parentFieldSetId": Prop(),
        "isTab": Prop(default=False),
        "collapseIfEmpty": Prop(default=False),
        "columns": Prop(default=2),
    }

    def permission_level(self, ctx: Context, record: Record) -> int:
        return ctx.acl_level(record.get("acl"))

    def can_create(self, ctx: Context, record: Record) -> bool:
        return ctx.has_right("core", "core", "mayChangeCustomFields")


class FieldHandler(EntityHandler):
    name = "Field"
    model_class = "go\\core\\model\\Field"
    controller_class = "go\\core\\controller\\Field"
    acl_state = True
    props = {
        "options": Prop(default=lambda ctx: {}),
        "default": Prop(),
        "unique": Prop(default=False),
        "dataType": Prop(default=lambda ctx: {}),
        "permissionLevel": Prop(stored=False),
        "id": Prop(),
        "name": Prop(),
        "fieldSetId": Prop(),
        "sortOrder": Prop(default=0),
        "databaseName": Prop(),
        "required": Prop(default=False),
        "relatedFieldCondition": Prop(),
        "conditionallyRequired": Prop(default=False),
        "conditionallyHidden": Prop(default=False),
        "hint": Prop(),
        "prefix": Prop(default=""),
        "suffix": Prop(default=""),
        "type": Prop(default="Text"),
        "modifiedAt": Prop(readonly=True),
        "createdAt": Prop(readonly=True),
        "customFieldRelations": Prop(default=lambda ctx: []),
        "hiddenInGrid": Prop(default=True),
        "forceAlterTable": Prop(default=False),
        "skipAlterTable": Prop(default=False),
    }

    def permission_level(self, ctx: Context, record: Record) -> int:
        fs = ctx.store.get("FieldSet", record.get("fieldSetId"))
        return ctx.acl_level(fs.get("acl") if fs else None) if not ctx.is_admin else acl.MANAGE

    def can_create(self, ctx: Context, record: Record) -> bool:
        return ctx.has_right("core", "core", "mayChangeCustomFields")

    def after_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None:
            ctx.store.clear_cache()

    def after_destroy(self, ctx: Context, record: Record) -> None:
        ctx.store.clear_cache()


def register(registry: Registry) -> None:
    registry.add(FieldSetHandler())
    registry.add(FieldHandler())
