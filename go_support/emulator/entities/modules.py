"""``Module`` (rights, permissions, core settings) and ``Key`` (API keys), plus core controllers.

Module ``permissions`` is replaced as a whole on write, ``settings`` merges and only in object
form (11, 12). Core settings have no ``Settings/get`` (11).
"""

from __future__ import annotations

from typing import Any

from .. import acl
from ..context import Context
from ..defaults import new_token
from ..entity import EntityHandler, FilterFn, Prop
from ..errors import REQUIRED, MethodError
from ..filters import now_iso, text_filter
from ..registry import Registry
from ..store import Record


class ModuleHandler(EntityHandler):
    name = "Module"
    model_class = "go\\core\\model\\Module"
    controller_class = "go\\core\\controller\\Module"
    props = {
        "userRights": Prop(stored=False),
        "rights": Prop(default=lambda ctx: []),
        "permissionLevel": Prop(stored=False),
        "settings": Prop(),
        "id": Prop(),
        "name": Prop(),
        "package": Prop(),
        "sort_order": Prop(),
        "version": Prop(),
        "enabled": Prop(default=True),
        "permissions": Prop(),
    }

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "name": lambda c, r, v: r.get("name") == v,
            "package": lambda c, r, v: r.get("package") == v,
            "enabled": lambda c, r, v: bool(r.get("enabled", True)) == bool(v),
            "text": lambda c, r, v: text_filter(r.get("name"), f"%{v}%"),
        }

    def _rights(self, ctx: Context, record: Record) -> dict[str, bool] | None:
        return acl.module_rights(ctx.store, record, ctx.groups, ctx.is_admin)

    def readable(self, ctx: Context, record: Record) -> bool:
        return self._rights(ctx, record) is not None

    def permission_level(self, ctx: Context, record: Record) -> int:
        rights = self._rights(ctx, record)
        if rights is None:
            return 0
        return acl.MANAGE if rights.get("mayManage") else acl.READ

    def can_update(self, ctx: Context, record: Record, changes: dict[str, Any]) -> bool:
        rights = self._rights(ctx, record) or {}
        return ctx.is_admin or bool(rights.get("mayManage"))

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        if prop == "userRights":
            return self._rights(ctx, record)
        if prop == "settings":
            if record.get("name") == "core":
                return dict(ctx.store.meta.settings)
            return record.get("settings")
        return super().read_property(ctx, record, prop)

    def merge_patch(self, ctx: Context, key: str, current: Any, value: Any) -> Any:
        if key == "settings" and isinstance(current, dict) and isinstance(value, dict):
            return {**current, **value}
        return value

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            if key == "settings":
                if record.get("name") == "core":
                    ctx.store.meta.settings.update(value or {})
                else:
                    record["settings"] = value
            elif key == "permissions":
                perms: dict[str, Any] = {}
                for gid, entry in (value or {}).items():
                    if not entry:
                        continue
                    rights = {"mayRead": True, **{
                        k: True for k, v in (entry.get("rights") or {}).items() if v
                    }}
                    perms[str(gid)] = {
                        "rights": rights, "moduleId": int(record["id"]), "groupId": int(gid)
                    }
                record["permissions"] = perms or None
            elif key in ("enabled", "sort_order"):
                record[key] = value


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

    def permission_level(self, ctx: Context, record: Record) -> int:
        if ctx.is_admin or str(record.get("userId")) == str(ctx.user_id):
            return acl.MANAGE
        return 0

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            if key == "userId":
                record["userId"] = int(value) if value is not None else None
            elif key == "name":
                record["name"] = value

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        if not record.get("name"):
            return {"name": {"code": REQUIRED, "description": "Property is required"}}
        return {}

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None:
            record["accessToken"] = new_token()
            record["createdAt"] = now_iso()
            if record.get("userId") is None:
                record["userId"] = int(ctx.uid)


def _send_test_message(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    # The recorded server answered an error object without a type (11).
    raise MethodError(None, "SMTP Error: Could not connect to SMTP host.")


def register(registry: Registry) -> None:
    registry.add(ModuleHandler())
    registry.add(KeyHandler())
    registry.add_controller(
        "core/Settings", "go\\core\\controller\\Settings",
        {"sendTestMessage": _send_test_message},
    )
    blob = BlobHandler()
    registry.add(blob)


class BlobHandler(EntityHandler):
    """There is no ``Blob/get`` (10): the entity exists but exposes no JMAP method."""

    name = "Blob"
    model_class = "go\\core\\fs\\Blob"
    controller_class = "go\\core\\fs\\Blob"
    methods = frozenset()
