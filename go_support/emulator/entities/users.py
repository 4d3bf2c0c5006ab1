"""Core people entities: ``User``, ``Group`` and ``Principal`` (11).

Users need unique e-mail addresses and usernames; a new user gets Everyone, the default groups
and a personal group; a user who owns an API key cannot be destroyed (11).
"""

from __future__ import annotations

import re
from typing import Any

from .. import acl
from ..auth import hash_password
from ..context import Context
from ..entity import EntityHandler, FilterFn, Prop
from ..errors import INVALID_INPUT, MALFORMED, REQUIRED, UNIQUE, MethodError, db_exception
from ..filters import id_filter, now_iso, text_filter
from ..registry import Registry
from ..store import Record

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserHandler(EntityHandler):
    name = "User"
    model_class = "go\\core\\model\\User"
    controller_class = "go\\core\\controller\\User"
    acl_state = True
    default_filters = {"showDisabled": False}
    props = {
        "permissionLevel": Prop(stored=False),
        "customFields": Prop(stored=False),
        "id": Prop(),
        "username": Prop(),
        "displayName": Prop(),
        "avatarId": Prop(),
        "enabled": Prop(default=True),
        "email": Prop(),
        "recoveryEmail": Prop(),
        "password": Prop(stored=False),
        "isAdmin": Prop(stored=False),
        "groups": Prop(default=lambda ctx: []),
        "personalGroup": Prop(readonly=True),
        "timezone": Prop(default="Europe/Amsterdam"),
        "language": Prop(default="en"),
        "createdAt": Prop(readonly=True),
        "modifiedAt": Prop(readonly=True),
        "lastLogin": Prop(readonly=True),
        "loginCount": Prop(default=0, readonly=True),
    }

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "email": lambda c, r, v: text_filter(r.get("email"), v),
            "username": lambda c, r, v: text_filter(r.get("username"), v),
            "displayName": lambda c, r, v: text_filter(r.get("displayName"), v),
            "text": lambda c, r, v: any(
                text_filter(r.get(k), f"%{v}%") for k in ("username", "displayName", "email")
            ),
            "groupId": lambda c, r, v: str(v) in [str(g) for g in r.get("groups") or []],
            "showDisabled": lambda c, r, v: bool(v) or r.get("enabled", True),
        }

    def permission_level(self, ctx: Context, record: Record) -> int:
        if ctx.is_admin or str(record["id"]) == str(ctx.user_id):
            return acl.MANAGE
        group = ctx.store.get("Group", record.get("personalGroup"))
        return ctx.acl_level(group.get("acl") if group else None)

    def can_create(self, ctx: Context, record: Record) -> bool:
        return ctx.has_right("core", "core", "mayChangeUsers")

    def can_destroy(self, ctx: Context, record: Record) -> bool:
        return ctx.is_admin

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        if prop == "password":
            return None
        if prop == "isAdmin":
            return acl.ADMINS_GROUP in {int(g) for g in record.get("groups") or []}
        if prop == "customFields":
            return []
        return super().read_property(ctx, record, prop)

    def create_one(self, ctx: Context, values: dict[str, Any]) -> Record:
        if "email" not in values:
            raise MethodError(
                "error",
                "Typed property go\\core\\model\\User::$email must not be accessed before "
                "initialization",
            )
        return super().create_one(ctx, values)

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            spec = self.props[key]
            if key == "password":
                record["passwordPlain"] = value
            elif key == "groups":
                record["groups"] = [str(g) for g in value or []]
            elif spec.readonly or not spec.stored:
                continue
            else:
                record[key] = value
        if new and not record.get("recoveryEmail"):
            record["recoveryEmail"] = record.get("email")

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        errors: dict[str, dict[str, Any]] = {}
        for prop in ("username", "displayName"):
            if not record.get(prop):
                errors[prop] = {"code": REQUIRED, "description": "Property is required"}
        email = record.get("email")
        if not email or not _EMAIL.match(str(email)):
            errors["email"] = {"code": MALFORMED, "description": "Invalid e-mail address"}
        for other in ctx.store.all("User"):
            if old is not None and str(other["id"]) == str(record.get("id")):
                continue
            if email and str(other.get("email", "")).lower() == str(email).lower():
                errors["email"] = {
                    "code": UNIQUE,
                    "description": "The e-mail address must be unique in the system",
                }
            if str(other.get("username", "")).lower() == str(record.get("username", "")).lower():
                errors["username"] = {"code": UNIQUE, "description": "The property must be unique"}
        password = record.get("passwordPlain")
        if password is not None and len(str(password)) < 6:
            errors["password"] = {
                "code": INVALID_INPUT,
                "description": "Minimum password length is 6 chars",
            }
        return errors

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        now = now_iso()
        password = record.pop("passwordPlain", None)
        if password:
            record["password"] = hash_password(str(password))
        if old is None:
            record["createdAt"] = now
            groups = [str(g) for g in record.get("groups") or []]
            for gid in ("2", "3"):
                if gid not in groups:
                    groups.append(gid)
            record["groups"] = groups
        record["modifiedAt"] = now

    def after_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None:
            gid = ctx.store.next_id("Group")
            ctx.store.put("Group", {
                "id": gid, "name": record["username"], "isUserGroupFor": int(record["id"]),
                "createdBy": int(record["id"]), "acl": {"2": 10, gid: 50},
                "users": [str(record["id"])],
            })
            ctx.store.log_change("Group", gid)
            record["personalGroup"] = int(gid)
            record["groups"] = [*record["groups"], gid]
            ctx.store.put("User", record)
        ctx.forget_user_cache()

    def before_destroy(self, ctx: Context, record: Record) -> None:
        for key in ctx.store.all("Key"):
            if str(key.get("userId")) == str(record["id"]):
                raise db_exception()

    def after_destroy(self, ctx: Context, record: Record) -> None:
        if record.get("personalGroup") is not None:
            ctx.store.delete("Group", str(record["personalGroup"]))


class GroupHandler(EntityHandler):
    name = "Group"
    model_class = "go\\core\\model\\Group"
    controller_class = "go\\core\\controller\\Group"
    acl_state = True
    props = {
        "permissionLevel": Prop(stored=False),
        "acl": Prop(default=lambda ctx: {}),
        "id": Prop(),
        "name": Prop(),
        "isUserGroupFor": Prop(),
        "createdBy": Prop(readonly=True),
        "users": Prop(default=lambda ctx: []),
    }

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "text": lambda c, r, v: text_filter(r.get("name"), f"%{v}%"),
            "hideUsers": lambda c, r, v: not v or r.get("isUserGroupFor") is None,
            "hideGroups": lambda c, r, v: not v or r.get("isUserGroupFor") is not None,
            "excludeEveryone": lambda c, r, v: not v or str(r["id"]) != "2",
            "excludeAdmins": lambda c, r, v: not v or str(r["id"]) != "1",
            "forUserId": lambda c, r, v: str(v) in [str(u) for u in r.get("users") or []],
        }

    def permission_level(self, ctx: Context, record: Record) -> int:
        if ctx.is_admin:
            return acl.MANAGE
        if int(record["id"]) in ctx.groups:
            return acl.READ
        return ctx.acl_level(record.get("acl"))

    def can_create(self, ctx: Context, record: Record) -> bool:
        return ctx.is_admin


class PrincipalHandler(EntityHandler):
    """Principals are maintained by the server: one per user (id = user id) here."""

    name = "Principal"
    model_class = "go\\core\\model\\Principal"
    controller_class = "go\\core\\controller\\Principal"
    acl_state = True
    methods = frozenset({"get", "query", "changes"})
    props = {
        "permissionLevel": Prop(stored=False),
        "id": Prop(),
        "type": Prop(default="individual"),
        "name": Prop(),
        "email": Prop(),
        "description": Prop(),
    }

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "email": lambda c, r, v: str(r.get("email", "")).lower() == str(v).lower(),
            "text": lambda c, r, v: any(
                text_filter(r.get(k), f"%{v}%") for k in ("name", "email", "description")
            ),
            "type": lambda c, r, v: r.get("type") == v,
            "entity": lambda c, r, v: v == "User",
            "groupId": lambda c, r, v: id_filter(v, [str(g) for g in r.get("groups") or []]),
        }

    def _principal(self, user: Record) -> Record:
        return {
            "id": str(user["id"]),
            "type": "individual",
            "name": user.get("displayName"),
            "email": user.get("email"),
            "description": user.get("username"),
            "groups": user.get("groups"),
        }

    def find(self, ctx: Context, id_: Any) -> Record | None:
        user = ctx.store.get("User", id_)
        return self._principal(user) if user else None

    def get(self, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        return self._with_users(ctx, lambda: super(PrincipalHandler, self).get(ctx, args))

    def query(self, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        return self._with_users(ctx, lambda: super(PrincipalHandler, self).query(ctx, args))

    def _with_users(self, ctx: Context, fn: Any) -> dict[str, Any]:
        original = ctx.store.all

        def all_records(entity: str) -> Any:
            if entity == "Principal":
                return (self._principal(u) for u in original("User") if u.get("enabled", True))
            return original(entity)

        ctx.store.all = all_records  # type: ignore[method-assign]
        try:
            result: dict[str, Any] = fn()
            return result
        finally:
            ctx.store.all = original  # type: ignore[method-assign]

    def permission_level(self, ctx: Context, record: Record) -> int:
        return acl.MANAGE if ctx.is_admin else acl.READ


def register(registry: Registry) -> None:
    registry.add(UserHandler())
    registry.add(GroupHandler())
    registry.add(PrincipalHandler())
