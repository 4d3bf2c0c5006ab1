"""Core people entities: ``User``, ``Group`` and ``Principal`` (11).

- A new user gets the default groups (core setting ``defaultGroups``), Everyone and a personal
  group; its profile Contact lists the e-mail address twice; its personal address book,
  calendar, note book and task list show in its settings objects (11 step 1).
- ``User/set`` without ``email`` fails the whole call with PHP ``type: "error"`` (11 step 3).
- A user who owns an API key cannot be destroyed: ``dbException`` (11 step 22).
- Users are ACL items of their personal group, whose ACL gives Everyone read access; the admin's
  personal group does not, so non-admins never see the admin (11 step 20).
- Principals are users (id = user id) and contacts (id = ``Contact:<n>``) (11 step 8).
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

from .. import acl, defaults
from ..auth import check_password, hash_password
from ..context import Context
from ..entity import EntityHandler, FilterFn, Prop
from ..errors import (
    FORBIDDEN,
    INVALID_INPUT,
    MALFORMED,
    REQUIRED,
    UNIQUE,
    MethodError,
    SetError,
    db_exception,
    forbidden,
)
from ..filters import id_filter, now_iso, text_filter
from ..registry import Registry
from ..store import Record
from . import customfields

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USERNAME = re.compile(r"[A-Za-z0-9_\-.@]")  # unanchored, as in User.php

_EMAIL_ERROR = (
    "Typed property go\\core\\model\\User::$email must not be accessed before initialization"
)

# Writable preferences and their defaults, in the server's property order (11 step 5).
_PREFS_A: dict[str, Any] = {
    "country": "NL",
    "theme": "Paper",
}
_PREFS_B: dict[str, Any] = {
    "dateFormat": "d-m-Y",
    "shortDateInList": True,
    "timeFormat": "G:i",
    "thousandsSeparator": ".",
    "decimalSeparator": ",",
    "currency": "\u20ac",
    "listSeparator": ";",
    "textSeparator": '"',
}
_PREFS_C: dict[str, Any] = {
    "confirmOnMove": False,
    "max_rows_list": 50,
    "timezone": "Europe/Amsterdam",
    "start_module": "summary",
    "language": "en",
    "themeColorScheme": "light",
    "firstWeekday": 1,
    "sort_name": "first_name",
    "mute_sound": False,
    "mute_reminder_sound": False,
    "mute_new_mail_sound": False,
    "show_smilies": True,
    "auto_punctuation": False,
    "enableSendShortcut": True,
    "disk_quota": None,
    "disk_usage": 0,
    "mail_reminders": False,
    "popup_reminders": None,
    "popup_emails": None,
    "holidayset": "en",
    "sort_email_Addresses_by_time": None,
    "no_reminders": False,
    "forcePasswordChange": False,
}

# The profile Contact's properties in the server's order (11 step 1).
_CONTACT_KEYS = [
    "starred", "uid", "uri", "organizationIds", "salutation", "age", "birthday",
    "permissionLevel", "customFields", "id", "addressBookId", "goUserId", "createdBy",
    "modifiedBy", "createdAt", "modifiedAt", "prefixes", "initials", "firstName", "middleName",
    "lastName", "suffixes", "gender", "notes", "isOrganization", "jobTitle", "department", "name",
    "nameBank", "BIC", "IBAN", "registrationNumber", "icd", "vatNo", "vatReverseCharge",
    "debtorNumber", "photoBlobId", "language", "filesFolderId", "emailAddresses", "phoneNumbers",
    "dates", "urls", "addresses", "groups", "color", "newsletterAllowed", "lastContactAt",
    "actionAt", "vcardBlobId", "savePrincipal",
]


def _pref_props(prefs: dict[str, Any]) -> dict[str, Prop]:
    return {name: Prop(default=value) for name, value in prefs.items()}


def _int_or_none(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _sorted_ids(ids: Any) -> list[str]:
    def order(i: str) -> tuple[bool, int, str]:
        return (not i.isdigit(), int(i) if i.isdigit() else 0, i)

    return sorted({str(i) for i in ids or []}, key=order)


class UserHandler(EntityHandler):
    name = "User"
    model_class = "go\\core\\model\\User"
    controller_class = "go\\core\\controller\\User"
    acl_state = True
    default_filters = {"showDisabled": False}
    props = {
        "dateTimeFormat": Prop(stored=False),
        "personalGroup": Prop(readonly=True),
        "password": Prop(stored=False),
        "isAdmin": Prop(stored=False),
        "authenticators": Prop(stored=False),
        "storageQuota": Prop(stored=False),
        "storageFreeSpace": Prop(stored=False),
        "profile": Prop(stored=False),
        **_pref_props(_PREFS_A),
        "emailAliases": Prop(stored=False),
        "permissionLevel": Prop(stored=False),
        "customFields": Prop(stored=False),
        "id": Prop(),
        "username": Prop(),
        "displayName": Prop(),
        "avatarId": Prop(),
        "enabled": Prop(default=True),
        "email": Prop(),
        "newsletterAllowed": Prop(default=True),
        "recoveryEmail": Prop(),
        "loginCount": Prop(default=0, readonly=True),
        "lastLogin": Prop(readonly=True),
        "modifiedAt": Prop(readonly=True),
        "createdAt": Prop(readonly=True),
        **_pref_props(_PREFS_B),
        "homeDir": Prop(stored=False),
        **_pref_props(_PREFS_C),
        "groups": Prop(default=lambda ctx: []),
        "clients": Prop(readonly=True),
        "savePrincipal": Prop(stored=False),
        "addressBookSettings": Prop(stored=False),
        "birthdayPortletAddressBooks": Prop(stored=False),
        "calendarPreferences": Prop(stored=False),
        "notesSettings": Prop(stored=False),
        "otp": Prop(stored=False),
        "tasksSettings": Prop(stored=False),
        "taskPortletTaskLists": Prop(stored=False),
        "emailSettings": Prop(stored=False),
        "syncSettings": Prop(stored=False),
        "currentPassword": Prop(writeonly=True),
        "archive": Prop(writeonly=True),
    }

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            # the whole address in any case; a prefix finds nothing (groupoffice-wire 18 #11)
            "email": lambda c, r, v: text_filter(r.get("email"), v),
            "username": lambda c, r, v: text_filter(r.get("username"), v),
            "displayName": lambda c, r, v: text_filter(r.get("displayName"), v),
            "text": lambda c, r, v: any(
                text_filter(r.get(k), f"%{v}%") for k in ("username", "displayName", "email")
            ),
            "groupId": lambda c, r, v: id_filter(v, None) if v is None else any(
                str(g) == str(v) for g in r.get("groups") or []
            ),
            "showDisabled": lambda c, r, v: bool(v) or bool(r.get("enabled", True)),
            "permissionLevel": lambda c, r, v: self.permission_level(c, r) >= int(v or 0),
        }

    def dynamic_filter(self, ctx: Context, name: str) -> FilterFn | None:
        return customfields.filter_for(ctx, "User", name)

    def sort_key(self, ctx: Context, prop: str) -> Any:
        custom = customfields.sort_key_for(ctx, "User", prop)
        return custom if custom is not None else super().sort_key(ctx, prop)

    # -- permissions --------------------------------------------------------------------------

    def permission_level(self, ctx: Context, record: Record) -> int:
        """A user is an ACL item of its personal group (11 step 20: the admin is invisible)."""
        if ctx.is_admin:
            return acl.MANAGE
        group = ctx.store.get("Group", record.get("personalGroup"))
        return ctx.acl_level(group.get("acl") if group else None)

    def can_create(self, ctx: Context, record: Record) -> bool:
        return ctx.has_right("core", "core", "mayChangeUsers")  # 11 step 20

    def can_update(self, ctx: Context, record: Record, changes: dict[str, Any]) -> bool:
        if ctx.is_admin:
            return True
        if "groups" in changes:
            return False  # non-admins never change groups
        if str(record["id"]) == str(ctx.user_id):
            return True
        return ctx.has_right("core", "core", "mayChangeUsers") and (
            self.permission_level(ctx, record) >= acl.READ
        )

    def can_destroy(self, ctx: Context, record: Record) -> bool:
        return ctx.is_admin and str(record["id"]) != acl.ADMIN_USER

    # -- reading ------------------------------------------------------------------------------

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        uid = int(record["id"])
        if prop == "dateTimeFormat":
            date_format = record.get("dateFormat", _PREFS_B["dateFormat"])
            return f"{date_format} {record.get('timeFormat', _PREFS_B['timeFormat'])}"
        if prop == "personalGroup":
            group = ctx.store.get("Group", record.get("personalGroup"))
            return ctx.handler("Group").to_wire(ctx, group, None) if group else None
        if prop == "password":
            return None  # write-only in effect (11 step 4)
        if prop == "isAdmin":
            return acl.ADMINS_GROUP in {int(g) for g in record.get("groups") or []}
        if prop == "authenticators":
            return ["password"] if record.get("password") else []  # 11 step 1 vs step 2
        if prop == "storageQuota":
            return defaults.STORAGE_QUOTA
        if prop == "storageFreeSpace":
            return _free_space(ctx)
        if prop == "profile":
            contact = ctx.store.get("Contact", record.get("contactId"))
            return self._contact_wire(ctx, record, contact) if contact else None
        if prop == "emailAliases":
            return [record.get("email")]
        if prop == "customFields":
            return customfields.values_for(ctx, "User", record)
        if prop == "homeDir":
            return f"users/{record.get('username')}"
        if prop == "groups":
            return _sorted_ids(record.get("groups"))  # strings (11 step 4)
        if prop == "savePrincipal":
            return True
        if prop in ("birthdayPortletAddressBooks", "taskPortletTaskLists"):
            return []
        if prop == "otp":
            return None
        if prop == "addressBookSettings":
            return {
                "defaultAddressBookId": _int_or_none(record.get("addressBookId")),
                "sortBy": "name", "userId": uid, "startIn": "allcontacts",
                "lastAddressBookId": None,
            }
        if prop == "calendarPreferences":
            calendar = record.get("calendarId")
            calendar = None if calendar is None else str(calendar)
            return {
                "userId": uid, "useTimeZones": False, "showWeekNumbers": True,
                "showTooltips": True, "showDeclined": False, "birthdaysAreVisible": False,
                "multiLine": False, "tasksAreVisible": False, "holidaysAreVisible": False,
                "defaultCalendarId": calendar, "personalCalendarId": calendar,
                "autoAddInvitations": True, "markReadAndFileAutoAdd": False,
                "autoUpdateInvitations": False, "markReadAndFileAutoUpdate": False,
                "lastProcessed": "", "lastProcessedUid": 1, "weekViewGridSnap": 15,
                "weekViewGridSize": 7, "startView": "month", "defaultDuration": None,
            }
        if prop == "notesSettings":
            notebook = _int_or_none(record.get("noteBookId"))
            return {
                "defaultNoteBookId": notebook,
                "lastNoteBookIds": [] if notebook is None else [notebook],
                "userId": uid, "rememberLastItems": True,
            }
        if prop == "tasksSettings":
            tasklist = _int_or_none(record.get("tasklistId"))
            return {
                "defaultTasklistId": tasklist,
                "lastTasklistIds": [] if tasklist is None else [tasklist],
                "userId": uid, "rememberLastItems": True, "defaultDate": False,
            }
        if prop == "emailSettings":
            return {
                "id": uid, "use_desktop_composer": False, "use_html_markup": True,
                "show_from": True, "show_cc": True, "show_bcc": False,
                "skip_unknown_recipients": False, "always_request_notification": False,
                "always_respond_to_notifications": False, "font_size": "14px",
                "sort_email_addresses_by_time": True, "defaultTemplateId": 1,
                "email_show_linked_tasks": "0",
            }
        if prop == "syncSettings":
            notebook = _int_or_none(record.get("noteBookId"))
            book = _int_or_none(record.get("addressBookId"))
            tasklist = _int_or_none(record.get("tasklistId"))
            return {
                "user_id": uid, "account_id": 0, "max_days_old": 0,
                "noteBooks": [] if notebook is None else [
                    {"userId": uid, "noteBookId": notebook, "isDefault": True}
                ],
                "addressBooks": [] if book is None else [
                    {"userId": uid, "addressBookId": book, "isDefault": True}
                ],
                "allowDeletes": True,
                "tasklists": [] if tasklist is None else [
                    {"userId": uid, "tasklistId": tasklist, "isDefault": True}
                ],
            }
        return super().read_property(ctx, record, prop)

    def _contact_wire(self, ctx: Context, user: Record, contact: Record) -> Record:
        level = acl.MANAGE if ctx.is_admin or str(user["id"]) == str(ctx.user_id) else (
            ctx.acl_level(defaults.USERS_ADDRESS_BOOK_ACL)
        )
        out: Record = {}
        for key in _CONTACT_KEYS:
            if key == "permissionLevel":
                out[key] = level
            elif key == "customFields":
                out[key] = customfields.values_for(ctx, "Contact", contact)
            elif key == "id":
                out[key] = str(contact["id"])
            else:
                out[key] = contact.get(key)
        return out

    def created_diff(self, ctx: Context, record: Record, sent: dict[str, Any]) -> Record:
        """User/set create answers some settings in their pre-save form (11 step 1 vs 5)."""
        out = super().created_diff(ctx, record, sent)
        raw_groups = ctx.extra.get("created_user_groups", {}).get(str(record["id"]))
        if "groups" in out and raw_groups is not None:
            out["groups"] = raw_groups  # ["3", 2, "36"]
        uid = str(record["id"])
        tasks = out.get("tasksSettings")
        if isinstance(tasks, dict):
            tasks["defaultTasklistId"] = _str_or_none(tasks["defaultTasklistId"])
            tasks["lastTasklistIds"] = [str(i) for i in tasks["lastTasklistIds"]]
            tasks["userId"] = uid
        email = out.get("emailSettings")
        if isinstance(email, dict):
            email["id"] = uid
            email["email_show_linked_tasks"] = 0
        sync = out.get("syncSettings")
        if isinstance(sync, dict):
            sync["user_id"] = uid
            for key in ("noteBooks", "addressBooks", "tasklists"):
                for item in sync[key]:
                    item["userId"] = uid
        return out

    # -- writing ------------------------------------------------------------------------------

    def create_one(self, ctx: Context, values: dict[str, Any]) -> Record:
        self.check_properties(values)
        if not self.can_create(ctx, {}):
            raise forbidden()
        if "email" not in values:
            # The PHP model reads the uninitialised typed property while saving: the whole call
            # fails (11 step 3), and the failed insert used up a user id (11: 38 is skipped).
            ctx.store.next_id(self.name)
            raise MethodError("error", _EMAIL_ERROR)
        if values["email"] is None:
            raise MethodError(
                "typeError",
                "Cannot assign null to property go\\core\\model\\User::$email of type string",
            )
        return super().create_one(ctx, values)

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            spec = self.props[key]
            if key == "password":
                record["passwordPlain"] = value
            elif key == "currentPassword":
                record["currentPasswordPlain"] = value
            elif key == "groups":
                record["groups"] = [g for g in (value or [])]
            elif key == "customFields":
                customfields.merge_values(ctx, "User", record, value)
            elif spec.readonly or not spec.stored or spec.writeonly:
                continue
            else:
                record[key] = value
        if new and not record.get("recoveryEmail"):
            record["recoveryEmail"] = record.get("email")

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        errors: dict[str, dict[str, Any]] = {}
        username = str(record.get("username") or "")
        if not username:
            errors["username"] = {"code": REQUIRED, "description": "Property is required"}
        elif not _USERNAME.search(username):
            errors["username"] = {"code": MALFORMED, "description": "Malformed username"}
        if not record.get("displayName"):
            errors["displayName"] = {"code": REQUIRED, "description": "Property is required"}
        email = str(record.get("email") or "")
        if not email:
            errors["email"] = {"code": REQUIRED, "description": "Property is required"}
        elif not _EMAIL.match(email):
            errors["email"] = {"code": MALFORMED, "description": "Invalid e-mail address"}
        for other in ctx.store.all("User"):
            if str(other["id"]) == str(record.get("id")):
                continue
            if email and str(other.get("email", "")).lower() == email.lower():
                errors["email"] = {
                    "code": UNIQUE,
                    "description": "The e-mail address must be unique in the system",
                }
            if username and str(other.get("username", "")).lower() == username.lower():
                errors["username"] = {"code": UNIQUE, "description": "The property must be unique"}
        password = record.get("passwordPlain")
        if password is not None:
            settings = ctx.store.meta.settings
            minimum = int(settings.get("passwordMinLength") or 6)
            maximum = int(settings.get("passwordMaxLength") or 255)
            if len(str(password)) < minimum:
                errors["password"] = {
                    "code": INVALID_INPUT,
                    "description": f"Minimum password length is {minimum} chars",  # 11 step 3
                }
            elif len(str(password)) > maximum:
                errors["password"] = {
                    "code": INVALID_INPUT,
                    "description": f"Maximum password length is {maximum} chars",
                }
        current = record.pop("currentPasswordPlain", None)
        own = old is not None and str(record.get("id")) == str(ctx.user_id)
        if password is not None and own and not ctx.is_admin:
            # Changing your own password needs the current one (User.php).
            if not current:
                errors["currentPassword"] = {"code": REQUIRED, "description": "Required"}
            elif not check_password(old.get("password") if old else None, str(current)):
                errors["currentPassword"] = {
                    "code": INVALID_INPUT, "description": "Your current password was incorrect",
                }
        if old is not None and "groups" in record and acl.EVERYONE_GROUP not in {
            int(g) for g in record.get("groups") or []
        }:
            errors["groups"] = {"code": FORBIDDEN, "description": "You can't remove Everyone"}
        return errors

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        now = now_iso()
        password = record.pop("passwordPlain", None)
        if password:
            record["password"] = hash_password(str(password))
        if old is None:
            record["createdAt"] = now
            # Default groups first (strings from the settings), then Everyone as an integer;
            # User/set create answers exactly that list plus the personal group (11 step 1).
            groups: list[Any] = list(record.get("groups") or [])
            if not groups:
                default = ctx.store.meta.settings.get("defaultGroups")
                groups = list(default if default is not None else ["3"])
            if acl.EVERYONE_GROUP not in {int(g) for g in groups}:
                groups.append(acl.EVERYONE_GROUP)
            ctx.extra["created_user_groups_pending"] = groups
            record["groups"] = [str(g) for g in groups]
        else:
            record["groups"] = [str(g) for g in record.get("groups") or []]
        record["modifiedAt"] = now

    def after_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None:
            create_user_resources(ctx, record)
            raw = list(ctx.extra.pop("created_user_groups_pending", record["groups"]))
            raw.append(str(record["personalGroup"]))
            ctx.extra.setdefault("created_user_groups", {})[str(record["id"])] = raw
        ctx.forget_user_cache()

    def before_destroy(self, ctx: Context, record: Record) -> None:
        for key in ctx.store.all("Key"):
            if str(key.get("userId")) == str(record["id"]):
                raise db_exception()  # the API key's foreign key (11 step 22)

    def after_destroy(self, ctx: Context, record: Record) -> None:
        if record.get("personalGroup") is not None:
            gid = str(record["personalGroup"])
            if ctx.store.get("Group", gid) is not None:
                ctx.store.delete("Group", gid)
                ctx.store.log_change("Group", gid, destroyed=True)
        contact = ctx.store.get("Contact", record.get("contactId"))
        if contact is not None:
            contact = dict(contact)
            contact["goUserId"] = None
            ctx.store.put("Contact", contact)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _free_space(ctx: Context) -> int:
    path = ctx.store.path
    folder = os.path.dirname(os.path.abspath(path)) if path != ":memory:" else os.getcwd()
    try:
        return int(shutil.disk_usage(folder).free)
    except OSError:
        return 0


def create_user_resources(ctx: Context, user: Record) -> None:
    """What Group-Office creates with a user (11 step 1).

    A personal group named after the user (" (n)" on a clash) whose ACL gives Everyone read
    access, the profile Contact in the shared Users address book, and a personal address book,
    calendar, note book and task list. The settings objects show their ids.
    """
    store = ctx.store
    uid = str(user["id"])
    gid = store.next_id("Group")
    names = {str(g.get("name")) for g in store.all("Group")}
    name = str(user["username"])
    n = 1
    while name in names:
        name = f"{user['username']} ({n})"
        n += 1
    store.put("Group", {
        "id": gid, "name": name, "isUserGroupFor": int(uid), "createdBy": int(uid),
        "acl": {str(acl.EVERYONE_GROUP): acl.READ, gid: acl.MANAGE},
    })
    store.log_change("Group", gid)
    contact_id = store.next_id("Contact")
    host = ctx.request.base_url.split("://", 1)[-1]
    store.put("Contact", defaults.new_profile_contact(
        contact_id, uid, str(user.get("displayName")), str(user.get("email")),
        str(ctx.user_id or uid), now_iso(), host,
    ))
    user["personalGroup"] = int(gid)
    user["groups"] = [*(str(g) for g in user.get("groups") or []), gid]
    user["contactId"] = contact_id
    user["addressBookId"] = store.next_id("AddressBook")
    user["calendarId"] = store.next_id("Calendar")
    user["noteBookId"] = store.next_id("NoteBook")
    user["tasklistId"] = _personal_tasklist(ctx, user, gid)
    store.put("User", user)
    # Personal group, address book, calendar, note book, task list and the user's own ACL:
    # the ACL part of the User state moves by six per new user (11 steps 1-2: 20 -> 26 -> 32).
    for _ in range(6):
        store.bump_acl()


def _personal_tasklist(ctx: Context, user: Record, gid: str) -> str:
    store = ctx.store
    tasklist_id = store.next_id("TaskList")
    handler = ctx.registry.find_entity("TaskList")
    if handler is None:
        return tasklist_id
    record = handler.new_record(ctx)
    record.update({
        "id": tasklist_id, "name": str(user.get("displayName")), "role": "list",
        "acl": {gid: acl.MANAGE}, "createdBy": int(user["id"]),
        "aclId": int(store.next_id("acl")),
        "userProps": {str(user["id"]): {
            "isSubscribed": True, "isVisible": True, "syncToDevice": False, "sortOrder": None,
        }},
    })
    store.put("TaskList", record)
    store.log_change("TaskList", tasklist_id)
    return tasklist_id


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
        "isUserGroupFor": Prop(readonly=True),
        "createdBy": Prop(readonly=True),
        "users": Prop(stored=False),
    }

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "text": lambda c, r, v: text_filter(r.get("name"), f"%{v}%"),
            "hideUsers": lambda c, r, v: not v or r.get("isUserGroupFor") is None,  # 11 step 7
            "hideGroups": lambda c, r, v: not v or r.get("isUserGroupFor") is not None,
            "excludeEveryone": lambda c, r, v: not v or str(r["id"]) != "2",
            "excludeAdmins": lambda c, r, v: not v or str(r["id"]) != "1",
            "forUserId": lambda c, r, v: str(v) in self._members(c, r),
            "groupMember": lambda c, r, v: True,
            "inAcl": lambda c, r, v: True,
        }

    def _members(self, ctx: Context, record: Record) -> list[str]:
        gid = str(record["id"])
        return _sorted_ids(
            u["id"] for u in ctx.store.all("User") if gid in {str(g) for g in u.get("groups") or []}
        )

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        if prop in ("isUserGroupFor", "createdBy"):
            value = record.get(prop)
            return None if value is None else str(value)  # strings (11 step 7)
        if prop == "users":
            return self._members(ctx, record)
        return super().read_property(ctx, record, prop)

    def permission_level(self, ctx: Context, record: Record) -> int:
        return ctx.acl_level(record.get("acl"))

    def can_create(self, ctx: Context, record: Record) -> bool:
        return ctx.is_admin or ctx.has_right("core", "core", "mayChangeGroups")

    def can_update(self, ctx: Context, record: Record, changes: dict[str, Any]) -> bool:
        if ctx.is_admin:
            return True
        return self.permission_level(ctx, record) >= acl.WRITE

    def can_destroy(self, ctx: Context, record: Record) -> bool:
        if int(record["id"]) in (acl.ADMINS_GROUP, acl.EVERYONE_GROUP, acl.INTERNAL_GROUP):
            return False  # the built-in groups cannot be deleted
        return ctx.is_admin and record.get("isUserGroupFor") is None

    def merge_patch(self, ctx: Context, key: str, current: Any, value: Any) -> Any:
        return acl.merge_acl(current, value) if key == "acl" else value

    def differs(self, key: str, actual: Any, expected: Any) -> bool:
        # ``users`` sent as numbers is not echoed as strings (groupoffice-wire 17 #9).
        if key == "users" and isinstance(expected, list):
            return sorted(map(str, actual or [])) != sorted(map(str, expected))
        return super().differs(key, actual, expected)

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            if key == "users":
                record["_users"] = _sorted_ids(value)
            elif key == "acl":
                record["acl"] = {str(g): lvl for g, lvl in (value or {}).items() if lvl}
            elif key == "name":
                record["name"] = value

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        errors: dict[str, dict[str, Any]] = {}
        if not record.get("name"):
            errors["name"] = {"code": REQUIRED, "description": "Property is required"}
        elif any(
            str(g.get("name")).lower() == str(record["name"]).lower()
            and str(g["id"]) != str(record.get("id"))
            for g in ctx.store.all("Group")
        ):
            errors["name"] = {"code": UNIQUE, "description": "The property must be unique"}
        if "_users" in record and old is not None:
            if int(old["id"]) == acl.EVERYONE_GROUP:
                errors["users"] = {"code": FORBIDDEN, "description": "You can't change Everyone"}
            owner = old.get("isUserGroupFor")
            if owner is not None and str(owner) not in record["_users"]:
                errors["users"] = {
                    "code": FORBIDDEN,
                    "description": "You can't remove the group owner from the group",
                }
        return errors

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None:
            record["createdBy"] = int(ctx.uid)
            record["isUserGroupFor"] = None
            # A group owns an ACL: creating one uses up an ACL id (groupoffice-wire 17 #9,
            # #10: the next list gets aclId 52, not 51).
            ctx.store.next_id("acl")
        if old is None or old.get("acl") != record.get("acl"):
            ctx.store.bump_acl()

    def after_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        gid = str(record["id"])
        members = record.pop("_users", None)
        if old is None and not record.get("acl"):
            # Everyone and the group's members may read a new group (groupoffice-wire 17 #9).
            record["acl"] = {str(acl.EVERYONE_GROUP): acl.READ, gid: acl.READ}
        ctx.store.put(self.name, record)
        if members is None:
            return
        for user in list(ctx.store.all("User")):
            groups = [str(g) for g in user.get("groups") or []]
            has = gid in groups
            if (str(user["id"]) in members) != has:
                user = dict(user)
                user["groups"] = [g for g in groups if g != gid] if has else [*groups, gid]
                ctx.store.put("User", user)
                ctx.store.log_change("User", str(user["id"]))
        ctx.forget_user_cache()

    def after_destroy(self, ctx: Context, record: Record) -> None:
        gid = str(record["id"])
        for user in list(ctx.store.all("User")):
            groups = [str(g) for g in user.get("groups") or []]
            if gid in groups:
                user = dict(user)
                user["groups"] = [g for g in groups if g != gid]
                ctx.store.put("User", user)


class PrincipalHandler(EntityHandler):
    """Principals are maintained by the server: users (id = user id) and contacts (11 step 8)."""

    name = "Principal"
    model_class = "go\\core\\model\\Principal"
    controller_class = "go\\core\\controller\\Principal"
    acl_state = True
    methods = frozenset({"get", "query", "changes"})
    default_filters = {"showDisabledUsers": False}
    props = {
        "emailAliases": Prop(),
        "permissionLevel": Prop(stored=False),
        "acl": Prop(),
        "id": Prop(),
        "type": Prop(default="individual"),
        "name": Prop(),
        "avatarId": Prop(),
        "description": Prop(),
        "email": Prop(),
        "timeZone": Prop(),
    }

    def filters(self) -> dict[str, FilterFn]:
        def like_any(r: Record, v: Any) -> bool:
            return any(text_filter(r.get(k), f"%{v}%") for k in ("name", "email", "description"))

        return {
            **super().filters(),
            "email": lambda c, r, v: str(r.get("email") or "").lower() == str(v).lower(),
            "text": lambda c, r, v: like_any(r, v),
            "type": lambda c, r, v: r.get("type") == v,
            "entity": lambda c, r, v: r["_entity"] == v,
            "username": lambda c, r, v: r["_entity"] == "User" and text_filter(
                r.get("description"), v
            ),
            "groupId": lambda c, r, v: str(v) in r.get("_groups", []),
            "showDisabledUsers": lambda c, r, v: bool(v) or r.get("_enabled", True),
            "aclId": lambda c, r, v: True,
            "aclPermissionLevel": lambda c, r, v: True,
            "preferUser": lambda c, r, v: True,
            "isEmployee": lambda c, r, v: True,
        }

    def _user_principal(self, ctx: Context, user: Record) -> Record:
        group = ctx.store.get("Group", user.get("personalGroup"))
        return {
            "emailAliases": [user.get("email")],
            "acl": dict(group.get("acl") or {}) if group else {},
            "id": str(user["id"]),
            "type": "individual",
            "name": user.get("displayName"),
            "avatarId": user.get("avatarId"),
            "description": user.get("username"),
            "email": user.get("email"),
            "timeZone": user.get("timezone", "Europe/Amsterdam"),
            "_entity": "User",
            "_enabled": user.get("enabled", True),
            "_groups": [str(g) for g in user.get("groups") or []],
        }

    def _contact_principal(self, contact: Record) -> Record:
        emails = contact.get("emailAddresses") or []
        return {
            "emailAliases": [],
            "acl": dict(defaults.USERS_ADDRESS_BOOK_ACL),
            "id": f"Contact:{contact['id']}",
            "type": "individual",
            "name": contact.get("name"),
            "avatarId": contact.get("photoBlobId"),
            "description": "Contact ",  # sic (11 step 8)
            "email": emails[0].get("email") if emails else None,
            "timeZone": None,
            "_entity": "Contact",
        }

    def records(self, ctx: Context) -> list[Record]:
        # Users first, then contacts: ["37", "Contact:34"] (11 step 8).
        users = [self._user_principal(ctx, u) for u in ctx.store.all("User")]
        contacts = [self._contact_principal(c) for c in ctx.store.all("Contact")]
        return users + contacts

    def find(self, ctx: Context, id_: Any) -> Record | None:
        text = str(id_)
        if text.startswith("Contact:"):
            contact = ctx.store.get("Contact", text.split(":", 1)[1])
            return self._contact_principal(contact) if contact else None
        user = ctx.store.get("User", text)
        return self._user_principal(ctx, user) if user else None

    def permission_level(self, ctx: Context, record: Record) -> int:
        return ctx.acl_level(record.get("acl"))

    def sort_key(self, ctx: Context, prop: str) -> Any:
        if prop in ("name", "email", "description", "type"):
            return lambda c, r: r.get(prop)
        return None


def register(registry: Registry) -> None:
    registry.add(UserHandler())
    registry.add(GroupHandler())
    registry.add(PrincipalHandler())


__all__ = ["GroupHandler", "PrincipalHandler", "SetError", "UserHandler", "create_user_resources"]
