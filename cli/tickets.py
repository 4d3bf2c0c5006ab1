"""``go-support tickets``: list, show, create, reply, note, assign, status, close.

Every command goes through :class:`go_support.desk.SupportDesk` acting as the API key's user:
what it may see and do follows that user's rights (an administrator sees every ticket).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any

import click

from go_support.cli.context import (
    DATETIME,
    json_option,
    message_options,
    read_attachments,
    read_message,
    text_to_html,
    wants_json,
)
from go_support.cli.output import emit_json, table

if TYPE_CHECKING:  # the desk is imported when a command runs: `tickets list --help` stays cheap
    from go_support.desk import Message, Person, Ticket, TicketPage, Unassigned

#: The desk's MAX_PER_PAGE, written here so that building the options imports no desk
#: (tests/cli/test_startup.py checks that both agree).
MAX_PER_PAGE = 100

__all__ = ["render_ticket", "render_tickets", "tickets_group"]


# --- values for people ------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    """Local time, to the minute."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def _short(person: Person | None) -> str:
    if person is None:
        return "-"
    return person.name or person.email or (f"user {person.id}" if person.id else "-")


def _full(person: Person | None) -> str:
    if person is None:
        return "-"
    text = str(person)
    return f"{text} (user {person.id})" if person.id and text != f"user {person.id}" else text


def _kind(message: Message) -> str:
    if message.private:
        return "PRIVATE NOTE (never sent to the requester)"
    return {
        "received": "from the requester",
        "pending": "reply, to be mailed to the requester",
        "sent": "reply, mailed to the requester",
        "senderror": "reply, mailing it FAILED",
    }.get(message.mail_status or "", "comment (not mailed)")


def render_tickets(tickets: Sequence[Ticket]) -> str:
    """The table of ``tickets list`` (and of the demo)."""
    rows = [[t.id, t.type.name, t.status.label, t.subject, _short(t.requester),
             _short(t.agent), _when(t.created_at)] for t in tickets]
    return table(["id", "type", "status", "subject", "requester", "agent", "created"], rows,
                 max_width=40)


def render_ticket(ticket: Ticket, *, as_html: bool = False) -> str:
    """The header of a ticket, then its messages oldest first, private notes marked."""
    lines = [f"Ticket {ticket.id}: {ticket.subject}"]
    fields = [
        ("type", ticket.type.name + (" (archived)" if ticket.type.archived else "")),
        ("status", ticket.status.label),
        ("requester", _full(ticket.requester)),
        ("agent", _full(ticket.agent) if ticket.agent else "- (unassigned)"),
        ("categories", ", ".join(c.name for c in ticket.categories) or "-"),
        ("created", _when(ticket.created_at)),
        ("modified", _when(ticket.modified_at)),
    ]
    if ticket.legacy_id:
        fields.append(("legacy id", ticket.legacy_id))
    if ticket.first_message_id:
        fields.append(("Message-ID", ticket.first_message_id))
    lines += [f"  {name + ':':<12}{value}" for name, value in fields]
    if ticket.messages is None:
        return "\n".join(lines)
    from go_support.desk import html_to_text
    from go_support.desk.forms import in_date_order

    messages = in_date_order(ticket.messages)
    lines.append("")
    lines.append(f"{len(messages)} message{'s' if len(messages) != 1 else ''}:")
    for number, message in enumerate(messages, 1):
        lines.append("")
        lines.append(f"[{number}] {_when(message.date)}  {_full(message.author)}  "
                     f"— {_kind(message)}  (message {message.id})")
        body = message.html if as_html else html_to_text(message.html)
        lines += [f"    {line}".rstrip() for line in (body or "(no text)").splitlines()]
        for attachment in message.attachments:
            lines.append(f"    attachment: {attachment.name} (blob {attachment.blob_id})")
    return "\n".join(lines)


def _page_footer(page: TicketPage) -> str:
    if not page.tickets:
        return (f"No tickets on page {page.page} ({page.total} in all)." if page.total
                else "No tickets.")
    first = (page.page - 1) * page.per_page + 1
    last = first + len(page.tickets) - 1
    pages = max(1, -(-page.total // page.per_page))
    text = f"Tickets {first}-{last} of {page.total} (page {page.page} of {pages})"
    if page.has_more:
        text += f"; next: --page {page.page + 1}"
    return text + "."


# --- people on the command line ----------------------------------------------------------------


def _agent_ref(value: str) -> str | Unassigned:
    """An agent as written: ``none``, ``unassigned`` or ``nobody`` is :data:`UNASSIGNED`;
    anything else (a user id, an address, ``me``) goes to the desk as it is."""
    from go_support.desk import UNASSIGNED

    text = value.strip()
    return UNASSIGNED if text.lower() in ("none", "unassigned", "nobody") else text


# --- the commands ------------------------------------------------------------------------------


@click.group("tickets")
def tickets_group() -> None:
    """Tickets: list, show, open, answer, assign, change status, close.

    A ticket is a Group-Office task in a ticket type's task list; its messages are the
    task's comments (a comment with the label "Private" is a private note). Everything runs
    as the API key's user: agents of a type see all of its tickets, anyone else only their
    own.

    \b
    Examples:
      go-support tickets list --status "Needs action" --type "IT support"
      go-support tickets show 42
      go-support tickets create --type "IT support" --subject "VPN down" \\
          --requester ann@example.com --message "Since this morning..."
      go-support tickets reply 42 --message "Fixed, please try again" --status completed
    """


@tickets_group.command("list")
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help="Only this ticket type (name or id; repeat for several).")
@click.option("--status", "statuses", multiple=True, metavar="STATUS",
              help='Only this status ("Needs action", in-progress, completed, failed, '
              "cancelled; repeat for several).")
@click.option("--category", "categories", multiple=True, metavar="CATEGORY",
              help="Only tickets with this category (name or id; repeat for any of several).")
@click.option("--requester", metavar="WHO",
              help='Only tickets of this requester: an e-mail address, a user id or "me".')
@click.option("--agent", metavar="WHO",
              help='Only tickets assigned to this agent: a user id, an e-mail address, "me", '
              'or "none" for unassigned tickets.')
@click.option("--text", metavar="WORDS", help="Full-text search (every word must match).")
@click.option("--legacy-id", metavar="ID", help="The ticket's id in the legacy Tickets module.")
@click.option("--created-after", **DATETIME, help="Created at or after (UTC unless an "
              "offset is given).")
@click.option("--created-before", **DATETIME, help="Created before.")
@click.option("--modified-after", **DATETIME, help="Changed at or after.")
@click.option("--modified-before", **DATETIME, help="Changed before.")
@click.option("--archived", "include_archived", is_flag=True,
              help="Also tickets of archived types.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Page number (newest tickets first).")
@click.option("--per-page", type=click.IntRange(1, MAX_PER_PAGE), default=50, metavar="N",
              show_default=True,
              help=f"Tickets per page (at most {MAX_PER_PAGE}).")
@json_option
@click.pass_obj
def list_command(conn: Any, types: tuple[str, ...], statuses: tuple[str, ...],
                 categories: tuple[str, ...], requester: str | None, agent: str | None,
                 text: str | None, legacy_id: str | None,
                 created_after: datetime | date | None, created_before: datetime | date | None,
                 modified_after: datetime | date | None, modified_before: datetime | date | None,
                 include_archived: bool, page: int, per_page: int, local_json: bool) -> None:
    """List tickets, newest first, one page at a time.

    \b
    Examples:
      go-support tickets list
      go-support tickets list --type "IT support" --status "Needs action" --agent none
      go-support tickets list --requester ann@example.com --created-after 2024-05-01
      go-support tickets list --text printer --page 2 --per-page 20 --json
    """
    from go_support.desk import TicketFilter
    from go_support.desk.forms import page_json

    wanted = TicketFilter(
        type=list(types) or None,
        status=list(statuses) or None,
        category=list(categories) or None,
        requester=requester,
        agent=_agent_ref(agent) if agent is not None else None,
        text=text,
        legacy_id=legacy_id,
        created_after=created_after,
        created_before=created_before,
        modified_after=modified_after,
        modified_before=modified_before,
        include_archived=include_archived,
    )
    with conn.desk() as desk:
        found = desk.tickets.list(wanted, page=page, per_page=per_page)
    if wants_json(conn, local_json):
        emit_json(page_json(found))
        return
    if found.tickets:
        click.echo(render_tickets(found.tickets))
    click.echo(_page_footer(found))


@tickets_group.command("show")
@click.argument("ticket_id", metavar="ID")
@click.option("--html", "as_html", is_flag=True, help="Print the messages' HTML as it is.")
@json_option
@click.pass_obj
def show_command(conn: Any, ticket_id: str, as_html: bool, local_json: bool) -> None:
    """Show a ticket and its messages, oldest first; private notes are marked.

    \b
    Examples:
      go-support tickets show 42
      go-support tickets show 42 --json
    """
    with conn.desk() as desk:
        ticket = desk.tickets.get(ticket_id)
    if wants_json(conn, local_json):
        from go_support.desk.forms import ticket_json

        emit_json(ticket_json(ticket))
        return
    click.echo(render_ticket(ticket, as_html=as_html))


@tickets_group.command("create")
@click.option("--type", "ticket_type", metavar="TYPE",
              help="The ticket type (name or id); default: desk.default_type of the "
              "configuration.")
@click.option("--subject", required=True, help="The subject.")
@click.option("--requester", required=True, metavar="WHO",
              help='Who asks: an e-mail address ("Ann <ann@example.com>"), a user id or "me". '
              "An address of a Group-Office user becomes that user; another is kept on the "
              "ticket.")
@click.option("--category", "categories", multiple=True, metavar="CATEGORY",
              help="A category (name or id; repeat for several).")
@click.option("--agent", metavar="WHO",
              help='Assign it to this agent (a user id, an e-mail address or "me").')
@message_options
@json_option
@click.pass_obj
def create_command(conn: Any, ticket_type: str | None, subject: str, requester: str,
                   categories: tuple[str, ...], agent: str | None, message: str | None,
                   message_file: IO[str] | None, is_html: bool, attach: tuple[str, ...],
                   local_json: bool) -> None:
    """Open a ticket on behalf of a requester, with a first message.

    The message comes from --message, --message-file, or standard input. The new ticket
    needs action; nothing is created when any value is refused.

    \b
    Examples:
      go-support tickets create --type "IT support" --subject "Printer jammed" \\
          --requester "Ann <ann@example.com>" --message "It eats every sheet."
      mail-body.sh | go-support tickets create --type Facilities --subject "Broken chair" \\
          --requester 37 --category Furniture --attach photo.jpg
    """
    text = read_message(message, message_file, is_html)
    files = read_attachments(attach)
    from go_support.desk import Unassigned

    agent_ref = _agent_ref(agent) if agent is not None else None
    with conn.desk() as desk:
        ticket = desk.tickets.create(
            ticket_type, subject, text, requester, category=list(categories) or None,
            attachments=files, agent=None if isinstance(agent_ref, Unassigned) else agent_ref)
    if wants_json(conn, local_json):
        from go_support.desk.forms import ticket_json

        emit_json(ticket_json(ticket))
        return
    click.echo(f"Created ticket {ticket.id} in '{ticket.type.name}' for "
               f"{_full(ticket.requester)}.")
    click.echo(render_ticket(ticket))


def _answer(conn: Any, ticket_id: str, local_json: bool, *, private: bool, text: str,
            files: list[tuple[str, bytes, str]], status: str | None = None) -> None:
    with conn.desk() as desk:
        if private:
            written = desk.messages.note(ticket_id, text, attachments=files)
        else:
            written = desk.messages.reply(ticket_id, text, attachments=files, status=status)
    ticket = written.ticket  # as the same request left it
    if wants_json(conn, local_json):
        from go_support.desk.forms import message_json, ticket_json

        emit_json({"message": message_json(written), "ticket": ticket_json(ticket)})
        return
    if written.private:
        click.echo(f"Private note {written.id} added to ticket {ticket.id} (never sent to the "
                   "requester).")
    elif written.mail_status == "pending":
        click.echo(f"Reply {written.id} added to ticket {ticket.id}; it will be mailed to "
                   f"{_full(ticket.requester)}.")
    else:
        click.echo(f"Message {written.id} added to ticket {ticket.id}.")
    click.echo(f"Ticket {ticket.id} is now '{ticket.status.label}', agent: "
               f"{_full(ticket.agent) if ticket.agent else '- (unassigned)'}.")


@tickets_group.command("reply")
@click.argument("ticket_id", metavar="ID")
@message_options
@click.option("--status", metavar="STATUS",
              help="The ticket's status afterwards (agents only; default: In progress).")
@json_option
@click.pass_obj
def reply_command(conn: Any, ticket_id: str, message: str | None,
                  message_file: IO[str] | None, is_html: bool, attach: tuple[str, ...],
                  status: str | None, local_json: bool) -> None:
    """Answer a ticket: the answer is mailed to the requester.

    An agent's answer keeps the ticket's agent (or assigns the answering agent when there is
    none) and sets the status (default: In progress). The requester's own answer sets it to
    Needs action.

    \b
    Examples:
      go-support tickets reply 42 --message "A technician comes at 3 pm."
      go-support tickets reply 42 --message-file answer.txt --status completed
      go-support tickets reply 42 --html --message "<p>See <b>attached</b></p>" --attach fix.pdf
    """
    text = read_message(message, message_file, is_html)
    _answer(conn, ticket_id, local_json, private=False, text=text,
            files=read_attachments(attach), status=status)


@tickets_group.command("note")
@click.argument("ticket_id", metavar="ID")
@message_options
@json_option
@click.pass_obj
def note_command(conn: Any, ticket_id: str, message: str | None,
                 message_file: IO[str] | None, is_html: bool, attach: tuple[str, ...],
                 local_json: bool) -> None:
    """Add a private note (the comment label "Private"): agents only, never mailed, never
    shown to the requester; the status and the agent stay.

    \b
    Examples:
      go-support tickets note 42 --message "User has asked three times; call them."
      echo "Vendor case 1234" | go-support tickets note 42
    """
    text = read_message(message, message_file, is_html)
    _answer(conn, ticket_id, local_json, private=True, text=text,
            files=read_attachments(attach))


def _changed(conn: Any, ticket: Ticket, local_json: bool, what: str) -> None:
    if wants_json(conn, local_json):
        from go_support.desk.forms import ticket_json

        emit_json(ticket_json(ticket))
        return
    agent = _full(ticket.agent) if ticket.agent else "- (unassigned)"
    click.echo(f"Ticket {ticket.id} {what}: status '{ticket.status.label}', agent {agent}.")


@tickets_group.command("assign")
@click.argument("ticket_id", metavar="ID")
@click.argument("agent", metavar="[AGENT]", required=False)
@click.option("--unassign", is_flag=True, help="Take the ticket away from its agent.")
@json_option
@click.pass_obj
def assign_command(conn: Any, ticket_id: str, agent: str | None, unassign: bool,
                   local_json: bool) -> None:
    """Give a ticket to an agent of its type (a user id, an e-mail address or "me"), or to
    nobody with --unassign. The status stays.

    \b
    Examples:
      go-support tickets assign 42 17
      go-support tickets assign 42 alice@example.com
      go-support tickets assign 42 --unassign
    """
    if (agent is None) == (not unassign):
        raise click.UsageError("give an AGENT or --unassign (not both)")
    from go_support.desk import Unassigned

    target = None if agent is None else _agent_ref(agent)
    with conn.desk() as desk:
        ticket = desk.tickets.assign(ticket_id, None if isinstance(target, Unassigned)
                                     else target)
    _changed(conn, ticket, local_json, "assigned" if ticket.agent else "unassigned")


@tickets_group.command("status")
@click.argument("ticket_id", metavar="ID")
@click.argument("status", metavar="STATUS")
@json_option
@click.pass_obj
def status_command(conn: Any, ticket_id: str, status: str, local_json: bool) -> None:
    """Set a ticket's status: "Needs action", "In progress", Completed, Failed or Cancelled
    (case and spelling are loose: in-progress, IN_PROGRESS ...). The agent stays.

    \b
    Examples:
      go-support tickets status 42 "In progress"
      go-support tickets status 42 needs-action
    """
    with conn.desk() as desk:
        ticket = desk.tickets.set_status(ticket_id, status)
    _changed(conn, ticket, local_json, "updated")


@tickets_group.command("close")
@click.argument("ticket_id", metavar="ID")
@click.option("--status", default="completed", show_default=True, metavar="STATUS",
              help="completed, failed or cancelled.")
@click.option("--feedback", metavar="TEXT",
              help="What the requester gets (plain text): a reply, unless --feedback-mode "
              "says private. Default: desk.close.feedback_text of the configuration.")
@click.option("--feedback-mode", type=click.Choice(["none", "private", "public"]),
              help="none, a private note, or a public reply. Default: desk.close.feedback of "
              "the configuration.")
@json_option
@click.pass_obj
def close_command(conn: Any, ticket_id: str, status: str, feedback: str | None,
                  feedback_mode: str | None, local_json: bool) -> None:
    """Close a ticket (completed, failed or cancelled); the agent stays. The closing feedback
    follows the configuration ([desk.close]) unless --feedback or --feedback-mode say
    otherwise.

    \b
    Examples:
      go-support tickets close 42
      go-support tickets close 42 --status cancelled --feedback-mode none
      go-support tickets close 42 --feedback "Solved by the new driver."
    """
    html = text_to_html(feedback) if feedback is not None else None
    with conn.desk() as desk:
        ticket = desk.tickets.close(ticket_id, status, html, feedback_mode=feedback_mode)
    _changed(conn, ticket, local_json, "closed")
