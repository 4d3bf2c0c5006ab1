"""Mailing agents' answers to requesters, and acknowledging new tickets.

An **answer** is a comment on a ticket without the "Private" label whose ``mailStatus`` is
``pending`` (written through go-support: the CLI, the library, the help desk's close
feedback) or empty (written in the Group-Office web client, which sets none). It is mailed
to the ticket's requester with our threading headers once ``grace_seconds`` have passed since
its last change, so that the agent may still correct it or label it Private. Then
``mailStatus`` becomes ``sent`` and ``mimeMessageId`` holds our signed Message-ID; a refusal
by SMTP (5xx) makes it ``senderror`` and the server's answer goes into a private note on the
ticket (the comment's text is the agent's, not ours to change); a temporary failure (4xx, no
connection) leaves it pending for the next cycle.

Never mailed: private notes, the requester's own messages (``received``, or written by the
requester's user), comments already ``sent`` or ``senderror``, comments older than
``lookback_hours`` by their ``date`` (imported history) or changed longer ago than that.

**Finding them.** Group-Office has no ``mailStatus`` filter: each cycle reads, in one
request, the comments modified since ``now - lookback_hours`` (or, with a
:class:`DeliveryState` kept by the daemon, since the oldest one still waiting) on the tickets
whose newest comment is dated within the look-back (``Task/query`` ``commentedAt``), so that
the comments of other tasks and entities are never read. Marking a comment moves its
``modifiedAt`` and ``modifiedBy`` to the service (groupoffice-wire 18), so the grace period
cannot be told from ``modifiedAt`` once we wrote to a comment: we therefore never write to an
answer before it is due; its ``modifiedAt`` is the agent's last change until then.

**Exactly once.** Sending a due answer is three steps:

1. *claim*: write our new signed Message-ID (it names the ticket and the comment) into the
   comment's ``mimeMessageId``, ``mailStatus`` pending, and read the comment back in the
   same request; the mail is built from what was read back (a Private label added at the
   last moment stops it);
2. *send* through SMTP with exactly that Message-ID; once the server accepted it, note the
   Message-ID in the local journal (``journal``, fsynced) when one is configured;
3. *mark* it ``sent``.

A claimed comment still pending on the next cycle was interrupted: if the journal holds its
Message-ID, the server accepted it and it is only marked; otherwise it is sent again **with
the same Message-ID**. What remains: without a journal, a crash between the server's accept
and step 3 (one HTTP request) sends it twice; with one, only a crash between the server's
250 and the journal's fsync does. Both copies carry one Message-ID, which mail systems that
de-duplicate (Gmail, most IMAP clients' duplicate filters) show once. Run one sending daemon
per Group-Office (``[mail.outbound] enabled = false`` on the others): two senders that claim
the same comment in the same second can both send it.

**Acknowledgements** (:func:`acknowledge`) are automatic mail: RFC 3834 headers, never to an
automated sender or our own address, at most ``[mail] auto_reply_per_hour`` per recipient
(:class:`~go_support.mail.loops.HourlyCap`), on or off per ticket type. The intake sends
them through :mod:`go_support.mail.acks`, which records each on its ticket so that an
interrupted intake sends the missing ones, and only those, when it runs again.
"""

from __future__ import annotations

import contextlib
import html as html_lib
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from go_support.desk import names
from go_support.desk.convert import (
    parse_datetime,
    requester_of,
    same_id,
    str_or_none,
    users_by_id,
)
from go_support.desk.operations import PER_CALL, utc_text
from go_support.jmap import Batch
from go_support.jmap.errors import JMAPError
from go_support.jmap.results import GetResult, QueryResult
from go_support.mail.config import MailSettings
from go_support.mail.loops import HourlyCap
from go_support.mail.outbound import OutgoingAttachment, SendFailed, compose
from go_support.mail.thread_ids import MessageIds

if TYPE_CHECKING:
    from go_support.desk import SupportDesk
    from go_support.mail.outbound import SmtpSender

__all__ = [
    "AckResult",
    "DeliveryReport",
    "DeliveryState",
    "Journal",
    "OutboundItem",
    "acknowledge",
    "deliver_pending",
    "outbound_queue",
]

log = logging.getLogger("go_support.mail.delivery")

SCAN_PROPERTIES = [
    "id", "entityId", "text", "date", "createdAt", "createdBy", "modifiedAt", "modifiedBy",
    "labels", "attachments", "mailStatus", "mimeMessageId",
]
TASK_PROPERTIES = ["id", "tasklistId", "title", "customFields", "createdBy"]
MAX_PAGES = 50  # 50,000 comments changed within the look-back: more waits for the next cycle

State = Literal["waiting", "due", "interrupted"]


@dataclass
class DeliveryState:
    """What a long-running daemon keeps between cycles: the ``modifiedAt`` from which the
    next scan reads (never later than the oldest answer still waiting)."""

    since: datetime | None = None


@dataclass(frozen=True)
class OutboundItem:
    """One answer on its way: its ticket and comment, where it goes, and when."""

    comment_id: str
    ticket_id: str
    state: State
    due_at: datetime
    to: str | None
    subject: str
    author_id: str | None


@dataclass
class DeliveryReport:
    """What one cycle did: ``sent``, ``failed`` (senderror, with the reason), ``deferred``
    (temporary failures, retried next cycle), ``waiting`` (in their grace period),
    ``marked`` (interrupted sends found accepted in the journal), ``requests`` to
    Group-Office, and one line per event in ``log``."""

    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)
    marked: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    lines: list[str] = field(default_factory=list)

    def note(self, line: str) -> None:
        self.lines.append(line)
        log.info(line)

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "deferred": self.deferred,
                "waiting": self.waiting, "marked": self.marked, "requests": self.requests}


class Journal:
    """The Message-IDs the SMTP server accepted, noted before Group-Office marks them sent
    (one per line, appended and fsynced; kept to the newest ``KEEP``)."""

    KEEP = 2000

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def accepted(self) -> set[str]:
        try:
            return {line.strip() for line in self.path.read_text("utf-8").splitlines()
                    if line.strip()}
        except FileNotFoundError:
            return set()

    def add(self, message_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.write(message_id + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def compact(self) -> None:
        """Keep the newest :attr:`KEEP` lines (older ones were marked sent long ago)."""
        with contextlib.suppress(FileNotFoundError):
            lines = self.path.read_text("utf-8").splitlines()
            if len(lines) > 2 * self.KEEP:
                temporary = self.path.with_name(f".{self.path.name}.tmp")
                temporary.write_text("\n".join(lines[-self.KEEP:]) + "\n", "utf-8")
                os.replace(temporary, self.path)


def _mail_settings(settings: Any) -> MailSettings:
    """``[mail]`` from the whole settings or the section itself."""
    found = getattr(settings, "mail", settings)
    if not isinstance(found, MailSettings):
        raise TypeError(f"expected go-support's settings or their [mail] section, got "
                        f"{type(settings).__name__}")
    return found


def _own_address(mail: MailSettings) -> str:
    if not mail.addresses:
        from go_support.settings import ConfigError, ConfigProblem

        raise ConfigError([ConfigProblem("configuration", "mail.addresses",
                                         "outbound mail needs our address (the first of "
                                         "mail.addresses is the From of every answer)")])
    return mail.addresses[0]


def _ids(mail: MailSettings, ids: MessageIds | None) -> MessageIds:
    if ids is not None:
        return ids
    domain = mail.id_domain
    assert domain is not None  # _own_address ran first
    return MessageIds.from_env(domain)


# --- scanning -----------------------------------------------------------------------------


@dataclass
class _Scan:
    comments: list[dict[str, Any]]
    tasks: dict[str, dict[str, Any]]
    users: Mapping[str, Any]
    requests: int


def _type_ids(desk: SupportDesk, only_types: Iterable[str | int] | None) -> set[str]:
    layout = desk.layout
    if only_types is None:
        return {str(t) for t in layout.type_ids}
    chosen = set()
    for ref in only_types:
        found = layout.find(ref)
        if found is None:
            from go_support.desk.errors import UnknownType

            raise UnknownType(f"no ticket type {ref!r} (go-support types list shows them)")
        chosen.add(str(found.id))
    return chosen


def _scan(desk: SupportDesk, since: datetime, type_ids: set[str],
          written_after: datetime) -> _Scan:
    """The comments on tickets of ``type_ids`` modified since ``since``, their tasks and
    requesters.

    Only tickets with a comment dated after ``written_after`` are searched (``commentedAt``
    is the newest comment's date, groupoffice-wire 18): an answer dated earlier is never
    mailed anyway, and the comments of other tasks and other entities stay unread."""
    comments: list[dict[str, Any]] = []
    tasks: dict[str, dict[str, Any]] = {}
    users: dict[str, Any] = {}
    requests = 0
    for page in range(MAX_PAGES):
        batch = Batch(prefix="o")
        tickets = batch.call("Task/query", {"filter": {
            "tasklistId": sorted(type_ids) or ["0"],
            "commentedAt": f">={utc_text(written_after)}"}})
        query = batch.call("Comment/query", {
            "filter": {"entity": "Task", "#entityId": tickets.ref("/ids"),
                       "modifiedAt": f">={utc_text(since)}"},
            "sort": [{"property": "date", "isAscending": True}],
            "position": page * PER_CALL, "limit": PER_CALL, "calculateTotal": True})
        get = batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                         "properties": SCAN_PROPERTIES})
        task_get = batch.call("Task/get", {"#ids": get.ref("/list/*/entityId"),
                                           "properties": TASK_PROPERTIES})
        user_get = batch.call("User/get", {
            "#ids": task_get.ref(f"/list/*/customFields/{names.REQUESTER_ID}"),
            "properties": ["id", "displayName", "email"]})
        responses = desk.client.execute(batch)
        requests += 1
        if not QueryResult.from_json(responses.get(tickets)).ids:
            break  # no ticket commented on lately; Group-Office refuses the empty entityId
        for task in GetResult.from_json(responses.get(task_get)).objects:
            if str(task.get("tasklistId")) in type_ids:
                tasks[str(task["id"])] = task
        with contextlib.suppress(JMAPError):  # no requester users on this page
            users.update(users_by_id(responses.get(user_get)))
        found = GetResult.from_json(responses.get(get)).objects
        comments.extend(c for c in found if str(c.get("entityId")) in tasks)
        result = QueryResult.from_json(responses.get(query))
        if result.total is None or result.total <= result.position + len(result.ids):
            break
    return _Scan(comments, tasks, users, requests)


@dataclass
class _Candidate:
    comment: dict[str, Any]
    task: dict[str, Any]
    to: tuple[str, str] | None
    state: State
    due_at: datetime
    claimed_id: str | None  # our Message-ID already in the comment (interrupted)


def _classify(scan: _Scan, desk: SupportDesk, mail: MailSettings, ids: MessageIds,
              now: datetime, report: DeliveryReport | None) -> list[_Candidate]:
    settings = mail.outbound
    private = str(desk.layout.private_label_id)
    grace = timedelta(seconds=settings.grace_seconds)
    oldest = now - timedelta(hours=settings.lookback_hours)
    found: list[_Candidate] = []
    for comment in scan.comments:
        cid = str(comment["id"])
        status = str_or_none(comment.get("mailStatus"))
        if status not in (None, "pending"):
            continue  # received, sent, senderror
        if private in {str(x) for x in comment.get("labels") or []}:
            continue
        task = scan.tasks[str(comment.get("entityId"))]
        requester = requester_of(task, scan.users)
        if status is None and requester.id is not None and same_id(
                requester.id, comment.get("createdBy")):
            continue  # the requester's own comment: never echoed
        written = parse_datetime(comment.get("date")) or parse_datetime(
            comment.get("createdAt"))
        modified = parse_datetime(comment.get("modifiedAt")) or written
        if written is None or modified is None or written < oldest:
            if report is not None:
                report.skipped[cid] = "older than the look-back: never mailed"
            continue
        claimed = str_or_none(comment.get("mimeMessageId"))
        ref = ids.verify(claimed) if claimed else None
        mine = ref is not None and ref.comment_id == cid and status == "pending"
        to = (requester.email, requester.name or "") if requester.email else None
        if mine:
            found.append(_Candidate(comment, task, to, "interrupted", modified, claimed))
            continue
        due = modified + grace
        found.append(_Candidate(comment, task, to, "due" if due <= now else "waiting", due,
                                None))
    return found


def _next_since(scan: _Scan, waiting: Sequence[_Candidate],
                previous: datetime | None) -> datetime | None:
    """Where the next scan starts, on Group-Office's clock (never the daemon's: they may
    differ): the oldest answer still waiting, else the newest change seen; a minute earlier
    for writes still in flight."""
    seen = [parse_datetime(c.get("modifiedAt")) for c in scan.comments]
    newest = max((d for d in seen if d is not None), default=None)
    held = [parse_datetime(c.comment.get("modifiedAt")) for c in waiting]
    marks = [d for d in [*held, newest] if d is not None]
    if not marks:
        return previous
    return min(marks) - timedelta(seconds=60)


def outbound_queue(desk: SupportDesk, settings: Any, *, now: datetime | None = None,
                   ids: MessageIds | None = None,
                   only_types: Iterable[str | int] | None = None) -> list[OutboundItem]:
    """The answers waiting to be mailed (in their grace period, due, or interrupted), without
    sending anything (``go-support mail status``)."""
    mail = _mail_settings(settings)
    _own_address(mail)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    signer = _ids(mail, ids)
    window = moment - timedelta(hours=mail.outbound.lookback_hours)
    scan = _scan(desk, window, _type_ids(desk, only_types), window)
    return [OutboundItem(str(c.comment["id"]), str(c.task["id"]), c.state, c.due_at,
                         c.to[0] if c.to else None, str(c.task.get("title") or ""),
                         str_or_none(c.comment.get("createdBy")))
            for c in _classify(scan, desk, mail, signer, moment, None)]


# --- sending ------------------------------------------------------------------------------


def _thread(desk: SupportDesk, ticket_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Every ticket's messages (private notes left out), oldest first: the thread's
    Message-IDs."""
    from go_support.desk.lookups import add_messages_of

    private = str(desk.layout.private_label_id)
    batch = Batch(prefix="h")
    lookup = add_messages_of(batch, list(ticket_ids))
    responses = desk.client.execute(batch)
    threads: dict[str, list[dict[str, Any]]] = {t: [] for t in ticket_ids}
    for comment in lookup.result(responses, desk.layout.type_ids):
        if private not in {str(x) for x in comment.get("labels") or []}:
            threads.setdefault(str(comment.get("entityId")), []).append(comment)
    return threads


def _headers(thread: Sequence[Mapping[str, Any]], task: Mapping[str, Any],
             comment_id: str) -> tuple[str | None, list[str]]:
    """``In-Reply-To`` (the requester's last mail before this answer) and ``References``
    (the ticket's first Message-ID, then the thread's, oldest first)."""
    references: list[str] = []
    first = str_or_none((task.get("customFields") or {}).get(names.FIRST_MESSAGE_ID))
    if first:
        references.append(first)
    in_reply_to = None
    for comment in thread:
        if str(comment["id"]) == comment_id:
            break
        message_id = str_or_none(comment.get("mimeMessageId"))
        if message_id:
            references.append(message_id)
            if comment.get("mailStatus") == "received":
                in_reply_to = message_id
    return in_reply_to, list(dict.fromkeys(references))


def _attachments(desk: SupportDesk, comment: Mapping[str, Any]) -> list[OutgoingAttachment]:
    files = []
    for item in comment.get("attachments") or []:
        if isinstance(item, Mapping) and item.get("blobId"):
            data = desk.client.download_blob(str(item["blobId"]))
            files.append(OutgoingAttachment(str(item.get("name") or "attachment"), data))
    return files


def _claim(desk: SupportDesk, claims: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Write our Message-IDs into the comments (still pending) and read them back."""
    batch = Batch(prefix="k")
    batch.call("Comment/set", {"update": {
        cid: {"mimeMessageId": mid, "mailStatus": "pending"} for cid, mid in claims.items()}})
    get = batch.call("Comment/get", {"ids": list(claims), "properties": SCAN_PROPERTIES})
    responses = desk.client.execute(batch)
    return {str(c["id"]): c for c in GetResult.from_json(responses.get(get)).objects}


def _mark(desk: SupportDesk, comment_id: str, values: Mapping[str, Any]) -> None:
    batch = Batch(prefix="s")
    call = batch.call("Comment/set", {"update": {comment_id: dict(values)}})
    responses = desk.client.execute(batch)
    from go_support.jmap.results import SetResult

    result = SetResult.from_json(responses.get(call))
    if comment_id not in result.updated:
        raise JMAPError(f"Group-Office did not update comment {comment_id}: "
                        f"{result.not_updated.get(comment_id)}")


def _error_note(desk: SupportDesk, ticket_id: str, comment: Mapping[str, Any], to: str | None,
                reason: str) -> None:
    """The reason an answer was not mailed, as a private note the agents see."""
    when = str(comment.get("date") or "")[:16].replace("T", " ")
    text = (f"<p>go-support could not mail the answer of {html_lib.escape(when)} UTC "
            f"(comment {html_lib.escape(str(comment['id']))})"
            + (f" to {html_lib.escape(to)}" if to else "")
            + f": {html_lib.escape(reason)}</p>")
    try:
        desk.messages.note(ticket_id, text)
    except Exception as exc:  # the status is marked already; the note is a courtesy
        log.warning("could not add the note about comment %s to ticket %s: %s",
                    comment.get("id"), ticket_id, exc)


def deliver_pending(desk: SupportDesk, sender: SmtpSender, settings: Any, *,
                    now: datetime | None = None, ids: MessageIds | None = None,
                    state: DeliveryState | None = None,
                    only_types: Iterable[str | int] | None = None) -> DeliveryReport:
    """Mail every answer whose grace period is over (see the module's description); one
    cycle. ``settings`` is go-support's settings or their ``[mail]`` section; ``now`` the
    daemon's clock (tests pass their own); ``ids`` the signer (default: from
    ``$GO_SUPPORT_MAIL_SECRET``); ``state`` lets a daemon read only what changed since its
    last cycle; ``only_types`` limits it to some ticket types (names or ids)."""
    mail = _mail_settings(settings)
    report = DeliveryReport()
    if not mail.outbound.enabled:
        return report
    own = _own_address(mail)
    signer = _ids(mail, ids)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    window = moment - timedelta(hours=mail.outbound.lookback_hours)
    since = max(window, state.since) if state is not None and state.since else window
    scan = _scan(desk, since, _type_ids(desk, only_types), window)
    report.requests += scan.requests
    candidates = _classify(scan, desk, mail, signer, moment, report)
    waiting = [c for c in candidates if c.state == "waiting"]
    report.waiting = [str(c.comment["id"]) for c in waiting]
    if state is not None:
        state.since = _next_since(scan, waiting, state.since)
    ready = [c for c in candidates if c.state != "waiting"]
    if not ready:
        return report
    journal = Journal(mail.outbound.journal) if mail.outbound.journal else None
    accepted = journal.accepted() if journal is not None else set()

    for item in [c for c in ready if c.claimed_id in accepted]:  # accepted before a crash
        cid = str(item.comment["id"])
        _mark(desk, cid, {"mailStatus": "sent"})
        report.requests += 1
        report.marked.append(cid)
        report.note(f"comment {cid} of ticket {item.task['id']}: accepted by SMTP before an "
                    f"interruption (journal), marked sent, not sent again")
    ready = [c for c in ready if c.claimed_id not in accepted]
    for item in [c for c in ready if c.to is None]:
        cid, tid = str(item.comment["id"]), str(item.task["id"])
        reason = "the ticket has no requester e-mail address (fill in Requester e-mail)"
        _mark(desk, cid, {"mailStatus": "senderror"})
        _error_note(desk, tid, item.comment, None, reason)
        report.requests += 1
        report.failed[cid] = reason
        report.note(f"comment {cid} of ticket {tid}: not mailed: {reason}")
    ready = [c for c in ready if c.to is not None]
    if not ready:
        return report

    claims = {str(c.comment["id"]): c.claimed_id or signer.new(c.task["id"], c.comment["id"])
              for c in ready}
    current = _claim(desk, claims)
    threads = _thread(desk, sorted({str(c.task["id"]) for c in ready}))
    report.requests += 2
    private = str(desk.layout.private_label_id)
    for item in ready:
        cid, tid = str(item.comment["id"]), str(item.task["id"])
        message_id = claims[cid]
        comment = current.get(cid)
        if comment is None or private in {str(x) for x in comment.get("labels") or []}:
            if comment is not None:  # labelled Private at the last moment: undo our claim
                _mark(desk, cid, {"mimeMessageId": item.comment.get("mimeMessageId"),
                                  "mailStatus": item.comment.get("mailStatus")})
                report.requests += 1
            report.skipped[cid] = "deleted or labelled Private before it was mailed"
            report.note(f"comment {cid} of ticket {tid}: not mailed (deleted or Private)")
            continue
        assert item.to is not None
        in_reply_to, references = _headers(threads.get(tid, []), item.task, cid)
        try:
            files = _attachments(desk, comment)
        except JMAPError as exc:  # Group-Office away for a moment: next cycle
            report.deferred[cid] = f"its attachments could not be read: {exc}"
            report.note(f"comment {cid} of ticket {tid}: not sent yet (attachments: {exc})")
            continue
        try:
            message = compose(
                ids=signer, ticket_id=tid, comment_id=cid,
                sender=(own, mail.outbound.from_name or _type_name(desk, item.task)),
                to=[item.to], subject=str(item.task.get("title") or ""),
                html=str(comment.get("text") or ""), in_reply_to=in_reply_to,
                references=references, attachments=files,
                date=parse_datetime(comment.get("date")))
        except ValueError as exc:
            reason = f"the mail could not be built: {exc}"
            _mark(desk, cid, {"mailStatus": "senderror"})
            _error_note(desk, tid, comment, item.to[0], reason)
            report.failed[cid] = reason
            report.note(f"comment {cid} of ticket {tid}: not mailed: {reason}")
            continue
        message.replace_header("Message-ID", message_id)
        try:
            sender.send(message)
        except SendFailed as exc:
            if exc.permanent:
                _mark(desk, cid, {"mailStatus": "senderror"})
                _error_note(desk, tid, comment, item.to[0], str(exc))
                report.requests += 2
                report.failed[cid] = str(exc)
                report.note(f"comment {cid} of ticket {tid}: refused: {exc}")
            else:
                report.deferred[cid] = str(exc)
                report.note(f"comment {cid} of ticket {tid}: not sent yet ({exc}); "
                            "trying again next cycle")
            continue
        if journal is not None:
            journal.add(message_id)
        _mark(desk, cid, {"mailStatus": "sent"})
        report.requests += 1
        report.sent.append(cid)
        report.note(f"comment {cid} of ticket {tid}: mailed to {item.to[0]} as {message_id}")
    if journal is not None:
        journal.compact()
    return report


def _type_name(desk: SupportDesk, task: Mapping[str, Any]) -> str:
    found = desk.layout.by_id(task.get("tasklistId"))
    return found.name if found is not None else ""


# --- acknowledgements -----------------------------------------------------------------------


@dataclass(frozen=True)
class AckResult:
    """Whether an acknowledgement went out (``sent``) and why (not)."""

    sent: bool
    reason: str
    message_id: str | None = None


def acknowledge(
    sender: SmtpSender,
    settings: Any,
    *,
    ticket_id: str | int,
    type_name: str,
    subject: str,
    to: tuple[str, str],
    cap: HourlyCap,
    allowed: bool = True,
    in_reply_to: str | None = None,
    ids: MessageIds | None = None,
    now: datetime | None = None,
    message_id: str | None = None,
) -> AckResult:
    """Acknowledge a new ticket opened by mail from ``to`` (``(address, name)``).

    ``allowed`` is the intake's verdict (:attr:`~go_support.mail.intake.Decision.acknowledge`:
    a person, not an automated sender); ``cap`` the daemon's
    :class:`~go_support.mail.loops.HourlyCap` (``[mail] auto_reply_per_hour``);
    ``message_id`` one of ours to send it with (default: a new one). Never raises for a
    refused or failed send: the ticket exists, the acknowledgement is a courtesy."""
    mail = _mail_settings(settings)
    own = _own_address(mail)
    address = to[0].strip()
    if not mail.outbound.acknowledges(type_name):
        return AckResult(False, f"acknowledgements are off for type {type_name!r}")
    if not allowed:
        return AckResult(False, "an automated sender: never acknowledged")
    if address.casefold() in {a.casefold() for a in mail.addresses}:
        return AckResult(False, f"{address} is our own address")
    if not cap.allow(address):
        return AckResult(False, f"{address} got {cap.per_hour} automatic mails within the "
                         "hour already (loop protection)")
    values = {"ticket": html_lib.escape(str(ticket_id)), "subject": html_lib.escape(subject),
              "type": html_lib.escape(type_name),
              "name": html_lib.escape(to[1] or address)}
    body = mail.outbound.acknowledgement.format(**values)
    message: EmailMessage = compose(
        ids=_ids(mail, ids), ticket_id=ticket_id, comment_id=None,
        sender=(own, mail.outbound.from_name or type_name), to=[to], subject=subject,
        html=body, in_reply_to=in_reply_to,
        references=[in_reply_to] if in_reply_to else [], automatic=True, date=now)
    if message_id is not None:
        message.replace_header("Message-ID", message_id)
    try:
        message_id = sender.send(message)
    except SendFailed as exc:
        return AckResult(False, f"not sent: {exc}")
    return AckResult(True, f"acknowledged to {address}", message_id)


def pending_counts(items: Iterable[OutboundItem]) -> dict[str, int]:
    """``{"waiting": n, "due": n, "interrupted": n}``."""
    counts = {"waiting": 0, "due": 0, "interrupted": 0}
    for item in items:
        counts[item.state] += 1
    return counts
