"""Desk operations a caller adds to its own :class:`~go_support.jmap.Batch`.

The managers decide permissions and defaults; this layer only knows how the desk writes a
ticket creation, a message and a state change on Group-Office, and how it looks tickets and
messages up, so that single changes and bulk work (mail intake, auto-close, migration) write
the same thing. :class:`Writes` shares its ``/set`` calls between operations (up to
``maxObjectsInSet`` objects each), so that 5,000 tickets with their first messages are a
handful of calls; each operation returns a handle whose ``result(responses)`` parses what came
back, typed. The look-ups that go with them are in :mod:`go_support.desk.lookups`.

What the layer guarantees, whoever calls it:

* the values are already checked (:class:`NewTicket` and :class:`NewMessage` are built by the
  managers' checks; HTML is cleaned before it gets here);
* a state change is two ``Task/set`` calls, the agent then the progress: Group-Office resets
  the progress whenever the agent changes and the progress keeps its value (groupoffice-wire
  17);
* a first message goes in the same request as its task, through a result reference to the
  task's creation (groupoffice-wire 09); :func:`undo_creations` destroys the tasks whose first
  message was refused.

A new task's first comment resets its progress to needs-action (groupoffice-wire 09, 16): a
ticket created with another first status needs a state change once its id is known, in a
following request (:meth:`TicketCreation.needs_state`).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from go_support.desk import names
from go_support.desk.models import Status
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.errors import JMAPError, MethodError, SetError, SetFailed
from go_support.jmap.results import SetResult
from go_support.jmap.validation import validate_set

__all__ = [
    "Created",
    "MessagePost",
    "NewMessage",
    "NewTicket",
    "Refused",
    "StateChange",
    "TicketCreation",
    "Writes",
    "add_state_change",
    "check_undone",
    "state_patches",
    "undo_creations",
]

PER_CALL = 1000  # Group-Office's maxObjectsInSet


def utc_text(value: datetime | date) -> str:
    """A date as Group-Office's filters and date properties take it (UTC, seconds)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return f"{value.isoformat()}T00:00:00+00:00"


# --- what is written ---------------------------------------------------------------------


@dataclass(frozen=True)
class NewMessage:
    """A message to post, its values checked: the HTML cleaned, attachments uploaded
    (``{blobId, name}``), ``mail_status`` ``received``, ``pending`` or ``None`` (a note)."""

    text: str
    mail_status: str | None = None
    private_label_id: str | None = None
    message_id: str | None = None
    date: datetime | None = None
    attachments: tuple[Mapping[str, str], ...] = ()

    def comment(self) -> dict[str, Any]:
        """The ``Comment`` to create, without its task."""
        values: dict[str, Any] = {"text": self.text}
        if self.mail_status is not None:
            values["mailStatus"] = self.mail_status
        if self.private_label_id is not None:
            values["labels"] = [self.private_label_id]
        if self.message_id:
            values["mimeMessageId"] = self.message_id
        if self.date is not None:
            values["date"] = self.date
        if self.attachments:
            values["attachments"] = [dict(a) for a in self.attachments]
        return values


@dataclass(frozen=True)
class NewTicket:
    """A ticket to create, its values checked (the managers' checks build it)."""

    type_id: str
    title: str
    first: NewMessage
    requester_id: str | None = None
    requester_email: str = ""
    requester_name: str = ""
    agent_id: str | None = None
    status: Status = Status.NEEDS_ACTION
    category_ids: tuple[str, ...] = ()
    legacy_id: str | None = None
    start: date | None = None
    due: date | None = None
    first_key: str | None = None
    """What ``supportFirstMessageId`` holds when it is not the first message's Message-ID
    (mail intake stores the Message-ID with the mail's own key there)."""

    def task(self) -> dict[str, Any]:
        """The ``Task`` to create (needs action: the first message would reset it anyway)."""
        values: dict[str, Any] = {
            "tasklistId": self.type_id,
            "title": self.title,
            "progress": Status.NEEDS_ACTION.value,
            "responsibleUserId": self.agent_id,
            "categories": list(self.category_ids),
            "customFields": {
                names.REQUESTER_ID: int(self.requester_id) if self.requester_id else None,
                names.REQUESTER_EMAIL: self.requester_email,
                names.REQUESTER_NAME: self.requester_name[:190],
                names.FIRST_MESSAGE_ID: self.first_key or self.first.message_id or "",
                names.LEGACY_TICKET_ID: self.legacy_id or "",
            },
        }
        if self.start is not None:
            values["start"] = self.start
        if self.due is not None:
            values["due"] = self.due
        return values


# --- handles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """A ticket created: its task id and its first message's comment id."""

    ticket_id: str
    message_id: str


@dataclass(frozen=True)
class Refused:
    """What Group-Office refused, and why (a task created whose message was refused is
    listed in ``task_id``: :func:`undo_creations` destroys it). ``error`` is Group-Office's
    answer as an exception (a method error, or :class:`SetFailed` for one object)."""

    reason: str
    task_id: str | None = None
    error: JMAPError | None = None


def _refused(result: SetResult | None, failed: MethodError | None, key: str, section: str,
             method: str, what: str = "", task_id: str | None = None) -> Refused:
    if failed is not None:
        return Refused(f"{what}{failed}", task_id, failed)
    errors: Mapping[str, SetError] = getattr(result, section) if result is not None else {}
    error = errors.get(key)
    if error is None:
        return Refused(f"{what}no answer for it", task_id)
    return Refused(f"{what}{error}", task_id, SetFailed(method=method, errors=[error],
                                                        result=result))


_parsed: weakref.WeakKeyDictionary[
    Responses, dict[str, tuple[SetResult | None, MethodError | None]]
] = weakref.WeakKeyDictionary()


def _set(responses: Responses, call: Call) -> tuple[SetResult | None, MethodError | None]:
    """A ``/set`` call's result, or the call's error; parsed once per response, however many
    operations share the call."""
    known = _parsed.setdefault(responses, {})
    found = known.get(call.call_id)
    if found is None:
        try:
            found = SetResult.from_json(responses.get(call)), None
        except MethodError as exc:
            found = None, exc
        known[call.call_id] = found
    return found


@dataclass(frozen=True)
class TicketCreation:
    """One ticket creation in a batch: ``result(responses)`` is :class:`Created` or
    :class:`Refused`."""

    task_call: Call
    task_cid: str
    comment_call: Call
    comment_cid: str
    new: NewTicket

    def result(self, responses: Responses) -> Created | Refused:
        tasks, failed = _set(responses, self.task_call)
        if tasks is None or self.task_cid not in tasks.created:
            return _refused(tasks, failed, self.task_cid, "not_created", "Task/set",
                            "the task: ")
        task_id = str(tasks.created[self.task_cid]["id"])
        comments, failed = _set(responses, self.comment_call)
        if comments is None or self.comment_cid not in comments.created:
            return _refused(comments, failed, self.comment_cid, "not_created", "Comment/set",
                            "the first message: ", task_id)
        return Created(task_id, str(comments.created[self.comment_cid]["id"]))

    @property
    def needs_state(self) -> bool:
        """Whether the first status is not the one the first message leaves."""
        return self.new.status is not Status.NEEDS_ACTION


@dataclass(frozen=True)
class MessagePost:
    """One message in a batch: ``result(responses)`` is the new comment (as Group-Office
    answered the creation) or :class:`Refused`."""

    call: Call
    cid: str

    def guard(self) -> dict[str, str]:
        """A reference that resolves only if the message was created."""
        return self.call.ref(f"/created/{self.cid}/id")

    def result(self, responses: Responses) -> dict[str, Any] | Refused:
        posted, failed = _set(responses, self.call)
        if posted is None or self.cid not in posted.created:
            return _refused(posted, failed, self.cid, "not_created", "Comment/set")
        return dict(posted.created[self.cid])


@dataclass(frozen=True)
class StateChange:
    """One state change in a batch: ``result(responses)`` is ``None`` when it was written, or
    :class:`Refused` (the agent may have been written without the progress)."""

    calls: tuple[Call, ...]
    task_id: str

    def result(self, responses: Responses) -> Refused | None:
        for call in self.calls:
            changed, failed = _set(responses, call)
            if changed is None or self.task_id not in changed.updated:
                return _refused(changed, failed, self.task_id, "not_updated", "Task/set")
        return None

    def errors(self, responses: Responses) -> list[SetError]:
        """The per-object errors (``forbidden``...), for the managers' messages."""
        found: list[SetError] = []
        for call in self.calls:
            changed, _ = _set(responses, call)
            if changed is not None and self.task_id in changed.not_updated:
                found.append(changed.not_updated[self.task_id])
        return found


# --- writing ----------------------------------------------------------------------------------


def state_patches(progress: Status, responsible: str | None,
                  reset_percent: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The agent patch and the progress patch, to be sent in this order as two ``Task/set``
    calls: the progress after the agent survives Group-Office's reset (groupoffice-wire 17).
    ``reset_percent``: a reopened task keeps ``percentComplete`` 100 otherwise
    (groupoffice-wire 08)."""
    progress_patch: dict[str, Any] = {"progress": progress.value}
    if reset_percent:
        progress_patch["percentComplete"] = 0
    return {"responsibleUserId": responsible}, progress_patch


def add_state_change(batch: Batch, task_id: str, progress: Status, responsible: str | None, *,
                     reset_percent: bool = False, guard: dict[str, str] | None = None,
                     validate: bool = True) -> StateChange:
    """Add the ``Task/set`` calls that leave one task at ``progress`` and ``responsible``.

    ``guard`` is a result reference that must resolve for the calls to run at all: Group-Office
    ignores an unknown argument but fails the call on a broken reference (groupoffice-wire
    03, 14)."""
    calls: list[Call] = []
    for patch in state_patches(progress, responsible, reset_percent):
        _, updates = validate_set("Task", update={task_id: patch}, validate=validate)
        args: dict[str, Any] = {"update": updates}
        if guard is not None:
            args["#afterMessage"] = guard
        calls.append(batch.call("Task/set", args))
    return StateChange(tuple(calls), task_id)


@dataclass
class _Shared:
    """A ``/set`` call that operations share while it has room."""

    call: Call
    section: str
    count: int = 0


@dataclass
class Writes:
    """Ticket creations, messages and state changes that share ``/set`` calls in ``batch``.

    Operations of the same kind go into the same call while it holds fewer than ``per_call``
    objects. ``chained``: each new call refers to the one before it, so that many small calls
    (a real server may deadlock on a big ``Comment/set``) travel in one HTTP request
    (Group-Office advertises ``maxCallInRequest`` but does not enforce it, groupoffice-wire
    03), and a failed call stops the calls after it instead of writing around a gap.
    A first message goes into a ``Comment/set`` that follows its task's ``Task/set``;
    state changes of many tickets share one agent call and one progress call."""

    batch: Batch
    per_call: int = PER_CALL
    chained: bool = False
    _open: dict[str, _Shared] = field(default_factory=dict)
    _last: Call | None = None

    def _slot(self, kind: str, entity: str, section: str, guard: dict[str, str] | None = None,
              fresh: bool = False) -> _Shared:
        shared = self._open.get(kind)
        if fresh or shared is None or shared.count >= self.per_call:
            args: dict[str, Any] = {section: {}}
            if guard is None and self.chained and self._last is not None:
                guard = self._last.ref("/newState")
            if guard is not None:
                args["#afterMessage"] = guard
            shared = _Shared(self.batch.call(f"{entity}/set", args), section)
            self._open[kind] = shared
            self._last = shared.call
        shared.count += 1
        return shared

    def _put(self, shared: _Shared, entity: str, key: str, obj: Mapping[str, Any]) -> None:
        if shared.section == "create":
            checked, _ = validate_set(entity, create={key: obj})
            shared.call.args["create"].update(checked)
        else:
            _, checked = validate_set(entity, update={key: obj})
            shared.call.args["update"].update(checked)

    def create_ticket(self, new: NewTicket) -> TicketCreation:
        """Add a task and its first message (in the ``Comment/set`` paired with the task's
        ``Task/set``: a new task call opens a new first-message call)."""
        tasks = self._slot("task", "Task", "create")
        first = self._slot("first", "Comment", "create", fresh=tasks.count == 1)
        task_cid = self.batch.creation_id("t")
        comment_cid = self.batch.creation_id("m")
        self._put(tasks, "Task", task_cid, new.task())
        comment = {"entity": "Task", "#entityId": tasks.call.created_ref(task_cid),
                   **new.first.comment()}
        self._put(first, "Comment", comment_cid, comment)
        return TicketCreation(tasks.call, task_cid, first.call, comment_cid, new)

    def post(self, ticket_id: str, message: NewMessage) -> MessagePost:
        """Add a message to an existing ticket."""
        shared = self._slot("message", "Comment", "create")
        cid = self.batch.creation_id("m")
        self._put(shared, "Comment", cid, {"entity": "Task", "entityId": ticket_id,
                                           **message.comment()})
        return MessagePost(shared.call, cid)

    def change_state(self, ticket_id: str, progress: Status, responsible: str | None, *,
                     reset_percent: bool = False,
                     guard: dict[str, str] | None = None,
                     agent_unchanged: bool = False) -> StateChange:
        """Add one ticket's state change to the shared agent and progress calls.

        ``guard`` belongs to the calls, not to the ticket: the first state change that opens a
        call sets it (a reference such as :meth:`MessagePost.guard` that must resolve), and
        every change in that call depends on it. A single guarded change is
        :func:`add_state_change`. ``agent_unchanged``: the task's responsible user is already
        ``responsible`` (it was created so), so only the progress is written: a patch that
        does not change the agent does not reset the progress either."""
        agent_patch, progress_patch = state_patches(progress, responsible, reset_percent)
        calls: list[Call] = []
        fresh = False
        if not agent_unchanged:
            agents = self._slot("agent", "Task", "update", guard)
            self._put(agents, "Task", ticket_id, agent_patch)
            calls.append(agents.call)
            fresh = agents.count == 1
        progresses = self._slot("progress", "Task", "update", guard, fresh=fresh)
        self._put(progresses, "Task", ticket_id, progress_patch)
        calls.append(progresses.call)
        return StateChange(tuple(calls), ticket_id)


def undo_creations(batch: Batch, task_ids: Sequence[str]) -> Call | None:
    """Destroy the tasks whose first message was refused (``None`` when there are none)."""
    if not task_ids:
        return None
    return batch.set("Task", destroy=list(task_ids))


def check_undone(responses: Responses, call: Call | None, task_ids: Sequence[str]) -> list[str]:
    """The tasks of ``task_ids`` that :func:`undo_creations` could not destroy."""
    if call is None:
        return []
    try:
        gone = set(SetResult.from_json(responses.get(call)).destroyed)
    except JMAPError:
        return list(task_ids)
    return [t for t in task_ids if t not in gone]
