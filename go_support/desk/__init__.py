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

Design
------

**The layout, once per desk, checked in the same request.** :class:`DeskLayout` holds what
the desk is made of: the two groupings, the type lists with their ACLs (and the key user's
level on each), the "Private" label. It is discovered once per :class:`SupportDesk` (shared
with its :meth:`~SupportDesk.as_user` views) with one POST: ``TaskListGrouping/get``,
``TaskList/get`` of every list (Group-Office has no ``groupingId`` filter, surprise 05),
``CommentLabel/get``, ``Field/get`` (missing pieces raise :class:`NotInstalled`). After that,
every read carries a check in the same POST: ``TaskList/get`` of the type lists and
``CommentLabel/get`` of the label. The ``TaskList`` state moves with any list or ACL change,
so an unchanged state (and unchanged levels) proves the layout current; otherwise the layout is
discovered again, and the work is repeated only if what decides visibility changed.

**Reads in one request.** The work travels with the check through result references:
``Task/query`` → ``#ids`` → ``Task/get`` → ``/list/*/responsibleUserId`` and
``/list/*/customFields/supportRequesterId`` → ``User/get``, ``/list/*/categories`` →
``TaskCategory/get``; for a ticket's messages ``Comment/query`` → ``Comment/get`` →
``/list/*/createdBy`` → ``User/get`` (100 messages per page; more in one further request).

**No session GET.** The desk puts its client in deferred-session mode
(:meth:`GroupOfficeClient.defer_session`): calls go to ``<base>/api/jmap.php`` with
Group-Office's default limits, and the session is fetched only when the key user's id is
needed (a role check that needs the actor's groups, an agent's reply that assigns the ticket
to them...). Measured against the emulator (``tests/desk/test_performance.py``): from a
fresh client and desk, the first page of 10,000 tickets costs 2 HTTP requests (layout
discovery, then the page) and a ticket with 50 messages 2 (discovery and ticket in one
request that the client splits at ``maxCallInRequest``); with the layout known, each costs 1.

**Visibility is the desk's, never Group-Office's alone.** ``Comment/query`` applies no ACL and
a user with create level reads every task of a list (surprises 31, 32). The list query is
scoped explicitly: ``tasklistId`` in the types where the actor is an agent, OR (types where
they are not) AND ``supportRequesterId`` = the actor; every answer is filtered again before it
is returned, and private notes are removed for anyone who is not an agent of the type.

**Writes leave the ticket in the asked state.** A comment may auto-assign the task and move
its progress (surprises 11, 12, 33, 34). Every change is one request: the ``Comment/set``, a
``Task/set`` that sets ``progress`` and ``responsibleUserId`` together, guarded by a result
reference to the new comment (a refused comment leaves the task untouched), and a re-read.
Defaults: a new ticket needs action (agent as given, else none); an agent's reply keeps the
agent or assigns the replying agent, status as given or in progress; the requester's reply
keeps the agent, needs action; a note, ``assign`` and ``set_status`` change only what they
name; ``close`` sets the closing status and keeps the agent.

**Nothing half-created.** Types, categories, statuses, subjects, addresses, Message-IDs,
attachments, the actor's rights and the agent's rights are checked before anything is sent;
HTML is cleaned as Group-Office would and checked against its script detection
(:func:`sanitize_html`). When a later call of a request still fails, what the earlier ones
created is destroyed (and the ticket's state restored) and :class:`RolledBack` says so.
"""

from go_support.desk.config import DeskConfig, DeskSettings
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
    "DeskSettings",
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
    "html_to_text",
    "sanitize_html",
]
