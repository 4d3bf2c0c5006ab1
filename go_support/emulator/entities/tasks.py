"""The tasks module: ``TaskList``, ``TaskListGrouping``, ``TaskCategory`` and ``Task``.

Quirks kept on purpose (groupoffice-wire/README.md): invalid ``progress`` and ``role`` values
are silently ignored (04, 08); tasks in ``support`` lists are invisible (04); a new task list's
ACL never gets the super-admin's group, and any other creator's personal group stays at MANAGE
on every ACL save (04, 17); ``acl`` writes merge and an empty ``acl`` is always reported as
changed (04, 05); per-user TaskList values read null without a row (16); a default
TaskCategory owner is ``"1"`` in ``created`` and ``1`` afterwards (06); changing
``responsibleUserId`` resets progress unless progress changes value (08, 17); an empty title
is accepted (17); ``Task/get`` with an unknown property finds nothing (18); ``Task/query``
defaults to subscribed lists (08); creating a Task or TaskList writes the creator's per-user
row, which ``Foo/changes`` and the request's state strings show (08); a comment that changes
nothing on its task leaves the task's state alone but is still reported by a later /set of the
request (09).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

from .. import acl
from ..context import Context
from ..entity import EntityHandler, FilterFn, Prop, SortKey
from ..errors import REQUIRED, MethodError, db_exception
from ..filters import (
    any_id_in,
    date_filter,
    id_filter,
    now_iso,
    number_filter,
    text_filter,
)
from ..registry import Registry
from ..store import Record
from . import customfields

PROGRESS = ("needs-action", "in-progress", "completed", "failed", "cancelled")
ROLES = ("list", "board", "project", "support")


_NEW_USER_ROW = "tasks.new_list_user_row"  # ctx.extra: this save wrote the caller's row
_ACL_SAVED = "_aclSaved"  # transient record key: an acl patch saves the list in any case

_LIST_USER_PROPS = ("color", "sortOrder", "isVisible", "isSubscribed", "syncToDevice")


def _list_user(ctx: Context, record: Record) -> dict[str, Any]:
    """The caller's per-user values of a TaskList (``tasks_tasklist_user``)."""
    per_user = record.get("userProps")
    if per_user is None:
        # A record seeded in wire form carries its creator's values flat (seed.py).
        if str(record.get("createdBy")) != str(ctx.user_id):
            return {}
        return {k: record[k] for k in _LIST_USER_PROPS if k in record}
    return dict(per_user.get(str(ctx.user_id), {}))


class TaskListHandler(EntityHandler):
    name = "TaskList"
    model_class = "go\\modules\\community\\tasks\\model\\TaskList"
    controller_class = "go\\modules\\community\\tasks\\controller\\TaskList"
    module = ("community", "tasks")
    acl_state = True
    props = {
        "role": Prop(default="list"),
        "permissionLevel": Prop(stored=False),
        "acl": Prop(default=lambda ctx: {}),
        "id": Prop(),
        "name": Prop(),
        "aclId": Prop(),
        "description": Prop(),
        "createdBy": Prop(),
        "color": Prop(stored=False),
        "sortOrder": Prop(stored=False),
        "isVisible": Prop(stored=False),
        "isSubscribed": Prop(stored=False),
        "syncToDevice": Prop(stored=False),
        "groups": Prop(default=lambda ctx: []),
        "projectId": Prop(),
        "groupingId": Prop(),
    }
    _user_props = _LIST_USER_PROPS

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "role": lambda c, r, v: r.get("role") == v,
            "text": lambda c, r, v: text_filter(r.get("name"), f"%{v}%"),
            "isSubscribed": lambda c, r, v: bool(self._user(c, r).get("isSubscribed")) == bool(v),
            "projectId": lambda c, r, v: id_filter(r.get("projectId"), v),
            "createdBy": lambda c, r, v: id_filter(r.get("createdBy"), v),
            "permissionLevel": lambda c, r, v: self.permission_level(c, r) >= int(v),
        }

    def sort_key(self, ctx: Context, prop: str) -> SortKey | None:
        if prop == "group":
            return lambda c, r: (c.store.get("TaskListGrouping", r.get("groupingId")) or {}).get(
                "name"
            )
        return super().sort_key(ctx, prop)

    def _user(self, ctx: Context, record: Record) -> dict[str, Any]:
        return _list_user(ctx, record)

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        if prop in self._user_props:
            # A user without a tasks_tasklist_user row reads nulls, colour included (16 #14).
            return self._user(ctx, record).get(prop)
        return super().read_property(ctx, record, prop)

    def permission_level(self, ctx: Context, record: Record) -> int:
        return ctx.acl_level(record.get("acl"))

    def can_create(self, ctx: Context, record: Record) -> bool:
        return ctx.has_right("community", "tasks", "mayChangeTasklists")

    def can_update(self, ctx: Context, record: Record, changes: dict[str, Any]) -> bool:
        level = self.permission_level(ctx, record)
        if set(changes) <= set(self._user_props):
            return level >= acl.READ
        if "acl" in changes and level < acl.MANAGE:
            return False
        return level >= acl.WRITE

    def can_destroy(self, ctx: Context, record: Record) -> bool:
        return (
            ctx.has_right("community", "tasks", "mayChangeTasklists")
            and self.permission_level(ctx, record) >= acl.DELETE
        )

    def differs(self, key: str, actual: Any, expected: Any) -> bool:
        # An empty ``acl`` is a PHP object, never identical to another: it is reported even
        # when nothing changed it (05 #4: ``updated`` {"acl": {}, "groupingId": 3}).
        if key == "acl" and not actual:
            return True
        return super().differs(key, actual, expected)

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        uid = str(ctx.user_id)
        per_user = record.get("userProps")
        if per_user is None:  # seeded flat: the creator's values become his row
            per_user = {uid: _list_user(ctx, record)} if _list_user(ctx, record) else {}
            record["userProps"] = per_user
        if not new and uid not in per_user:
            # Saving a list writes the caller's tasks_tasklist_user row with its defaults: the
            # admin's acl patch of another user's list echoes a colour and false flags and
            # moves the per-user modseq (groupoffice-wire 17 #12).
            per_user[uid] = {
                "color": f"{random.randrange(0, 0xFFFFFF):06x}",
                "isVisible": False,
                "isSubscribed": False,
                "syncToDevice": False,
                "sortOrder": None,
            }
            ctx.extra[_NEW_USER_ROW] = True
        user = per_user.setdefault(uid, {})
        for key, value in values.items():
            if key in self._user_props:
                user[key] = value
            elif key == "role":
                if value in ROLES:  # the setter's error is cleared by validate() (04)
                    record["role"] = value
            elif key == "acl":
                record["acl"] = acl.merge_acl(record.get("acl") if not new else {}, value)
                if not new:
                    record[_ACL_SAVED] = True  # read (and dropped) by has_changed
            elif key == "groupingId":
                record["groupingId"] = int(value) if value not in (None, "") else None
            elif key == "createdBy":
                record["createdBy"] = int(value) if value is not None else None
            elif key in ("permissionLevel", "aclId", "id"):
                continue
            else:
                record[key] = value

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        if not record.get("name"):
            return {"name": {"code": REQUIRED, "description": "Property is required"}}
        return {}

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None:
            record["aclId"] = int(ctx.store.next_id("acl"))
            if record.get("createdBy") is None:
                record["createdBy"] = int(ctx.uid)
        # Every save of the ACL puts the ACL owner's (the creator's) personal group back at
        # MANAGE, unless the owner is the super admin: a patch that removes or lowers it is
        # answered ``updated`` and changes nothing, whoever sends it (groupoffice-wire 17 #10-#12).
        owner = ctx.store.get("User", record.get("createdBy"))
        group = (owner or {}).get("personalGroup")
        if owner is not None and str(owner["id"]) != acl.ADMIN_USER and group is not None:
            record.setdefault("acl", {})[str(group)] = acl.MANAGE
        if old is None:
            color = f"{random.randrange(0, 0xFFFFFF):06x}"
            user = record.setdefault("userProps", {}).setdefault(str(ctx.user_id), {})
            user.setdefault("color", color)
            user.setdefault("isSubscribed", True)
            user.setdefault("isVisible", True)
            user.setdefault("syncToDevice", False)
            user.setdefault("sortOrder", None)
        # The global ACL modseq moves when ACL rows change: a list created with an acl moves
        # it (04 #0: …:63 -> …:64), the admin's list without one does not (04 #8, #10).
        if ((old or {}).get("acl") or {}) != (record.get("acl") or {}):
            ctx.store.bump_acl()

    def after_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None or ctx.extra.pop(_NEW_USER_ROW, False):
            # The creator's tasks_tasklist_user row (04 #0: newState "…:17:675:64").
            self.touch_user_row(ctx, str(record["id"]))

    def update_one(self, ctx: Context, id_: str, patch: dict[str, Any]) -> Record | None:
        try:
            return super().update_one(ctx, id_, patch)
        finally:
            ctx.extra.pop(_NEW_USER_ROW, None)

    def has_changed(self, new: Record, old: Record) -> bool:
        # An acl patch saves the list and moves its state even when the ACL stays as it was
        # (groupoffice-wire 17 #11, #12: the owner's group put back at MANAGE).
        return bool(new.pop(_ACL_SAVED, False)) or super().has_changed(new, old)


class TaskListGroupingHandler(EntityHandler):
    name = "TaskListGrouping"
    model_class = "go\\modules\\community\\tasks\\model\\TaskListGrouping"
    controller_class = "go\\modules\\community\\tasks\\controller\\TaskListGrouping"
    module = ("community", "tasks")
    default_filters = {"role": "list"}
    props = {
        "role": Prop(default="list"),
        "permissionLevel": Prop(stored=False),
        "id": Prop(),
        "name": Prop(),
    }

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "role": lambda c, r, v: r.get("role") == v,
            "text": lambda c, r, v: text_filter(r.get("name"), f"%{v}%"),
        }

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            if key == "role":
                if value in ROLES:
                    record["role"] = value
            elif key not in ("id", "permissionLevel"):
                record[key] = value

    def after_destroy(self, ctx: Context, record: Record) -> None:
        lists = ctx.handler("TaskList")
        for tl in list(ctx.store.all("TaskList")):
            if str(tl.get("groupingId")) == str(record["id"]):
                old = ctx.store.snapshot(tl)
                tl["groupingId"] = None
                lists.save(ctx, tl, old)


class TaskCategoryHandler(EntityHandler):
    name = "TaskCategory"
    model_class = "go\\modules\\community\\tasks\\model\\Category"
    controller_class = "go\\modules\\community\\tasks\\controller\\Category"
    module = ("community", "tasks")
    default_filters = {"role": "list"}
    props = {
        "role": Prop(default="list"),
        "permissionLevel": Prop(stored=False),
        "id": Prop(),
        "name": Prop(),
        "ownerId": Prop(default=lambda ctx: int(ctx.uid) if ctx.user_id else None),
        "tasklistId": Prop(),
    }

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "role": lambda c, r, v: r.get("role") == v,
            "text": lambda c, r, v: text_filter(r.get("name"), v),
            "tasklistId": lambda c, r, v: id_filter(r.get("tasklistId"), v),
            # ownerId also forces tasklistId IS NULL: a per-list category is not personal (06 #4)
            "ownerId": lambda c, r, v: (
                id_filter(r.get("ownerId"), v) and r.get("tasklistId") is None
            ),
            "global": lambda c, r, v: (r.get("ownerId") is None and r.get("tasklistId") is None)
            == bool(v),
        }

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            if key == "role":
                if value in ROLES:
                    record["role"] = value
            elif key in ("ownerId", "tasklistId"):
                record[key] = int(value) if value not in (None, "") else None
            elif key not in ("id", "permissionLevel"):
                record[key] = value

    def permission_level(self, ctx: Context, record: Record) -> int:
        if record.get("tasklistId") is not None:
            tl = ctx.store.get("TaskList", record["tasklistId"])
            level = ctx.acl_level(tl.get("acl") if tl else None)
            return acl.DELETE if level >= acl.MANAGE else acl.READ
        if record.get("ownerId") is None:
            may = ctx.has_right("community", "tasks", "mayChangeCategories")
            return acl.MANAGE if may else acl.READ
        own = str(record["ownerId"]) == str(ctx.user_id)
        return acl.MANAGE if own or ctx.is_admin else acl.READ

    def can_create(self, ctx: Context, record: Record) -> bool:
        return self.permission_level(ctx, record) > acl.READ

    def query_applies_acl(self) -> bool:
        return False

    def created_diff(self, ctx: Context, record: Record, sent: dict[str, Any]) -> Record:
        out = super().created_diff(ctx, record, sent)
        # The default owner is go()->getUserId(), a string, until the category is read back
        # from the database: ``created`` shows "1", ``get`` shows 1 (06 #2, #3).
        if "ownerId" not in sent and out.get("ownerId") is not None:
            out["ownerId"] = str(out["ownerId"])
        return out

    def after_destroy(self, ctx: Context, record: Record) -> None:
        # The category vanishes from tasks by a database cascade, without a change-log entry.
        for task in list(ctx.store.all("Task")):
            cats = task.get("categories") or []
            if str(record["id"]) in cats:
                task["categories"] = [c for c in cats if c != str(record["id"])]
                ctx.store.put("Task", task)


_LIST_MEMO = "tasks.list_facts"


@dataclass
class _ListFacts:
    record: Record | None
    visible: bool
    level: int
    subscribed: bool | None = None  # computed when a query asks


def _uid(ctx: Context) -> str:
    return str(uuid.uuid4())


class TaskHandler(EntityHandler):
    name = "Task"
    model_class = "go\\modules\\community\\tasks\\model\\Task"
    controller_class = "go\\modules\\community\\tasks\\controller\\Task"
    module = ("community", "tasks")
    acl_state = True
    default_filters = {"tasklistId": "subscribedOnly"}
    props = {
        "recurrenceRule": Prop(),
        "progress": Prop(default="needs-action"),
        "timeBooked": Prop(default=0, readonly=True),
        "uid": Prop(),
        "uri": Prop(),
        "permissionLevel": Prop(stored=False),
        "customFields": Prop(stored=False),
        "id": Prop(),
        "tasklistId": Prop(),
        "responsibleUserId": Prop(),
        "groupId": Prop(),
        "projectId": Prop(),
        "mileStoneId": Prop(),
        "createdBy": Prop(readonly=True),
        "createdAt": Prop(readonly=True),  # ignored on create (groupoffice-wire 18 #1)
        "modifiedAt": Prop(readonly=True),
        "modifiedBy": Prop(readonly=True),
        "filesFolderId": Prop(),
        "due": Prop(),
        "start": Prop(),
        "estimatedDuration": Prop(),
        "progressUpdated": Prop(),
        "title": Prop(),
        "description": Prop(),
        "location": Prop(),
        "categories": Prop(default=lambda ctx: []),
        "color": Prop(),
        "startTime": Prop(),
        "latitude": Prop(),
        "longitude": Prop(),
        "priority": Prop(default=0),
        "freeBusyStatus": Prop(default="free"),
        "privacy": Prop(default="public"),
        "percentComplete": Prop(default=0),
        "alerts": Prop(),
        "vcalendarBlobId": Prop(),
        "group": Prop(),
        "attachments": Prop(writeonly=True),
    }

    # -- visibility and permissions -----------------------------------------------------------

    def _list(self, ctx: Context, record: Record) -> Record | None:
        return self._facts(ctx, record).record

    def _facts(self, ctx: Context, record: Record) -> _ListFacts:
        """What a task's list says about it; memoised while one Task/query runs."""
        memo: dict[Any, _ListFacts] | None = ctx.extra.get(_LIST_MEMO)
        key = record.get("tasklistId")
        if memo is not None and key in memo:
            return memo[key]
        tl = ctx.store.get("TaskList", key)
        facts = _ListFacts(
            record=tl,
            # tasks in support lists are hidden from Task entirely (04 #9)
            visible=tl is not None and tl.get("role") != "support",
            level=ctx.acl_level(tl.get("acl") if tl else None),
        )
        if memo is not None:
            memo[key] = facts
        return facts

    def visible(self, ctx: Context, record: Record) -> bool:
        return self._facts(ctx, record).visible

    def permission_level(self, ctx: Context, record: Record) -> int:
        return self._facts(ctx, record).level

    def query(self, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        ctx.extra[_LIST_MEMO] = {}
        try:
            return super().query(ctx, args)
        finally:
            ctx.extra.pop(_LIST_MEMO, None)

    computed = frozenset({"customFields", "permissionLevel"})

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        if prop == "customFields":
            return customfields.values_for(ctx, "Task", record)
        return super().read_property(ctx, record, prop)

    # -- filters and sorting ------------------------------------------------------------------

    def filters(self) -> dict[str, FilterFn]:
        def tasklist(c: Context, r: Record, v: Any) -> bool:
            # The default "subscribedOnly": a writer who is not subscribed gets [] (08 #16).
            if v in (None, "", "subscribedOnly"):
                facts = self._facts(c, r)
                if facts.subscribed is None:
                    tl = facts.record
                    facts.subscribed = tl is not None and bool(
                        _list_user(c, tl).get("isSubscribed")
                    )
                return facts.subscribed
            if v == "any":
                return True
            return id_filter(r.get("tasklistId"), v)

        return {
            **super().filters(),
            "tasklistId": tasklist,
            "role": lambda c, r, v: (self._list(c, r) or {}).get("role") == v,
            "categories": lambda c, r, v: any_id_in(r.get("categories"), v),
            "responsibleUserId": lambda c, r, v: id_filter(r.get("responsibleUserId"), v),
            "progress": lambda c, r, v: r.get("progress") in (v if isinstance(v, list) else [v]),
            "complete": lambda c, r, v: (r.get("progress") == "completed") == bool(v),
            "percentComplete": lambda c, r, v: number_filter(r.get("percentComplete"), v),
            "start": lambda c, r, v: date_filter(r.get("start"), v),
            "due": lambda c, r, v: date_filter(r.get("due"), v),
            "progressUpdated": lambda c, r, v: date_filter(r.get("progressUpdated"), v),
            "scheduled": lambda c, r, v: (r.get("start") is not None) == bool(v),
            "title": lambda c, r, v: text_filter(r.get("title"), v),
            "projectId": lambda c, r, v: id_filter(r.get("projectId"), v),
            "text": self._text_filter,
            "createdBy": lambda c, r, v: self._user_filter(c, r.get("createdBy"), v),
            "modifiedBy": lambda c, r, v: self._user_filter(c, r.get("modifiedBy"), v),
            "createdByMe": lambda c, r, v: str(r.get("createdBy")) == str(c.user_id),
            "createdAt": lambda c, r, v: date_filter(r.get("createdAt"), v),
            "modifiedAt": lambda c, r, v: date_filter(r.get("modifiedAt"), v),
            "commentedAt": lambda c, r, v: date_filter(self._commented_at(c, r), v),
            "comment": lambda c, r, v: any(
                text_filter(cm.get("text"), v) for cm in self._comments(c, r)
            ),
            "permissionLevel": lambda c, r, v: self.permission_level(c, r) >= int(v),
        }

    def dynamic_filter(self, ctx: Context, name: str) -> FilterFn | None:
        return customfields.filter_for(ctx, "Task", name)

    def get(self, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        result = super().get(ctx, args)
        properties = args.get("properties") or []
        if isinstance(properties, list) and any(p not in self.props for p in properties):
            # A property the entity does not have (commentedAt, a typo) is no error: every id
            # comes back under notFound (groupoffice-wire 18 #2).
            result["notFound"] = [*(r["id"] for r in result["list"]), *result["notFound"]]
            result["list"] = []
        return result

    def sort_key(self, ctx: Context, prop: str) -> SortKey | None:
        custom = customfields.sort_key_for(ctx, "Task", prop)
        if custom is not None:
            return custom
        if prop == "commentedAt":
            # commentedAt is a filter (a subquery), not a column: sorting by it is a database
            # error on Group-Office (groupoffice-wire 18 #5).
            raise db_exception()
        if prop == "progress":
            return lambda c, r: PROGRESS.index(r.get("progress", "needs-action"))
        if prop == "tasklist":
            return lambda c, r: (self._list(c, r) or {}).get("name")
        if prop == "responsible":
            return lambda c, r: (c.store.get("User", r.get("responsibleUserId")) or {}).get(
                "displayName"
            )
        if prop == "creator":
            return lambda c, r: (c.store.get("User", r.get("createdBy")) or {}).get("displayName")
        return super().sort_key(ctx, prop)

    def _text_filter(self, ctx: Context, record: Record, value: Any) -> bool:
        words = str(value).lower().split()
        haystack = " ".join(
            str(x)
            for x in (record.get("title"), record.get("description"), record.get("id"))
            if x
        ).lower()
        keywords = haystack.replace("<", " ").replace(">", " ").split()
        return all(any(k.startswith(w) for k in keywords) for w in words)

    @staticmethod
    def _user_filter(ctx: Context, value: Any, query: Any) -> bool:
        queries = query if isinstance(query, list) else [query]
        for q in queries:
            q = str(ctx.user_id) if q == "{{me}}" else q
            if str(q).isdigit():
                if str(value) == str(q):
                    return True
            else:
                user = ctx.store.get("User", value)
                if user and text_filter(user.get("displayName"), q):
                    return True
        return False

    def _comments(self, ctx: Context, record: Record) -> list[Record]:
        return [
            c
            for c in ctx.store.find_by("Comment", "entityId", record["id"])
            if c.get("entity", "Task") == "Task"
        ]

    def _commented_at(self, ctx: Context, record: Record) -> Any:
        return record.get("commentedAt")

    # -- writing ------------------------------------------------------------------------------

    def new_record(self, ctx: Context) -> Record:
        record = super().new_record(ctx)
        record["customFields"] = {}
        return record

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            spec = self.props[key]
            if key == "customFields":
                customfields.merge_values(ctx, "Task", record, value)
            elif key == "progress":
                if value in PROGRESS:  # the setter's error is cleared by validate() (08)
                    record["progress"] = value
            elif key in ("tasklistId", "responsibleUserId") and value is not None:
                record[key] = str(value)
            elif key == "categories":
                record[key] = [str(v) for v in value or []]
            elif spec.readonly or not spec.stored or spec.writeonly:
                continue
            else:
                record[key] = value

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        errors: dict[str, dict[str, Any]] = {}
        if not record.get("tasklistId"):
            errors["tasklistId"] = {"code": REQUIRED, "description": "Property is required"}
        # Required by presence only: an empty title is accepted on create and on update, a
        # create without one is refused (groupoffice-wire 17 #7, #8).
        if record.get("title") is None:
            errors["title"] = {"code": REQUIRED, "description": "Property is required"}
        return errors

    def check_create(self, ctx: Context, record: Record) -> None:
        if record.get("tasklistId") and ctx.store.get("TaskList", record["tasklistId"]) is None:
            ctx.store.next_id("Task")  # the failed insert uses up an id (16)
            raise db_exception()
        if record.get("tasklistId"):
            super().check_create(ctx, record)

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        """``Task::internalSave``: progress and percentComplete rules, then the timestamps."""
        now = now_iso()
        if old is None:
            if not record.get("uid"):
                record["uid"] = _uid(ctx)
            if not record.get("uri"):
                record["uri"] = record["uid"] + ".ics"
            record["createdBy"] = str(ctx.uid)
            record["createdAt"] = now
        # completed forces 100 %, but going back leaves 100 (08 #4, #5)
        if record.get("progress") == "completed":
            record["percentComplete"] = 100
        # a changed percentComplete: 100 completes, > 0 starts a needs-action task (08 #9)
        if (old or {}).get("percentComplete", 0) != record.get("percentComplete"):
            pct = record.get("percentComplete") or 0
            if pct == 100:
                record["progress"] = "completed"
            elif pct > 0 and record.get("progress") == "needs-action":
                record["progress"] = "in-progress"
        # A changed responsibleUserId resets progress unless progress changed value: a patch
        # that repeats the current progress does not count, also when a comment hook earlier in
        # the request set it (08 #10; groupoffice-wire 17 #14, #15, #18, #19).
        if (
            old is not None
            and old.get("responsibleUserId") != record.get("responsibleUserId")
            and not ctx.extra.get("progress_changed")
        ):
            record["progress"] = "needs-action"
        if (old or {}).get("progress", "needs-action") != record.get("progress"):
            record["progressUpdated"] = now  # 08 #3
        # Only a save that changes something touches modifiedAt: an ignored progress value
        # leaves the state where it was (08 #8).
        if old is None or self.has_changed(record, old):
            record["modifiedAt"] = now
            record["modifiedBy"] = str(ctx.uid)

    def after_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None:
            # The creator's tasks_task_user row: newState "…:2:730:7" (08 #1), and the ids
            # under ``changed`` a second time in Task/changes (08 #18).
            self.touch_user_row(ctx, str(record["id"]))

    def update_one(self, ctx: Context, id_: str, patch: dict[str, Any]) -> Record | None:
        current = ctx.store.get("Task", id_) or {}
        ctx.extra["progress_changed"] = (
            patch.get("progress") in PROGRESS and patch["progress"] != current.get("progress")
        )
        try:
            return super().update_one(ctx, id_, patch)
        finally:
            ctx.extra.pop("progress_changed", None)

    def create_one(self, ctx: Context, values: dict[str, Any]) -> Record:
        result = super().create_one(ctx, values)
        tl = ctx.store.get("TaskList", values.get("tasklistId"))
        if tl is not None and tl.get("role") == "support":
            raise MethodError("notFound", "Item was created but not found?")
        return result

    def on_comment_added(self, ctx: Context, task: Record, author: str) -> None:
        """``Task::onCommentAdded`` (09, 16): auto-assign an agent, then move progress.

        - someone other than the task's creator who comments on an unassigned task becomes its
          responsible user if the list gives them WRITE (09 #9, #13), a READ user not (09 #16);
          the author is always the caller, ``createdBy`` being ignored (16 #27);
        - progress becomes in-progress when the author is the responsible user and the task has
          more than one comment, the new one included (09 #10; 16 #20, #28: assigned and
          in-progress in one step), needs-action otherwise, the creator's comments too (09 #11,
          16 #29);
        - ``modifiedAt`` is set to now and the task saved. Like every save, nothing is written
          when no column differs at second precision (09 #16: a reader's comment in the second
          the task was created keeps modifiedBy "1" and the Task state), but the save listener
          still reports the task to a Comment/set that follows a Task/set in the request (09 #1).

        The comments are counted through the store's index, not by a scan (1,000 comments on
        1,000 tasks in one call).
        """
        from .comments import comments_of, newest_date

        old = dict(task)  # shallow is enough: only top-level values change below
        if (
            str(task.get("createdBy")) != author
            and not task.get("responsibleUserId")
            and author.isdigit()
            and self.permission_level(ctx, task) >= acl.WRITE
        ):
            task["responsibleUserId"] = author
        comments = comments_of(ctx.store, "Task", task["id"])  # once for both below
        count = len(comments)
        if str(task.get("responsibleUserId")) == author and count > 1:
            task["progress"] = "in-progress"
        else:
            task["progress"] = "needs-action"
        now = now_iso()
        task["modifiedAt"] = now
        # what the commentedAt filter compares: MAX(comment.date), a backdated date too
        # (09 #19; groupoffice-wire 18 #5)
        task["commentedAt"] = newest_date(comments)
        if _without(task, "commentedAt") != _without(old, "commentedAt"):
            if task.get("progress") != old.get("progress"):
                task["progressUpdated"] = now
            task["modifiedBy"] = author
            self.save(ctx, task, old)
        else:
            ctx.store.put("Task", task)
            ctx.saved(self, task, created=False)


def _without(record: Record, key: str) -> Record:
    copy = dict(record)
    copy.pop(key, None)
    return copy


def register(registry: Registry) -> None:
    registry.add(TaskListHandler())
    registry.add(TaskListGroupingHandler())
    registry.add(TaskCategoryHandler())
    registry.add(TaskHandler())
