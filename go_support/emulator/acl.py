"""Who may do what: ACL levels, group membership and module rights.

A user's level on an ACL is the highest level of any group he is in; admins always get MANAGE
(04, 08). Module rights live in the Module record's ``permissions`` map, keyed by group id; any
row for one of the user's groups grants ``mayRead`` (12-modules-rights.json).
"""

from __future__ import annotations

from typing import Any

from .store import Store

READ = 10
CREATE = 20
WRITE = 30
DELETE = 40
MANAGE = 50

ADMINS_GROUP = 1
EVERYONE_GROUP = 2
INTERNAL_GROUP = 3
ADMIN_USER = "1"


def user_groups(store: Store, user_id: str) -> set[int]:
    user = store.get("User", user_id)
    if user is None:
        return set()
    return {int(g) for g in user.get("groups") or []} | {EVERYONE_GROUP}


def is_admin(store: Store, user_id: str) -> bool:
    return ADMINS_GROUP in user_groups(store, user_id)


def level_in(acl: dict[str, Any] | list[Any] | None, groups: set[int], admin: bool) -> int:
    if admin:
        return MANAGE
    if not acl or isinstance(acl, list):
        return 0
    return max((int(lvl) for gid, lvl in acl.items() if int(gid) in groups and lvl), default=0)


def merge_acl(current: Any, value: Any) -> dict[str, Any]:
    """``acl`` writes merge into the ACL; a group set to null (or 0) is removed (04 #3-#5)."""
    merged = dict(current) if isinstance(current, dict) else {}
    if not isinstance(value, dict):
        return merged
    for gid, level in value.items():
        if level is None or level == 0:
            merged.pop(str(gid), None)
        else:
            merged[str(gid)] = level
    return merged


def find_module(store: Store, package: str | None, name: str) -> dict[str, Any] | None:
    for module in store.all("Module"):
        if module.get("name") == name and module.get("package") == package:
            return module
    return None


def module_rights(
    store: Store, module: dict[str, Any], groups: set[int], admin: bool
) -> dict[str, bool] | None:
    """The rights object Group-Office shows in the session and in ``Module.userRights``.

    ``None`` means no access at all (no permission row for any of the user's groups).
    """
    names: list[str] = module.get("rights") or []
    if admin:
        return {"mayRead": True, **{n: True for n in names}}
    permissions = module.get("permissions") or {}
    held: set[str] = set()
    found = False
    for gid, entry in permissions.items():
        if int(gid) in groups:
            found = True
            held |= {k for k, v in (entry.get("rights") or {}).items() if v}
    if not found:
        return None
    return {"mayRead": True, **{n: n in held for n in names}}
