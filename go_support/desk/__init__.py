"""The help desk on Group-Office: ticket types, tickets, messages, categories, statuses, roles.

::

    from go_support.desk import SupportDesk, TicketFilter

    desk = SupportDesk(client, settings)                 # acts as the API key's user
    ticket = desk.tickets.create("Hardware", "Printer jammed", "<p>Help</p>", "ann@example.com")
    reply = desk.messages.reply(ticket, "<p>On my way</p>")
    reply.ticket.status, reply.ticket.agent               # in progress, assigned to me
    page = desk.tickets.list(TicketFilter(status="Needs action"))
    mine = desk.as_user(37).tickets.list()               # what user 37 may see

See ``docs/library.md`` for the API. How it sits on Group-Office (DESIGN.md §2):

* A **ticket type** is a task list (role ``list``) in the task-list grouping "Support"; an
  archived type sits in "Support archive". **Agents** of a type are the users with write (30)
  or more on the list's own ACL; **customers** are the members of the type's customer groups
  from the settings (they get no ACL on the list); **managers** are Group-Office admins and the
  members of the settings' managers group. A **ticket** is a task in a type's list, its
  requester, requester address/name, first Message-ID and legacy id are the custom fields of
  :mod:`go_support.desk.names`; a **message** is a comment, a **private note** a comment with
  the label "Private", a **category** a task category (global or of the type's list).

The design (layout, one-request reads, visibility, writes, bulk work) is in
``docs/architecture.md``.
"""

from go_support.desk.config import DeskConfig, SettingsLike
from go_support.desk.desk import SupportDesk
from go_support.desk.discovery import DeskLayout
from go_support.desk.errors import (
    DeskError,
    InvalidCategory,
    InvalidMessage,
    InvalidPage,
    InvalidTicket,
    InvalidType,
    NotATicket,
    NotInstalled,
    PermissionDenied,
    RefusedTickets,
    RolledBack,
    UnknownCategory,
    UnknownGroup,
    UnknownStatus,
    UnknownType,
    UnknownUser,
)
from go_support.desk.html import html_to_text, sanitize_html
from go_support.desk.models import (
    UNASSIGNED,
    Attachment,
    Category,
    Message,
    Person,
    PostedMessage,
    Status,
    Ticket,
    TicketFilter,
    TicketPage,
    TicketType,
    Unassigned,
)
from go_support.desk.retry import WriteRetry
from go_support.desk.ticket_creation import CreatedTicket, RefusedTicket, TicketDraft
from go_support.desk.tickets import MAX_PER_PAGE

__all__ = [
    "MAX_PER_PAGE",
    "UNASSIGNED",
    "Attachment",
    "Category",
    "CreatedTicket",
    "DeskConfig",
    "DeskError",
    "DeskLayout",
    "InvalidCategory",
    "InvalidMessage",
    "InvalidPage",
    "InvalidTicket",
    "InvalidType",
    "Message",
    "NotATicket",
    "NotInstalled",
    "PermissionDenied",
    "Person",
    "PostedMessage",
    "RefusedTicket",
    "RefusedTickets",
    "RolledBack",
    "SettingsLike",
    "Status",
    "SupportDesk",
    "Ticket",
    "TicketDraft",
    "TicketFilter",
    "TicketPage",
    "TicketType",
    "Unassigned",
    "UnknownCategory",
    "UnknownGroup",
    "UnknownStatus",
    "UnknownType",
    "UnknownUser",
    "WriteRetry",
    "html_to_text",
    "sanitize_html",
]
