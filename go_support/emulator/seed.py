"""Pre-existing state for an emulator: what a real Group-Office had before a test started.

The contract test uses it to recreate the server the wire corpus was recorded on (users that
existed, id counters, a custom field created by an earlier run); demos use it for sample data.

Seed keys (all optional):

- ``cacheClearedAt``: the first part of every state string;
- ``counters``: the next id per entity (``User``, ``Group``, ``Contact``, ``Key``, ``TaskList``,
  ...), plus ``acl`` (ACL ids) and the ids of the per-user resources a new user gets:
  ``AddressBook``, ``Calendar``, ``NoteBook`` (11 step 1);
- ``users``: ``id``, ``username``, and optionally ``displayName``, ``email``, ``password``,
  ``groups`` (default ``[2, 3]``; Everyone is always added), ``personalGroupId`` (default: the
  user id), ``enabled``, ``apiKey`` (a Key owned by the user), ``contactId`` (creates the
  profile Contact), ``addressBookId``, ``calendarId``, ``noteBookId``, ``tasklistId`` (shown in
  the user's settings objects), ``otp`` (``true``: the user has a pending second factor, so a
  password login through ``api/auth.php`` answers 200 "Success, but more authorization
  required." with ``authenticators: ["otpauthenticator"]`` instead of a token, see auth.py);
  every seeded user gets its personal group, readable by Everyone;
- ``groups``: groups in wire form (``id``, ``name``, ``acl``, ``isUserGroupFor``, ``createdBy``);
  members are the users whose ``groups`` list them;
- ``records``: entity -> list of records in wire form;
- ``modules``: ``"package/name"`` (``"legacy/files"`` or ``"/files"`` for a module without a
  package) -> fields to merge into the Module record (e.g. ``permissions``);
- ``settings``: core settings (e.g. ``allowRegistration``);
- ``modseq``: entity -> the modseq its state strings start from.
"""

from __future__ import annotations

from typing import Any

from . import acl, defaults
from .auth import hash_password
from .filters import now_iso
from .store import Store


def apply_seed(store: Store, seed: dict[str, Any]) -> None:
    if "cacheClearedAt" in seed:
        store.meta.cache_cleared_at = int(seed["cacheClearedAt"])
    for group in seed.get("groups", []):
        record = {"isUserGroupFor": None, "createdBy": 1, "acl": {}, **group}
        record["id"] = str(record["id"])
        record.pop("users", None)
        record.pop("permissionLevel", None)
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
            module_package = module.get("package") or "legacy"
            if module["name"] == name and module_package == (package or "legacy"):
                module = {**module, **fields}
                store.put("Module", module)
    store.meta.settings.update(seed.get("settings", {}))
    for entity, value in seed.get("modseq", {}).items():
        store.meta.modseq[entity] = int(value)
    for entity, value in seed.get("counters", {}).items():
        store.meta.counters[entity] = int(value)


def _seed_user(store: Store, user: dict[str, Any]) -> None:
    uid = str(user["id"])
    personal = str(user.get("personalGroupId", uid))
    groups = [str(g) for g in user.get("groups", [2, 3])]
    if str(acl.EVERYONE_GROUP) not in groups:
        groups.insert(0, str(acl.EVERYONE_GROUP))
    if personal not in groups:
        groups.append(personal)
    now = str(user.get("createdAt") or now_iso())
    username = str(user["username"])
    email = str(user.get("email") or f"{username}@example.com")
    display_name = str(user.get("displayName") or username)
    password = user.get("password")
    contact_id = user.get("contactId")
    record: dict[str, Any] = {
        "id": uid,
        "username": username,
        "displayName": display_name,
        "email": email,
        "recoveryEmail": email,
        "enabled": user.get("enabled", True),
        "groups": groups,
        "personalGroup": int(personal),
        "password": hash_password(str(password)) if password else None,
        "contactId": None if contact_id is None else str(contact_id),
        "createdAt": now,
        "modifiedAt": now,
    }
    for key in ("addressBookId", "calendarId", "noteBookId", "tasklistId"):
        if user.get(key) is not None:
            record[key] = str(user[key])
    if user.get("otp"):
        record["secondFactors"] = ["otpauthenticator"]  # read by auth.py, never sent
    store.put("User", record)
    # A personal group gives Everyone read access (11 step 7), so every user sees it.
    store.put("Group", {
        "id": personal,
        "name": username,
        "isUserGroupFor": int(uid),
        "createdBy": int(uid),
        "acl": {str(acl.EVERYONE_GROUP): acl.READ, personal: acl.MANAGE},
    })
    if contact_id is not None:
        store.put("Contact", defaults.new_profile_contact(
            str(contact_id), uid, display_name, email, "1", now, "127.0.0.1:8080",
        ))
    if user.get("apiKey"):
        key_id = store.next_id("Key")
        store.put("Key", {
            "id": key_id,
            "name": f"seed key for {username}",
            "accessToken": user["apiKey"],
            "userId": int(uid),
            "createdAt": now,
        })
