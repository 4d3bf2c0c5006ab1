"""``desk.categories``: Group-Office task categories, global or per ticket type."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from go_support.desk._core import DeskCore, ReadPlan, set_result
from go_support.desk.actor import ActorMode
from go_support.desk.convert import categories_by_id, same_id
from go_support.desk.discovery import DeskLayout
from go_support.desk.errors import InvalidCategory, UnknownCategory
from go_support.desk.models import Category, TicketType
from go_support.desk.retry import write_once
from go_support.jmap import Batch, Call, Responses

__all__ = ["CategoryManager", "category_scope", "pick_category"]

MAX_NAME = 255


def category_scope(type_ids: Sequence[str]) -> dict[str, Any]:
    """The ``TaskCategory/query`` filter of the categories usable on tickets of the types:
    the global ones and the types' own (a user's personal categories are none of them)."""
    conditions: list[dict[str, Any]] = [{"global": True}]
    if type_ids:
        conditions.append({"tasklistId": list(type_ids)})
    return {"operator": "OR", "conditions": conditions}


def pick_category(ref: Any, usable: Iterable[Category]) -> Category | None:
    """A category by id, object or name among ``usable``: an id first, then the name
    (case-insensitive), a type's own category before a global one, then the oldest."""
    if isinstance(ref, Category):
        ref = ref.id
    if isinstance(ref, int) and not isinstance(ref, bool):
        ref = str(ref)
    if not isinstance(ref, str):
        return None
    text = ref.strip()
    candidates = list(usable)
    by_id = [c for c in candidates if c.id == text]
    if by_id:
        return by_id[0]
    by_name = [c for c in candidates if c.name.casefold() == text.casefold()]
    by_name.sort(key=lambda c: (c.type_id is None, int(c.id)))
    return by_name[0] if by_name else None


@dataclass
class _CategoryRead:
    """The categories usable on tickets of one type (or of every type), sorted."""

    core: DeskCore
    type: Any
    scoped: TicketType | None = None
    get: Call | None = None

    def build(self, batch: Batch, layout: DeskLayout | None) -> Callable[
            [Responses, DeskLayout, Any], tuple[list[Category], TicketType | None]]:
        assert layout is not None
        self.scoped = None if self.type is None else self.core.resolve_type(self.type, layout)
        ids = [self.scoped.id] if self.scoped else layout.type_ids
        query = batch.call("TaskCategory/query", {"filter": category_scope(ids),
                                                  "sort": [{"property": "name"}]})
        self.get = batch.call("TaskCategory/get", {"#ids": query.ref("/ids")})
        return self.interpret

    def interpret(self, responses: Responses, layout: DeskLayout,
                  actor: Any) -> tuple[list[Category], TicketType | None]:
        assert self.get is not None
        found = categories_by_id(responses.get(self.get))
        valid = {t.id for t in layout.types}
        cats = [c for c in found.values() if c.type_id is None or c.type_id in valid]
        cats.sort(key=lambda c: (c.type_id is not None, c.name.casefold(), int(c.id)))
        return cats, self.scoped


class CategoryManager:
    """Categories usable on tickets: the global ones and those of each type.

    Personal categories (a user's own) are not ticket categories. Only managers create them.
    """

    def __init__(self, core: DeskCore) -> None:
        self._core = core

    def _read(self, type: Any) -> tuple[list[Category], TicketType | None]:
        plan = _CategoryRead(self._core, type)
        result: tuple[list[Category], TicketType | None] = self._core.read(
            ReadPlan(build=plan.build, needs_layout=True, actor=ActorMode.NONE))
        return result

    def list(self, type: str | int | TicketType | None = None) -> builtins.list[Category]:
        """The global categories, then the type's (or every type's when ``type`` is None)."""
        return self._read(type)[0]

    def get(self, name_or_id: str | int | Category,
            type: str | int | TicketType | None = None) -> Category:
        """A category by id or name (a type's own before a global one of the same name)."""
        cats, scoped = self._read(type)
        ref = name_or_id.id if isinstance(name_or_id, Category) else str(name_or_id).strip()
        if scoped is None and not any(c.id == ref for c in cats):
            typed = {c.type_id for c in cats if c.type_id is not None
                     and c.name.casefold() == ref.casefold()}
            if len(typed) > 1:
                raise UnknownCategory(
                    f"several ticket types have a category {ref!r}: name the type")
        found = pick_category(ref, cats)
        if found is None:
            where = f"type '{scoped.name}'" if scoped else "any ticket type"
            raise UnknownCategory(f"there is no category {ref!r} (global or of {where})")
        return found

    def create(self, name: str, type: str | int | TicketType | None = None) -> Category:
        """A global category, or one of ``type``. Managers only."""
        core = self._core
        if not isinstance(name, str) or not name.strip():
            raise InvalidCategory(f"a category needs a name (got {name!r})")
        title = " ".join(name.split())
        if len(title) > MAX_NAME:
            raise InvalidCategory(f"the category name is longer than {MAX_NAME} characters")
        actor = core.full_actor()
        core.require_manager(actor, "create categories")
        cats, scoped = self._read(type)
        for other in cats:
            same_scope = (other.type_id is None if scoped is None
                          else other.type_id is None or same_id(other.type_id, scoped.id))
            if same_scope and other.name.casefold() == title.casefold():
                where = ("a global category" if other.type_id is None
                         else f"a category of type '{scoped.name if scoped else other.type_id}'")
                raise InvalidCategory(f"there is already {where} named '{other.name}' "
                                      f"(id {other.id})")
        values: dict[str, Any] = {"name": title, "ownerId": None}
        if scoped is not None:
            values["tasklistId"] = scoped.id
        what = f"create the category '{title}'"

        def send() -> Category:
            batch = Batch()
            call = batch.set("TaskCategory", create={"c1": values})
            result = set_result(core.client.execute(batch), call, creates=["c1"])
            core.raise_set_error(result, "TaskCategory/set", what)
            return Category(result.created_id("c1"), title, scoped.id if scoped else None)

        def exists() -> Category | None:
            # A failed request may still have created it: the name is unique in its scope.
            found, _ = self._read(type)
            return next((c for c in found if c.name == title and c.type_id == (
                scoped.id if scoped else None)), None)

        return write_once(core, send, what, exists)
