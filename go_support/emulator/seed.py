"""Pre-existing state for an emulator: what a real Group-Office had before a test started.

The contract test uses it to recreate the server the wire corpus was recorded on (users that
existed, id counters, a custom field created by an earlier run); demos use it for sample data.

Seed keys (all optional): ``cacheClearedAt``; ``counters`` (next id per entity, plus ``acl`` and
``Contact``); ``users`` (``id``, ``username``, ``displayName``, ``email``, ``password``,
``groups``, ``personalGroupId``, ``apiKey``, ``contactId``); ``groups``; ``records`` (entity ->
list of records in wire form); ``modules`` (``"package/name"`` -> fields to merge);
``settings`` (core settings).
"""

from __future__ import annotations

from typing import Any

from .auth import hash_password
from .filters import now_iso
from .store import Store


def apply_seed(store: Store, seed: dict[str, Any]) -> None:
    if "cacheClearedAt" in seed:
        store.meta.cache_cleared_at = int(seed["cacheClearedAt"])
    for group in seed.get("groups", []):
        record = {"isUserGroupFor": None, "createdBy": 1, "acl": {}, "users": [], **group}
        record["id"] = str(record["id"])
        store.put("Group", record)
    for user in seed.get("users", []):
        _seed_user(store, user)
    for entity, records in seed.get("records", {}).items():
        for record in records:
            record = dict(record)
            record["id"] = str(record["id"])
            record.pop("permissionLevel", None)
            store.put(entity, record)
    for path, fields in seed.get("modules", {}).items():
        package, _, name = path.partition("/")
        for module in store.all("Module"):
            if module["name"] == name and (module.get("package") or "") == package:
                module.update(fields)
                store.put("Module", module)
    store.meta.settings.update(seed.get("settings", {}))
    for entity, value in seed.get("counters", {}).items():
        store.meta.counters[entity] = int(value)


def _seed_user(store: Store, user: dict[str, Any]) -> None:
    uid = str(user["id"])
    personal = str(user.get("personalGroupId", uid))
    groups = [str(g) for g in user.get("groups", [2, 3])]
    if personal not in groups:
        groups.append(personal)
    now = now_iso()
    password = user.get("password")
    store.put("User", {
        "id": uid,
        "username": user["username"],
        "displayName": user.get("displayName", user["username"]),
        "email": user.get("email", f"{user['username']}@example.com"),
        "recoveryEmail": user.get("email", f"{user['username']}@example.com"),
        "enabled": user.get("enabled", True),
        "groups": groups,
        "personalGroup": int(personal),
        "password": hash_password(password) if password else None,
        "contactId": user.get("contactId"),
        "createdAt": now,
        "modifiedAt": now,
    })
    store.put("Group", {
        "id": personal,
        "name": user["username"],
        "isUserGroupFor": int(uid),
        "createdBy": int(uid),
        "acl": {"2": 10, personal: 50},
        "users": [uid],
    })
    for gid in groups:
        group = store.get("Group", gid)
        if group is not None and uid not in group.get("users", []):
            group.setdefault("users", []).append(uid)
            store.put("Group", group)
    if user.get("apiKey"):
        key_id = store.next_id("Key")
        store.put("Key", {
            "id": key_id,
            "name": f"seed key for {user['username']}",
            "accessToken": user["apiKey"],
            "userId": int(uid),
            "createdAt": now,
        })
