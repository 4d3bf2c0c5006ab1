"""The desk's machinery for one actor: the shared layout, reads in one request with the layout
check, role checks, type resolution. See docs/architecture.md (the desk) for the design."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from go_support.desk import names
from go_support.desk.actor import (
    AGENT_LEVEL,
    MANAGE,
    ActorCalls,
    ActorInfo,
    ActorMode,
    add_actor,
    in_groups,
    parse_actor,
    user_level,
)
from go_support.desk.discovery import (
    DeskLayout,
    LayoutCalls,
    add_discovery,
    add_verification,
    parse_discovery,
    verification_holds,
)
from go_support.desk.errors import NotATicket, PermissionDenied, UnknownType
from go_support.desk.models import Category, TicketType
from go_support.desk.retry import WriteRetry
from go_support.errors import GoSupportError
from go_support.jmap import Batch, Call, GroupOfficeClient, Responses
from go_support.jmap.errors import SetFailed
from go_support.jmap.results import GetResult, SetResult

if TYPE_CHECKING:
    from go_support.desk.config import SettingsLike

__all__ = ["DeskCore", "ReadPlan", "Shared", "set_result"]

R = TypeVar("R")

#: How long a layout is trusted without a check (a ``TaskList/get`` of the type lists in the
#: same request as the work). Zero: checked on every request.
VERIFY_AFTER = 0.0


def set_result(responses: Responses, call: Call, *, creates: Sequence[str] = (),
               updates: Sequence[str] = ()) -> SetResult:
    return SetResult.from_json(responses.get(call), create_ids=list(creates),
                               update_ids=list(updates))


class Shared:
    """What a desk and its :meth:`~SupportDesk.as_user` views share: client, settings, layout."""

    def __init__(self, client: GroupOfficeClient, settings: SettingsLike,
                 write_retry: WriteRetry | None = None) -> None:
        self.client = client
        self.settings = settings
        self.layout: DeskLayout | None = None
        self.lock = threading.RLock()
        self.write_retry = write_retry if write_retry is not None else WriteRetry()
        #: writes tried again after a transient failure (see :mod:`go_support.desk.retry`)
        self.retries = 0

    def count_retry(self) -> None:
        with self.lock:
            self.retries += 1


@dataclass
class ReadPlan(Generic[R]):
    """What :meth:`DeskCore.read` runs: ``build(batch, layout)`` adds the calls and returns
    ``interpret(responses, layout, actor)``."""

    build: Callable[[Batch, DeskLayout | None], Callable[[Responses, DeskLayout,
                                                          ActorInfo | None], R]]
    needs_layout: bool = False
    actor: ActorMode = ActorMode.LEVELS


class DeskCore:
    """One actor's view: the shared layout plus who acts (``actor_id`` None: the key's user)."""

    def __init__(self, shared: Shared, actor_id: str | None) -> None:
        self.shared = shared
        self.actor_id = actor_id
        self.actor: ActorInfo | None = None

    @property
    def client(self) -> GroupOfficeClient:
        return self.shared.client

    @property
    def settings(self) -> SettingsLike:
        return self.shared.settings

    @property
    def self_mode(self) -> bool:
        return self.actor_id is None

    def me(self) -> str:
        """The actor's user id (in self mode: the session's, fetched once)."""
        return self.actor_id if self.actor_id is not None else str(self.client.user_id)

    def who(self) -> str:
        """``user 37``: how messages name the actor."""
        return f"user {self.me()}"

    # -- layout ---------------------------------------------------------------------------

    def discover(self, actor: ActorMode = ActorMode.NONE) -> DeskLayout:
        """Read the layout (one POST; the actor's user too when asked)."""
        batch = Batch(prefix="d")
        calls = add_discovery(batch)
        actor_calls = self._add_actor(batch, actor)
        responses = self.client.execute(batch)
        found = parse_discovery(responses, calls)
        with self.shared.lock:
            self.shared.layout = found
        if actor_calls is not None:
            self.actor = parse_actor(responses, actor_calls)
        return found

    def layout(self) -> DeskLayout:
        """The cached layout, discovered if there is none (no check)."""
        current = self.shared.layout
        return current if current is not None else self.discover()

    def forget_layout(self) -> None:
        with self.shared.lock:
            self.shared.layout = None

    def _add_actor(self, batch: Batch, actor: ActorMode) -> ActorCalls | None:
        if actor is ActorMode.NONE:
            return None
        if self.actor_id is None and actor is not ActorMode.FULL:
            return None  # the key user's levels come with the layout
        return add_actor(batch, self.me(), with_group_names=actor is ActorMode.FULL)

    def read(self, plan: ReadPlan[R]) -> R:
        """Run ``plan`` in one POST together with the layout check (or discovery).

        A layout that the check finds changed is discovered again (a second POST); when what
        matters for the answer changed (types, ACLs, levels, label), the plan runs again.
        """
        for attempt in range(3):
            layout = self.shared.layout
            fresh = False
            # ``needs_layout`` plans build their calls from the layout and the actor's levels
            # (which tickets the query may return): both must be known before building.
            actor_first = (plan.needs_layout and not self.self_mode
                           and plan.actor is not ActorMode.NONE)
            if layout is None and plan.needs_layout:
                layout = self.discover(plan.actor if not self.self_mode else ActorMode.NONE)
                fresh = True
            elif actor_first and self.actor is None:
                self.read(ReadPlan(build=lambda batch, known: lambda r, lay, a: None,
                                   actor=plan.actor))
                layout = self.shared.layout
                fresh = True
            used = _levels_key(self.actor)
            batch = Batch()
            layout_calls: LayoutCalls | None = None
            if layout is None:
                layout_calls = add_discovery(batch)
            elif not fresh and time.monotonic() - layout.loaded_at >= VERIFY_AFTER:
                layout_calls = add_verification(batch, layout)
            actor_calls = None
            if not (fresh and self.actor is not None and plan.actor is not ActorMode.FULL):
                actor_calls = self._add_actor(batch, plan.actor)
            interpret = plan.build(batch, layout)
            responses = self.client.execute(batch)
            if actor_calls is not None:
                self.actor = parse_actor(responses, actor_calls)
                if actor_first and _levels_key(self.actor) != used and attempt < 2:
                    continue  # the actor's groups changed since the calls were built
            if layout_calls is not None and not layout_calls.verify:
                layout = parse_discovery(responses, layout_calls)
                with self.shared.lock:
                    self.shared.layout = layout
            elif layout_calls is not None:
                assert layout is not None
                if not verification_holds(responses, layout_calls, layout):
                    old = layout
                    layout = self.discover()
                    if layout.fingerprint() != old.fingerprint() and attempt < 2:
                        continue
            assert layout is not None
            return interpret(responses, layout, self.actor)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- roles ----------------------------------------------------------------------------

    def level(self, ticket_type: TicketType, layout: DeskLayout) -> int:
        """The actor's level on a type's list."""
        if self.self_mode:
            return layout.key_levels.get(ticket_type.id, 0)
        actor = self.actor
        if actor is None:
            return 0
        return user_level(ticket_type.acl, actor.group_ids, actor.is_admin)

    def is_agent(self, ticket_type: TicketType, layout: DeskLayout) -> bool:
        """Write access or more on the type's list, and an enabled account."""
        if self.actor is not None and not self.actor.enabled and not self.self_mode:
            return False
        return self.level(ticket_type, layout) >= AGENT_LEVEL

    def refuse_disabled(self, ticket_type: TicketType, layout: DeskLayout,
                        doing: str = "act") -> None:
        """:class:`PermissionDenied` when a disabled user would act as an agent of the type
        (through :meth:`~SupportDesk.as_user`; Group-Office refuses a disabled user's own key)."""
        actor = self.actor
        if (actor is None or actor.enabled or self.self_mode
                or self.level(ticket_type, layout) < AGENT_LEVEL):
            return
        raise PermissionDenied(
            f"{actor.label} is disabled and may not {doing} as an agent of type "
            f"'{ticket_type.name}'", actor=actor.id, right="agent")

    def require_agent(self, ticket_type: TicketType, layout: DeskLayout, doing: str = "") -> None:
        self.refuse_disabled(ticket_type, layout, doing or "act")
        if not self.is_agent(ticket_type, layout):
            what = f" to {doing}" if doing else ""
            raise PermissionDenied(
                f"{self.who()} is not an agent of type '{ticket_type.name}'{what}: needs write "
                "access on its task list", actor=self.me(), right="agent")

    def is_manager(self, actor: ActorInfo) -> bool:
        if actor.is_admin:
            return True
        group = self.settings.desk.managers_group
        return group is not None and in_groups([group], actor)

    def require_manager(self, actor: ActorInfo, doing: str) -> None:
        if not self.is_manager(actor):
            group = self.settings.desk.managers_group
            how = (f"a Group-Office admin or a member of the group '{group}'"
                   if group is not None else "a Group-Office admin (no managers group is set)")
            raise PermissionDenied(
                f"user {actor.id} is not a manager and may not {doing}: needs to be {how}",
                actor=actor.id, right="manager")

    def is_customer(self, ticket_type: TicketType, actor: ActorInfo) -> bool:
        return in_groups(self.settings.customer_groups(ticket_type.name), actor)

    def require_customer(self, ticket_type: TicketType, actor: ActorInfo) -> None:
        """:class:`PermissionDenied` unless the actor is in one of the type's customer groups."""
        if self.is_customer(ticket_type, actor):
            return
        groups = ", ".join(str(g) for g in self.settings.customer_groups(
            ticket_type.name)) or "none are configured"
        raise PermissionDenied(
            f"user {actor.id} is not a customer of type '{ticket_type.name}': needs to be in "
            f"one of its customer groups ({groups})", actor=actor.id, right="customer")

    def refuse_stranger(self, task_id: Any, ticket_type: TicketType, doing: str) -> None:
        """:class:`PermissionDenied` for who is neither the ticket's requester nor an agent."""
        raise PermissionDenied(
            f"{self.who()} may not {doing} ticket {task_id}: not its requester, and not an "
            f"agent of type '{ticket_type.name}' (needs write access on its task list)",
            actor=self.me(), right="agent")

    def raise_set_error(self, result: SetResult, method: str, what: str,
                        right: str | None = None) -> None:
        """Raise for a per-object failure: ``forbidden`` as :class:`PermissionDenied`."""
        errors = result.errors
        if not errors:
            return
        if any(e.type == "forbidden" for e in errors):
            raise self.forbidden(what, right or what)
        raise SetFailed(method=method, errors=errors, result=result)

    def forbidden(self, what: str, right: str) -> PermissionDenied:
        """Group-Office answered ``forbidden``: the error that says who lacks what."""
        return PermissionDenied(
            f"Group-Office refused to let {self.who()} {what} (forbidden): the API key's user "
            "lacks the Group-Office right for it", actor=self.me(), right=right)

    def full_actor(self) -> ActorInfo:
        """The actor with group names (one POST, also a layout check)."""
        return self.read(ReadPlan(build=lambda batch, known: lambda r, lay, a: _need(a),
                                  actor=ActorMode.FULL))

    # -- resolving --------------------------------------------------------------------------

    def resolve_type(self, ref: Any, layout: DeskLayout) -> TicketType:
        found = layout.find(ref)
        if found is None:
            # On a user's own key, the layout holds only the lists that user can read.
            hidden = self.self_mode and not self._key_user_reads_every_list(layout)
            if hidden and isinstance(ref, TicketType):
                # It exists, but this user's key cannot read its list.
                raise PermissionDenied(
                    f"{self.who()} is not an agent of type '{ref.name}': needs write access on "
                    "its task list (this user cannot even read it)", actor=self.me(),
                    right="agent")
            known = ", ".join(f"'{t.name}'" for t in layout.active_types) or "none yet"
            why = (" (with a user's own API key, only the types whose lists the user can read "
                   "are known)" if hidden else "")
            raise UnknownType(
                f"there is no ticket type {_show(ref)}; the types are {known}{why}")
        return found

    def _key_user_reads_every_list(self, layout: DeskLayout) -> bool:
        """Whether the API key's user is an admin (who reads every task list, so that a type
        missing from the layout does not exist). For error messages only: a level below
        manage on any type proves "no" at once; otherwise the user is read (the session and
        one request)."""
        if any(level < MANAGE for level in layout.key_levels.values()):
            return False  # admins have manage on every list
        if self.actor is not None:
            return self.actor.is_admin
        try:
            batch = Batch(prefix="k")
            calls = add_actor(batch, self.me(), with_group_names=False)
            return parse_actor(self.client.execute(batch), calls).is_admin
        except GoSupportError:
            return False  # cannot tell: the hint may be the reason

    def ticket_task(
        self, responses: Responses, call: Call, ticket_id: str, layout: DeskLayout
    ) -> tuple[dict[str, Any], TicketType]:
        """The task of a ticket from a ``Task/get``, or :class:`NotATicket`."""
        found = GetResult.from_json(responses.get(call)).objects
        if not found:
            raise NotATicket(f"there is no ticket {ticket_id} (no such task, or the API key's "
                             "user cannot read it)")
        task = found[0]
        ticket_type = layout.by_id(task.get("tasklistId"))
        if ticket_type is None:
            raise NotATicket(
                f"task {ticket_id} is not a ticket: its task list is not a ticket type "
                f'(a list in the grouping "{names.GROUPING_NAME}")')
        return task, ticket_type


def _need(actor: ActorInfo | None) -> ActorInfo:
    assert actor is not None
    return actor


def _show(ref: Any) -> str:
    if isinstance(ref, TicketType | Category):
        return repr(ref.name)
    return repr(ref)


def _levels_key(actor: ActorInfo | None) -> tuple[Any, ...] | None:
    """What of the actor decides their levels on the types' lists."""
    return None if actor is None else (actor.id, actor.is_admin, actor.group_ids)
