"""``desk.messages``: replies, private notes, and the messages of a ticket."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from go_support.desk._core import DeskCore
from go_support.desk.actor import WRITE
from go_support.desk.attribution import attributed
from go_support.desk.changes import ChangeResult, needs_percent_reset, write_change
from go_support.desk.checks import (
    AttachmentSource,
    check_date,
    check_message,
    check_message_id,
    check_sender,
    prepare_attachments,
    upload_attachments,
)
from go_support.desk.convert import (
    id_or_none,
    message_from_comment,
    requester_id,
    requester_of,
    ticket_from_task,
)
from go_support.desk.discovery import DeskLayout
from go_support.desk.errors import InvalidMessage, PermissionDenied
from go_support.desk.models import Message, Person, PostedMessage, Status, Ticket
from go_support.desk.operations import NewMessage
from go_support.desk.ticket_reads import read_for_change

if TYPE_CHECKING:
    from go_support.desk.tickets import TicketManager

__all__ = ["MessageManager"]


class MessageManager:
    """Messages: Group-Office comments on a ticket's task.

    State after each action (Group-Office's own comment side effects are overridden in the
    same request, see :mod:`go_support.desk`):

    * an agent's reply: the ticket's agent stays, or becomes the replying agent when it had
      none; the status becomes ``status`` (default: in progress);
    * the requester's reply: the agent stays; the status becomes needs action;
    * a private note: nothing changes.

    :meth:`reply` and :meth:`note` return a :class:`PostedMessage`: the new message, with
    ``.ticket``, the ticket as re-read in the same request (its status and agent after it).
    """

    def __init__(self, core: DeskCore, tickets: TicketManager) -> None:
        self._core = core
        self._tickets = tickets

    def reply(
        self,
        ticket: str | int | Ticket,
        html: str,
        *,
        attachments: Iterable[AttachmentSource] = (),
        status: str | Status | None = None,
        message_id: str | None = None,
        date: datetime | None = None,
        sender: Person | None = None,
    ) -> PostedMessage:
        """Answer on a ticket, as an agent of its type or as its requester.

        An agent's answer is stored with ``mailStatus`` pending: the daemon mails it to the
        requester. The requester's is stored as received; only agents may pass ``status``.
        ``message_id`` and ``date`` are those of the mail the message came from. The answer's
        ``.ticket`` shows the status and agent it left the ticket in.

        The requester's message starts, in Group-Office's web client, with a line naming who
        wrote it (:mod:`go_support.desk.attribution`): the requester, or ``sender`` (a mail
        from someone else on the thread, received on the requester's ticket). The desk's own
        reads leave that line out; the message's ``author`` stays the requester.
        """
        core = self._core
        files = prepare_attachments(attachments)
        text = check_message(html, what="the reply", attachments=files)
        wanted = None if status is None else Status.parse(status)
        mime_id = check_message_id(message_id)
        when = check_date(date)
        other_sender = check_sender(sender)
        read = read_for_change(core, ticket)
        task, ticket_type, layout = read.task, read.ticket_type, read.layout
        core.refuse_disabled(ticket_type, layout, f"answer ticket {task['id']}")
        agent_reply = core.is_agent(ticket_type, layout)
        if not agent_reply:
            if requester_id(task) != core.me():
                core.refuse_stranger(task["id"], ticket_type, "answer")
            if wanted is not None:
                raise PermissionDenied(
                    f"{core.who()} may not set the status of ticket {task['id']}: only agents "
                    f"of type '{ticket_type.name}' may (needs write access on its task list)",
                    actor=core.me(), right="agent")
        if agent_reply and other_sender is not None:
            raise InvalidMessage(
                f"an agent's answer on ticket {task['id']} is the agent's own: sender is only "
                "for a message received from the requester's side")
        if not agent_reply:
            text = attributed(text, other_sender or requester_of(task, {}))
        blobs = upload_attachments(core.client, files)
        message = NewMessage(text, "pending" if agent_reply else "received",
                             message_id=mime_id, date=when, attachments=tuple(blobs))
        current_agent = id_or_none(task.get("responsibleUserId"))
        responsible: str | None
        if agent_reply:
            progress = wanted or Status.IN_PROGRESS
            responsible = current_agent or core.me()
        else:
            progress = Status.NEEDS_ACTION
            responsible = current_agent
        # A requester on their own key with less than write access cannot update the task;
        # the comment hook then does what the reply should: needs action, agent kept.
        hook_only = (not agent_reply and core.self_mode
                     and layout.key_levels.get(ticket_type.id, 0) < WRITE
                     and current_agent != core.me())
        done = write_change(core, task, message=message, progress=progress,
                            responsible=responsible,
                            reset_percent=needs_percent_reset(task, progress),
                            set_state=not hook_only, what=f"answer ticket {task['id']}")
        return self._message(done, layout)

    def note(
        self,
        ticket: str | int | Ticket,
        html: str,
        *,
        attachments: Iterable[AttachmentSource] = (),
    ) -> PostedMessage:
        """A private note (the comment label "Private"): agents only, never mailed, never
        shown to the requester; the ticket's status and agent stay as they are (``.ticket``
        shows them)."""
        core = self._core
        files = prepare_attachments(attachments)
        text = check_message(html, what="the note", attachments=files)
        read = read_for_change(core, ticket, doing="write private notes")
        task, layout = read.task, read.layout
        blobs = upload_attachments(core.client, files)
        message = NewMessage(text, private_label_id=layout.private_label_id,
                             attachments=tuple(blobs))
        status = Status(task.get("progress") or Status.NEEDS_ACTION.value)
        done = write_change(core, task, message=message, progress=status,
                            responsible=id_or_none(task.get("responsibleUserId")),
                            what=f"add a note to ticket {task['id']}")
        return self._message(done, layout)

    def list(self, ticket: str | int | Ticket) -> list[Message]:
        """The ticket's messages, oldest first (customers get the public ones only)."""
        found = self._tickets.get(ticket, with_messages=True)
        return list(found.messages or ())

    def _message(self, done: ChangeResult, layout: DeskLayout) -> PostedMessage:
        """The new message and the ticket, both as read back in the writing request."""
        assert done.comment is not None
        message = message_from_comment(done.comment, requester_of(done.task, done.users),
                                       done.users, layout.private_label_id)
        ticket = ticket_from_task(done.task, layout, done.users, done.categories)
        return PostedMessage(**vars(message), ticket=ticket)

