"""The state of a fresh Group-Office 26.0.42 with the tasks, comments and apikeys modules.

Module ids, names, right names, versions and sort orders are those of the recorded server
(01-session.json, 11-users.json, 12-modules-rights.json); groups 1 Admins, 2 Everyone and
3 Internal are fixed ids, the admin's personal group is 4 (11 step 7). The core settings are
the ``settings`` object of the core module as 11 step 10 shows it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from . import acl
from .filters import now_iso
from .store import Store

VERSION = "26.0.42"

# What the recorded server reported as User.storageQuota (its disk size, 11 step 1).
STORAGE_QUOTA = 270553174016


@dataclass(frozen=True)
class ModuleInfo:
    id: int
    package: str | None
    name: str
    rights: list[str]
    sort_order: int
    version: int
    title: str
    shadow_acl_id: int
    #: group id -> rights granted besides mayRead on a fresh install
    permissions: dict[int, list[str]] = field(default_factory=dict)


_I = acl.INTERNAL_GROUP

# Module/query without a sort lists modules by sort_order, then id (12 step 1):
# 1, 20, 18, 2, 4, 15, 12, 10, 3, then the rest by id. core 0, tasks 25 and the versions of core
# (431), tasks (73) and comments (44) are recorded (11 step 10, 12 step 0); the other numbers only
# have to keep that order. Non-admins (groups Everyone + Internal) see exactly the modules that
# have a permission row below, with these rights (11 step 6, 12 step 2).
MODULES: list[ModuleInfo] = [
    ModuleInfo(1, "core", "core", ["mayChangeUsers", "mayChangeGroups", "mayChangeCustomFields"],
               0, 431, "Group-Office Core", 26, {acl.EVERYONE_GROUP: []}),
    ModuleInfo(2, "community", "addressbook", ["mayChangeAddressbooks", "mayExportContacts"],
               15, 200, "Address book", 27, {_I: ["mayExportContacts"]}),
    ModuleInfo(3, "community", "bookmarks", ["mayManage"], 40, 30, "Bookmarks", 28, {_I: []}),
    ModuleInfo(4, "community", "calendar", [
        "mayChangeCalendars", "mayChangeCategories", "mayChangeResources", "mayChangeViews",
        "mayChangeOrganizer",
    ], 20, 150, "Calendar", 29, {_I: []}),
    ModuleInfo(5, "community", "carddav", ["mayManage"], 100, 10, "CardDAV", 30, {_I: []}),
    ModuleInfo(6, "community", "comments", ["mayManage"], 100, 44, "Comments", 31, {_I: []}),
    ModuleInfo(7, "community", "davclient", ["mayChangeAccount"], 100, 20, "DAV client", 32),
    ModuleInfo(8, "community", "history", ["mayManage"], 100, 20, "History", 33),
    ModuleInfo(9, "community", "jitsimeet", ["mayManage"], 100, 5, "Jitsi Meet", 34),
    ModuleInfo(10, "community", "notes", ["mayChangeNoteBooks"], 35, 60, "Notes", 35,
               {_I: ["mayChangeNoteBooks"]}),
    ModuleInfo(11, "community", "otp", ["mayManage"], 100, 10, "OTP Authenticator", 36, {_I: []}),
    ModuleInfo(12, None, "files", ["mayManage", "mayAccessMainPanel"], 30, 160, "Files", 37,
               {_I: ["mayAccessMainPanel"]}),
    ModuleInfo(13, "community", "pdfeditor", ["mayManage"], 100, 3, "PDF editor", 38),
    ModuleInfo(14, "community", "pwned", ["mayManage"], 100, 2, "Have I Been Pwned", 39),
    ModuleInfo(15, "community", "tasks", ["mayChangeTasklists", "mayChangeCategories"],
               25, 73, "Tasks", 69, {_I: ["mayChangeTasklists"]}),
    ModuleInfo(16, "community", "wopi", ["mayManage"], 100, 10, "Office Online", 40, {_I: []}),
    ModuleInfo(17, None, "dav", ["mayManage"], 100, 20, "DAV", 41, {_I: []}),
    ModuleInfo(18, None, "email", ["mayManage"], 10, 700, "E-mail", 42, {_I: []}),
    ModuleInfo(19, None, "sieve", ["mayManage"], 100, 10, "Sieve", 43, {_I: []}),
    ModuleInfo(20, None, "summary", ["mayManage"], 5, 40, "Start page", 44, {_I: []}),
    ModuleInfo(21, None, "sync", ["mayManage"], 100, 60, "Synchronization", 45, {_I: []}),
    ModuleInfo(22, None, "zpushadmin", ["mayManage"], 100, 10, "Z-Push admin", 46),
    ModuleInfo(23, "community", "apikeys", ["mayManage"], 100, 10, "API Keys", 47),
]

# Entity type ids of the recorded server (Comment.entityTypeId is 47 for Task, 09; the Module
# shadow ACL's entityTypeId is 14, 11 step 10).
ENTITY_TYPE_IDS: dict[str, int] = {
    "Task": 47, "User": 21, "Contact": 24, "TaskList": 48, "Module": 14,
}


def _entity(name: str, acl_owner: bool = False, default_acl: dict[str, int] | None = None,
            custom_fields: bool = False, files: bool = False) -> dict[str, Any]:
    return {
        "name": name, "isAclOwner": acl_owner, "defaultAcl": default_acl,
        "supportsCustomFields": custom_fields, "supportsFiles": files,
    }


# Module.entities as the recorded server lists them (core: 11 step 10, tasks: 12 step 0).
MODULE_ENTITIES: dict[str, list[dict[str, Any]]] = {
    "core": [
        _entity("Method"), _entity("Blob"), _entity("Acl"), _entity("Alert"),
        _entity("AuthAllowGroup"), _entity("CronJobSchedule"), _entity("EmailTemplate"),
        _entity("EntityFilter", True, {"2": 10}), _entity("Field"),
        _entity("FieldSet", True, {"2": 30}), _entity("Group", True, {"2": 10}),
        _entity("ImportMapping"), _entity("Link"), _entity("Module"),
        _entity("OauthAccessToken"), _entity("OauthAuthCode"), _entity("OauthClient"),
        _entity("PdfTemplate"), _entity("Principal", True), _entity("RememberMe"),
        _entity("Search"), _entity("SmtpAccount", True), _entity("SpreadSheetExport"),
        _entity("Token"), _entity("User", custom_fields=True), _entity("Template", True),
    ],
    "tasks": [
        _entity("TaskCategory"), _entity("Task", custom_fields=True, files=True),
        _entity("TaskList", True), _entity("TaskListGrouping"),
    ],
    "comments": [_entity("Comment"), _entity("CommentLabel")],
    "apikeys": [_entity("Key")],
}

# The core settings (Module/get of module "core", 11 step 10). ``URL`` and ``cacheClearedAt``
# are filled in when read; ``allowRegistration`` reads "" until it is first set (11 step 10).
CORE_SETTINGS: dict[str, Any] = {
    "locale": "C.utf8", "corsAllowOrigin": [], "primaryColorTransparent": None,
    "defaultGroups": ["3"], "readOnlyKeys": [], "validationErrors": [],
    "validationErrorsAsString": "", "language": "en", "title": "GroupOffice",
    "systemEmail": "admin@example.com", "smtpHost": "localhost", "smtpPort": 587,
    "smtpUsername": None, "smtpTimeout": 30, "smtpEncryption": "tls",
    "smtpEncryptionVerifyCertificate": True, "maintenanceMode": False,
    "defaultConfirmOnMove": False, "loginMessageEnabled": False, "loginMessage": None,
    "passwordMinLength": 6, "passwordMaxLength": 255, "logoutWhenInactive": 0,
    "defaultAuthenticationDomain": None, "lostPasswordURL": None, "URL": None,
    "allowRegistration": "", "syncChangesMaxAge": 30, "databaseVersion": VERSION,
    "cacheClearedAt": None, "primaryColor": None, "secondaryColor": None, "tertiaryColor": None,
    "accentColor": None, "logoId": None, "primaryDark": None, "secondaryDark": None,
    "tertiaryDark": None, "accentDark": None, "logoIdDark": None,
    "defaultTimezone": "Europe/Amsterdam", "defaultDateFormat": "d-m-Y",
    "defaultTimeFormat": "G:i", "defaultCurrency": "\u20ac", "defaultFirstWeekday": 1,
    "userAddressBookId": "2", "archivedUsersAddressBook": None, "defaultListSeparator": ";",
    "defaultTextSeparator": '"', "defaultThousandSeparator": ".", "defaultDecimalSeparator": ",",
    "defaultShortDateInList": True, "license": None, "licenseDenied": False,
    "welcomeShown": False, "demoDataAsked": False, "activeSyncEnable2FA": False,
    "activeSyncCanConnect": True,
}

# The shared "Users" address book (core setting userAddressBookId "2") holds every user's
# profile contact; its ACL gives Internal read access (Principal "Contact:34", 11 step 8).
USERS_ADDRESS_BOOK = "2"
USERS_ADDRESS_BOOK_ACL: dict[str, int] = {str(acl.INTERNAL_GROUP): acl.READ}


def permission_entry(module_id: int, group_id: int, rights: list[str]) -> dict[str, Any]:
    return {
        "rights": {"mayRead": True, **{r: True for r in rights}},
        "moduleId": module_id,
        "groupId": group_id,
    }


def install(store: Store, admin_password: str | None = None) -> str:
    """Fill an empty store; returns the admin's API key.

    ``admin_password`` lets the admin log in through ``api/auth.php`` (username ``admin``).
    """
    from .auth import hash_password

    now = now_iso()
    for info in MODULES:
        perms = {
            str(gid): permission_entry(info.id, gid, granted)
            for gid, granted in info.permissions.items()
        }
        store.put("Module", {
            "id": str(info.id), "name": info.name, "package": info.package,
            "version": info.version, "sort_order": info.sort_order, "enabled": True,
            "rights": list(info.rights), "permissions": perms or None, "settings": None,
            "title": info.title, "shadowAclId": info.shadow_acl_id,
            "shadowAclModifiedAt": now,
        })
    # Built-in groups are readable by their own members only (11 step 7).
    for gid, name in ((1, "Admins"), (2, "Everyone"), (3, "Internal")):
        store.put("Group", {
            "id": str(gid), "name": name, "isUserGroupFor": None, "createdBy": 1,
            "acl": {str(gid): acl.READ},
        })
    # The admin's personal group does not give Everyone read access, which is why non-admins
    # never see the admin (11 step 7 and step 20).
    store.put("Group", {
        "id": "4", "name": "admin", "isUserGroupFor": 1, "createdBy": 1, "acl": {"4": acl.READ},
    })
    store.meta.counters["Group"] = 5
    store.put("Contact", new_profile_contact("1", "1", "System Administrator",
                                             "admin@example.com", "1", now, "127.0.0.1:80"))
    store.meta.counters["Contact"] = 2
    store.put("User", {
        "id": "1", "username": "admin", "displayName": "System Administrator",
        "email": "admin@example.com", "recoveryEmail": "admin@example.com",
        "enabled": True, "groups": ["1", "2", "4"], "personalGroup": 4,
        "password": hash_password(admin_password) if admin_password else None,
        "contactId": "1", "createdAt": now, "modifiedAt": now,
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


def set_admin_password(store: Store, password: str) -> None:
    """Let the admin (username ``admin``) log in through ``api/auth.php`` with ``password``."""
    from .auth import hash_password

    admin = store.get("User", acl.ADMIN_USER)
    if admin is not None:
        store.put("User", {**admin, "password": hash_password(password)})


def new_profile_contact(
    contact_id: str, user_id: str, display_name: str, email: str, created_by: str, now: str,
    host: str,
) -> dict[str, Any]:
    """A user's profile Contact as User/set create shows it (11 step 1).

    The address is listed twice in ``emailAddresses`` (11 step 1): the server adds the user's
    e-mail once when it creates the contact and once more when it syncs the profile.
    """
    first, _, last = display_name.partition(" ")
    uid = f"{contact_id}-{host.replace(':', '-')}"
    return {
        "id": contact_id, "starred": False, "uid": uid, "uri": uid + ".vcf",
        "organizationIds": [], "salutation": f"Hi {first}", "age": 0, "birthday": "",
        "customFields": [], "addressBookId": USERS_ADDRESS_BOOK, "goUserId": user_id,
        "createdBy": created_by, "modifiedBy": created_by, "createdAt": now, "modifiedAt": now,
        "prefixes": "", "initials": "", "firstName": first, "middleName": "", "lastName": last,
        "suffixes": "", "gender": None, "notes": None, "isOrganization": False, "jobTitle": None,
        "department": None, "name": display_name, "nameBank": "", "BIC": "", "IBAN": "",
        "registrationNumber": "", "icd": None, "vatNo": None, "vatReverseCharge": False,
        "debtorNumber": None, "photoBlobId": None, "language": None, "filesFolderId": None,
        "emailAddresses": [{"type": "work", "email": email}, {"type": "work", "email": email}],
        "phoneNumbers": [], "dates": [], "urls": [], "addresses": [], "groups": [],
        "color": None, "newsletterAllowed": True, "lastContactAt": None, "actionAt": None,
        "vcardBlobId": None, "savePrincipal": True,
    }


def new_token() -> str:
    """Group-Office tokens: uniqid() (13 hex) + 32 random hex characters (45 in all)."""
    return secrets.token_hex(7)[:13] + secrets.token_hex(16)
