"""The comments module: ``Comment`` and ``CommentLabel`` (09, 10, 16).

Comments inherit permissions from the entity they are on; ``Comment/query`` applies no ACL (16);
a query without a ``section`` filter only returns comments without a section (09); scripts and
``on*`` attributes are stripped while a ``javascript:`` link is refused (09); every new comment
on a task runs the task's ``onCommentAdded`` hook.
"""

from __future__ import annotations

import re
from typing import Any

from .. import acl
from ..context import Context
from ..defaults import ENTITY_TYPE_IDS
from ..entity import EntityHandler, FilterFn, Prop
from ..errors import INVALID_INPUT, MALFORMED, REQUIRED, db_exception, forbidden
from ..filters import date_filter, id_filter, now_iso, text_filter
from ..registry import Registry
from ..store import Record

MAIL_STATUSES = ("received", "pending", "sent", "senderror")

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_EVENT_ATTR = re.compile(r"\s+on[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.IGNORECASE)
_JS_URL = re.compile(r"javascript\s*:", re.IGNORECASE)


def sanitize(html: str) -> str:
    return _EVENT_ATTR.sub("", _SCRIPT.sub("", html))


class CommentHandler(EntityHandler):
    name = "Comment"
    model_class = "go\\modules\\community\\comments\\model\\Comment"
    controller_class = "go\\modules\\community\\comments\\controller\\Comment"
    module = ("community", "comments")
    acl_state = True
    default_filters = {"section": None}
    props = {
        "entity": Prop(),
        "permissionLevel": Prop(stored=False),
        "attachments": Prop(default=lambda ctx: []),
        "id": Prop(),
        "text": Prop(),
        "entityId": Prop(),
        "entityTypeId": Prop(),
        "createdAt": Prop(readonly=True),
        "modifiedAt": Prop(readonly=True),
        "createdBy": Prop(readonly=True),
        "modifiedBy": Prop(readonly=True),
        "date": Prop(),
        "validateXSS": Prop(stored=False),
        "labels": Prop(default=lambda ctx: []),
        "section": Prop(),
        "mimeMessageId": Prop(),
        "mailStatus": Prop(),
    }

    def _parent(self, ctx: Context, record: Record) -> tuple[EntityHandler, Record] | None:
        entity = record.get("entity") or "Task"
        handler = ctx.registry.find_entity(entity)
        if handler is None:
            return None
        parent = handler.find(ctx, record.get("entityId"))
        return (handler, parent) if parent is not None else None

    def permission_level(self, ctx: Context, record: Record) -> int:
        if ctx.is_admin:
            return acl.MANAGE
        found = self._parent(ctx, record)
        if found is None:
            return 0
        handler, parent = found
        level = handler.permission_level(ctx, parent)
        if level <= 0:
            return 0
        if str(record.get("createdBy")) == str(ctx.user_id):
            return acl.MANAGE
        return acl.CREATE

    def can_create(self, ctx: Context, record: Record) -> bool:
        found = self._parent(ctx, record)
        return found is not None and found[0].permission_level(ctx, found[1]) > 0

    def query_applies_acl(self) -> bool:
        return False

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        if prop == "validateXSS":
            return True
        return super().read_property(ctx, record, prop)

    def filters(self) -> dict[str, FilterFn]:
        return {
            **super().filters(),
            "entityId": lambda c, r, v: id_filter(r.get("entityId"), v),
            "entity": lambda c, r, v: r.get("entity") == v,
            "section": lambda c, r, v: r.get("section") == v,
            "text": lambda c, r, v: text_filter(r.get("text"), f"%{v}%"),
            "createdAt": lambda c, r, v: date_filter(r.get("createdAt"), v),
            "modifiedAt": lambda c, r, v: date_filter(r.get("modifiedAt"), v),
            "createdBy": lambda c, r, v: id_filter(r.get("createdBy"), v),
        }

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            spec = self.props[key]
            if spec.readonly or key in ("permissionLevel", "id"):
                continue
            if key == "validateXSS":
                ctx.extra["validateXSS"] = bool(value)
            elif key == "entity":
                record["entity"] = value
                record["entityTypeId"] = ENTITY_TYPE_IDS.get(str(value))
            elif key == "entityId":
                record["entityId"] = str(value) if value is not None else None
            elif key == "labels":
                record["labels"] = [str(v) for v in value or []]
            elif key == "attachments":
                record["attachments"] = [dict(a) for a in value or []]
            else:
                record[key] = value

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        errors: dict[str, dict[str, Any]] = {}
        if not record.get("entityId"):
            errors["entityId"] = {"code": REQUIRED, "description": "Property is required"}
        status = record.get("mailStatus")
        if status is not None and status not in MAIL_STATUSES:
            errors["mailStatus"] = {
                "code": MALFORMED,
                "description": f"Invalid value ({status}) for "
                "ENUM('RECEIVED','PENDING','SENT','SENDERROR')",
            }
        text = record.get("text") or ""
        if _JS_URL.search(text):
            errors["text"] = {
                "code": INVALID_INPUT,
                "description": "You're not allowed to use scripts in the content",
            }
        return errors

    def check_create(self, ctx: Context, record: Record) -> None:
        if not self.can_create(ctx, record):
            raise forbidden()

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        now = now_iso()
        record["text"] = sanitize(record.get("text") or "")
        for label in record.get("labels") or []:
            if ctx.store.get("CommentLabel", label) is None:
                raise db_exception()
        for attachment in record.get("attachments") or []:
            if ctx.store.get_blob(str(attachment.get("blobId"))) is None:
                raise db_exception()
        if old is None:
            record["createdAt"] = now
            record["createdBy"] = str(ctx.uid)
            if not record.get("date"):
                record["date"] = now
            if record.get("entity") is None:
                record["entity"] = "Task"
                record["entityTypeId"] = ENTITY_TYPE_IDS["Task"]
        record["modifiedAt"] = now
        record["modifiedBy"] = str(ctx.uid)

    def insert(self, ctx: Context, record: Record) -> None:
        counter = ctx.store.meta.counters.get("CommentAttachment", 1)
        for attachment in record.get("attachments") or []:
            if "id" not in attachment:
                attachment["id"] = counter
                counter += 1
            attachment["commentId"] = str(record["id"])
        ctx.store.meta.counters["CommentAttachment"] = counter

    def after_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is None and record.get("entity") == "Task":
            tasks = ctx.handler("Task")
            task = tasks.find(ctx, record.get("entityId"))
            if task is not None:
                tasks.on_comment_added(ctx, task, str(ctx.uid))  # type: ignore[attr-defined]


class CommentLabelHandler(EntityHandler):
    name = "CommentLabel"
    model_class = "go\\modules\\community\\comments\\model\\Label"
    controller_class = "go\\modules\\community\\comments\\controller\\Label"
    module = ("community", "comments")
    props = {
        "permissionLevel": Prop(stored=False),
        "id": Prop(),
        "name": Prop(),
        "color": Prop(default="243a80"),
        "createdBy": Prop(readonly=True),
    }

    def filters(self) -> dict[str, FilterFn]:
        return {**super().filters(), "text": lambda c, r, v: text_filter(r.get("name"), f"%{v}%")}

    def can_create(self, ctx: Context, record: Record) -> bool:
        return True

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        if not record.get("name"):
            return {"name": {"code": REQUIRED, "description": "Property is required"}}
        return {}

    def after_destroy(self, ctx: Context, record: Record) -> None:
        # A database cascade: comments lose the label without a change-log entry (16).
        for comment in list(ctx.store.all("Comment")):
            if str(record["id"]) in (comment.get("labels") or []):
                comment["labels"] = [x for x in comment["labels"] if x != str(record["id"])]
                ctx.store.put("Comment", comment)


def register(registry: Registry) -> None:
    registry.add(CommentHandler())
    registry.add(CommentLabelHandler())
