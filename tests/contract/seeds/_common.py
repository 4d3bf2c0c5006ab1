"""Building blocks shared by the seed modules.

Everything here is what the recorded server already had before the corpus was recorded, with
the corpus step that shows it.
"""

from __future__ import annotations

import hashlib
from typing import Any

# -- tokens ---------------------------------------------------------------------------------------


def token_for(name: str) -> str:
    """A deterministic API key for a seed user: 45 hex characters like Group-Office's
    (``uniqid()`` + 32 random hex), so that no test depends on the token's shape."""
    digest = hashlib.sha256(f"go-support contract {name}".encode()).hexdigest()
    return digest[:45]


# A syntactically plausible token that no emulator knows ("Bearer <invalid>", 01 #2, 03 #0).
INVALID_TOKEN = "0000000000000" + "deadbeef" * 4

# -- the pre-existing Task custom field -----------------------------------------------------------
# README "Environment artefact": before the corpus was recorded the server had a Task custom
# field ``ticketRef`` (Text), hence ``"customFields": {"ticketRef": ""}`` on every Task (03 #3,
# 06 #5, 07 #1, 08 #2, ...). Its FieldSet/Field ids are never shown; they only have to stay below
# the ids 07 creates (FieldSet 4, Field 10, 07 #2-#3). In 07 #5 the new fields come after it in
# ``customFields``, so it sorts first.
TICKETREF_FIELDSET: dict[str, Any] = {
    "id": 1,
    "name": "Ticket",
    "entity": "Task",
    "description": None,
    "sortOrder": 0,
    "parentFieldSetId": None,
    "isTab": False,
    "collapseIfEmpty": False,
    "columns": 2,
    "filter": {},
    "acl": {"2": 30},
}
TICKETREF_FIELD: dict[str, Any] = {
    "id": 1,
    "name": "Ticket reference",
    "fieldSetId": "1",
    "databaseName": "ticketRef",
    "type": "Text",
    "options": {"maxLength": 190},
    "default": "",
    "sortOrder": 0,
    "required": False,
    "unique": False,
    "hint": None,
    "prefix": "",
    "suffix": "",
    "relatedFieldCondition": None,
    "conditionallyRequired": False,
    "conditionallyHidden": False,
    "hiddenInGrid": True,
    "createdAt": "2026-11-25T23:40:00+00:00",
    "modifiedAt": "2026-11-25T23:40:00+00:00",
}


def ticketref_records() -> dict[str, list[dict[str, Any]]]:
    return {"FieldSet": [dict(TICKETREF_FIELDSET)], "Field": [dict(TICKETREF_FIELD)]}


# -- users ----------------------------------------------------------------------------------------
# 11 #7 (Group/get of every group) lists every user that existed when 11 was recorded, with its
# personal group (``isUserGroupFor``) and its groups (Everyone = 2 holds all of them, Internal = 3
# all but the admin). Users 36 and 37 are created by 11 itself and are not listed here. The users
# of 12 (u12) and 16 (creator16, agent16) come from later recording runs (their run tags differ).
# ``test_normalise.py`` checks this table against 11 #7.
#   user id: (username, personal group id)
KNOWN_USERS: dict[int, tuple[str, int]] = {
    2: ("jdoe", 5),
    3: ("wire-w4-1125234943", 6),
    4: ("wire-r4-1125234943", 7),
    5: ("wire-w8-1125234943", 8),
    6: ("wire-w9-1125235006", 9),
    7: ("wire-r9-1125235006", 10),
    9: ("wire-u11-1125235006", 12),
    11: ("wire-u11-1125235006-reg", 13),
    12: ("wire-u11-1125235006-reg2", 14),
    13: ("wire-u12-1125235006", 15),
    18: ("wire-u12-1125235037", 19),
    19: ("wire-w4-1125235049", 20),
    20: ("wire-r4-1125235049", 21),
    21: ("wire-w8-1125235049", 22),
    22: ("wire-w9-1125235049", 23),
    23: ("wire-r9-1125235049", 24),
    28: ("wire-u12-1125235049", 28),
    29: ("wire-w9-1125235055", 29),
    30: ("wire-r9-1125235055", 30),
    31: ("wire-w4-1125235104", 31),  # writer of 04 (acl {"31": 30}, 04 #0)
    32: ("wire-r4-1125235104", 32),  # reader4 of 04 (acl {"32": 10}, 04 #3)
    33: ("wire-w8-1125235104", 33),  # writer8 of 08 (acl {"33": 30}, 08 #0; createdBy "33", 08 #12)
    34: ("wire-w9-1125235104", 34),  # writer9 of 09 (acl {"34": 30}, 09 #0; createdBy "34", 09 #8)
    35: ("wire-r9-1125235104", 35),  # reader9 of 09 (acl {"35": 10}, 09 #0; createdBy "35", 09 #16)
}


def user(
    uid: int,
    username: str | None = None,
    *,
    as_name: str | None = None,
    personal_group: int | None = None,
    groups: tuple[int, ...] = (2, 3),
    display_name: str | None = None,
    email: str | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    """A seed user; ``as_name`` gives it an API key the runner uses for ``"as": as_name``."""
    if username is None or personal_group is None:
        known_name, known_group = KNOWN_USERS[uid]
        username = username or known_name
        personal_group = personal_group or known_group
    out: dict[str, Any] = {
        "id": uid,
        "username": username,
        "displayName": display_name or username,
        "email": email or f"{username}@example.com",
        "password": password,
        "groups": list(groups),
        "personalGroupId": personal_group,
    }
    if as_name:
        out["as"] = as_name
        out["apiKey"] = token_for(as_name)
    return out


# -- task lists and tasks -------------------------------------------------------------------------


def tasklist(
    tid: int,
    name: str,
    *,
    acl_id: int,
    role: str = "list",
    acl: dict[str, int] | None = None,
    created_by: int = 1,
    color: str = "0088cc",
) -> dict[str, Any]:
    """A TaskList in wire form as its creator (the admin) reads it (04 #1)."""
    return {
        "id": tid,
        "name": name,
        "role": role,
        "description": None,
        "acl": dict(acl or {}),
        "aclId": acl_id,
        "createdBy": created_by,
        "color": color,
        "sortOrder": None,
        "isVisible": True,
        "isSubscribed": True,
        "syncToDevice": False,
        "groups": [],
        "projectId": None,
        "groupingId": None,
    }


def task(
    tid: int,
    tasklist_id: int,
    title: str,
    *,
    created_by: str = "1",
    created_at: str = "2026-11-25T23:50:00+00:00",
) -> dict[str, Any]:
    """A Task in wire form (08 #2: the full default property set)."""
    uid = f"00000000-0000-4000-8000-{tid:012d}"
    return {
        "id": tid,
        "tasklistId": str(tasklist_id),
        "title": title,
        "description": None,
        "recurrenceRule": None,
        "progress": "needs-action",
        "timeBooked": 0,
        "uid": uid,
        "uri": uid + ".ics",
        "customFields": {"ticketRef": ""},
        "responsibleUserId": None,
        "groupId": None,
        "projectId": None,
        "mileStoneId": None,
        "createdBy": created_by,
        "createdAt": created_at,
        "modifiedAt": created_at,
        "modifiedBy": created_by,
        "filesFolderId": None,
        "due": None,
        "start": None,
        "estimatedDuration": None,
        "progressUpdated": None,
        "location": None,
        "categories": [],
        "color": None,
        "startTime": None,
        "latitude": None,
        "longitude": None,
        "priority": 0,
        "freeBusyStatus": "free",
        "privacy": "public",
        "percentComplete": 0,
        "alerts": None,
        "vcalendarBlobId": None,
        "group": None,
    }


def comment(
    cid: int,
    entity_id: int,
    *,
    date: str,
    text: str = "<p>earlier comment</p>",
    created_by: str = "1",
    section: str | None = None,
) -> dict[str, Any]:
    """A Comment on a Task in wire form (09 #3)."""
    return {
        "id": cid,
        "entity": "Task",
        "entityId": str(entity_id),
        "entityTypeId": 47,
        "text": text,
        "attachments": [],
        "createdAt": date,
        "modifiedAt": date,
        "createdBy": created_by,
        "modifiedBy": created_by,
        "date": date,
        "validateXSS": True,
        "labels": [],
        "section": section,
        "mimeMessageId": None,
        "mailStatus": None,
    }
