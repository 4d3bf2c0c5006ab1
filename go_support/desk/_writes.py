"""Checking input before anything is sent, and changing a ticket in one request.

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
state restored (:class:`RolledBack` says what was undone).
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Union

from go_support.desk._core import (
    COMMENT_PROPERTIES,
    TASK_PROPERTIES,
    USER_PROPERTIES,
    DeskCore,
    _str_or_none,
    categories_by_id,
    is_id,
    optional,
    set_result,
    users_by_id,
)
from go_support.desk.errors import (
    InvalidMessage,
    InvalidTicket,
    PermissionDenied,
    RolledBack,
    UnknownUser,
)
from go_support.desk.html import html_to_text, sanitize_html
from go_support.desk.layout import REQUESTER_ID
from go_support.desk.models import Attachment, Category, Person, Status
from go_support.jmap import Batch, Call
from go_support.jmap.errors import JMAPError, MethodError, SetFailed
from go_support.jmap.results import GetResult, SetResult
from go_support.jmap.validation import validate_set

__all__ = [
    "AttachmentSource",
    "PersonSpec",
    "parse_person",
    "prepare_attachments",
    "unknown_user",
    "upload_attachments",
    "write_change",
]

log = logging.getLogger("go_support.desk")

AttachmentSource = Union[
    Attachment, tuple[str, bytes], tuple[str, bytes, str], "os.PathLike[str]"
]
"""An attachment to send: an :class:`Attachment` already on the server, ``(name, data)``,
``(name, data, content_type)``, or a path to a file."""

MAX_SUBJECT = 255
MAX_TEXT_FIELD = 190
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"%]+@[^@\s<>()\[\],;:\"%]+\.[^@\s<>()\[\],;:\".%]+$")
_LOCAL_PART = 64


# --- values --------------------------------------------------------------------------------


def check_subject(subject: Any) -> str:
    if not isinstance(subject, str):
        raise InvalidTicket(f"the subject must be text (got {subject!r})")
    text = " ".join(subject.split())
    if not any(unicodedata.category(c)[0] not in "CZ" for c in text):
        raise InvalidTicket(f"the subject must not be empty (got {subject!r})")
    if len(text) > MAX_SUBJECT:
        raise InvalidTicket(
            f"the subject has {len(text)} characters; Group-Office keeps at most {MAX_SUBJECT} "
            f"(subject {text[:40]!r}...)")
    return text


def check_message(html_text: Any, *, what: str, attachments: Sequence[Any] = ()) -> str:
    cleaned = sanitize_html(html_text, what=what)
    if not html_to_text(cleaned) and not attachments and "<img" not in cleaned:
        raise InvalidMessage(f"{what} is empty (got {str(html_text)[:60]!r})")
    return cleaned


def check_address(address: str, *, role: str) -> str:
    text = address.strip()
    local = text.split("@", 1)[0]
    if (not _ADDRESS.match(text) or len(local) > _LOCAL_PART or len(text) > MAX_TEXT_FIELD
            or ".." in text):
        raise InvalidTicket(f"the {role} {address!r} is not an e-mail address")
    return text


def check_message_id(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > 255 or not text.isascii() or any(c.isspace() for c in text):
        raise InvalidMessage(f"{value!r} is not a Message-ID (ASCII, no spaces, at most 255)")
    return text


def check_date(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise InvalidMessage(f"the date must be a datetime (got {value!r})")


@dataclass(frozen=True)
class PersonSpec:
    """A person as the caller named them: a user id, or an address (with a name)."""

    user_id: str | None = None
    email: str | None = None
    name: str | None = None


def parse_person(value: Any, *, role: str, me: str | None = None) -> PersonSpec:
    """``37``, ``"37"``, ``"me"``, ``Person(...)``, ``"a@b.c"``, ``"Ann <a@b.c>"``."""
    if isinstance(value, Person):
        if value.id:
            return parse_person(value.id, role=role, me=me)
        if value.email:
            return PersonSpec(None, check_address(value.email, role=f"{role} address"),
                              _name(value.name))
        raise InvalidTicket(f"the {role} {value!r} has neither a user id nor an address")
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise InvalidTicket(f"the {role} {value!r} is not a user id")
        return PersonSpec(str(value))
    if not isinstance(value, str):
        raise InvalidTicket(
            f"the {role} must be a user id or an e-mail address (got {value!r})")
    text = value.strip()
    if is_id(text) and int(text) > 0:
        return PersonSpec(str(int(text)))
    if text.lower() == "me" and me is not None:
        return PersonSpec(me)
    if "@" in text:
        name, address = _one_address(text, value, role)
        return PersonSpec(None, check_address(address, role=role), _name(name))
    raise InvalidTicket(
        f"the {role} {value!r} is neither a user id nor an e-mail address")


_NAMED = re.compile(r"(?P<name>[^<>]*?)\s*<(?P<address>[^<>]*)>", re.DOTALL)
_QUOTED = re.compile(r'"(?P<inner>(?:[^"\\]|\\.)*)"', re.DOTALL)


def _one_address(text: str, value: Any, role: str) -> tuple[str | None, str]:
    """``a@b.c`` or ``Name <a@b.c>`` (``"Doe, Ann" <a@b.c>``), exactly one address and
    nothing else: lists, trailing text and stray brackets are refused (``parseaddr`` would
    quietly pick one address out of them)."""
    refused = InvalidTicket(f"the {role} {value!r} is not exactly one e-mail address "
                            "(a@b.c or Name <a@b.c>)")
    if "<" not in text and ">" not in text:
        return None, text
    named = _NAMED.fullmatch(text)
    if named is None:
        raise refused
    name = named.group("name").strip()
    quoted = _QUOTED.fullmatch(name)
    if quoted is not None:
        name = re.sub(r"\\(.)", r"\1", quoted.group("inner"), flags=re.DOTALL)
    elif any(c in name for c in '"@,;'):
        raise refused
    address = named.group("address").strip()
    if not address:
        raise refused
    return name or None, address


def unknown_user(role: str, spec: PersonSpec) -> UnknownUser:
    """The error for a person who is no Group-Office user (that the actor can read)."""
    if spec.user_id:
        return UnknownUser(f"the {role}, user {spec.user_id}, does not exist")
    return UnknownUser(f"the {role} {spec.email!r}: there is no Group-Office user with that "
                       "address")


def _name(name: str | None) -> str | None:
    if not name:
        return None
    text = " ".join(name.split())
    return text[:MAX_TEXT_FIELD] or None


# --- attachments --------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    name: str
    data: bytes
    content_type: str


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidMessage(f"an attachment needs a file name (got {name!r})")
    text = name.strip()
    if len(text) > MAX_TEXT_FIELD:
        raise InvalidMessage(f"the attachment name {text[:40]!r}... is longer than "
                             f"{MAX_TEXT_FIELD} characters")
    return text


def prepare_attachments(items: Iterable[Any]) -> list[Attachment | _File]:
    """Check attachments (and read files) before anything is uploaded or sent."""
    prepared: list[Attachment | _File] = []
    for item in items:
        if isinstance(item, Attachment):
            if not re.fullmatch(r"[0-9a-f]{40}", item.blob_id or ""):
                raise InvalidMessage(f"{item.blob_id!r} is not a Group-Office blob id")
            prepared.append(Attachment(item.blob_id, _check_name(item.name), item.id))
        elif isinstance(item, tuple) and len(item) in (2, 3):
            data = item[1]
            if not isinstance(data, bytes | bytearray):
                raise InvalidMessage(f"the content of attachment {item[0]!r} must be bytes")
            ctype = item[2] if len(item) == 3 else "application/octet-stream"
            prepared.append(_File(_check_name(item[0]), bytes(data), str(ctype)))
        elif isinstance(item, os.PathLike | str):
            path = Path(item)
            if not path.is_file():
                raise InvalidMessage(f"the attachment {str(path)!r} is not a readable file")
            prepared.append(_File(_check_name(path.name), path.read_bytes(),
                                  "application/octet-stream"))
        else:
            raise InvalidMessage(
                f"an attachment must be an Attachment, (name, bytes) or a path (got {item!r})")
    return prepared


def upload_attachments(core: DeskCore, prepared: Sequence[Attachment | _File]) -> list[
        dict[str, str]]:
    """Upload the files (one HTTP request each); ``[{blobId, name}]`` for ``Comment/set``.

    A blob that no comment refers to is harmless: Group-Office removes unused blobs itself.
    """
    refs: list[dict[str, str]] = []
    for item in prepared:
        if isinstance(item, Attachment):
            refs.append({"blobId": item.blob_id, "name": item.name})
        else:
            blob = core.client.upload_blob(item.data, item.name, item.content_type)
            refs.append({"blobId": blob.blob_id, "name": item.name})
    return refs


# --- one ticket change in one request ---------------------------------------------------------


@dataclass(frozen=True)
class ChangeResult:
    task: dict[str, Any]
    comment: dict[str, Any] | None
    users: dict[str, Person]
    categories: dict[str, Category]


def state_patches(progress: Status, responsible: str | None,
                  reset_percent: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The agent patch and the progress patch, to be sent as two ``Task/set`` calls in this
    order: Group-Office resets the progress whenever the agent changes and the progress keeps
    its value, so the progress is set after the agent (groupoffice-wire 17)."""
    progress_patch: dict[str, Any] = {"progress": progress.value}
    if reset_percent:
        progress_patch["percentComplete"] = 0
    return {"responsibleUserId": responsible}, progress_patch


def add_state_change(batch: Batch, task_id: str, progress: Status, responsible: str | None, *,
                     reset_percent: bool = False, guard: dict[str, str] | None = None,
                     validate: bool = True) -> list[Call]:
    """Add the ``Task/set`` calls that leave a task at ``progress`` and ``responsible``.

    ``guard`` is a result reference (to a new comment's id) that must resolve for the calls to
    run at all (an unknown argument is ignored by Group-Office, a broken reference fails the
    call, groupoffice-wire 03, 14)."""
    calls: list[Call] = []
    for patch in state_patches(progress, responsible, reset_percent):
        _, updates = validate_set("Task", update={task_id: patch}, validate=validate)
        args: dict[str, Any] = {"update": updates}
        if guard is not None:
            args["#afterMessage"] = guard
        calls.append(batch.call("Task/set", args))
    return calls


def needs_percent_reset(task: Mapping[str, Any], progress: Status) -> bool:
    """Reopening a completed task: its ``percentComplete`` stays 100 unless reset (11)."""
    return (progress in (Status.NEEDS_ACTION, Status.IN_PROGRESS)
            and int(task.get("percentComplete") or 0) == 100)


def write_change(
    core: DeskCore,
    task: Mapping[str, Any],
    *,
    comment: Mapping[str, Any] | None,
    progress: Status,
    responsible: str | None,
    reset_percent: bool = False,
    set_state: bool = True,
    what: str,
) -> ChangeResult:
    """Post ``comment`` (if any) and leave the task at ``progress``/``responsible``, in one
    request.

    ``set_state=False`` (only with a comment) leaves the state to Group-Office's comment hook:
    for a requester whose own key may comment but not update the task (level below write),
    whose comment the hook turns into exactly what a requester's reply should do.
    """
    task_id = str(task["id"])
    batch = Batch()
    comment_call = None
    if comment is not None:
        comment_call = batch.set("Comment", create={
            "m1": {"entity": "Task", "entityId": task_id, **comment}})
    task_calls: list[Call] = []
    if set_state or comment_call is None:
        task_calls = add_state_change(
            batch, task_id, progress, responsible, reset_percent=reset_percent,
            guard=None if comment_call is None else comment_call.ref("/created/m1/id"))
    read_task = batch.call("Task/get", {"ids": [task_id], "properties": TASK_PROPERTIES})
    read_users = [
        batch.call("User/get", {"#ids": read_task.ref(path), "properties": USER_PROPERTIES})
        for path in ("/list/*/responsibleUserId", f"/list/*/customFields/{REQUESTER_ID}")
    ]
    read_categories = batch.call("TaskCategory/get", {"#ids": read_task.ref("/list/*/categories")})
    read_comment = None
    if comment_call is not None:
        read_comment = batch.call("Comment/get", {"#ids": comment_call.ref("/created/*/id"),
                                                  "properties": COMMENT_PROPERTIES})
    responses = core.client.execute(batch)

    new_comment: dict[str, Any] | None = None
    if comment_call is not None:
        posted = set_result(responses, comment_call, creates=["m1"])
        if not posted.ok:
            _raise_comment_refused(posted, core, what)
        new_comment = dict(posted.created["m1"])
    try:
        for task_call in task_calls:
            changed = set_result(responses, task_call, updates=[task_id])
            if not changed.ok:
                raise SetFailed(method="Task/set", errors=changed.errors, result=changed)
    except JMAPError as exc:
        if new_comment is None:
            if isinstance(exc, SetFailed) and any(e.type == "forbidden" for e in exc.errors):
                raise PermissionDenied(
                    f"Group-Office refused to let {core.who()} {what}: the API key's user may "
                    "not change the task", actor=core.me(), right="write") from exc
            raise
        _roll_back(core, task, str(new_comment["id"]), exc, what)
    final = GetResult.from_json(responses.get(read_task)).objects
    after = dict(final[0]) if final else dict(task)
    if task_calls and (after.get("progress") != progress.value or str(
            after.get("responsibleUserId") or "") != str(responsible or "")):
        log.warning("ticket %s was changed by someone else in the same moment: it is %s, "
                    "assigned to %s", task_id, after.get("progress"),
                    after.get("responsibleUserId") or "nobody")
    if read_comment is not None:
        got = GetResult.from_json(responses.get(read_comment)).objects
        if got:
            new_comment = dict(got[0])
    users = users_by_id(*(optional(responses, c) for c in read_users))
    if comment_call is not None and core.actor is not None:
        users.setdefault(core.actor.id, core.actor.person)
    return ChangeResult(after, new_comment, users,
                        categories_by_id(optional(responses, read_categories)))


def _raise_comment_refused(posted: SetResult, core: DeskCore, what: str) -> None:
    errors = posted.errors
    if any(e.type == "forbidden" for e in errors):
        raise PermissionDenied(
            f"Group-Office refused to let {core.who()} {what}: forbidden", actor=core.me(),
            right="comment")
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
    batch = Batch()
    destroy = batch.set("Comment", destroy=[comment_id])
    restore = add_state_change(
        batch, task_id, Status(task.get("progress") or Status.NEEDS_ACTION.value),
        _str_or_none(task.get("responsibleUserId")), validate=False)
    try:
        responses = core.client.execute(batch)
        gone = set_result(responses, destroy)
        (undone if comment_id in gone.destroyed else left).append(f"comment {comment_id}")
        back = [set_result(responses, call, updates=[task_id]) for call in restore]
        (undone if all(b.ok for b in back) else left).append(
            f"status and agent of ticket {task_id}")
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
