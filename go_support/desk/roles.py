"""``desk.roles`` and ``desk.statuses``."""

from __future__ import annotations

from go_support.desk._core import DeskCore, ReadPlan
from go_support.desk.actor import ActorInfo
from go_support.desk.discovery import DeskLayout
from go_support.desk.errors import PermissionDenied
from go_support.desk.models import Person, Status, TicketType

__all__ = ["RoleManager", "StatusManager"]


class StatusManager:
    """The five statuses, under the names users know."""

    def list(self) -> list[Status]:
        return list(Status)

    def parse(self, text: str | Status) -> Status:
        """``"Needs action"``, ``"needs-action"``, ``"IN_PROGRESS"``... (case-insensitive);
        :class:`~go_support.desk.UnknownStatus` otherwise."""
        return Status.parse(text)


class RoleManager:
    """Who the actor is: manager (admin, or in the managers group), agent of a type (write
    access on its list), customer of a type (in its customer groups, from the settings)."""

    def __init__(self, core: DeskCore) -> None:
        self._core = core

    def _actor(self) -> ActorInfo:
        return self._core.full_actor()

    @property
    def actor(self) -> Person:
        """The user the desk acts for."""
        return self._actor().person

    def _type(self, type: str | int | TicketType) -> tuple[TicketType, DeskLayout]:
        core = self._core
        layout: DeskLayout = core.read(ReadPlan(build=lambda batch, known: lambda r, lay, a: lay,
                                                ))
        return core.resolve_type(type, layout), layout

    def is_manager(self) -> bool:
        return self._core.is_manager(self._actor())

    def is_agent(self, type: str | int | TicketType) -> bool:
        """Whether the actor has write access (or more) on the type's list.

        With a user's own API key, types whose lists the user cannot read are invisible: for
        them this is ``False`` rather than :class:`~go_support.desk.UnknownType`.
        """
        core = self._core
        try:
            ticket_type, layout = self._type(type)
        except PermissionDenied:
            return False  # a type whose list this user's own key cannot read
        return core.is_agent(ticket_type, layout)

    def is_customer(self, type: str | int | TicketType) -> bool:
        actor = self._actor()
        ticket_type = self._core.resolve_type(type, self._core.layout())
        return self._core.is_customer(ticket_type, actor)

    def require_manager(self) -> None:
        self._core.require_manager(self._actor(), "manage the help desk")

    def require_agent(self, type: str | int | TicketType) -> None:
        core = self._core
        ticket_type, layout = self._type(type)
        core.require_agent(ticket_type, layout)

    def require_customer(self, type: str | int | TicketType) -> None:
        actor = self._actor()
        self._core.require_customer(self._core.resolve_type(type, self._core.layout()), actor)
