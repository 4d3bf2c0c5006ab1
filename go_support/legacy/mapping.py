"""From legacy Tickets records to the values the desk writes: pure functions, no I/O.

Every decision here is documented for administrators in docs/sysadmin.md ("Migrating from
the Tickets module"); in short:

* a ticket type becomes a ticket type of the same name; groups with level 50 (manage: the
  type's agents) keep level 50 on the new type's ACL, groups with a lower level (they could
  create and read their own tickets) become the type's customer groups;
* status 0 (open) -> needs action, any negative status (closed) -> completed, a custom status
  -> in progress plus a category named after the custom status, so it stays findable;
* the priority 0/1/2 (low/normal/high) -> Group-Office task priority 9/0/1, as Group-Office's
  own upgrade of legacy tasks does;
* the requester is the customer account (``user_id``) when that user is not an agent of the
  type, else the address-book contact, else the name and address typed on the ticket;
* Group-Office ignores ``createdAt`` when a task is created (groupoffice-wire 18), so the
  creation and modification times, the ticket number and the other facts without a place
  on a task are kept visibly in a private note dated at the ticket's creation (the
  "origin note"), and the creation day goes to the task's ``start``, which is kept;
* notes -> private notes; the requester's messages -> received messages; agents' messages ->
  answers already sent (``mailStatus`` sent, so that nothing is mailed again); each keeps its
  date; a status change is appended to its message's text;
* the files of a ticket's folder are attached to the message that names them in its
  ``attachments`` column, else the latest message written before the file, else the first.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from go_support.desk.models import Person, Status
from go_support.htmlrules import text_to_html
from go_support.legacy.reader import (
    AGENT_LEVEL,
    STATUS_OPEN,
    LegacyAttachment,
    LegacyMessage,
    LegacyStatus,
    LegacyTicket,
    LegacyType,
    LegacyUser,
    MessageKind,
)

__all__ = [
    "DELETED_TYPE_NAME",
    "MappedAttachment",
    "MappedMessage",
    "MappedRequester",
    "MappedStatus",
    "MappedTicket",
    "MappedType",
    "UnknownLegacyType",
    "assign_files",
    "attributed_html",
    "map_message",
    "map_priority",
    "map_status",
    "map_ticket",
    "map_types",
    "select_types",
    "text_to_html",
]

DELETED_TYPE_NAME = "Tickets of deleted types"
"""The ticket type that receives tickets whose legacy type no longer exists (managers only)."""
MAX_SUBJECT = 255
NO_SUBJECT = "(no subject)"


class UnknownLegacyType(ValueError):
    """``--type`` named a legacy type that does not exist."""


# --------------------------------------------------------------------------------------
# Types


@dataclass(frozen=True)
class MappedType:
    """A ticket type to create (or find by ``name``) for a legacy type.

    ``acl`` is ``{group id: level}`` for the agents (level 50, manage, as in the legacy
    type); ``customer_groups`` may open tickets of the type. ``legacy_id`` is None for
    :data:`DELETED_TYPE_NAME`.
    """

    legacy_id: int | None
    name: str
    description: str | None = None
    acl: Mapping[str, int] = field(default_factory=dict, hash=False)
    customer_groups: tuple[str, ...] = ()


def map_types(types: Iterable[LegacyType]) -> dict[int | None, MappedType]:
    """Every legacy type by legacy id, plus the fallback for deleted types under ``None``.

    Names are unique case-insensitively (a duplicate gets " (legacy type N)"); a type
    without a name is called "Ticket type N".
    """
    mapped: dict[int | None, MappedType] = {}
    taken: set[str] = {DELETED_TYPE_NAME.casefold()}
    for t in sorted(types, key=lambda t: t.id):
        name = " ".join((t.name or "").split()) or f"Ticket type {t.id}"
        if name.casefold() in taken:
            name = f"{name} (legacy type {t.id})"
        taken.add(name.casefold())
        acl = {str(g): AGENT_LEVEL for g, level in sorted(t.acl.items()) if level >= AGENT_LEVEL}
        customers = tuple(str(g) for g, level in sorted(t.acl.items())
                          if 0 < level < AGENT_LEVEL)
        description = (t.description or "").strip() or None
        mapped[t.id] = MappedType(t.id, name, description, acl, customers)
    mapped[None] = MappedType(None, DELETED_TYPE_NAME,
                              "Migrated tickets whose type had been deleted in the Tickets "
                              "module")
    return mapped


def select_types(types: Mapping[int, LegacyType], wanted: Sequence[str]) -> list[int]:
    """Legacy type ids for ``--type`` values (ids or names, case-insensitive); raises
    :class:`UnknownLegacyType` naming the value and listing the types there are."""
    by_name = {(t.name or "").strip().casefold(): t.id for t in types.values()}
    ids: list[int] = []
    for value in wanted:
        text = str(value).strip()
        if text.isdigit() and int(text) in types:
            found: int | None = int(text)
        else:
            found = by_name.get(text.casefold())
        if found is None:
            known = ", ".join(f"{t.id} {t.name!r}" for t in types.values()) or "none"
            raise UnknownLegacyType(f"there is no legacy ticket type {text!r}; the types are "
                                    f"{known}")
        if found not in ids:
            ids.append(found)
    return ids


# --------------------------------------------------------------------------------------
# Statuses and priorities


@dataclass(frozen=True)
class MappedStatus:
    """The desk status, and the category that keeps a custom status's name (or None)."""

    status: Status
    category: str | None = None
    label: str = ""


def map_status(status_id: int, statuses: Mapping[int, LegacyStatus]) -> MappedStatus:
    """0 -> needs action, negative -> completed, a custom status -> in progress + category."""
    if status_id == STATUS_OPEN:
        return MappedStatus(Status.NEEDS_ACTION, None, "Open")
    if status_id < 0:
        return MappedStatus(Status.COMPLETED, None, "Closed")
    custom = statuses.get(status_id)
    name = " ".join((custom.name or "").split()) if custom else ""
    name = name or f"Status {status_id}"
    return MappedStatus(Status.IN_PROGRESS, name, name)


def map_priority(priority: int) -> int:
    """Legacy 0 low / 1 normal / 2 high -> Group-Office task priority 9 / 0 / 1."""
    return {0: 9, 2: 1}.get(priority, 0)


# --------------------------------------------------------------------------------------
# Messages


@dataclass(frozen=True)
class MappedAttachment:
    """A file to upload as a blob on a message."""

    name: str
    path: Path
    size: int
    legacy_file_id: int


@dataclass(frozen=True)
class MappedMessage:
    """A message to write: ``private`` note, or public with ``mail_status`` received (from
    the requester) or sent (an agent's answer, already delivered by the legacy module)."""

    legacy_id: str
    html: str
    private: bool
    from_requester: bool
    mail_status: Literal["received", "sent"] | None
    author: Person | None
    date: datetime | None
    message_id: str
    attachments: tuple[MappedAttachment, ...] = ()
    status_change: Status | None = None
    problems: tuple[str, ...] = ()


def _when(ts: int | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts and ts > 0 else None


def _person(user_id: int, users: Mapping[int, LegacyUser]) -> Person:
    user = users.get(user_id)
    if user is None:
        return Person(id=str(user_id), name=f"user {user_id} (deleted)")
    return Person(id=str(user.id), email=user.email or None, name=user.name or user.username)


def legacy_message_id(ticket_id: int, message_id: int) -> str:
    """A stable Message-ID for a migrated message: a rerun recognises it."""
    return f"<legacy-ticket-{ticket_id}-message-{message_id}@tickets.migrated>"


def map_message(message: LegacyMessage, ticket: LegacyTicket, requester: Person,
                users: Mapping[int, LegacyUser], statuses: Mapping[int, LegacyStatus],
                files: Sequence[LegacyAttachment] = ()) -> MappedMessage:
    """One legacy message as the desk writes it (see the module docstring)."""
    problems = list(message.problems)
    body = text_to_html(message.content)
    change = map_status(message.status_id, statuses) if message.has_status else None
    attachments = []
    for f in files:
        if f.exists:
            attachments.append(MappedAttachment(f.name, f.path, f.size, f.file_id))
        else:
            problems.append(f"message {message.id}: attachment {f.name!r} (file {f.file_id}) "
                            f"is missing on disk at {f.path}")
            body += (f"<p><em>[Attachment {html.escape(f.name)} was missing when this ticket "
                     f"was migrated.]</em></p>")
    private = message.kind is MessageKind.NOTE
    if change is not None:
        body += f"<p><em>Status set to {html.escape(change.label)}.</em></p>"
    if not body and not attachments:
        body = "<p><em>(An empty message in the Tickets module.)</em></p>"
        private = True
    elif not message.content.strip() and not attachments and change is not None:
        private = True  # a bare status change is no message to the requester
    from_requester = message.kind is MessageKind.REQUESTER and not private
    author = requester if message.kind is MessageKind.REQUESTER else (
        _person(message.user_id, users) if message.user_id else None)
    status: Literal["received", "sent"] | None = None
    if not private:
        status = "received" if from_requester else "sent"
    return MappedMessage(
        legacy_id=str(message.id), html=body, private=private, from_requester=from_requester,
        mail_status=status, author=author, date=_when(message.ctime) or _when(ticket.ctime),
        message_id=legacy_message_id(ticket.id, message.id), attachments=tuple(attachments),
        status_change=change.status if change else None, problems=tuple(problems))


def attributed_html(message: MappedMessage) -> str:
    """The message's HTML with a first line naming its author.

    Group-Office records the acting user as a comment's author (groupoffice-wire 34): when
    the migration cannot act as the original agent (deleted or disabled), this keeps the
    name visible.
    """
    if message.author is None or message.from_requester:
        return message.html
    who = html.escape(str(message.author))
    return f"<p><em>Written by {who} in the Tickets module.</em></p>{message.html}"


def assign_files(messages: Sequence[LegacyMessage], files: Sequence[LegacyAttachment],
                 ) -> dict[int, list[LegacyAttachment]]:
    """Which message each file of the ticket's folder belongs to: ``{message id: files}``.

    The ``attachments`` column's encoding is not documented; a message claims a file when
    the column holds the file's name, or its id as a separate number. Unclaimed files go to
    the latest message written no later than the file (five seconds' grace), else to the
    first message.
    """
    out: dict[int, list[LegacyAttachment]] = {}
    if not messages:
        return out
    for f in files:
        owner = next((m for m in messages if f.name and f.name in m.attachments_field), None)
        if owner is None:
            pattern = re.compile(rf"(?<!\d){f.file_id}(?!\d)")
            owner = next((m for m in messages if pattern.search(m.attachments_field)), None)
        if owner is None:
            earlier = [m for m in messages if m.ctime <= f.ctime + 5]
            owner = earlier[-1] if earlier else messages[0]
        out.setdefault(owner.id, []).append(f)
    return out


# --------------------------------------------------------------------------------------
# Tickets


@dataclass(frozen=True)
class MappedRequester:
    """Who the ticket is for: a ``user`` (``person.id`` set), an address-book ``contact``,
    or just an ``address`` typed on the ticket."""

    kind: Literal["user", "contact", "address"]
    person: Person
    contact_id: int | None = None


@dataclass(frozen=True)
class MappedTicket:
    """A ticket to write, with everything the desk needs and the facts kept aside."""

    legacy_id: str
    number: str | None
    type: MappedType
    subject: str
    status: Status
    categories: tuple[str, ...]
    priority: int
    agent: Person | None
    requester: MappedRequester
    created_at: datetime | None
    modified_at: datetime | None
    start: date | None
    due: date | None
    cc: tuple[str, ...]
    origin: Callable[[], str] = field(compare=False, repr=False)
    messages: tuple[MappedMessage, ...] = ()
    problems: tuple[str, ...] = ()

    @functools.cached_property
    def origin_note(self) -> str:
        """The private note with the ticket's facts that have no place on a task; built when
        first needed (a rerun writes it for few tickets)."""
        return self.origin()


def _requester(ticket: LegacyTicket, agents: frozenset[int],
               users: Mapping[int, LegacyUser], problems: list[str]) -> MappedRequester:
    """The customer account unless it is an agent (who then opened the ticket for someone),
    else the contact (its user when it has one), else the typed address."""
    account = users.get(ticket.user_id) if ticket.user_id else None
    if account is not None and account.id not in agents:
        return MappedRequester("user", Person(str(account.id), account.email or None,
                                              account.name or account.username))
    contact = ticket.contact
    if contact is not None and contact.user_id and contact.user_id in users:
        user = users[contact.user_id]
        return MappedRequester("user", Person(str(user.id), user.email or None,
                                              user.name or user.username), contact.id)
    email = ticket.email or (contact.email if contact else None) or None
    name = ticket.snapshot_name or (contact.name if contact else "") or None
    if contact is not None:
        return MappedRequester("contact", Person(None, email, name or contact.name),
                               contact.id)
    if email or name:
        return MappedRequester("address", Person(None, email, name))
    if account is not None:
        problems.append(f"ticket {ticket.id}: no requester address; the ticket's account "
                        f"{account.username!r} is the requester")
        return MappedRequester("user", Person(str(account.id), account.email or None,
                                              account.name or account.username))
    problems.append(f"ticket {ticket.id}: no requester at all (no account, contact or "
                    f"address)")
    return MappedRequester("address", Person(None, None, "Unknown requester"))


def _agent(ticket: LegacyTicket, ticket_type: LegacyType | None,
           users: Mapping[int, LegacyUser], problems: list[str]) -> Person | None:
    if not ticket.agent_id:
        return None
    user = users.get(ticket.agent_id)
    if user is None:
        problems.append(f"ticket {ticket.id}: its agent (user {ticket.agent_id}) no longer "
                        f"exists; the ticket is migrated unassigned")
        return None
    if not user.enabled:
        problems.append(f"ticket {ticket.id}: its agent {user.username!r} is disabled; the "
                        f"ticket is migrated unassigned")
        return None
    if ticket_type is None:
        problems.append(f"ticket {ticket.id}: {user.username!r} cannot stay its agent in "
                        f"{DELETED_TYPE_NAME!r} (managers only); it is migrated unassigned")
        return None
    if user.id not in ticket_type.agents:
        problems.append(f"ticket {ticket.id}: {user.username!r} is no longer an agent of "
                        f"type {ticket_type.name!r}; the ticket is migrated unassigned")
        return None
    return Person(str(user.id), user.email or None, user.name or user.username)


def _origin_note(ticket: LegacyTicket, status: MappedStatus, requester: MappedRequester,
                 hours: float) -> str:
    def stamp(ts: int | None) -> str:
        when = _when(ts)
        return when.strftime("%Y-%m-%d %H:%M UTC") if when else "unknown"

    number = f"#{ticket.number}" if ticket.number else "without a number"
    items = [("Created", stamp(ticket.ctime)), ("Last modified", stamp(ticket.mtime)),
             ("Status", status.label), ("Requester", str(requester.person))]
    if ticket.company:
        items.append(("Company", ticket.company))
    if ticket.phone:
        items.append(("Phone", ticket.phone))
    if ticket.cc_addresses.strip():
        items.append(("CC", ticket.cc_addresses.strip()))
    if ticket.due_date:
        items.append(("Due", stamp(ticket.due_date)))
    if hours:
        items.append(("Time booked", f"{hours:g} h"))
    rows = "".join(f"<li>{k}: {html.escape(v)}</li>" for k, v in items)
    return (f"<p>Migrated from the Tickets module: ticket {html.escape(number)} "
            f"(legacy id {ticket.id}).</p><ul>{rows}</ul>")


def map_ticket(ticket: LegacyTicket, types: Mapping[int | None, MappedType],
               legacy_types: Mapping[int, LegacyType], statuses: Mapping[int, LegacyStatus],
               users: Mapping[int, LegacyUser]) -> MappedTicket:
    """One legacy ticket, its messages and files, as the desk writes them.

    ``types`` is :func:`map_types`' result. Nothing is refused: what cannot be carried over
    is listed in ``problems`` and the rest of the ticket is kept.
    """
    problems = list(ticket.problems)
    legacy_type = legacy_types.get(ticket.type_id)
    if legacy_type is None:
        problems.append(f"ticket {ticket.id}: its type {ticket.type_id} was deleted; it goes "
                        f"to the type {DELETED_TYPE_NAME!r}")
    mapped_type = types[legacy_type.id if legacy_type else None]
    status = map_status(ticket.status_id, statuses)
    if ticket.status_id > 0 and ticket.status_id not in statuses:
        problems.append(f"ticket {ticket.id}: its status {ticket.status_id} was deleted; "
                        f"it is kept as category {status.category!r}")
    subject = " ".join(ticket.subject.split())
    if not subject:
        subject = f"{NO_SUBJECT} #{ticket.number}" if ticket.number else NO_SUBJECT
    if len(subject) > MAX_SUBJECT:
        problems.append(f"ticket {ticket.id}: the subject was cut to {MAX_SUBJECT} characters")
        subject = subject[:MAX_SUBJECT - 1].rstrip() + "…"
    agents = (legacy_type.agents if legacy_type is not None
              else frozenset().union(*(t.agents for t in legacy_types.values())))
    requester = _requester(ticket, agents, users, problems)
    agent = _agent(ticket, legacy_type, users, problems)
    by_message = assign_files(ticket.messages, ticket.files)
    messages = []
    for m in ticket.messages:
        mapped = map_message(m, ticket, requester.person, users, statuses,
                             by_message.get(m.id, ()))
        problems.extend(mapped.problems)
        messages.append(mapped)
    if not ticket.messages and ticket.files:
        problems.append(f"ticket {ticket.id}: {len(ticket.files)} file(s) in its folder but "
                        f"no message to attach them to")
    hours = sum(m.rate_hours for m in ticket.messages)
    created = _when(ticket.ctime)
    due = _when(ticket.due_date)
    cc = tuple(a.strip() for a in re.split(r"[,;]", ticket.cc_addresses) if a.strip())
    return MappedTicket(
        legacy_id=str(ticket.id), number=ticket.number, type=mapped_type, subject=subject,
        status=status.status, categories=(status.category,) if status.category else (),
        priority=map_priority(ticket.priority), agent=agent, requester=requester,
        created_at=created, modified_at=_when(ticket.mtime),
        start=created.date() if created else None, due=due.date() if due else None, cc=cc,
        origin=lambda: _origin_note(ticket, status, requester, hours),
        messages=tuple(messages), problems=tuple(dict.fromkeys(problems)))
