"""Custom fields: ``FieldSet``, ``Field`` and the ``customFields`` property of entities (07).

Other entities call the module-level helpers: ``values_for`` (the ``customFields`` object of a
record), ``merge_values`` (a write, which merges), ``filter_for`` (one filter per field, named
after its ``databaseName``) and ``sort_key_for`` (``customFields.<databaseName>``).

Group-Office keeps custom-field values in a table per entity (``tasks_task_custom_fields``), one
column per field, so several answers leak SQL (07 step 11, 12). Creating or deleting a Field
clears the server cache: ``cacheClearedAt`` changes, which changes the prefix of every state
string and restarts the modseqs (07 step 4, 5). Within the request that did it the old prefix
is still used (07 step 3, 13), so the emulator clears the cache when the request ends.
"""

from __future__ import annotations

import re
from typing import Any

from .. import acl
from ..context import Context
from ..entity import EntityHandler, FilterFn, Prop, SortKey
from ..errors import GENERAL, MALFORMED, REQUIRED, MethodError, SetError
from ..filters import date_filter, now_iso, number_filter, text_filter
from ..registry import Registry
from ..store import Record

TEXT_TYPES = ("Text", "TextArea", "Html", "EncryptedText", "Notes")
INT_TYPES = ("User", "Contact", "Select", "MultiSelect", "FunctionField", "TemplateField")
TEXT_MAX_LENGTH = 190  # Text without options.maxLength is VARCHAR(190) (07 step 12)

# The custom-fields table of each entity (07 step 11: Task -> tasks_task_custom_fields).
TABLES: dict[str, str] = {
    "Task": "tasks_task_custom_fields",
    "TaskList": "tasks_tasklist_custom_fields",
    "User": "core_user_custom_fields",
    "Contact": "addressbook_contact_custom_fields",
    "Comment": "comments_comment_custom_fields",
}

_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def table_for(entity: str) -> str:
    return TABLES.get(entity, f"{entity.lower()}_custom_fields")


def fields_of(ctx: Context, entity: str) -> list[Record]:
    """The entity's fields in column order, i.e. creation order (07 step 5: ticketRef first).

    Memoised on the store's version of the two tables: serialising 1,000 tasks must not scan
    the field definitions 1,000 times.
    """
    store = ctx.store
    version = (entity, store.version("FieldSet"), store.version("Field"))
    cached = store.memo.get("fields_of")
    if cached is not None and cached[0] == version:
        return list(cached[1])
    sets = {str(s["id"]) for s in store.all("FieldSet") if s.get("entity") == entity}
    fields = [f for f in store.all("Field") if str(f.get("fieldSetId")) in sets]
    store.memo["fields_of"] = (version, fields)
    return list(fields)


def _options(field: Record) -> dict[str, Any]:
    options = field.get("options")
    return options if isinstance(options, dict) else {}


def _decimals(field: Record) -> int:
    try:
        return int(_options(field).get("decimals", 2))
    except (TypeError, ValueError):
        return 2


def _default(field: Record) -> Any:
    """A new record's value: Text '' (a NOT NULL column), other types NULL (07 step 5)."""
    default = field.get("default")
    kind = field.get("type")
    if kind in TEXT_TYPES:
        return "" if default is None else str(default)
    if kind == "Checkbox":
        return bool(default)
    if default in ("", None):
        return None
    return _to_api(field, default)


def _to_api(field: Record, value: Any) -> Any:
    """A stored value as the API returns it (Number with 0 decimals is an int, 07 step 6)."""
    kind = field.get("type")
    if value is None:
        return "" if kind in TEXT_TYPES else None
    if kind == "Number":
        number = round(float(value), _decimals(field))
        return int(number) if _decimals(field) == 0 else number
    if kind in INT_TYPES:
        return int(value)
    if kind == "Checkbox":
        return bool(value)
    if kind in TEXT_TYPES:
        return str(value)
    return value


def values_for(ctx: Context, entity: str, record: Record) -> dict[str, Any] | list[Any]:
    """An entity without fields serialises ``customFields`` as ``[]`` (11 step 1)."""
    fields = fields_of(ctx, entity)
    if not fields:
        return []
    stored = record.get("customFields")
    if not isinstance(stored, dict):
        stored = {}
    out: dict[str, Any] = {}
    for field in fields:
        name = field["databaseName"]
        out[name] = _to_api(field, stored[name]) if name in stored else _default(field)
    return out


# -- writing --------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _column_error(field: Record, value: Any) -> str | None:
    """What MariaDB says about a value that does not fit the field's column (07 step 11)."""
    kind = field.get("type")
    db = field["databaseName"]
    if value is None:
        return None
    if kind == "Number" and not _is_number(value):
        return (
            "SQLSTATE[22007]: Invalid datetime format: 1366 Incorrect decimal value: "
            f"{_php_export(value)} for column `groupoffice`.`{{table}}`.`{db}` at row 1"
        )
    if kind in INT_TYPES and not _is_number(value):
        return (
            "SQLSTATE[22007]: Invalid datetime format: 1366 Incorrect integer value: "
            f"{_php_export(value)} for column `groupoffice`.`{{table}}`.`{db}` at row 1"
        )
    if kind == "Text":
        limit = int(_options(field).get("maxLength") or TEXT_MAX_LENGTH)
        if len(str(value)) > limit:
            return (
                "SQLSTATE[22001]: String data, right truncated: 1406 Data too long for column "
                f"'{db}' at row 1"
            )
    return None


def _to_db(field: Record, value: Any) -> Any:
    kind = field.get("type")
    if value is None:
        return None
    if kind == "Number":
        if value == "":
            return None
        return int(value) if isinstance(value, int) and _decimals(field) == 0 else float(value)
    if kind in INT_TYPES:
        return int(float(value)) if value != "" else None
    if kind == "Checkbox":
        return bool(value)
    if kind in TEXT_TYPES:
        return str(value)
    return value


def _pdo_type(field: Record) -> int:
    """PDO::PARAM_STR is 2, PARAM_INT 1, PARAM_BOOL 5 (07 step 11)."""
    kind = field.get("type")
    if kind in INT_TYPES:
        return 1
    if kind == "Checkbox":
        return 5
    return 2


def _php_export(value: Any) -> str:
    """PHP's var_export of a scalar."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _params_export(params: list[tuple[Any, int]]) -> str:
    lines = ["array ("]
    for i, (value, pdo) in enumerate(params):
        lines += [
            f"  {i} => ",
            "  array (",
            f"    'paramTag' => {i + 1},",
            f"    'value' => {_php_export(value)},",
            f"    'pdoType' => {pdo},",
            "  ),",
        ]
    lines.append(")")
    return "\n".join(lines)


def _sql_exception(
    ctx: Context, entity: str, record: Record, merged: dict[str, Any], error: str,
    changed: list[str],
) -> MethodError:
    """``exception`` with the failing statement, as the server leaks it (07 step 11).

    On create the entity's row was inserted before its custom-field row failed, so the
    auto-increment id is used up (07 step 11: ids 65 and 66).
    """
    table = table_for(entity)
    fields = fields_of(ctx, entity)
    if record.get("id") is None:
        record_id = ctx.store.next_id(entity)
        columns = [f["databaseName"] for f in fields] + ["id"]
        params = [(merged.get(f["databaseName"]), _pdo_type(f)) for f in fields]
        params.append((str(record_id), 1))
        sql = (
            f"INSERT INTO `{table}`  (\n"
            + ",\n".join(f"\t`{c}`" for c in columns)
            + "\n)\nVALUES \n(\n"
            + ",\n".join("\t?" for _ in columns)
            + "\n)"
        )
    else:
        by_name = {f["databaseName"]: f for f in fields}
        params = [(merged.get(name), _pdo_type(by_name[name])) for name in changed]
        params.append((str(record["id"]), 1))
        sql = (
            f"UPDATE `{table}` SET\n"
            + ",\n".join(f"\t`{name}` = ?" for name in changed)
            + "\nWHERE\n\t`id` = ?"
        )
    message = (
        f"Database exception: {error.replace('{table}', table)}, Full SQL: {sql}, "
        + _params_export(params)
    )
    return MethodError("exception", message)


def merge_values(ctx: Context, entity: str, record: Record, values: Any) -> None:
    """Writes merge into the stored values (07 step 10).

    An unknown key fails the whole call with ``logicException`` (07 step 11). A value the
    column cannot hold (a non-numeric Number, a Text longer than maxLength) fails the whole call
    with ``exception`` and the SQL statement (07 step 11); Group-Office does not validate them.
    """
    if not isinstance(values, dict):
        return
    known = {f["databaseName"]: f for f in fields_of(ctx, entity)}
    for key in values:
        if key not in known:
            raise MethodError("logicException", f"Property '{key}' doesn't exist")
    stored = record.get("customFields")
    stored = dict(stored) if isinstance(stored, dict) else {}
    # The row as the database would receive it: current values, defaults for new records.
    row = {
        name: stored[name] if name in stored else _to_db(field, _default(field))
        for name, field in known.items()
    }
    for key, value in values.items():
        row[key] = value
    for name, field in known.items():
        error = _column_error(field, row[name])
        if error is not None:
            raise _sql_exception(ctx, entity, record, row, error, list(values))
    for key, value in values.items():
        stored[key] = _to_db(known[key], value)
    record["customFields"] = stored


# -- querying -------------------------------------------------------------------------------------


def filter_for(ctx: Context, entity: str, name: str) -> FilterFn | None:
    """One filter per field, named after its databaseName, case-insensitive (07 step 8).

    Text filters are SQL LIKE (``"LEG-%"``), Number filters take comparators (``">=5"``), a
    User filter takes a user id (or a display-name pattern).
    """
    for field in fields_of(ctx, entity):
        if field["databaseName"].lower() != name.lower():
            continue

        def test(c: Context, r: Record, v: Any, field: Record = field) -> bool:
            stored = r.get("customFields")
            raw = stored.get(field["databaseName"]) if isinstance(stored, dict) else None
            value = _to_api(field, raw) if raw is not None else _default(field)
            kind = field.get("type")
            if kind == "Number":
                return number_filter(value, v)
            if kind in INT_TYPES:
                if v is None or isinstance(v, int | float) or str(v).lstrip("-").isdigit():
                    return number_filter(value, v)
                user = c.store.get("User", value) if kind == "User" else None
                return user is not None and text_filter(user.get("displayName"), v)
            if kind == "Checkbox":
                return bool(value) == bool(v)
            if kind in ("Date", "DateTime"):
                return date_filter(value, v)
            return text_filter("" if value is None else value, v)

        return test
    return None


def sort_key_for(ctx: Context, entity: str, prop: str) -> SortKey | None:
    """``customFields.<databaseName>`` sorts like the column (07 step 9); NULLs first."""
    if not prop.startswith("customFields."):
        return None
    db = prop.split(".", 1)[1]
    field = next((f for f in fields_of(ctx, entity) if f["databaseName"] == db), None)
    if field is None:
        return None

    def key(c: Context, r: Record, field: Record = field) -> Any:
        stored = r.get("customFields")
        raw = stored.get(db) if isinstance(stored, dict) else None
        return _to_api(field, raw) if raw is not None else _default(field)

    return key


# -- the cache-clearing side effect ---------------------------------------------------------------


def _clear_cache_at_end(ctx: Context) -> None:
    """The state prefix changes for the next request, not for this one (07 steps 3-5, 13)."""
    hooks = ctx.request.at_end
    if ctx.store.clear_cache not in hooks:
        hooks.append(ctx.store.clear_cache)


# -- FieldSet and Field ---------------------------------------------------------------------------


class FieldSetHandler(EntityHandler):
    name = "FieldSet"
    model_class = "go\\core\\model\\FieldSet"
    controller_class = "go\\core\\controller\\FieldSet"
    acl_state = True
    props = {
        "filter": Prop(default=lambda ctx: {}),
        "entity": Prop(),
        "permissionLevel": Prop(stored=False),
        "acl": Prop(default=lambda ctx: {"2": acl.WRITE}),  # defaultAcl {"2": 30} (11 step 10)
        "id": Prop(),
        "name": Prop(),
        "description": Prop(),
        "sortOrder": Prop(default=0),
        "parentFieldSetId": Prop(),
        "isTab": Prop(default=False),
        "collapseIfEmpty": Prop(default=False),
        "columns": Prop(default=2),
    }

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "entities": lambda c, r, v: r.get("entity") in (v or []),
            "entity": lambda c, r, v: r.get("entity") == v,
            "isTab": lambda c, r, v: bool(r.get("isTab")) == bool(v),
        }

    def permission_level(self, ctx: Context, record: Record) -> int:
        return ctx.acl_level(record.get("acl"))

    def can_create(self, ctx: Context, record: Record) -> bool:
        return ctx.has_right("core", "core", "mayChangeCustomFields")  # 12 step 3

    def can_update(self, ctx: Context, record: Record, changes: dict[str, Any]) -> bool:
        level = self.permission_level(ctx, record)
        if "acl" in changes:
            return level >= acl.MANAGE
        return level >= acl.WRITE

    def merge_patch(self, ctx: Context, key: str, current: Any, value: Any) -> Any:
        return acl.merge_acl(current, value) if key == "acl" else value

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            spec = self.props[key]
            if spec.readonly or not spec.stored:
                continue
            if key == "acl":
                value = {str(g): lvl for g, lvl in (value or {}).items() if lvl}
            elif key == "parentFieldSetId" and value is not None:
                value = str(value)
            record[key] = value

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        errors: dict[str, dict[str, Any]] = {}
        for prop in ("name", "entity"):
            if not record.get(prop):
                errors[prop] = {"code": REQUIRED, "description": "Property is required"}
        return errors

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None:
            # The owner's personal group gets MANAGE, except for the super-admin (entities §9.1).
            user = ctx.store.get("User", ctx.user_id)
            if user is not None and str(user["id"]) != acl.ADMIN_USER:
                record["acl"][str(user.get("personalGroup"))] = acl.MANAGE
            ctx.store.bump_acl()  # the new ACL moves the ACL part of the state (07 step 2)
        elif old.get("acl") != record.get("acl"):
            ctx.store.bump_acl()

    def before_destroy(self, ctx: Context, record: Record) -> None:
        fields = [
            f for f in ctx.store.all("Field") if str(f.get("fieldSetId")) == str(record["id"])
        ]
        handler = ctx.handler("Field")
        for field in fields:
            ctx.store.delete("Field", str(field["id"]))
            ctx.store.log_change("Field", str(field["id"]), destroyed=True)
            handler.after_destroy(ctx, field)


class FieldHandler(EntityHandler):
    name = "Field"
    model_class = "go\\core\\model\\Field"
    controller_class = "go\\core\\controller\\Field"
    acl_state = True
    props = {
        "options": Prop(default=lambda ctx: []),  # PHP's empty array (07 step 3, User field)
        "default": Prop(),
        "unique": Prop(default=False),
        "dataType": Prop(stored=False),
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

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "fieldSetId": lambda c, r, v: str(r.get("fieldSetId")) == str(v),
            "type": lambda c, r, v: r.get("type") in (v if isinstance(v, list) else [v]),
        }

    def _fieldset(self, ctx: Context, record: Record) -> Record | None:
        return ctx.store.get("FieldSet", record.get("fieldSetId"))

    def permission_level(self, ctx: Context, record: Record) -> int:
        if ctx.is_admin:
            return acl.MANAGE
        fs = self._fieldset(ctx, record)
        return ctx.acl_level(fs.get("acl") if fs else None)

    def can_create(self, ctx: Context, record: Record) -> bool:
        return ctx.has_right("core", "core", "mayChangeCustomFields")

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        if prop == "dataType":
            return {"modelClass": False}  # 07 step 3
        if prop == "default":
            # A Text field's default reads back as "" once loaded (07 step 4); created shows
            # the null that was sent (07 step 3, see created_diff).
            value = record.get("default")
            if value is None and record.get("type") in TEXT_TYPES:
                return ""
            return value
        return super().read_property(ctx, record, prop)

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            spec = self.props[key]
            if spec.readonly or not spec.stored:
                continue
            if key == "fieldSetId" and value is not None:
                value = str(value)
            if key in ("databaseName", "type") and not new:
                continue  # fixed once the column exists
            record[key] = value

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        errors: dict[str, dict[str, Any]] = {}
        for prop in ("name", "fieldSetId", "databaseName"):
            if not record.get(prop):
                errors[prop] = {"code": REQUIRED, "description": "Property is required"}
        db = record.get("databaseName")
        if db and not _DB_NAME.match(str(db)):
            errors["databaseName"] = {
                "code": MALFORMED,
                "description": "Only alphanumeric characters and underscores are allowed",
            }
        if record.get("fieldSetId") and self._fieldset(ctx, record) is None:
            errors["fieldSetId"] = {"code": 4, "description": "Relation does not exist"}
        return errors

    def insert(self, ctx: Context, record: Record) -> None:
        """The ALTER TABLE that adds the column; a duplicate name fails it (07 step 12).

        The field row was already inserted when the ALTER failed: the id is used up and the
        Field state moves (07 step 12: oldState ≠ newState, nothing created).
        """
        fs = self._fieldset(ctx, record)
        entity = str(fs.get("entity")) if fs else ""
        db = str(record["databaseName"])
        clash = any(f["databaseName"].lower() == db.lower() for f in fields_of(ctx, entity))
        if not clash:
            return
        ctx.store.log_change(self.name, record["id"], destroyed=True)
        ctx.request.current_primary.discard((self.name, str(record["id"])))
        message = (
            "Database exception: SQLSTATE[42S21]: Column already exists: 1060 Duplicate column "
            f"name '{db}', Full SQL: ALTER TABLE `{table_for(entity)}` ADD `{db}` "
            f"{_column_sql(record)};"
        )
        raise SetError(
            "invalidProperties", None, {"databaseName": {"code": GENERAL, "description": message}}
        )

    def created_diff(self, ctx: Context, record: Record, sent: dict[str, Any]) -> Record:
        out = super().created_diff(ctx, record, sent)
        if "default" in out:
            out["default"] = record.get("default")  # null, not "" (07 step 3)
        return out

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        now = now_iso()
        if old is None:
            record["createdAt"] = now
        record["modifiedAt"] = now

    def after_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None:
            _clear_cache_at_end(ctx)  # 07 step 4

    def after_destroy(self, ctx: Context, record: Record) -> None:
        fs = self._fieldset(ctx, record)
        entity = str(fs.get("entity")) if fs else ""
        db = record.get("databaseName")
        # The column is dropped, but this request's entity cache still lists it: records of
        # that entity can no longer be read until the request ends (07 step 13).
        if entity:
            ctx.request.broken_entities.add(entity)
        for rec in list(ctx.store.all(entity)) if entity else []:
            values = rec.get("customFields")
            if isinstance(values, dict) and db in values:
                rec["customFields"] = {k: v for k, v in values.items() if k != db}
                ctx.store.put(entity, rec)
        _clear_cache_at_end(ctx)  # 07 step 14


def _column_sql(field: Record) -> str:
    """The column definition of a field's ALTER TABLE (Text: 07 step 12)."""
    kind = field.get("type")
    options = _options(field)
    default = field.get("default")
    if kind == "Text":
        length = int(options.get("maxLength") or TEXT_MAX_LENGTH)
        text = "" if default is None else str(default).replace("'", "\\'")
        return f"VARCHAR({length}) NOT NULL DEFAULT '{text}'"
    if kind == "Number":
        value = "NULL" if default in (None, "") else str(default)
        return f"decimal(19,{_decimals(field)}) DEFAULT {value}"
    if kind in INT_TYPES:
        return "int(11) DEFAULT NULL"
    if kind == "Checkbox":
        return f"BOOLEAN NOT NULL DEFAULT '{1 if default else 0}'"
    if kind in ("Date",):
        return "DATE DEFAULT NULL"
    if kind in ("DateTime",):
        return "DATETIME DEFAULT NULL"
    return "TEXT NULL"


def register(registry: Registry) -> None:
    registry.add(FieldSetHandler())
    registry.add(FieldHandler())
