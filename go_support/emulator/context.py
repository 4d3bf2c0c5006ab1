"""The state one method call sees: who is calling, the store, and what the request did so far."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import acl
from .store import Record, Store

if TYPE_CHECKING:
    from .entity import EntityHandler
    from .faults import WriteFaults
    from .registry import Registry


@dataclass
class SideEffects:
    """Objects saved by hooks while a /set call runs (merged into its created/updated).

    Group-Office's save listener is static: once ``Foo/set`` has run in a request, every later
    save of a Foo during that request is reported by whichever /set call is running
    (09-comments.json: Comment/set returns the Task its hook saved under ``updated``).
    """

    created: dict[str, Record] = field(default_factory=dict)
    updated: dict[str, Record] = field(default_factory=dict)


@dataclass
class RequestState:
    """Lives for one HTTP request."""

    base_url: str
    set_listeners: set[str] = field(default_factory=set)
    current_set: SideEffects | None = None
    current_primary: set[tuple[str, str]] = field(default_factory=set)
    #: entity -> the user modseq this request allocated last; the third part of the entity's
    #: state strings for the rest of the request, ``0`` otherwise (03 #3, 04 #9, 08 #1).
    user_modseq: dict[str, int] = field(default_factory=dict)
    #: run once when the request's last call has finished (a Field's cache clear, 07 #3-#5)
    at_end: list[Callable[[], None]] = field(default_factory=list)
    #: entities whose records cannot be read for the rest of the request (07 #13)
    broken_entities: set[str] = field(default_factory=set)
    #: rows a query found, sorted, by entity, filter, sort, user and the store's write count:
    #: the pages of one query in one request are found once
    queried: dict[tuple[str, str, int, str], list[Any]] = field(default_factory=dict)


@dataclass
class Context:
    store: Store
    registry: Registry
    request: RequestState
    user_id: str | None
    token: str | None = None
    _groups: set[int] | None = None
    _admin: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: injected deadlocks (``Emulator(fail_writes=...)``), None for none
    faults: WriteFaults | None = None

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def uid(self) -> str:
        assert self.user_id is not None
        return self.user_id

    @property
    def groups(self) -> set[int]:
        if self._groups is None:
            self._groups = acl.user_groups(self.store, self.user_id) if self.user_id else set()
        return self._groups

    @property
    def is_admin(self) -> bool:
        if self._admin is None:
            self._admin = bool(self.user_id) and acl.ADMINS_GROUP in self.groups
        return self._admin

    def forget_user_cache(self) -> None:
        """Group membership may change inside a request (User/set)."""
        self._groups = None
        self._admin = None

    def acl_level(self, acl_map: dict[str, Any] | list[Any] | None) -> int:
        return acl.level_in(acl_map, self.groups, self.is_admin)

    def module_rights(self, package: str | None, name: str) -> dict[str, bool] | None:
        module = acl.find_module(self.store, package, name)
        if module is None:
            return None
        return acl.module_rights(self.store, module, self.groups, self.is_admin)

    def has_right(self, package: str | None, name: str, right: str) -> bool:
        rights = self.module_rights(package, name)
        return bool(rights and rights.get(right))

    def handler(self, entity: str) -> EntityHandler:
        return self.registry.entity(entity)

    def saved(self, handler: EntityHandler, record: Record, created: bool) -> None:
        """Report a hook's save to the running /set call if Group-Office would (see SideEffects)."""
        effects = self.request.current_set
        key = (handler.name, str(record["id"]))
        if effects is None or handler.name not in self.request.set_listeners:
            return
        if key in self.request.current_primary:
            return
        target = effects.created if created else effects.updated
        target[str(record["id"])] = handler.to_wire(self, record, None)
