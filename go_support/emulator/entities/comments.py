"""The comments module: ``Comment`` and ``CommentLabel`` (09, 10, 16).

Behaviour of the recorded server (``go\\modules\\community\\comments``) kept on purpose:

- permissions come from the entity commented on: admins MANAGE, the author MANAGE, anyone else
  who can read the parent CREATE (can read, cannot edit or delete: 09 #17); creating needs any
  level on the parent (a READ user may comment: 09 #16); no access at all is ``notFound`` on
  get and update and ``forbidden`` on create (16 #22, #23);
- ``Comment/query`` applies no ACL (16 #22, #23) and, without a ``section`` filter, only returns
  comments whose section is null (09 #3); the default order is ``date`` ascending;
- ``text`` is sanitised (scripts, ``on*`` attributes, … removed silently) and what remains is
  checked for XSS (a ``javascript:`` link: code 10), ``validateXSS: false`` only skips the check
  and always reads back ``true`` (09 #5, #6); the sanitiser and the check are
  :mod:`go_support.htmlrules` (``StringUtil::sanitizeHtml`` and ``detectXSS``, quirks included),
  which the desk uses as well;
- ``mailStatus`` is an enum column (code 2, 09 #2), ``date`` is writable (09 #1), ``createdBy``
  is ignored (16 #27);
- ``labels`` are label ids as strings, replaced wholesale (16 #6, #7); attachments have integer
  ids and a string ``commentId`` (10 #5); an unknown label or blob is a database error for the
  whole call that still uses up the comment id (16 #9, #18; 10 #7);
- every new comment runs the parent's ``onCommentAdded`` hook (tasks: ``TaskHandler``).
"""

from __future__ import annotations

import html
import re
from datetime import UTC
from typing import Any

from go_support.htmlrules import detect_xss, sanitize

from .. import acl
from ..context import Context
from ..defaults import ENTITY_TYPE_IDS
from ..entity import EntityHandler, FilterFn, Prop, SortKey
from ..errors import (
    INVALID_INPUT,
    MALFORMED,
    REQUIRED,
    MethodError,
    db_exception,
)
from ..filters import date_filter, id_filter, now_iso, parse_iso, text_filter
from ..registry import Registry
from ..store import Record, Store

MODEL = "go\\modules\\community\\comments\\model\\Comment"
ATTACHMENT_MODEL = "go\\modules\\community\\comments\\model\\CommentAttachment"
LABEL_MODEL = "go\\modules\\community\\comments\\model\\Label"

MAIL_STATUSES = ("received", "pending", "sent", "senderror")
# The column type as the validator prints it (09 #2).
MAIL_STATUS_TYPE = "ENUM('RECEIVED','PENDING','SENT','SENDERROR')"
ATTACHMENT_KEYS = ("id", "commentId", "blobId", "name")

# -- the comments of an entity (an index, not a scan: 1,000 comments must stay fast) ---------


def comments_of(store: Store, entity: str, entity_id: Any) -> list[Record]:
    """Comments on one entity, every section, in id order (``Comment::findForEntity``)."""
    return [
        c
        for c in store.find_by("Comment", "entityId", str(entity_id))
        if (c.get("entity") or "Task") == entity
    ]


def newest_date(comments: list[Record]) -> str | None:
    """The newest ``date`` of these comments (None: none has one)."""
    dates = [str(c["date"]) for c in comments if c.get("date")]
    return max(dates, key=parse_iso) if dates else None


def _user_is(ctx: Context, value: Any, query: Any) -> bool:
    """The text-typed ``createdBy``/``modifiedBy`` filters: ids, ``{{me}}`` or a display name."""
    queries = query if isinstance(query, list) else [query]
    queries = [ctx.user_id if q == "{{me}}" else q for q in queries]
    if queries and str(queries[0]).isdigit():
        return any(str(value) == str(q) for q in queries)
    user = ctx.store.get("User", value)
    return user is not None and text_filter(user.get("displayName"), queries)


def _ci_equal(value: Any, query: Any) -> bool:
    """``column = value`` (``IN`` for a list, ``IS NULL`` for null) under a _ci collation."""
    if isinstance(query, list):
        return any(_ci_equal(value, q) for q in query)
    if query is None or value is None:
        return query is None and value is None
    return str(value).lower() == str(query).lower()


def _search_words(ctx: Context, record: Record, query: Any) -> bool:
    """The ``text`` filter goes through the search index: each word prefixes a keyword."""
    words = " ".join(query if isinstance(query, list) else [str(query)]).lower().split()
    plain = re.sub(r"<[^>]*>", " ", html.unescape(str(record.get("text") or ""))).lower()
    keywords = re.findall(r"\w+", plain)
    return all(any(k.startswith(w) for k in keywords) for w in re.findall(r"\w+", " ".join(words)))


class CommentHandler(EntityHandler):
    name = "Comment"
    model_class = MODEL
    controller_class = "go\\modules\\community\\comments\\controller\\Comment"
    module = ("community", "comments")
    acl_state = True
    default_filters = {"section": None}  # a query without section: section IS NULL (09 #3)
    # Seen on the real server (tests/emulator/test_live_rules.py): `entityId: []` is refused,
    # while Task/query takes `tasklistId: []` and answers no ids.
    in_filters_refusing_empty = frozenset({"entityid"})
    indexed_filters = frozenset({"entityid"})  # a task's comments: the store's index
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
        "createdBy": Prop(readonly=True),  # ignored on create, even by an admin (16 #27)
        "modifiedBy": Prop(readonly=True),
        "date": Prop(),
        "validateXSS": Prop(stored=False),
        "labels": Prop(default=lambda ctx: []),
        "section": Prop(),
        "mimeMessageId": Prop(),
        "mailStatus": Prop(),
    }

    # -- the parent entity --------------------------------------------------------------------

    def parent(self, ctx: Context, record: Record) -> tuple[EntityHandler, Record | None] | None:
        """``findEntity()``: the handler (None: unknown entity type) and the parent record."""
        entity = record.get("entity")
        handler = ctx.registry.find_entity(str(entity)) if entity else None
        if handler is None:
            return None
        return handler, handler.find(ctx, record.get("entityId"))

    def permission_level(self, ctx: Context, record: Record) -> int:
        """``Comment::internalGetPermissionLevel`` (09 #2, #16, #17; 16 #22)."""
        if ctx.is_admin:
            return acl.MANAGE
        new = record.get("id") is None
        if not new and str(record.get("createdBy")) == str(ctx.user_id):
            return acl.MANAGE
        found = self.parent(ctx, record)
        if found is None:
            if new:  # PHP calls a method on the missing entity type
                raise MethodError("error", "Call to a member function getClassName() on null")
            return 0
        handler, parent = found
        if parent is None:
            if new:  # ... or on the missing parent
                raise MethodError(
                    "error", "Call to a member function getPermissionLevel() on null"
                )
            return 0
        level = handler.permission_level(ctx, parent)
        if new:
            return acl.WRITE if level > 0 else 0
        return acl.CREATE if level >= acl.READ else 0

    def can_create(self, ctx: Context, record: Record) -> bool:
        return self.permission_level(ctx, record) >= acl.CREATE

    def query_applies_acl(self) -> bool:
        return False  # Comment::applyAclToQuery() returns the query as is (16 #22, #23)

    computed = frozenset({"validateXSS", "attachments", "permissionLevel"})

    def read_property(self, ctx: Context, record: Record, prop: str) -> Any:
        if prop == "validateXSS":
            return True  # not stored (09 #6)
        if prop == "attachments":
            return [
                {k: a.get(k) for k in ATTACHMENT_KEYS} for a in record.get("attachments") or []
            ]
        return super().read_property(ctx, record, prop)

    # -- filters and sorting ------------------------------------------------------------------

    def filters(self) -> dict[str, FilterFn]:
        def never(c: Context, r: Record, v: Any) -> bool:
            return False  # commentedAt/comment: comments on comments, which do not exist

        return {
            **super().filters(),
            "entityId": lambda c, r, v: id_filter(r.get("entityId"), v),
            "entity": lambda c, r, v: _ci_equal(r.get("entity"), v),
            "section": lambda c, r, v: _ci_equal(r.get("section"), v),
            "text": _search_words,
            "permissionLevel": lambda c, r, v: True,  # applyAclToQuery does nothing
            "permissionLevelUserId": lambda c, r, v: True,
            "permissionLevelGroups": lambda c, r, v: True,
            # createdAt, modifiedAt, text and createdBy exist; date and mimeMessageId do not
            # (unsupportedFilter, groupoffice-wire 18 #6)
            "createdAt": lambda c, r, v: date_filter(r.get("createdAt"), v),
            "modifiedAt": lambda c, r, v: date_filter(r.get("modifiedAt"), v),
            "createdBy": lambda c, r, v: _user_is(c, r.get("createdBy"), v),
            "modifiedBy": lambda c, r, v: _user_is(c, r.get("modifiedBy"), v),
            "createdByMe": lambda c, r, v: str(r.get("createdBy")) == str(c.user_id),
            "commentedAt": never,
            "comment": never,
        }

    def sort_rows(
        self, ctx: Context, rows: list[Record], keys: list[tuple[SortKey, bool]]
    ) -> list[Record]:
        if not keys:  # Comment::sort: no sort means "c.date ASC"
            keys = [(lambda c, r: r.get("date"), True)]
        return super().sort_rows(ctx, rows, keys)

    # -- writing ------------------------------------------------------------------------------

    def apply_values(self, ctx: Context, record: Record, values: dict[str, Any], new: bool) -> None:
        for key, value in values.items():
            spec = self.props[key]
            if spec.readonly or key in ("permissionLevel", "id"):
                continue
            if key == "validateXSS":
                record["_validateXSS"] = bool(value)
            elif key == "entity":
                self._set_entity(ctx, record, value)
            elif key == "entityTypeId":
                record["entityTypeId"] = value
                names = [n for n, i in ENTITY_TYPE_IDS.items() if str(i) == str(value)]
                record["entity"] = names[0] if names else None
            elif key in ("entityId", "text"):
                if value is None:
                    raise MethodError(
                        "typeError",
                        f"Cannot assign null to property {MODEL}::${key} of type string",
                    )
                record[key] = str(value) if not isinstance(value, bool) else str(int(value))
            elif key == "labels":
                if value is not None and not isinstance(value, list):
                    raise MethodError(
                        "invalidArgumentException",
                        "Invalid value given to relation 'labels'. Should be an array",
                    )
                record["labels"] = list(value or [])
            elif key == "attachments":
                record["attachments"] = self._merge_attachments(record, value)
            elif key == "date":
                record["date"] = _normalize_date(value)
            elif key == "mailStatus" and isinstance(value, str):
                # a MySQL enum stores its own spelling of a case-insensitive match
                lowered = value.lower()
                record["mailStatus"] = lowered if lowered in MAIL_STATUSES else value
            else:
                record[key] = value

    def _set_entity(self, ctx: Context, record: Record, value: Any) -> None:
        """``setEntity``: the client name of a known entity type, else a PHP error."""
        name = str(value)
        if name not in ENTITY_TYPE_IDS and ctx.registry.find_entity(name) is None:
            raise MethodError("error", "Call to a member function getName() on null")
        record["entity"] = name
        record["entityTypeId"] = ENTITY_TYPE_IDS.get(name)

    @staticmethod
    def _merge_attachments(record: Record, value: Any) -> list[dict[str, Any]]:
        """An array relation: items with a known id are patched, others added, the rest go."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise MethodError(
                "invalidArgumentException",
                f"Invalid value given to relation 'attachments'. Should be an array or an object "
                f"of type '{ATTACHMENT_MODEL}'",
            )
        existing = {str(a.get("id")): a for a in record.get("attachments") or []}
        out: list[dict[str, Any]] = []
        for item in value:
            item = dict(item or {})
            for key in item:
                if key not in ATTACHMENT_KEYS:
                    raise MethodError(
                        "invalidArgumentException",
                        f"Not existing property {key} for {ATTACHMENT_MODEL}",
                    )
            old = existing.get(str(item.get("id"))) if item.get("id") is not None else None
            if old is not None:
                merged = {**old, **{k: v for k, v in item.items() if k not in ("id", "commentId")}}
                out.append(merged)
            else:
                item.pop("id", None)
                item.pop("commentId", None)
                out.append(item)
        return out

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        validate_xss = record.pop("_validateXSS", True)
        errors: dict[str, dict[str, Any]] = {}
        text = record.get("text")
        text_modified = old is None or text != old.get("text")
        if text_modified and text not in (None, "", "0"):  # PHP's !empty()
            # internalValidate: sanitise, then look for what is left (09 #5)
            record["text"] = sanitize(str(text))
            if validate_xss and detect_xss(record["text"]):
                errors["text"] = {
                    "code": INVALID_INPUT,
                    "description": "You're not allowed to use scripts in the content",
                }
        if not record.get("date"):
            record["date"] = now_iso()
        # the table's own checks: NOT NULL columns, lengths, the enum
        for column in ("entityId", "entityTypeId"):
            if record.get(column) in (None, ""):
                errors[column] = {"code": REQUIRED, "description": "Property is required"}
        for column, length in (("section", 50), ("mimeMessageId", 255)):
            value = record.get(column)
            if isinstance(value, str) and len(value) > length:
                errors[column] = {
                    "code": MALFORMED,
                    "description": f"Length can't be greater than {length}. Value given: {value}",
                }
        status = record.get("mailStatus")
        if status is not None and str(status).lower() not in MAIL_STATUSES:
            errors["mailStatus"] = {
                "code": MALFORMED,
                "description": f"Invalid value ({status}) for {MAIL_STATUS_TYPE}",
            }
        if not errors and record.get("text") is None:
            # a typed PHP property nobody set: the INSERT cannot even be built
            raise MethodError(
                "error", f"Typed property {MODEL}::$text must not be accessed before initialization"
            )
        return errors

    def before_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is not None:
            # an update: the relation rows are written (and fail) before anything else
            self._check_labels(ctx, record)
            self._insert_attachments(ctx, record, str(record["id"]))
        now = now_iso()
        if old is None:
            record["createdAt"] = now
            record["createdBy"] = str(ctx.uid)
            record["modifiedAt"] = now
            record["modifiedBy"] = str(ctx.uid)
        elif _differs(record, old):
            # modifiedAt/modifiedBy only move when something else did (09 #4: updated null),
            # but then to whoever saved, also a service marking another user's comment sent
            # (groupoffice-wire 18 #9, #10)
            record["modifiedAt"] = now
            record["modifiedBy"] = str(ctx.uid)

    def insert(self, ctx: Context, record: Record) -> None:
        """The INSERT happened (the id is used up); now the rows that can fail (16 #9, 10 #7)."""
        self._check_labels(ctx, record)
        self._insert_attachments(ctx, record, str(record["id"]))
        found = self.parent(ctx, record)
        if found is None:
            raise MethodError("error", "Call to a member function getClassName() on null")
        if found[1] is None:  # only admins get here: method_exists() on the missing parent
            raise MethodError(
                "typeError",
                "method_exists(): Argument #1 ($object_or_class) must be of type object|string, "
                "null given",
            )

    @staticmethod
    def _check_labels(ctx: Context, record: Record) -> None:
        """``comments_comment_label`` rows: an unknown label breaks the foreign key (16 #9)."""
        labels: list[str] = []
        for label in record.get("labels") or []:
            if isinstance(label, bool) or ctx.store.get("CommentLabel", label) is None:
                raise db_exception()
            if str(label) not in labels:
                labels.append(str(label))
        # the rows come back in the primary key's order
        record["labels"] = sorted(labels, key=lambda x: (len(x), x))

    @staticmethod
    def _insert_attachments(ctx: Context, record: Record, comment_id: str) -> None:
        """New attachment rows get auto-increment ids; an unknown blob breaks the foreign key."""
        for attachment in record.get("attachments") or []:
            if attachment.get("id") is None:
                attachment["id"] = int(ctx.store.next_id("CommentAttachment"))
                attachment["commentId"] = comment_id
            blob_id = attachment.get("blobId")
            if blob_id is not None and ctx.store.get_blob(str(blob_id)) is None:
                raise db_exception()  # 10 #7
            attachment.setdefault("blobId", None)
            attachment.setdefault("name", None)

    def has_changed(self, new: Record, old: Record) -> bool:
        return _differs(new, old)

    def after_save(self, ctx: Context, record: Record, old: Record | None) -> None:
        if old is not None:
            return
        found = self.parent(ctx, record)
        if found is None or found[1] is None:
            return
        handler, parent = found
        hook = getattr(handler, "on_comment_added", None)
        if hook is not None:
            hook(ctx, parent, str(record.get("createdBy")))


def _differs(new: Record, old: Record) -> bool:
    skip = ("modifiedAt", "modifiedBy")
    return any(new.get(k) != old.get(k) for k in set(new) | set(old) if k not in skip)


def _normalize_date(value: Any) -> Any:
    """A DATETIME column: stored and returned in UTC, to the second (09 #1)."""
    if not isinstance(value, str) or not value:
        return value
    try:
        moment = parse_iso(value)
    except ValueError:
        return value
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


class CommentLabelHandler(EntityHandler):
    """``CommentLabel`` (PHP ``Label``): names need not be unique, ``color`` defaults to
    ``243a80``, ``createdBy`` has no column and is always null (16 #0-#2)."""

    name = "CommentLabel"
    model_class = LABEL_MODEL
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
        # Label has neither textFilterColumns nor a search index: "text" only matches an id
        # given as an integer token; any other text filters nothing out.
        def text(c: Context, r: Record, v: Any) -> bool:
            tokens = [t for t in " ".join(v if isinstance(v, list) else [str(v)]).split() if t]
            ints = [t for t in tokens if re.fullmatch(r"-?\d+", t) and str(int(t)) == t]
            return not ints or str(r["id"]) in ints

        return {**super().filters(), "text": text}

    def can_create(self, ctx: Context, record: Record) -> bool:
        return True  # Label::canCreate()

    def validate(
        self, ctx: Context, record: Record, new: bool, old: Record | None
    ) -> dict[str, dict[str, Any]]:
        errors: dict[str, dict[str, Any]] = {}
        for column, length in (("name", 127), ("color", 6)):
            value = record.get(column)
            if isinstance(value, str) and len(value) > length:
                errors[column] = {
                    "code": MALFORMED,
                    "description": f"Length can't be greater than {length}. Value given: {value}",
                }
        if record.get("color") is None:
            record["color"] = "243a80"
        if not errors and record.get("name") is None:
            # the column has a default, so the validator lets it pass; the INSERT does not
            raise MethodError(
                "error",
                f"Typed property {LABEL_MODEL}::$name must not be accessed before initialization",
            )
        return errors

    def after_destroy(self, ctx: Context, record: Record) -> None:
        """A database cascade: comments lose the label, untouched otherwise (16 #11).

        No change-log entry and no ``modifiedAt``; only the last (ACL) part of the Comment
        state moves (``…:77:0:115`` -> ``…:77:0:116``).
        """
        label = str(record["id"])
        carried = False
        for comment in list(ctx.store.all("Comment")):
            labels = comment.get("labels") or []
            if label in labels:
                comment["labels"] = [x for x in labels if x != label]
                ctx.store.put("Comment", comment)
                carried = True
        if carried:
            ctx.store.bump_acl()


def register(registry: Registry) -> None:
    registry.add(CommentHandler())
    registry.add(CommentLabelHandler())
