"""``desk.tickets``: create (one or many), show, list, assign, change status, close."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from go_support.desk._core import DeskCore, ReadPlan
from go_support.desk.changes import needs_percent_reset, write_change
from go_support.desk.checks import AttachmentSource, check_message, parse_person
from go_support.desk.config import FEEDBACK_MODES
from go_support.desk.convert import (
    COMMENT_PROPERTIES,
    TASK_PROPERTIES,
    id_or_none,
    message_from_comment,
    requester_of,
    ticket_from_task,
)
from go_support.desk.errors import InvalidPage, InvalidTicket, RolledBack
from go_support.desk.lookups import add_names
from go_support.desk.models import (
    UNASSIGNED,
    Category,
    Person,
    Status,
    Ticket,
    TicketFilter,
    TicketPage,
    TicketType,
    Unassigned,
)
from go_support.desk.operations import Created, NewMessage, Refused, TicketCreation
from go_support.desk.ticket_creation import (
    CreatedTicket,
    Prepared,
    RefusedTicket,
    TicketDraft,
    check_drafts,
    write_tickets,
)
from go_support.desk.ticket_list import ListQuery, Retry
from go_support.desk.ticket_reads import agent_id_of, as_list, read_for_change, read_ticket
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.errors import SetFailed
from go_support.jmap.results import GetResult

__all__ = ["MAX_PER_PAGE", "TicketManager"]

#: The most tickets :meth:`TicketManager.list` returns per page.
MAX_PER_PAGE = 100


class _ReadBack:
    """The new ticket and its first message, read back in the last request that wrote it."""

    def __init__(self) -> None:
        self.names: Any = None
        self.task: Call | None = None
        self.comment: Call | None = None

    def __call__(self, batch: Batch, handles: Sequence[TicketCreation],
                 outcomes: Sequence[Created | Refused] | None) -> None:
        (handle,) = handles
        if outcomes is None:
            ids: dict[str, Any] = {"#ids": handle.task_call.ref("/created/*/id")}
            comments: dict[str, Any] = {"#ids": handle.comment_call.ref("/created/*/id")}
        else:
            (created,) = outcomes
            if not isinstance(created, Created):
                return
            ids, comments = {"ids": [created.ticket_id]}, {"ids": [created.message_id]}
        self.task = batch.call("Task/get", {**ids, "properties": TASK_PROPERTIES})
        self.names = add_names(batch, self.task)
        self.comment = batch.call("Comment/get", {**comments,
                                                  "properties": COMMENT_PROPERTIES})

    def ticket(self, responses: Responses, prepared: Prepared, created: CreatedTicket) -> Ticket:
        assert self.task is not None and self.comment is not None
        tasks = GetResult.from_json(responses.get(self.task)).objects
        comments = GetResult.from_json(responses.get(self.comment)).objects
        users, categories = self.names.result(responses)
        people = {**users, **prepared.people}
        (new,) = prepared.new
        task = tasks[0] if tasks else {"id": created.ticket_id, "tasklistId": new.type_id,
                                       "title": new.title, "customFields": new.task()[
                                           "customFields"]}
        person = requester_of(task, people)
        messages = [message_from_comment(c, person, people, prepared.layout.private_label_id)
                    for c in comments]
        return ticket_from_task(task, prepared.layout, people,
                                {**prepared.categories, **categories}, messages)


class TicketManager:
    """Tickets: Group-Office tasks in the ticket types' lists."""

    def __init__(self, core: DeskCore) -> None:
        self._core = core

    def _me_for(self, value: Any) -> str | None:
        """The actor's id when ``value`` is ``"me"`` (fetching the session only then)."""
        if isinstance(value, str) and value.strip().lower() == "me":
            return self._core.me()
        return None

    # --- create ------------------------------------------------------------------------------

    def create(
        self,
        type: str | int | TicketType | None,
        subject: str,
        message: str,
        requester: str | int | Person,
        *,
        category: str | int | Category | Sequence[str | int | Category] | None = None,
        attachments: Iterable[AttachmentSource] = (),
        agent: str | int | Person | None = None,
        message_id: str | None = None,
        date: datetime | None = None,
        legacy_id: str | None = None,
        status: str | Status | None = None,
    ) -> Ticket:
        """Open a ticket for ``requester`` with a first message (``mailStatus`` received).

        ``requester`` is a user id, ``"me"``, a :class:`Person`, or an e-mail address
        (``"Ann <ann@example.com>"``): the user with that address when there is one, else the
        address and name are kept in the ticket's custom fields. Agents of the type create
        tickets for anyone; a customer of the type only for themself. The new ticket needs
        action (or has the first ``status`` an agent gives), assigned to ``agent`` (an agent
        of the type: a user id, ``"me"``, a :class:`Person` or a user's address) or to
        nobody. ``message_id`` and ``date`` are those of the mail the message came from;
        ``legacy_id`` that of a ticket migrated from another desk. Nothing is created when
        any value is refused; if the first message is refused after the task was created,
        the task is destroyed again (:class:`~go_support.desk.RolledBack`).
        """
        draft = TicketDraft(type, subject, message, requester, category=category,
                            attachments=tuple(attachments), agent=agent,
                            message_id=message_id, date=date, legacy_id=legacy_id,
                            status=status)
        prepared = check_drafts(self._core, [draft])
        read = _ReadBack()
        written = write_tickets(self._core, prepared, read)
        (result,) = written.results
        if isinstance(result, RefusedTicket):
            raise self._refused(result, prepared)
        return read.ticket(written.responses, prepared, result)

    def create_many(self, drafts: Sequence[TicketDraft]) -> builtins.list[
            CreatedTicket | RefusedTicket]:
        """Open many tickets in a few requests, with the checks of :meth:`create`.

        A bulk with a refused draft is refused as a whole before anything is sent
        (:class:`~go_support.desk.RefusedTickets` names each refused draft). Otherwise the
        answer holds, in the drafts' order, a :class:`CreatedTicket` per ticket, or a
        :class:`RefusedTicket` when Group-Office refused it after the checks (its task
        destroyed again). 5,000 tickets take about four requests (see benchmarks/desk.py),
        plus one per attachment file.
        """
        if not drafts:
            return []
        prepared = check_drafts(self._core, list(drafts))
        return write_tickets(self._core, prepared).results

    def _refused(self, refused: RefusedTicket, prepared: Prepared) -> Exception:
        """The error of a single ticket Group-Office refused."""
        if refused.undone is not None or refused.left_over is not None:
            return _rolled_back(refused)
        error = refused.error
        if isinstance(error, SetFailed) and any(e.type == "forbidden" for e in error.errors):
            (ticket_type,) = {prepared.layout.by_id(n.type_id) for n in prepared.new}
            name = ticket_type.name if ticket_type else "?"
            return self._core.forbidden(f"open a ticket in type '{name}'", "open tickets")
        return error if error is not None else InvalidTicket(refused.reason)

    # --- get and list --------------------------------------------------------------------------

    def get(self, id: str | int | Ticket, with_messages: bool = True) -> Ticket:
        """A ticket, with its messages (customers get the public ones only).

        Agents of the ticket's type see every ticket of it; anyone else only the tickets they
        requested (:class:`~go_support.desk.PermissionDenied` otherwise).
        """
        return read_ticket(self._core, id, with_messages)

    def list(
        self,
        filter: TicketFilter | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> TicketPage:
        """One page of the tickets the actor may see, newest first.

        Agents see every ticket of their types, anyone else the tickets they requested. The
        page comes in one HTTP request once the desk knows its layout (two from a fresh
        client: the layout, then the page); an agent given by address is looked up in the
        same request. ``page`` counts from 1, ``per_page`` is 1 to :data:`MAX_PER_PAGE`
        (:class:`~go_support.desk.InvalidPage` otherwise).
        """
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise InvalidPage(f"the page number {page!r} is not a page: pages count from 1")
        if (isinstance(per_page, bool) or not isinstance(per_page, int)
                or not 1 <= per_page <= MAX_PER_PAGE):
            raise InvalidPage(f"{per_page!r} tickets per page: per_page must be between 1 and "
                              f"{MAX_PER_PAGE}")
        wanted = filter or TicketFilter()
        for _attempt in range(3):  # a look-up that matched too much narrows the filter
            query = self._list_query(wanted, page, per_page)
            try:
                result: TicketPage = self._core.read(ReadPlan(build=query.build,
                                                              needs_layout=True))
                return result
            except Retry as retry:
                wanted = retry.filter
        raise AssertionError("a filter narrowed by ids needs no look-up")  # pragma: no cover

    def _list_query(self, wanted: TicketFilter, page: int, per_page: int) -> ListQuery:
        for status in as_list(wanted.status):
            Status.parse(status)  # an unknown status is refused before anything is sent
        requester = (None if wanted.requester is None
                     else parse_person(wanted.requester, role="requester",
                                       me=self._me_for(wanted.requester)))
        agent: Any = None
        if isinstance(wanted.agent, Unassigned):
            agent = UNASSIGNED
        elif wanted.agent is not None:
            agent = parse_person(wanted.agent, role="agent", me=self._me_for(wanted.agent))
        return ListQuery(self._core, wanted, page, per_page, requester, agent)

    # --- changes -----------------------------------------------------------------------------

    def assign(self, id: str | int | Ticket, agent: str | int | Person | None) -> Ticket:
        """Give the ticket to ``agent`` (an agent of its type: a user id, ``"me"``, a
        :class:`Person` or a user's e-mail address, looked up in the request that reads the
        ticket), or to nobody (``None``). The status stays as it is.
        """
        core = self._core
        spec = None if agent is None else parse_person(agent, role="agent",
                                                       me=self._me_for(agent))
        read = read_for_change(core, id, agent=spec, doing="assign tickets")
        responsible = None if spec is None else agent_id_of(read.user, spec, read.ticket_type)
        status = Status(read.task.get("progress") or Status.NEEDS_ACTION.value)
        done = write_change(core, read.task, message=None, progress=status,
                            responsible=responsible, what=f"assign ticket {read.task['id']}")
        return ticket_from_task(done.task, read.layout, done.users, done.categories)

    def set_status(self, id: str | int | Ticket, status: str | Status) -> Ticket:
        """Set the status; the agent stays."""
        core = self._core
        wanted = Status.parse(status)
        read = read_for_change(core, id, doing="change the status of tickets")
        done = write_change(core, read.task, message=None, progress=wanted,
                            responsible=id_or_none(read.task.get("responsibleUserId")),
                            reset_percent=needs_percent_reset(read.task, wanted),
                            what=f"change the status of ticket {read.task['id']}")
        return ticket_from_task(done.task, read.layout, done.users, done.categories)

    def close(
        self,
        id: str | int | Ticket,
        status: str | Status = Status.COMPLETED,
        feedback: str | None = None,
        *,
        feedback_mode: str | None = None,
    ) -> Ticket:
        """Close the ticket (completed, failed or cancelled); the agent stays.

        What the requester gets follows the settings (``desk.close.feedback``: ``none``, a
        ``private`` note, or a ``public`` reply with ``desk.close.feedback_text``).
        ``feedback`` replaces the text (a public reply when the settings say ``none``);
        ``feedback_mode`` replaces the mode.
        """
        core = self._core
        wanted = Status.parse(status)
        if not wanted.is_closed:
            raise InvalidTicket(f"closing needs a closing status (Completed, Failed or "
                                f"Cancelled), not '{wanted.label}'")
        close_settings = core.settings.desk.close
        mode = feedback_mode or close_settings.feedback
        if mode not in FEEDBACK_MODES:
            raise InvalidTicket(f"feedback_mode must be none, private or public (got {mode!r})")
        text = feedback if feedback is not None else close_settings.feedback_text
        if feedback is not None and feedback_mode is None and mode == "none":
            mode = "public"
        html_text = None if mode == "none" else check_message(text,
                                                             what="the closing feedback")
        read = read_for_change(core, id, doing="close tickets")
        message = None
        if html_text is not None:
            message = (NewMessage(html_text, private_label_id=read.layout.private_label_id)
                       if mode == "private" else NewMessage(html_text, "pending"))
        done = write_change(core, read.task, message=message, progress=wanted,
                            responsible=id_or_none(read.task.get("responsibleUserId")),
                            what=f"close ticket {read.task['id']}")
        return ticket_from_task(done.task, read.layout, done.users, done.categories)


def _rolled_back(refused: RefusedTicket) -> RolledBack:
    """A ticket whose first message Group-Office refused after its task was created."""
    cause = refused.error if refused.error is not None else InvalidTicket(refused.reason)
    if refused.left_over is None:
        return RolledBack(
            f"{refused.reason}; the ticket's task {refused.undone} was destroyed again, nothing "
            "was left on Group-Office", cause=cause, undone=[f"task {refused.undone}"])
    return RolledBack(
        f"{refused.reason}; the ticket's task {refused.left_over} could not be destroyed: "
        "delete it in Group-Office", cause=cause, left_over=[f"task {refused.left_over}"])
