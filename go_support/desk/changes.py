"""Changing one ticket in one request, and undoing what a failed request left behind.

A comment on a task changes the task on the server: the first comment by someone with write
access assigns the task to them, and comments move its progress. And Group-Office resets
``progress`` to needs-action whenever ``responsibleUserId`` changes while ``progress`` keeps its
value, even when the patch repeats the current progress (groupoffice-wire 08, 16, 17).
:func:`write_change` therefore sends, in one HTTP request: the ``Comment/set``, a ``Task/set``
of ``responsibleUserId`` alone, a second ``Task/set`` of ``progress`` alone (the agent no longer
changes, so the progress stays as asked), then reads everything back. Each ``Task/set``
carries an extra argument ``#afterMessage``, a result reference to the new comment's id:
Group-Office ignores unknown arguments but fails the call when the reference does not resolve
(groupoffice-wire 03, 14), so the task is never changed when the comment was refused. If the
comment went in and a ``Task/set`` failed, the comment is destroyed and the task's previous
state restored (:class:`RolledBack` says what was undone). A transient failure
(``dbException``, a lock time-out) is first tried again (:mod:`go_support.desk.retry`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from go_support.desk._core import DeskCore, set_result
from go_support.desk.convert import COMMENT_PROPERTIES, TASK_PROPERTIES, id_or_none
from go_support.desk.errors import InvalidMessage, RolledBack
from go_support.desk.lookups import add_names
from go_support.desk.models import Category, Person, Status
from go_support.desk.operations import (
    NewMessage,
    Refused,
    StateChange,
    Writes,
    add_state_change,
)
from go_support.desk.retry import (
    Transient,
    deadlocked,
    failed_for_now,
    is_transient,
    run_write,
)
from go_support.jmap import Batch, Responses
from go_support.jmap.errors import JMAPError, MethodError, SetFailed
from go_support.jmap.results import GetResult, QueryResult, SetResult

__all__ = ["ChangeResult", "compensate_created_task", "needs_percent_reset", "write_change"]

log = logging.getLogger("go_support.desk")


# --- one ticket change in one request ---------------------------------------------------------


@dataclass(frozen=True)
class ChangeResult:
    """A ticket as read back in the request that changed it (and the new message)."""

    task: dict[str, Any]
    comment: dict[str, Any] | None
    users: dict[str, Person]
    categories: dict[str, Category]


def needs_percent_reset(task: Mapping[str, Any], progress: Status) -> bool:
    """Reopening a completed task: its ``percentComplete`` stays 100 unless reset
    (groupoffice-wire 08)."""
    return (progress in (Status.NEEDS_ACTION, Status.IN_PROGRESS)
            and int(task.get("percentComplete") or 0) == 100)


def write_change(
    core: DeskCore,
    task: Mapping[str, Any],
    *,
    message: NewMessage | None,
    progress: Status,
    responsible: str | None,
    reset_percent: bool = False,
    set_state: bool = True,
    what: str,
) -> ChangeResult:
    """Post ``message`` (if any) and leave the task at ``progress``/``responsible``, in one
    request, and read it all back in that request.

    ``set_state=False`` (only with a message) leaves the state to Group-Office's comment hook:
    for a requester whose own key may comment but not update the task (level below write),
    whose comment the hook turns into exactly what a requester's reply should do.

    A transient failure (:mod:`go_support.desk.retry`) is tried again: a message found on the
    ticket afterwards (a comment that was not there before, with the same text) is kept and
    only the state is sent again, so a message is never posted twice.
    """
    change = _Change(core, task, message, progress, responsible, reset_percent,
                     set_state or message is None, what)
    return run_write(core, change.attempt, what)


@dataclass
class _Change:
    """One ticket change, attempt after attempt (the message once it is known to exist)."""

    core: DeskCore
    task: Mapping[str, Any]
    message: NewMessage | None
    progress: Status
    responsible: str | None
    reset_percent: bool
    set_state: bool
    what: str
    posted: dict[str, Any] | None = None

    def attempt(self) -> ChangeResult:
        core, task = self.core, self.task
        task_id = str(task["id"])
        batch = Batch()
        post = before = None
        if self.message is not None and self.posted is None:
            before = batch.call("Comment/query", {"filter": {"entity": "Task",
                                                             "entityId": [task_id]}})
            post = Writes(batch).post(task_id, self.message)
        change = None
        if self.set_state:
            change = add_state_change(batch, task_id, self.progress, self.responsible,
                                      reset_percent=self.reset_percent,
                                      guard=None if post is None else post.guard())
        read_task = batch.call("Task/get", {"ids": [task_id], "properties": TASK_PROPERTIES})
        names = add_names(batch, read_task)
        read_comment = None
        if post is not None:
            read_comment = batch.call("Comment/get", {"#ids": post.call.ref("/created/*/id"),
                                                      "properties": COMMENT_PROPERTIES})
        elif self.posted is not None:
            read_comment = batch.call("Comment/get", {"ids": [str(self.posted["id"])],
                                                      "properties": COMMENT_PROPERTIES})
        responses = core.client.execute(batch)

        if post is not None:
            assert before is not None and self.message is not None
            posted = post.result(responses)
            if isinstance(posted, Refused):
                if is_transient(posted.error, responses):
                    assert posted.error is not None
                    cause = posted.error
                    found = _find_message(core, task_id, self.message,
                                          QueryResult.from_json(responses.get(before)).ids)
                    self.posted = found
                    if found is None:
                        raise Transient(cause)
                    # No attempt left: the message that was created is undone (RolledBack).
                    raise Transient(cause, lambda: _roll_back(core, task, str(found["id"]),
                                                              cause, self.what))
                _raise_comment_refused(set_result(responses, post.call), core, self.what)
                raise AssertionError("unreachable")  # pragma: no cover
            self.posted = posted
        new_comment = self.posted
        if change is not None:
            refused = change.result(responses)
            if refused is not None and is_transient(refused.error, responses) and not (
                    change.errors(responses)):
                # Absolute values: sending them again is safe; the message stays.
                raise Transient(refused.error or SetFailed(method="Task/set", errors=[]),
                                lambda: _check_change(core, responses, change, task,
                                                      new_comment, self.what))
            _check_change(core, responses, change, task, new_comment, self.what)
        final = GetResult.from_json(responses.get(read_task)).objects
        after = dict(final[0]) if final else dict(task)
        if change is not None and (after.get("progress") != self.progress.value or str(
                after.get("responsibleUserId") or "") != str(self.responsible or "")):
            log.warning("ticket %s was changed by someone else in the same moment: it is %s, "
                        "assigned to %s", task_id, after.get("progress"),
                        after.get("responsibleUserId") or "nobody")
        if read_comment is not None:
            got = GetResult.from_json(responses.get(read_comment)).objects
            if got:
                new_comment = dict(got[0])
        users, categories = names.result(responses)
        if self.message is not None and core.actor is not None:
            users.setdefault(core.actor.id, core.actor.person)
        return ChangeResult(after, new_comment, users, categories)


def _find_message(core: DeskCore, task_id: str, message: NewMessage,
                  before: Sequence[str]) -> dict[str, Any] | None:
    """The comment a failed ``Comment/set`` may still have created: one on the ticket that
    was not there before the request, with the message's text and Message-ID."""
    batch = Batch(prefix="f")
    query = batch.call("Comment/query", {"filter": {"entity": "Task", "entityId": [task_id]}})
    get = batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                     "properties": COMMENT_PROPERTIES})
    known = {str(i) for i in before}
    for comment in GetResult.from_json(core.client.execute(batch).get(get)).objects:
        if (str(comment["id"]) not in known and comment.get("text") == message.text
                and (comment.get("mimeMessageId") or None) == (message.message_id or None)):
            log.warning("ticket %s: a message was created by a request that failed; it is "
                        "kept (comment %s) and not posted again", task_id, comment["id"])
            return dict(comment)
    return None


def _check_change(core: DeskCore, responses: Responses, change: StateChange,
                  task: Mapping[str, Any], new_comment: Mapping[str, Any] | None,
                  what: str) -> None:
    """Raise when the state change was refused: :class:`PermissionDenied` for ``forbidden``
    without a message, else the refusal, or the roll-back of the message."""
    refused = change.result(responses)
    if refused is None:
        return
    errors = change.errors(responses)
    exc: JMAPError
    if errors:
        exc = SetFailed(method="Task/set", errors=errors)
    else:
        error = next((e for e in (responses.error(c) for c in change.calls) if e is not None),
                     None)
        exc = error if error is not None else SetFailed(method="Task/set", errors=[])
    if new_comment is None:
        if any(e.type == "forbidden" for e in errors):
            raise core.forbidden(what, "write") from exc
        raise exc
    _roll_back(core, task, str(new_comment["id"]), exc, what)


def _raise_comment_refused(posted: SetResult, core: DeskCore, what: str) -> None:
    errors = posted.errors
    if any(e.type == "forbidden" for e in errors):
        raise core.forbidden(what, "comment")
    text_errors = [e for e in errors if "text" in e.validation_errors]
    if text_errors:
        raise InvalidMessage(f"Group-Office refused the message: {text_errors[0]}")
    raise SetFailed(method="Comment/set", errors=errors, result=posted)


def _roll_back(core: DeskCore, task: Mapping[str, Any], comment_id: str, cause: Exception,
               what: str) -> None:
    """The comment went in, the task change did not: undo the comment and its side effects."""
    task_id = str(task["id"])
    undone: list[str] = []
    left: list[str] = []
    progress = Status(task.get("progress") or Status.NEEDS_ACTION.value)
    agent = id_or_none(task.get("responsibleUserId"))
    done = {"comment": False, "state": False}

    def undo() -> None:
        # A destroy and absolute values: both may be sent again after a transient failure.
        batch = Batch()
        destroy = None if done["comment"] else batch.set("Comment", destroy=[comment_id])
        restore = add_state_change(batch, task_id, progress, agent, validate=False)
        responses = core.client.execute(batch)
        if destroy is not None and not failed_for_now(responses.error(destroy)):
            gone = set_result(responses, destroy)
            missing = gone.not_destroyed.get(comment_id)
            done["comment"] = comment_id in gone.destroyed or (
                missing is not None and missing.type == "notFound")
        done["state"] = restore.result(responses) is None
        error = deadlocked(responses)
        if error is not None and not all(done.values()):
            raise Transient(error, lambda: None)

    try:
        run_write(core, undo, f"undo the message on ticket {task_id}")
        (undone if done["comment"] else left).append(f"comment {comment_id}")
        (undone if done["state"] else left).append(f"status and agent of ticket {task_id}")
    except (JMAPError, MethodError) as exc:
        left.append(f"comment {comment_id} and the state of ticket {task_id} ({exc})")
    if left:
        summary = f"could not undo: {', '.join(left)}"
    else:
        summary = "the message was removed again and the ticket is as it was"
    raise RolledBack(
        f"{what} failed half-way: the message was posted but the ticket could not be updated "
        f"({cause}); {summary}", cause=cause, undone=undone, left_over=left) from cause


def compensate_created_task(core: DeskCore, task_id: str, cause: Exception) -> RolledBack:
    """The ticket's task was created but its first message was refused: destroy the task."""
    try:
        result = core.client.tasks.set(destroy=[task_id])
        if task_id in result.destroyed:
            return RolledBack(
                f"the first message was refused ({cause}); the ticket's task {task_id} was "
                "destroyed again, nothing was left on Group-Office",
                cause=cause, undone=[f"task {task_id}"])
    except JMAPError as exc:
        return RolledBack(
            f"the first message was refused ({cause}) and the ticket's task {task_id} could "
            f"not be destroyed ({exc}): delete it in Group-Office",
            cause=cause, left_over=[f"task {task_id}"])
    return RolledBack(
        f"the first message was refused ({cause}) and the ticket's task {task_id} could not "
        "be destroyed: delete it in Group-Office", cause=cause, left_over=[f"task {task_id}"])
