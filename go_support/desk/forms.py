"""The desk's values as JSON: one form of a ticket, a message, a type, a category, a person
and a page, shared by every front end (the CLI's ``--json``, a web page, a script).

Keys are camelCase like Group-Office's own JSON; dates are ISO 8601 with their offset;
messages come oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from go_support.desk.html import html_to_text
from go_support.desk.models import Category, Message, Person, Ticket, TicketPage, TicketType

__all__ = [
    "category_json",
    "in_date_order",
    "message_json",
    "page_json",
    "person_json",
    "ticket_json",
    "type_json",
]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def person_json(person: Person | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"id": person.id, "email": person.email, "name": person.name}


def type_json(ticket_type: TicketType) -> dict[str, Any]:
    return {"id": ticket_type.id, "name": ticket_type.name,
            "description": ticket_type.description, "archived": ticket_type.archived,
            "acl": dict(ticket_type.acl)}


def category_json(category: Category) -> dict[str, Any]:
    return {"id": category.id, "name": category.name, "typeId": category.type_id}


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "ticketId": message.ticket_id,
        "date": _iso(message.date),
        "author": person_json(message.author),
        "private": message.private,
        "mailStatus": message.mail_status,
        "messageId": message.message_id,
        "html": message.html,
        "text": html_to_text(message.html),
        "attachments": [{"blobId": a.blob_id, "name": a.name, "id": a.id}
                        for a in message.attachments],
    }


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": ticket.id,
        "type": {"id": ticket.type.id, "name": ticket.type.name},
        "subject": ticket.subject,
        "status": ticket.status.value,
        "statusLabel": ticket.status.label,
        "agent": person_json(ticket.agent),
        "requester": person_json(ticket.requester),
        "categories": [category_json(c) for c in ticket.categories],
        "createdAt": _iso(ticket.created_at),
        "modifiedAt": _iso(ticket.modified_at),
        "legacyId": ticket.legacy_id,
        "firstMessageId": ticket.first_message_id,
    }
    if ticket.messages is not None:
        data["messages"] = [message_json(m) for m in in_date_order(ticket.messages)]
    return data


def page_json(page: TicketPage) -> dict[str, Any]:
    return {"tickets": [ticket_json(t) for t in page.tickets], "total": page.total,
            "page": page.page, "perPage": page.per_page, "hasMore": page.has_more}


def in_date_order(messages: Iterable[Message]) -> list[Message]:
    """Oldest first (messages without a date keep their place at the end)."""
    listed = list(messages)
    return sorted(listed, key=lambda m: (m.date is None,
                                         m.date.timestamp() if m.date else 0.0))
