"""The state of a fresh Group-Office 26.0.42 with the tasks, comments and apikeys modules.

Module ids, names and right names are those of the recorded server (01-session.json,
12-modules-rights.json); groups 1 Admins, 2 Everyone and 3 Internal are fixed ids (11).
"""

from __future__ import annotations

import secrets
from typing import Any

from . import acl
from .filters import now_iso
from .store import Store

VERSION = "26.0.42"

# (id, package, name, right names besides mayRead, sort_order)
MODULES: list[tuple[int, str | None, str, list[str]]] = [
    (1, "core", "core", ["mayChangeUsers", "mayChangeGroups", "mayChangeCustomFields"]),
    (2, "community", "addressbook", ["mayChangeAddressbooks", "mayExportContacts"]),
    (3, "community", "bookmarks", ["mayManage"]),
    (4, "community", "calendar", [
        "mayChangeCalendars", "mayChangeCategories", "mayChangeResources", "mayChangeViews",
        "mayChangeOrganizer",
    ]),
    (5, "community", "carddav", ["mayManage"]),
    (6, "community", "comments", ["mayManage"]),
    (7, "community", "davclient", ["mayChangeAccount"]),
    (8, "community", "history", ["mayManage"]),
    (9, "community", "jitsimeet", ["mayManage"]),
    (10, "community", "notes", ["mayChangeNoteBooks"]),
    (11, "community", "otp", ["mayManage"]),
    (12, None, "files", ["mayManage", "mayAccessMainPanel"]),
    (13, "community", "pdfeditor", ["mayManage"]),
    (14, "community", "pwned", ["mayManage"]),
    (15, "community", "tasks", ["mayChangeTasklists", "mayChangeCategories"]),
    (16, "community", "wopi", ["mayManage"]),
    (17, None, "dav", ["mayManage"]),
    (18, None, "email", ["mayManage"]),
    (19, None, "sieve", ["mayManage"]),
    (20, None, "summary", ["mayManage"]),
    (21, None, "sync", ["mayManage"]),
    (22, None, "zpushadmin", ["mayManage"]),
    (23, "community", "apikeys", ["mayManage"]),
]

# Which groups may use which module on a fresh install: Everyone uses core; Internal uses tasks
# (with mayChangeTasklists) and comments (12-modules-rights.json).
DEFAULT_PERMISSIONS: dict[str, dict[int, list[str]]] = {
    "core": {acl.EVERYONE_GROUP: []},
    "tasks": {acl.INTERNAL_GROUP: ["mayChangeTasklists"]},
    "comments": {acl.INTERNAL_GROUP: []},
}

# Entity type ids of the recorded server (Comment.entityTypeId is 47 for Task, 09).
ENTITY_TYPE_IDS: dict[str, int] = {"Task": 47, "User": 21, "Contact": 24, "TaskList": 48}


def install(store: Store, admin_password: str | None = None) -> str:
    """Fill an empty store; returns the admin's API key."""
    now = now_iso()
    for module_id, package, name, rights in MODULES:
        perms: dict[str, Any] = {}
        for gid, granted in DEFAULT_PERMISSIONS.get(name, {}).items():
            perms[str(gid)] = {
                "rights": {"mayRead": True, **{r: True for r in granted}},
                "moduleId": module_id,
                "groupId": gid,
            }
        store.put("Module", {
            "id": str(module_id), "name": name, "package": package, "version": 0,
            "sort_order": module_id, "enabled": True, "rights": rights,
            "permissions": perms or None, "settings": None,
        })
    for gid, name in ((1, "Admins"), (2, "Everyone"), (3, "Internal")):
        store.put("Group", {
            "id": str(gid), "name": name, "isUserGroupFor": None, "createdBy": 1,
            "acl": {}, "users": [],
        })
    store.put("Group", {
        "id": "4", "name": "admin", "isUserGroupFor": 1, "createdBy": 1, "acl": {"4": 50},
        "users": ["1"],
    })
    store.meta.counters["Group"] = 5
    store.put("User", {
        "id": "1", "username": "admin", "displayName": "System Administrator",
        "email": "admin@intermesh.localhost", "recoveryEmail": "admin@intermesh.localhost",
        "enabled": True, "groups": ["1", "2", "3", "4"], "personalGroup": 4,
        "password": admin_password, "createdAt": now, "modifiedAt": now,
    })
    store.meta.counters["User"] = 2
    store.meta.settings.setdefault("allowRegistration", "")
    key = new_token()
    store.put("Key", {
        "id": "1", "name": "go-support emulator", "accessToken": key, "userId": 1,
        "createdAt": now,
    })
    store.meta.counters["Key"] = 2
    store.meta.counters.setdefault("acl", 10)
    return key


def new_token() -> str:
    """Group-Office tokens: uniqid() (13 hex) + 32 random hex characters (45 in all)."""
    return secrets.token_hex(7)[:13] + secrets.token_hex(16)
