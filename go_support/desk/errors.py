"""Errors of the help desk (all :class:`go_support.errors.GoSupportError`).

Every desk method checks its input and the actor's rights **before** it writes anything,
and raises one of these with a message that names the value or the missing right. Errors
of Group-Office itself come through as :mod:`go_support.jmap` errors.
"""

from __future__ import annotations

from collections.abc import Sequence

from go_support.errors import GoSupportError

__all__ = [
    "DeskError",
    "InvalidCategory",
    "InvalidMessage",
    "InvalidPage",
    "InvalidTicket",
    "InvalidType",
    "NotATicket",
    "NotInstalled",
    "PermissionDenied",
    "RefusedTickets",
    "RolledBack",
    "UnknownCategory",
    "UnknownGroup",
    "UnknownStatus",
    "UnknownType",
    "UnknownUser",
]


class DeskError(GoSupportError):
    """Base class of the help desk's errors."""


class NotInstalled(DeskError):
    """The Group-Office objects of the help desk are missing: run ``go-support install``."""


class UnknownType(DeskError):
    """No ticket type has that name or id."""


class UnknownCategory(DeskError):
    """No category of that name or id exists for the ticket type (or globally)."""


class UnknownStatus(DeskError):
    """The text names none of the five statuses."""


class UnknownUser(DeskError):
    """No (enabled) Group-Office user has that id or address."""


class UnknownGroup(DeskError):
    """No Group-Office group has that name or id."""


class NotATicket(DeskError):
    """The id is not a ticket: no such task, or a task outside the ticket types' lists."""


class InvalidTicket(DeskError):
    """A ticket value is not acceptable: empty subject, bad requester address, ..."""


class RefusedTickets(InvalidTicket):
    """Tickets of a bulk creation did not pass the desk's checks: nothing was created.

    ``problems`` holds ``(position in the bulk, the error)`` for every refused ticket; the
    message names the first few (by position, legacy id or subject).
    """

    def __init__(self, message: str, problems: Sequence[tuple[int, DeskError]]) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class InvalidMessage(InvalidTicket):
    """A message is empty, or its HTML cannot be made acceptable to Group-Office."""


class InvalidPage(DeskError, ValueError):
    """A page number below 1, or a page size outside 1 to ``MAX_PER_PAGE`` (a ``ValueError``
    too, as it was before it became a desk error)."""


class InvalidType(DeskError):
    """A ticket-type name is empty, too long, or already taken."""


class InvalidCategory(DeskError):
    """A category name is empty, too long, or already taken in its scope."""


class PermissionDenied(DeskError):
    """The actor lacks the right the action needs (the message names both)."""

    def __init__(self, message: str, *, actor: str | None = None, right: str | None = None):
        super().__init__(message)
        self.actor = actor
        self.right = right


class RolledBack(DeskError):
    """A later part of a multi-step change failed; what had been done was undone.

    ``cause`` is the original failure; ``undone`` lists what was destroyed or restored,
    ``left_over`` what could not be undone (empty when Group-Office is as before).
    """

    def __init__(
        self,
        message: str,
        *,
        cause: BaseException | None = None,
        undone: Sequence[str] = (),
        left_over: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.cause = cause
        self.undone = tuple(undone)
        self.left_over = tuple(left_over)
