"""The values the desk hands out: frozen dataclasses with string ids.

They are built from Group-Office objects (tasks, task lists, comments, users) by the
managers; nothing here talks to Group-Office.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from go_support.desk.errors import UnknownStatus

__all__ = [
    "UNASSIGNED",
    "Attachment",
    "Category",
    "Message",
    "Person",
    "PostedMessage",
    "Status",
    "Ticket",
    "TicketFilter",
    "TicketPage",
    "TicketType",
    "Unassigned",
]


class Status(enum.Enum):
    """A ticket's status: Group-Office's five task ``progress`` values.

    ``.value`` is the Group-Office string, ``.label`` what users read.
    """

    NEEDS_ACTION = "needs-action"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """"Needs action", "In progress", "Completed", "Failed", "Cancelled"."""
        return _LABELS[self]

    @property
    def is_closed(self) -> bool:
        """Completed, failed and cancelled close a ticket."""
        return self in (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    @classmethod
    def parse(cls, text: str | Status) -> Status:
        """A status from its label, value or name, case-insensitively.

        ``"Needs action"``, ``"needs-action"``, ``"NEEDS_ACTION"``, ``"in progress"`` all
        work; anything else raises :class:`~go_support.desk.UnknownStatus` naming the text.
        """
        if isinstance(text, Status):
            return text
        if not isinstance(text, str):
            raise UnknownStatus(f"a status must be text such as 'In progress' (got {text!r})")
        key = _normalise(text)
        found = _BY_KEY.get(key)
        if found is None:
            known = ", ".join(f"'{s.label}'" for s in cls)
            raise UnknownStatus(f"there is no status {text!r}; the statuses are {known}")
        return found

    def __str__(self) -> str:
        return self.label


_LABELS = {
    Status.NEEDS_ACTION: "Needs action",
    Status.IN_PROGRESS: "In progress",
    Status.COMPLETED: "Completed",
    Status.FAILED: "Failed",
    Status.CANCELLED: "Cancelled",
}


def _normalise(text: str) -> str:
    return re.sub(r"[\s_-]+", "-", text.strip().casefold())


_BY_KEY = {
    **{_normalise(s.value): s for s in Status},
    **{_normalise(s.label): s for s in Status},
    **{_normalise(s.name): s for s in Status},
    "canceled": Status.CANCELLED,
}


@dataclass(frozen=True)
class Person:
    """A user (``id`` set), or someone known only by address and name (``id`` ``None``)."""

    id: str | None = None
    email: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.name or self.email or (f"user {self.id}" if self.id else "(unknown)")


class Unassigned(enum.Enum):
    """The type of :data:`UNASSIGNED`."""

    UNASSIGNED = "unassigned"


UNASSIGNED = Unassigned.UNASSIGNED
"""``TicketFilter(agent=UNASSIGNED)``: tickets without an agent."""


@dataclass(frozen=True)
class TicketType:
    """A ticket type: a task list in the grouping "Support" (``archived``: "Support archive").

    ``acl`` is the list's ACL, ``{group id: level}``; write (30) or more makes a group's
    members agents of the type.
    """

    id: str
    name: str
    description: str | None = None
    archived: bool = False
    acl: Mapping[str, int] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Category:
    """A ticket category: a Group-Office task category, global (``type_id`` None) or per type."""

    id: str
    name: str
    type_id: str | None = None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Attachment:
    """A file on a message: a Group-Office blob (``client.download_blob(blob_id)``)."""

    blob_id: str
    name: str
    id: str | None = None


@dataclass(frozen=True)
class Message:
    """A message on a ticket: a Group-Office comment.

    ``private`` notes carry the comment label "Private" and never reach the requester.
    ``mail_status`` is ``received`` (from the requester), ``pending`` (an answer waiting to be
    mailed), ``sent``, ``senderror`` or ``None`` (a note, or a comment that is not mailed).
    ``author`` is the requester for received messages, otherwise the Group-Office user who
    wrote the comment (with an admin key and :meth:`SupportDesk.as_user`, Group-Office records
    the key's user).
    """

    id: str
    ticket_id: str
    html: str
    date: datetime | None
    author: Person | None
    private: bool
    mail_status: str | None = None
    message_id: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Ticket:
    """A ticket: a Group-Office task in a ticket type's list.

    ``messages`` is ``None`` when they were not asked for; for a customer it holds the
    public messages only.
    """

    id: str
    type: TicketType
    subject: str
    status: Status
    agent: Person | None
    requester: Person
    categories: tuple[Category, ...] = ()
    created_at: datetime | None = None
    modified_at: datetime | None = None
    legacy_id: str | None = None
    first_message_id: str | None = None
    messages: tuple[Message, ...] | None = None


@dataclass(frozen=True, eq=False)
class PostedMessage(Message):
    """A message just written (what :meth:`MessageManager.reply` and
    :meth:`~MessageManager.note` return), with ``ticket``: the ticket as re-read in the same
    request, i.e. its status and agent after the message (``ticket.messages`` is ``None``).

    It is a :class:`Message`, and equal to the same message as :meth:`TicketManager.get`
    lists it (``posted in ticket.messages`` holds).
    """

    ticket: Ticket = field(kw_only=True, repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return _message_values(self) == _message_values(other)

    def __hash__(self) -> int:
        return hash(_message_values(self))


def _message_values(message: Message) -> tuple[object, ...]:
    """What makes two messages equal (and hashes like :class:`Message`'s own)."""
    return tuple(getattr(message, f.name) for f in fields(Message))


TypeRef = str | int | TicketType
CategoryRef = str | int | Category
StatusRef = str | Status
PersonRef = str | int | Person
DateRef = datetime | date


@dataclass(frozen=True)
class TicketFilter:
    """What :meth:`TicketManager.list` returns; every field narrows, ``None`` means any.

    * ``type``, ``status``, ``category``: one value or a sequence (any of them);
    * ``requester``: a user id, ``"me"``, a :class:`Person` or an e-mail address;
    * ``agent``: a user id, ``"me"``, a :class:`Person`, or :data:`UNASSIGNED`;
    * ``text``: Group-Office's full-text search (every word must start a word of the
      ticket); ``legacy_id``: the legacy Tickets module's id;
    * ``created_after`` ... ``modified_before``: datetimes (naive ones are UTC) or dates;
    * ``include_archived``: also tickets of archived types (always when ``type`` names one).
    """

    type: TypeRef | Sequence[TypeRef] | None = None
    status: StatusRef | Sequence[StatusRef] | None = None
    category: CategoryRef | Sequence[CategoryRef] | None = None
    requester: PersonRef | None = None
    agent: PersonRef | Unassigned | None = None
    text: str | None = None
    legacy_id: str | None = None
    created_after: DateRef | None = None
    created_before: DateRef | None = None
    modified_after: DateRef | None = None
    modified_before: DateRef | None = None
    include_archived: bool = False


@dataclass(frozen=True)
class TicketPage:
    """One page of :meth:`TicketManager.list` (``page`` counts from 1)."""

    tickets: tuple[Ticket, ...]
    total: int
    page: int
    per_page: int
    has_more: bool

    def __iter__(self) -> Iterator[Ticket]:
        return iter(self.tickets)

    def __len__(self) -> int:
        return len(self.tickets)
