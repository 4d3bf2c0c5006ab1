"""Between Group-Office's objects and the desk's values: ids, dates, people, tickets, messages.

Pure functions (no requests): what a ``Task``, ``Comment`` or ``User`` becomes in the desk, and
the small rules of the wire (ids that come as strings or numbers, LIKE patterns, dates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from go_support.desk import names
from go_support.desk.attribution import without_attribution
from go_support.desk.errors import NotATicket
from go_support.desk.models import Attachment, Category, Message, Person, Status, Ticket
from go_support.jmap import Call, Responses
from go_support.jmap.errors import MethodError
from go_support.jmap.results import GetResult

if TYPE_CHECKING:
    from go_support.desk.discovery import DeskLayout

TASK_PROPERTIES = [
    "id", "tasklistId", "title", "progress", "responsibleUserId", "categories", "createdAt",
    "modifiedAt", "createdBy", "customFields", "percentComplete",
]
COMMENT_PROPERTIES = [
    "id", "entityId", "text", "date", "createdBy", "labels", "attachments", "mailStatus",
    "mimeMessageId", "section",
]
USER_PROPERTIES = ["id", "displayName", "email"]
MESSAGES_PER_CALL = 100  # maxObjectsInGet


def is_id(text: str) -> bool:
    """Whether ``text`` is an id: ASCII digits only (``"١٢"`` is no id, whatever ``int`` says)."""
    return text.isascii() and text.isdigit()


def like_exact(value: Any) -> str:
    """``value`` as a LIKE pattern that matches only itself.

    Group-Office hands text filters to MariaDB's ``LIKE`` as they are; its escape character is
    the backslash, so ``\\``, ``%`` and ``_`` are escaped (``a_b@x.org`` must not find
    ``axb@x.org``).
    """
    return (str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))


def same_id(a: Any, b: Any) -> bool:
    """Whether two ids are the same: Group-Office mixes string and integer ids."""
    return a is not None and b is not None and str(a) == str(b)


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def str_or_none(value: Any) -> str | None:
    """Text, or ``None`` for what Group-Office writes when there is none (null, "", false)."""
    if value is None or value == "" or value is False:
        return None
    return str(value)


def id_or_none(value: Any) -> str | None:
    """An id, or ``None``: Group-Office also writes a missing user id as ``0``."""
    text = str_or_none(value)
    return None if text in (None, "0") else text


def user_label(user_id: Any, name: Any = None) -> str:
    """``user 12 (Alice)``, or ``user 12`` without a display name."""
    shown = str_or_none(name)
    return f"user {user_id} ({shown})" if shown else f"user {user_id}"


def is_disabled(user: Mapping[str, Any]) -> bool:
    """Whether a ``User`` object (read with ``enabled``) is a disabled account."""
    return user.get("enabled") is False


def person_from_user(obj: Mapping[str, Any]) -> Person:
    return Person(str(obj["id"]), str_or_none(obj.get("email")),
                  str_or_none(obj.get("displayName")))


def users_by_id(*results: Mapping[str, Any] | None) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for result in results:
        if result is None:
            continue
        for obj in GetResult.from_json(result).objects:
            people[str(obj["id"])] = person_from_user(obj)
    return people


def custom(task: Mapping[str, Any], name: str) -> Any:
    values = task.get("customFields")
    return values.get(name) if isinstance(values, Mapping) else None


def requester_of(task: Mapping[str, Any], users: Mapping[str, Person]) -> Person:
    """The requester: the User field, else the address and name fields, else the creator."""
    rid = str_or_none(custom(task, names.REQUESTER_ID))
    email = str_or_none(custom(task, names.REQUESTER_EMAIL))
    name = str_or_none(custom(task, names.REQUESTER_NAME))
    if rid is not None and rid != "0":
        known = users.get(rid)
        if known is not None:
            return known
        return Person(rid, email, name)
    if email or name:
        return Person(None, email, name)
    creator = str_or_none(task.get("createdBy"))
    if creator is not None:
        return users.get(creator, Person(creator))
    return Person()


def requester_id(task: Mapping[str, Any]) -> str | None:
    rid = str_or_none(custom(task, names.REQUESTER_ID))
    return rid if rid and rid != "0" else None


def ticket_from_task(
    task: Mapping[str, Any],
    layout: DeskLayout,
    users: Mapping[str, Person],
    categories: Mapping[str, Category],
    messages: Sequence[Message] | None = None,
) -> Ticket:
    ticket_type = layout.by_id(task.get("tasklistId"))
    if ticket_type is None:
        raise NotATicket(f"task {task.get('id')} is not a ticket")
    agent_id = str_or_none(task.get("responsibleUserId"))
    agent = None if agent_id is None else users.get(agent_id, Person(agent_id))
    cats = tuple(
        categories.get(str(c), Category(str(c), str(c))) for c in task.get("categories") or [])
    try:
        status = Status(task.get("progress") or "needs-action")
    except ValueError:
        status = Status.NEEDS_ACTION
    return Ticket(
        id=str(task["id"]),
        type=ticket_type,
        subject=str(task.get("title") or ""),
        status=status,
        agent=agent,
        requester=requester_of(task, users),
        categories=cats,
        created_at=parse_datetime(task.get("createdAt")),
        modified_at=parse_datetime(task.get("modifiedAt")),
        legacy_id=str_or_none(custom(task, names.LEGACY_TICKET_ID)),
        first_message_id=str_or_none(custom(task, names.FIRST_MESSAGE_ID)),
        messages=None if messages is None else tuple(messages),
    )


def categories_by_id(result: Mapping[str, Any] | None) -> dict[str, Category]:
    if result is None:
        return {}
    return {
        str(o["id"]): Category(str(o["id"]), str(o.get("name") or ""),
                               str_or_none(o.get("tasklistId")))
        for o in GetResult.from_json(result).objects
    }


def message_from_comment(
    comment: Mapping[str, Any], requester: Person, users: Mapping[str, Person], label_id: str
) -> Message:
    labels = {str(x) for x in comment.get("labels") or []}
    status = str_or_none(comment.get("mailStatus"))
    author: Person | None
    if status == "received":
        author = requester
    else:
        creator = str_or_none(comment.get("createdBy"))
        if creator is None:
            author = None
        elif creator.isdigit():
            author = users.get(creator, Person(creator))
        else:
            author = Person(None, None, creator)  # a principal such as "Contact:12"
    attachments = tuple(
        Attachment(str(a.get("blobId")), str(a.get("name") or ""), str_or_none(a.get("id")))
        for a in comment.get("attachments") or [] if isinstance(a, Mapping)
    )
    return Message(
        id=str(comment["id"]),
        ticket_id=str(comment.get("entityId")),
        html=without_attribution(str(comment.get("text") or ""), status),
        date=parse_datetime(comment.get("date")),
        author=author,
        private=label_id in labels,
        mail_status=status,
        message_id=str_or_none(comment.get("mimeMessageId")),
        attachments=attachments,
    )


def optional(responses: Responses, call: Call) -> dict[str, Any] | None:
    """An optional call's result (a look-up of names that may fail harmlessly)."""
    try:
        return responses.get(call)
    except MethodError:
        return None


def ticket_id_of(ref: Any) -> str:
    """A ticket id from an id, a :class:`Ticket` or a :class:`Message`."""
    if isinstance(ref, Ticket):
        return ref.id
    if isinstance(ref, Message):
        return ref.ticket_id
    if isinstance(ref, bool) or not isinstance(ref, int | str) or not is_id(str(ref).strip()):
        raise NotATicket(f"{ref!r} is not a ticket id (ticket ids are numbers)")
    return str(ref).strip()
