"""``Module`` (rights, permissions, core settings) and ``Key`` (API keys), plus core controllers.

Module quirks (11, 12):

- the core settings are the ``settings`` of module ``core``; there is no ``Settings/get``;
- with an explicit ``properties`` list that lacks ``package``, ``rights`` reads ``[]``,
  ``settings`` reads ``null`` and asking for ``permissions`` reports the module as notFound;
- ``permissions`` is replaced as a whole on write, ``settings`` merges, and only in object form
  (the pointer form ``settings/x`` fails with ``typeError``);
- a forbidden Module/set still moves ``newState``.
"""

from __future__ import annotations

from typing import Any

from .. import acl, defaults
from ..context import Context
from ..entity import EntityHandler, FilterFn, Prop
from ..errors import REQUIRED, MethodError, db_exception, forbidden, not_found
from ..filters import now_iso, text_filter
from ..registry import Registry
from ..store import Record

_SETTINGS_TYPE_ERROR = (
    "go\\core\\data\\Model::setValues(): Argument #1 ($values) must be of type array, "
    "go\\core\\model\\Settings given, called in /usr/share/groupoffice/go/core/orm/Property.php "
    "on line 669"
)


def core_settings(ctx: Context) -> dict[str, Any]:
    """The core settings object (11 step 10); ``allowRegistration`` is "" until first set."""
    settings = dict(defaults.CORE_SETTINGS)
    settings.update(ctx.store.meta.settings)
    settings["URL"] = ctx.request.base_url + "/"
    settings["cacheClearedAt"] = ctx.store.meta.cache_cleared_at
    return settings


class ModuleHandler(EntityHandler):
    name = "Module"
    model_class = "go\\core\\model\\Module"
    controller_class = "go\\core\\controller\\Module"
    props = {
        "userRights": Prop(stored=False),
        "title": Prop(readonly=True),
        "localizedPackage": Prop(stored=False),
        "icon": Prop(stored=False),
        "rights": Prop(readonly=True, default=lambda ctx: []),
        "permissionLevel": Prop(stored=False),
        "settings": Prop(),
        "entities": Prop(stored=False),
        "shadowAclId": Prop(readonly=True),
        "shadowAcl": Prop(stored=False),
        "id": Prop(),
        "name": Prop(),
        "package": Prop(),
        "sort_order": Prop(),
        "version": Prop(readonly=True),
        "enabled": Prop(default=True),
        "permissions": Prop(),
        "checkDepencencies": Prop(stored=False),  # sic (11 step 10)
    }

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "name": lambda c, r, v: r.get("name") == v,
            "package": lambda c, r, v: r.get("package") == v,
            "enabled": lambda c, r, v: bool(r.get("enabled", True)) == bool(v),
            "hideCore": lambda c, r, v: not v or r.get("package") != "core",
            "groupIsAllowed": lambda c, r, v: str(v) in (r.get("permissions") or {}),
            "text": lambda c, r, v: text_filter(r.get("name"), f"%{v}%"),
        }

    def sort_rows(
        self, ctx: Context, rows: list[Record], keys: list[tuple[Any, bool]]
    ) -> list[Record]:
        # Without a sort the server lists modules by sort_order (12 step 1).
        rows.sort(key=lambda r: (int(r.get("sort_order") or 0), int(r["id"])))
        return super().sort_rows(ctx, rows, keys)

    def _rights(self, ctx: Context, record: Record) -> dict[str, bool] | None:
        return acl.module_rights(ctx.store, record, ctx.groups, ctx.is_admin)

    def readable(self, ctx: Context, record: Record) -> bool:
        # Non-admins only see modules one of their groups has a permission row for (12 #3).
        return self._rights(ctx, record) is not None

    def permission_level(self, ctx: Context, record: Record) -> int:
        # Deprecated: 50 with mayManage, else 10; so the admin sees 10 for tasks (12 step 0).
        rights = self._rights(ctx, record)
        if rights is None:
            return 0
        return acl.MANAGE if rights.get("mayManage") else acl.READ

    def can_create(self, ctx: Context, record: Record) -> bool:
        return False  # modules are installed, not created over JMAP

    def can_update(self, ctx: Context, record: Record, changes: dict[str, Any]) -> bool:
        rights = self._rights(ctx, record) or {}
        return ctx.is_admin or bool(rights.get("mayManage"))

    def can_destroy(self, ctx: Context, record: Record) -> bool:
        return False

    def _shadow_acl(self, ctx: Context, record: Record) -> dict[str, Any]:
        groups = sorted(int(g) for g in record.get("permissions") or {})
        acl_map = {str(g): acl.READ for g in groups}
        return {
            "permissionLevel": ctx.acl_level(acl_map),
            "id": record.get("shadowAclId"),
            "usedIn": "core_module.shadowAclId",
            "ownedBy": 1,
            "modifiedAt": record.get("shadowAclModifiedAt"),
            "entityTypeId": defaults.ENTITY_TYPE_IDS["Module"],
            "entityId": int(record["id"]),
            "groups": [{"groupId": g, "level": acl.READ} for g in groups],
        }

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        package = record.get("package")
        if prop == "userRights":
            return self._rights(ctx, record)
        if prop == "settings":
            if record.get("name") == "core":
                return core_settings(ctx)
            return record.get("settings")
        if prop == "localizedPackage":
            return (package or "legacy").capitalize()
        if prop == "icon":
            return (
                f"{ctx.request.base_url}/api/download.php?blob=core/moduleIcon/"
                f"{package or 'legacy'}/{record['name']}&mtime={ctx.store.meta.cache_cleared_at}"
            )
        if prop == "entities":
            entities = defaults.MODULE_ENTITIES.get(str(record["name"]))
            return {e["name"]: dict(e) for e in entities} if entities else []
        if prop == "shadowAcl":
            return self._shadow_acl(ctx, record)
        if prop == "checkDepencencies":
            return True
        return super().read_property(ctx, record, prop)

    def to_wire(self, ctx: Context, record: Record, properties: Any) -> Record:
        out = super().to_wire(ctx, record, properties)
        if properties and "package" not in properties:
            # Without "package" the module's PHP class is unknown: rights [] and settings null
            # (11 step 12, 12 step 0).
            if "rights" in out:
                out["rights"] = []
            if "settings" in out:
                out["settings"] = None
        return out

    def get(self, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        properties = args.get("properties") or None
        if properties and "package" not in properties and "permissions" in properties:
            # ["id", "name", "permissions"] reports an existing module as notFound (12 step 0).
            result = super().get(ctx, {**args, "ids": []})
            ids = args.get("ids")
            if isinstance(ids, list):
                result["notFound"] = [i for i in dict.fromkeys(ids) if i and i != "0"]
            return result
        return super().get(ctx, args)

    def update_one(self, ctx: Context, id_: str, patch: dict[str, Any]) -> Record | None:
        record = self.find(ctx, id_)
        if record is None or not self.readable(ctx, record):
            raise not_found()
        if not self.can_update(ctx, record, patch):
            ctx.store.log_change(self.name, id_)  # a forbidden Module/set moves newState (11 #20)
            raise forbidden()
        for key in patch:
            top, _, rest = key.lstrip("/").partition("/")
            if top == "settings" and rest and record.get("name") == "core":
                # Module/set settings/allowRegistration (11 step 15).
                raise MethodError("typeError", _SETTINGS_TYPE_ERROR)
        return super().update_one(ctx, id_, patch)

    def differs(self, key: str, actual: Any, expected: Any) -> bool:
        # ``settings`` is a PHP object and ``permissions`` a map of objects: never identical, so
        # an update always reports them (11 step 13: settings + unchanged permissions).
        if key == "permissions" or (key == "settings" and isinstance(actual, dict)):
            return True
        return super().differs(key, actual, expected)

    def merge_patch(self, ctx: Context, key: str, current: Any, value: Any) -> Any:
        if key == "settings" and isinstance(current, dict) and isinstance(value, dict):
            return {**current, **value}  # settings merge (11 step 13)
        return value

    def has_changed(self, new: Record, old: Record) -> bool:
        return True  # saving the core settings changes no module row, but moves the state

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            if key == "settings":
                if record.get("name") == "core":
                    fixed = ("URL", "cacheClearedAt", "databaseVersion")
                    for k, v in (value or {}).items():
                        if k in defaults.CORE_SETTINGS and k not in fixed:
                            ctx.store.meta.settings[k] = v
                else:
                    record["settings"] = value
            elif key == "permissions":
                record["permissions"] = self._permissions(record, value)
                record["shadowAclModifiedAt"] = now_iso()
            elif key in ("enabled", "sort_order"):
                record[key] = value

    def _permissions(self, record: Record, value: Any) -> dict[str, Any] | None:
        """The map is replaced: groups left out lose their rights, and a null entry drops its
        group, so ``{"41": null}`` empties the whole map (12 step 8). Unknown right names are
        ignored; any entry grants mayRead. An empty map reads as null (12 step 8)."""
        names = set(record.get("rights") or [])
        perms: dict[str, Any] = {}
        for gid, entry in (value or {}).items() if isinstance(value, dict) else []:
            if not entry:
                continue
            rights = entry.get("rights") if isinstance(entry, dict) else None
            granted = [k for k, v in (rights or {}).items() if v and k in names]
            perms[str(gid)] = defaults.permission_entry(int(record["id"]), int(gid), granted)
        return perms or None


class KeyHandler(EntityHandler):
    name = "Key"
    model_class = "go\\modules\\community\\apikeys\\model\\Key"
    controller_class = "go\\modules\\community\\apikeys\\controller\\Key"
    module = ("community", "apikeys")
    props = {
        "userId": Prop(),
        "permissionLevel": Prop(stored=False),
        "id": Prop(),
        "name": Prop(),
        "accessToken": Prop(readonly=True),
        "createdAt": Prop(readonly=True),
    }

    def filters(self) -> dict[str, FilterFn]:
        # Key has no searchable columns: a text filter matches every key (13 step 1).
        return {**super().filters(), "text": lambda c, r, v: True}

    def permission_level(self, ctx: Context, record: Record) -> int:
        if ctx.is_admin or str(record.get("userId")) == str(ctx.user_id):
            return acl.MANAGE
        return 0

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            if key == "userId":
                if new:  # an admin may create a key for another user (11 step 19)
                    record["userId"] = int(value) if value is not None else None
            elif key == "name":
                record["name"] = value

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        if not record.get("name"):
            return {"name": {"code": REQUIRED, "description": "Property is required"}}  # 13 #3
        return {}

    def can_create(self, ctx: Context, record: Record) -> bool:
        return True  # the module right was checked by the router

    def check_create(self, ctx: Context, record: Record) -> None:
        super().check_create(ctx, record)
        owner = record.get("userId")
        if owner is not None and not ctx.is_admin and str(owner) != str(ctx.user_id):
            raise forbidden()

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None:
            record["accessToken"] = defaults.new_token()
            record["createdAt"] = now_iso()
            if record.get("userId") is None:
                record["userId"] = int(ctx.uid)  # Key userId is an integer (13 step 0)

    def insert(self, ctx: Context, record: Record) -> None:
        if ctx.store.get("User", record.get("userId")) is None:
            raise db_exception()  # the foreign key on core_user


def _send_test_message(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    # The recorded server answered an error object without a type (11 step 18).
    raise MethodError(
        None, "SMTP Error: Could not connect to SMTP host. Failed to connect to server"
    )


def register(registry: Registry) -> None:
    registry.add(ModuleHandler())
    registry.add(KeyHandler())
    registry.add_controller(
        "core/Settings", "go\\core\\controller\\Settings",
        {"sendTestMessage": _send_test_message},
    )
    registry.add(BlobHandler())


class BlobHandler(EntityHandler):
    """There is no ``Blob/get`` (10): the entity exists but exposes no JMAP method."""

    name = "Blob"
    model_class = "go\\core\\fs\\Blob"
    controller_class = "go\\core\\fs\\Blob"
    methods = frozenset()
