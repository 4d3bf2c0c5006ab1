"""Mail into the desk, exactly once: many mails per request, and none lost or doubled.

:class:`Intake` takes a batch of :class:`~go_support.mail.sources.IncomingMail`, decides each
(:func:`~go_support.mail.intake.decide`) and writes the batch through the desk's operations
layer: new tickets with :meth:`~go_support.desk.tickets.TicketManager.create_many`, follow-ups,
bounce notes and reopenings in shared ``/set`` calls. A mail leaves its inbox
(:meth:`MailSource.done`) only after Group-Office holds it.

Exactly once rests on a key per mail that Group-Office itself keeps, never on a local journal
(a second daemon on another host, or a restore, must see the same truth):

* the **mail key** is ``k`` and 20 hex digits of the SHA-256 of the mail's bytes (line
  endings made the same): two
  different mails that share a Message-ID have different keys (both are kept), the same mail
  delivered twice has one;
* every comment the intake writes carries the key in an empty
  ``<span data-go-support-mail="...">`` (Group-Office keeps ``data-`` attributes; it drops
  HTML comments);
* a new ticket's ``supportFirstMessageId`` holds ``<Message-ID> <key>``: it is the one
  filterable place (``Comment/query`` has no ``mimeMessageId`` filter and ``/changes``
  cannot be paged, groupoffice-wire 37 and 44), so a ticket opened by a mail is found by
  its key with one ``Task/query``;
* before writing, the intake reads, in the request that looks the batch up, the comments of
  every ticket the batch may touch (the tickets found by key, the follow-ups' tickets): a
  mail whose key is on one of them is already held, and only leaves the inbox. A ticket found
  by key without its first comment (a crash or a deadlock between the two) gets that comment
  now.

Killed at any moment, the next run therefore finds each mail either in the inbox and not in
Group-Office (it is imported), or in both (it is only taken out of the inbox). Group-Office
down: nothing is taken out, and the next cycle tries again.

Two daemons on one mailbox: the look-up and the write are two requests, so two daemons that
both looked a mail up before either wrote it would both write it. An IMAP source therefore
hands a mail to one daemon only (:mod:`go_support.mail.claims`: a conditional ``STORE`` that
exactly one of them wins), and a daemon restarted after a crash takes its own claims back.
What no claim covers (a Maildir shared by two hosts, an IMAP server without CONDSTORE, the
same bytes delivered twice and taken by two daemons) is cleaned up after writing: each daemon
reads its keys again and removes the copies but the one with the lowest id
(:meth:`Intake._settle`); the daemon whose write landed last sees both.
"""

from __future__ import annotations

import contextlib
import hashlib
import html as htmllib
import logging
import os
import re
import signal
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from go_support.desk import names
from go_support.desk.convert import like_exact
from go_support.desk.errors import DeskError, RefusedTickets
from go_support.desk.html import html_to_text, sanitize_html
from go_support.desk.models import Attachment, Status
from go_support.desk.operations import NewMessage, Refused, Writes
from go_support.desk.retry import deadlocked
from go_support.desk.ticket_creation import CreatedTicket, TicketDraft
from go_support.jmap import Batch, Call, Responses
from go_support.jmap.errors import JMAPError
from go_support.jmap.results import GetResult, SetResult
from go_support.mail.acks import ACKED, AckItem, Acknowledger
from go_support.mail.config import MailSettings
from go_support.mail.intake import Decision, decide
from go_support.mail.parse import ParsedMail, Quarantine, parse_mail
from go_support.mail.quarantine import QuarantineStore
from go_support.mail.routing import Router
from go_support.mail.sources import IncomingMail, MailSource, PushedSource
from go_support.mail.thread_ids import MessageIds, closed_ticket_action

if TYPE_CHECKING:
    from go_support.desk import SupportDesk

__all__ = ["STOP_AFTER_VARIABLE", "Intake", "Outcome", "mail_key", "marker"]

log = logging.getLogger("go_support.mail")

STOP_AFTER_VARIABLE = "GO_SUPPORT_TEST_STOP_AFTER"
"""Testing hook: ``GO_SUPPORT_TEST_STOP_AFTER=<k>`` kills the process (SIGKILL) right after
step ``k`` of the first batch: 1 decided, 2 looked up, 3 users created, 4 tickets created,
5 follow-ups written, 6 taken out of the inbox."""

_MARK = re.compile(r'data-go-support-mail="(k[0-9a-f]{20})"')
_CHUNK = 200  # conditions per query
_CLOSED = {Status.COMPLETED.value, Status.FAILED.value, Status.CANCELLED.value}
_TASK = ["id", "tasklistId", "customFields", "progress", "responsibleUserId", "percentComplete",
         "modifiedAt"]


def mail_key(raw: bytes) -> str:
    """The key of a mail's bytes (``k`` and 20 hex digits of their SHA-256), line endings
    made the same first: IMAP hands out CRLF, a Maildir or an MTA's pipe often LF, and the
    same mail must have the same key whichever way it came."""
    return "k" + hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()[:20]


def marker(key: str) -> str:
    """The empty element that carries a mail's key in the comment written for it."""
    return f'<span data-go-support-mail="{key}"></span>'


def _first_key(message_id: str | None, key: str) -> str:
    """``supportFirstMessageId`` of a ticket a mail opens (at most 255 characters)."""
    if not message_id:
        return key
    return f"{message_id[:255 - len(key) - 1]} {key}"


@dataclass(frozen=True)
class Outcome:
    """What became of one mail: ``action`` is new-ticket, follow-up, bounce, quarantine,
    duplicate (Group-Office held it already), deferred (next batch) or failed (it stays in
    the inbox)."""

    mail: IncomingMail
    action: str
    reason: str
    ticket_id: str | None = None
    code: str | None = None
    """For quarantine: why, in a word (:attr:`~go_support.mail.intake.Decision.code`)."""

    def line(self) -> str:
        """The log line of the mail."""
        where = f" -> ticket {self.ticket_id}" if self.ticket_id else ""
        return f"{self.mail.source} {self.mail.key}: {self.action}{where}: {self.reason}"


@dataclass
class _Item:
    mail: IncomingMail
    decision: Decision
    key: str = ""
    ticket_id: str | None = None
    done_reason: str = ""
    outcome: str = ""
    prefix: str = ""
    """HTML put before the mail's text (a new ticket that names the closed one)."""

    def result(self) -> Outcome:
        code = self.decision.code if self.outcome == "quarantine" else None
        return Outcome(self.mail, self.outcome, self.done_reason, self.ticket_id, code)


@dataclass
class _Read:
    """What the first look-up request found."""

    by_message_id: dict[str, str] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    people: dict[str, set[str]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, tuple[frozenset[str], bool]] = field(default_factory=dict)
    """The senders' enabled users: their groups, and whether they are admins."""
    allow_registration: bool = False
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Tickets read with all their comments."""
    held: dict[str, str] = field(default_factory=dict)
    """Mail key -> the ticket whose comments carry it."""
    acked: set[str] = field(default_factory=set)
    """Mail keys whose acknowledgement is recorded on a ticket read."""


class Intake:
    """Carries out the decisions of a batch of mails on the desk (see the module)."""

    def __init__(self, desk: SupportDesk, mail: MailSettings, *, default_type: str | None,
                 ids: MessageIds | None = None, quarantine: QuarantineStore | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 acks: Acknowledger | None = None) -> None:
        self.desk = desk
        self.acks = acks
        """Acknowledges the new tickets (:mod:`go_support.mail.acks`); ``None``: never."""
        self.settings = mail
        self.router = Router(mail.mailboxes, default_type=default_type)
        self.ids = ids
        self.store = quarantine
        self.now = now
        self._stop_after = int(os.environ.get(STOP_AFTER_VARIABLE) or 0)
        self._deferred: dict[tuple[str, str], ParsedMail | Quarantine] = {}
        """Mails deferred to the next batch, parsed already (a backlog defers many)."""

    def _step(self, number: int) -> None:
        if self._stop_after == number:
            log.warning("stopping after step %d (%s)", number, STOP_AFTER_VARIABLE)
            os.kill(os.getpid(), signal.SIGKILL)

    # -- the batch ------------------------------------------------------------------------

    def handle(self, source: MailSource, mails: Sequence[IncomingMail]) -> list[Outcome]:
        """Import ``mails`` of ``source``; a failure of Group-Office leaves them all in the
        inbox (their outcome ``failed``) and is raised again for the caller to wait."""
        if not mails:
            return []
        now = self.now()
        parsed: dict[str, ParsedMail | Quarantine] = {}
        for m in mails:
            if m.raw is not None:
                earlier = self._deferred.pop((m.source, m.key), None)
                parsed[m.key] = earlier if earlier is not None else parse_mail(
                    m.raw, max_bytes=self.settings.max_bytes, now=now)
        candidates: list[str] = []
        tags: list[str] = []
        senders: list[str] = []
        keys = {m.key: mail_key(m.raw) for m in mails if m.raw is not None}
        firsts: list[str] = []
        for source_key, value in parsed.items():
            if isinstance(value, ParsedMail):
                candidates += list(value.in_reply_to) + list(value.references)
                tags += _tags(value.subject)
                senders.append(value.sender.key)
                firsts.append(_first_key(value.message_id, keys[source_key]))
        read = self._look_up(candidates, tags, senders, firsts)

        items: list[_Item] = []
        own_ids: dict[str, str] = {}
        for mail in mails:
            decision = decide(
                mail, router=self.router, ids=self.ids,
                known=lambda wanted: {m: read.by_message_id[m] for m in wanted
                                      if m in read.by_message_id},
                people=lambda ticket: read.people.get(ticket),
                own_addresses=self.settings.addresses, max_bytes=self.settings.max_bytes,
                now=now, parsed=parsed.get(mail.key))
            item = _Item(mail, decision, keys.get(mail.key, ""))
            items.append(item)
            if decision.mail is not None and decision.action == "new-ticket" and \
                    decision.mail.message_id:
                own_ids.setdefault(decision.mail.message_id, mail.key)
        # a reply to a mail of this same batch waits for the next one, when its ticket exists
        for item in items:
            refs = item.decision.mail
            if item.decision.action == "new-ticket" and refs is not None and any(
                    own_ids.get(r, item.mail.key) != item.mail.key
                    for r in (*refs.in_reply_to, *refs.references)):
                item.outcome, item.done_reason = "deferred", "replies to a mail of this batch"
                if len(self._deferred) < 10_000:
                    self._deferred[(item.mail.source, item.mail.key)] = refs
        seen: set[str] = set()
        for item in items:
            if item.key and not item.outcome and item.decision.action != "quarantine":
                if item.key in seen:
                    item.outcome, item.done_reason = "deferred", "the same mail twice in a batch"
                seen.add(item.key)
        self._step(1)

        work = [i for i in items if i.decision.action != "quarantine" and not i.outcome]
        self._held(work, read)
        self._step(2)
        try:
            self._write(work, read)
            self._settle(work)
            self._acknowledge(work, read)
        finally:
            self._finish(source, items)
        return [i.result() for i in items]

    # -- reading ----------------------------------------------------------------------------

    def _type_ids(self) -> list[str]:
        return [t.id for t in self.desk.layout.types]

    def _look_up(self, candidates: Sequence[str], tags: Sequence[str],
                 senders: Sequence[str], firsts: Sequence[str]) -> _Read:
        """One request: tickets by the Message-IDs mails refer to (signed ones of ours name
        theirs), the tickets named in subject tags, the tickets the mails opened before (by
        ``supportFirstMessageId``), the comments of all of these (whether they hold a mail
        already, who is on a tagged ticket's thread), the senders' users with their groups
        (who is an agent of which type), the registration setting."""
        type_ids = self._type_ids()
        batch = Batch()
        field_name = names.FIRST_MESSAGE_ID
        by_id: list[Call] = []
        wanted = list(dict.fromkeys(c for c in candidates if c))
        for start in range(0, len(wanted), _CHUNK):
            # "<id>" and "<id> k...": a Message-ID ends with ">", so the prefix is enough
            by_id.append(self._tasks(batch, type_ids, [
                {field_name: like_exact(value) + "%"} for value in wanted[start:start + _CHUNK]]))
        opened = sorted(set(firsts))
        by_key = [self._tasks(batch, type_ids, [
            {field_name: like_exact(v)} for v in opened[start:start + _CHUNK]])
            for start in range(0, len(opened), _CHUNK)]
        signed = [ref.ticket_id for ref in map(self.ids.verify, wanted) if ref] \
            if self.ids is not None else []
        direct = sorted(set(tags) | set(signed))
        named = batch.call("Task/get", {"ids": direct, "properties": _TASK}) if direct else None
        comments = [(call, _comments(batch, {"#entityId": call.ref("/list/*/id")}))
                    for call in (*by_id, *by_key)]
        if named is not None:
            comments.append((named, _comments(batch, {"entityId": direct})))
        users: list[Call] = []
        people = sorted(set(senders))
        for start in range(0, len(people), _CHUNK):
            query = batch.call("User/query", {"filter": {"operator": "OR", "conditions": [
                {"email": like_exact(a)} for a in people[start:start + _CHUNK]]}})
            users.append(batch.call("User/get", {"#ids": query.ref("/ids"), "properties": [
                "id", "email", "groups", "isAdmin", "enabled"]}))
        core = batch.call("Module/get", {"ids": ["1"], "properties": [
            "id", "name", "package", "settings"]}) if people else None
        responses = self.desk.client.execute(batch)

        read = _Read()
        wanted_set = set(wanted)
        for call in by_id:
            for task in _objects(responses, call):
                value = str((task.get("customFields") or {}).get(field_name) or "")
                message_id = value.split(" ")[0]
                if message_id in wanted_set:
                    read.by_message_id.setdefault(message_id, str(task["id"]))
        firsts_set = set(firsts)
        for call in by_key:
            for task in _objects(responses, call):
                value = str((task.get("customFields") or {}).get(field_name) or "")
                if value in firsts_set:
                    read.by_key.setdefault(value.rsplit(" ", 1)[-1], str(task["id"]))
        named_comments: list[dict[str, Any]] = []
        for tasks, (_, texts) in comments:
            try:
                found = _objects(responses, tasks)
                texts_found = _objects(responses, texts) if found else []
            except JMAPError as exc:  # read again in :meth:`_held`
                log.info("reading the comments of tickets failed (%s); read again", exc)
                continue
            _held_keys(texts_found, read.held)
            read.acked.update(k for c in texts_found
                              for k in ACKED.findall(str(c.get("text") or "")))
            if tasks is named:
                named_comments = texts_found
            read.tasks.update({str(t["id"]): t for t in found})
        for call in users:
            for user in _objects(responses, call):
                read.users[str(user.get("email") or "").casefold()] = str(user["id"])
                if user.get("enabled") is not False:
                    read.accounts[str(user.get("email") or "").casefold()] = (
                        frozenset(str(g) for g in user.get("groups") or []),
                        bool(user.get("isAdmin")))
        if named is not None:
            with contextlib.suppress(JMAPError):  # unread: the tag is not followed
                self._people(read, _objects(responses, named), named_comments)
        if core is not None:
            for module in _objects(responses, core):
                if module.get("name") == "core" and module.get("package") == "core":
                    settings = module.get("settings") or {}
                    read.allow_registration = bool(settings.get("allowRegistration"))
        return read

    def _people(self, read: _Read, tasks: Iterable[Mapping[str, Any]],
                comments: Iterable[Mapping[str, Any]]) -> None:
        """Who belongs to each ticket a subject tag names: its requester, the addresses on its
        thread (those of the mails stored on it), and, of this batch's senders, the agents
        of its type. A tag from anyone else is not followed."""
        thread = _on_thread(comments)
        for task in tasks:
            ticket_type = self.desk.layout.by_id(task.get("tasklistId"))
            if ticket_type is None:
                continue  # not a ticket: a task of another list
            ticket = str(task["id"])
            email = str((task.get("customFields") or {}).get(names.REQUESTER_EMAIL) or "")
            read.people[ticket] = ({email.casefold()} if email else set()) | thread.get(
                ticket, set()) | _agents(read, ticket_type.acl)

    @staticmethod
    def _tasks(batch: Batch, type_ids: Sequence[str],
               conditions: list[dict[str, Any]]) -> Call:
        query = batch.call("Task/query", {"filter": {"operator": "AND", "conditions": [
            {"tasklistId": list(type_ids)}, {"operator": "OR", "conditions": conditions}]}})
        return batch.call("Task/get", {"#ids": query.ref("/ids"), "properties": _TASK})

    def _held(self, work: list[_Item], read: _Read) -> None:
        """Mark the mails Group-Office holds already: their key on a comment of a ticket the
        look-up read (the tickets follow-ups go to, those the mails opened before). A ticket
        a follow-up goes to that the look-up did not read (a bounce's, or a failed read) is
        read now, in one more request."""
        self._targets: dict[str, dict[str, Any]] = dict(read.tasks)
        self._acked: set[str] = set(read.acked)
        held = dict(read.held)
        targets = {i.decision.ticket_id for i in work if i.decision.ticket_id}
        missing = sorted({str(t) for t in targets | set(read.by_key.values())}
                         - set(self._targets))
        if missing:
            batch = Batch()
            again = self._comments_of(batch, missing)
            self._read_comments(self.desk.client.execute(batch), again, held)
        for item in work:
            if item.key in held:
                item.outcome, item.ticket_id = "duplicate", held[item.key]
                item.done_reason = "Group-Office holds this mail already"
            elif item.key in read.by_key:
                item.ticket_id = read.by_key[item.key]  # its ticket lacks the first message

    def _comments_of(self, batch: Batch,
                     tickets: list[str]) -> tuple[tuple[Call, Call], Call] | None:
        if not tickets:
            return None
        return _comments(batch, {"entityId": tickets}), batch.call(
            "Task/get", {"ids": tickets, "properties": _TASK})

    def _read_comments(self, responses: Responses,
                       calls: tuple[tuple[Call, Call], Call] | None,
                       held: dict[str, str]) -> None:
        if calls is None:
            return
        (_, comments), tasks = calls
        _held_keys(_objects(responses, comments), held)
        for comment in _objects(responses, comments):
            self._acked.update(ACKED.findall(str(comment.get("text") or "")))
        self._targets.update({str(t["id"]): t for t in _objects(responses, tasks)})

    # -- writing ----------------------------------------------------------------------------

    def _message(self, item: _Item, *, note: str | None = None) -> NewMessage:
        """The comment of a mail: its HTML, attachments (uploaded; inline images shown
        through their blobs), and its key."""
        mail = item.decision.mail
        assert mail is not None
        text = note if note is not None else item.prefix + (mail.html or "")
        files = []
        for attachment in mail.attachments:
            blob = self.desk.client.upload_blob(attachment.data, attachment.filename,
                                                attachment.content_type)
            files.append({"blobId": blob.blob_id, "name": attachment.filename})
            if attachment.content_id:
                url = f"{self.desk.client.base_url}/api/download.php?blob={blob.blob_id}"
                text = text.replace(f"cid:{attachment.content_id}", htmllib.escape(url))
        clean = sanitize_html(text or "<p></p>", what=f"mail {item.mail.key}")
        if note is None and not files and "<img" not in clean and not html_to_text(clean):
            clean = "<p>(The mail has no text.)</p>"  # a subject alone is still a request
        if note is None:
            clean += _thread_marker(mail, self.settings.addresses)
        return NewMessage(clean + marker(item.key), None if note is not None else "received",
                          private_label_id=self.desk.layout.private_label_id
                          if note is not None else None,
                          message_id=mail.message_id if note is None else None,
                          date=mail.date, attachments=tuple(files))

    def _write(self, work: list[_Item], read: _Read) -> None:
        todo = [i for i in work if not i.outcome]
        new = [i for i in todo if i.decision.action == "new-ticket" and i.ticket_id is None]
        if read.allow_registration:
            self._register(new, read)
        self._step(3)
        self._create(new, read)
        self._step(4)
        self._follow_up([i for i in todo if i not in new], read)
        self._step(5)

    def _register(self, new: list[_Item], read: _Read) -> None:
        """Create the users of unknown senders (only when Group-Office allows registration,
        as its Support module does)."""
        wanted: dict[str, Any] = {}
        for item in new:
            mail = item.decision.mail
            assert mail is not None
            if mail.sender.key not in read.users and mail.sender.key not in wanted:
                wanted[mail.sender.key] = mail.sender
        if not wanted:
            return
        batch = Batch()
        create = {f"u{n}": {"username": address, "email": address,
                            "displayName": (person.name or address)[:190]}
                  for n, (address, person) in enumerate(wanted.items())}
        call = batch.call("User/set", {"create": create})
        responses = self.desk.client.execute(batch)
        try:
            created = SetResult.from_json(responses.get(call)).created
        except JMAPError as exc:
            log.warning("creating the users of new requesters failed: %s", exc)
            return
        for cid, address in zip(create, wanted, strict=True):
            if cid in created:
                read.users[address] = str(created[cid]["id"])
                log.info("registered %s as user %s", address, created[cid]["id"])

    def _create(self, new: list[_Item], read: _Read) -> None:
        drafts: list[TicketDraft] = []
        kept: list[_Item] = []
        for item in new:
            mail = item.decision.mail
            assert mail is not None
            try:
                message = self._message(item)
            except DeskError as exc:
                self._refuse(item, exc)
                continue
            kept.append(item)
            sender = mail.sender
            user = read.users.get(sender.key)
            requester: Any = user if user else (
                f"{sender.name} <{sender.email}>" if sender.name else sender.email)
            drafts.append(TicketDraft(
                item.decision.type_name, mail.subject or "(no subject)", message.text,
                requester, attachments=[Attachment(a["blobId"], a["name"])
                                        for a in message.attachments],
                message_id=mail.message_id, date=mail.date,
                first_key=_first_key(mail.message_id, item.key)))
        new = kept
        while drafts:
            try:
                results = self.desk.tickets.create_many(drafts)
            except RefusedTickets as exc:
                bad = {position for position, _ in exc.problems}
                for position, error in exc.problems:
                    self._refuse(new[position], error)
                new = [i for n, i in enumerate(new) if n not in bad]
                drafts = [d for n, d in enumerate(drafts) if n not in bad]
                continue
            except DeskError as exc:
                if len(new) == 1:
                    self._refuse(new[0], exc)
                    return
                raise
            for item, result in zip(new, results, strict=True):
                if isinstance(result, CreatedTicket):
                    item.outcome, item.ticket_id = "new-ticket", result.ticket_id
                    item.done_reason = item.decision.reason
                else:
                    item.outcome, item.done_reason = "failed", result.reason
            return

    def _refuse(self, item: _Item, error: Exception) -> None:
        """A mail the desk refuses (its checks) is quarantined with the reason."""
        item.decision = Decision("quarantine", f"the desk refused it: {error}",
                                 item.decision.mail, code="refused")

    def _follow_up(self, items: list[_Item], read: _Read) -> None:
        """Follow-ups, bounce notes and the first messages that a crash left out, in one
        request; the tickets they reopen or leave needing action."""
        if not items:
            return
        batch = Batch()
        writes = Writes(batch)
        posts = []
        marks: list[Call] = []
        now = self.now()
        for item in items:
            decision = item.decision
            ticket = item.ticket_id or decision.ticket_id
            task = self._targets.get(str(ticket))
            if ticket is None or task is None:
                item.outcome, item.done_reason = "failed", f"ticket {ticket} is not readable"
                continue
            if decision.action == "bounce":
                reason = decision.reason
                note = f"<p>{htmllib.escape(reason)}</p>"
                post = writes.post(str(ticket), self._message(item, note=note))
                if decision.comment_id and decision.failed:
                    marks.append(batch.call("Comment/set", {"update": {decision.comment_id: {
                        "mailStatus": "senderror"}}}))
                posts.append((item, post, str(ticket)))
                continue
            if task.get("progress") in _CLOSED and decision.action == "follow-up" and \
                    closed_ticket_action(_when(task.get("modifiedAt"), now), now,
                                         self.settings.reopen_days) == "new":
                item.decision = Decision(
                    "new-ticket", f"follows up ticket {ticket}, closed more than "
                    f"{self.settings.reopen_days} days ago: a new ticket", decision.mail,
                    type_name=self._type_name(task), acknowledge=False)
                item.prefix = (f"<p>A follow-up to ticket #{ticket}, which was closed more "
                               f"than {self.settings.reopen_days} days ago.</p>")
                self._create([item], read)
                continue
            try:
                message = self._message(item)
            except DeskError as exc:
                self._refuse(item, exc)
                continue
            posts.append((item, writes.post(str(ticket), message), str(ticket)))
        if not posts:
            return
        # Every comment of ours runs Group-Office's comment hook, which may move the ticket
        # (groupoffice-wire 33): each ticket is left explicitly where the mail puts it. A
        # requester's mail or a bounce of our answer: needs action (a closed ticket reopens);
        # only out-of-office replies: as it was (stored, asking for nothing).
        guard = posts[0][1].guard()
        wanted: dict[str, bool] = {}
        for item, _, ticket in posts:
            verdict = item.decision.verdict
            automatic = verdict is not None and verdict.kind == "auto-reply" and \
                item.decision.action == "follow-up"
            wanted[ticket] = wanted.get(ticket, False) or not automatic
        for ticket, needs_action in wanted.items():
            task = self._targets[ticket]
            current = Status(str(task.get("progress") or Status.NEEDS_ACTION.value))
            agent = str(task.get("responsibleUserId") or "") or None
            if needs_action:
                writes.change_state(ticket, Status.NEEDS_ACTION, agent,
                                    reset_percent=current.value in _CLOSED, guard=guard)
            else:
                writes.change_state(ticket, current, agent, guard=guard)
        responses = self.desk.client.execute(batch)
        for item, post, ticket in posts:
            result = post.result(responses)
            if isinstance(result, Refused):
                item.outcome, item.done_reason = "failed", result.reason
                continue
            item.ticket_id = ticket
            if item.decision.action == "new-ticket":  # a first message put back
                item.outcome = "new-ticket"
                item.done_reason = "its ticket lacked the first message, which is added now"
            else:
                item.outcome, item.done_reason = item.decision.action, item.decision.reason
                if self._targets[ticket].get("progress") in _CLOSED and \
                        item.decision.action == "follow-up":
                    item.done_reason += "; the closed ticket is reopened"
        for call in marks:
            try:
                responses.get(call)
            except JMAPError as exc:
                log.warning("marking a bounced message failed: %s", exc)

    def _settle(self, work: list[_Item]) -> None:
        """Undo what a second daemon wrote for the same mail at the same moment.

        Two daemons may both find a mail not yet held and both write it. Each one, after
        writing, reads the keys it wrote again: of several tickets opened by one mail the one
        with the lowest id stays, of several comments of one mail on a ticket the lowest id
        stays, the others are destroyed. The daemon that wrote last always sees both copies,
        so one of the two removes the extra one."""
        written = [i for i in work if i.outcome in ("new-ticket", "follow-up", "bounce")
                   and i.ticket_id]
        if not written:
            return
        values = {_first_key(i.decision.mail.message_id if i.decision.mail else None, i.key)
                  for i in written if i.decision.action == "new-ticket"}
        keys = {i.key for i in written}
        batch = Batch()
        ordered = sorted(values)
        by_key = [self._tasks(batch, self._type_ids(), [
            {names.FIRST_MESSAGE_ID: like_exact(v)} for v in ordered[start:start + _CHUNK]])
            for start in range(0, len(ordered), _CHUNK)]
        tickets = sorted({str(i.ticket_id) for i in written})
        query = batch.call("Comment/query", {"filter": {"entity": "Task", "entityId": tickets}})
        comments = batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                              "properties": ["id", "entityId", "text"]})
        responses = self.desk.client.execute(batch)
        extra_tasks: list[str] = []
        opened: dict[str, list[int]] = {}
        for task in (t for call in by_key for t in _objects(responses, call)):
            value = str((task.get("customFields") or {}).get(names.FIRST_MESSAGE_ID) or "")
            if value in values:
                opened.setdefault(value, []).append(int(task["id"]))
        for ids in opened.values():
            extra_tasks += [str(t) for t in sorted(ids)[1:]]
        copies: dict[tuple[str, str], list[int]] = {}
        for comment in _objects(responses, comments):
            for key in _MARK.findall(str(comment.get("text") or "")):
                if key in keys:
                    copies.setdefault((str(comment.get("entityId")), key), []).append(
                        int(comment["id"]))
        extra_comments = [str(c) for ids in copies.values() for c in sorted(ids)[1:]]
        if not extra_tasks and not extra_comments:
            return
        for attempt in range(1, 6):  # a deadlocked destroy is sent again (it is idempotent)
            batch = Batch()
            if extra_comments:
                batch.call("Comment/set", {"destroy": extra_comments})
            if extra_tasks:
                of_tasks = batch.call("Comment/query", {"filter": {"entity": "Task",
                                                                   "entityId": extra_tasks}})
                batch.call("Comment/set", {"#destroy": of_tasks.ref("/ids")})
                batch.call("Task/set", {"destroy": extra_tasks})
            failed = deadlocked(self.desk.client.execute(batch))
            if failed is None:
                break
            log.info("removing the copies failed (attempt %d): %s", attempt, failed)
            time.sleep(0.2 * attempt)
        gone = set(extra_tasks)
        for item in written:
            if item.ticket_id in gone:
                kept = opened.get(_first_key(
                    item.decision.mail.message_id if item.decision.mail else None, item.key))
                item.ticket_id = str(min(kept)) if kept else item.ticket_id
        log.info("another daemon wrote the same mails at the same moment: removed the "
                 "copies (tickets %s, messages %s)", extra_tasks or "none",
                 extra_comments or "none")

    def _type_name(self, task: Mapping[str, Any]) -> str | None:
        for ticket_type in self.desk.layout.types:
            if ticket_type.id == str(task.get("tasklistId")):
                return ticket_type.name
        return None

    # -- the inbox --------------------------------------------------------------------------

    def _finish(self, source: MailSource, items: list[_Item]) -> None:
        """Quarantine what is to be quarantined, take out of the inbox what Group-Office
        holds, and log one line per mail."""
        for item in items:
            if item.decision.action == "quarantine" and not item.outcome:
                decision = item.decision
                if self.store is not None:
                    self.store.put(item.mail.raw, code=decision.code or "quarantine",
                                   reason=decision.reason, source=item.mail.source,
                                   key=item.mail.key, size=item.mail.size)
                source.quarantine(item.mail)
                item.outcome, item.done_reason = "quarantine", decision.reason
        held = [i.mail for i in items
                if i.outcome in ("new-ticket", "follow-up", "bounce", "duplicate")]
        if held:
            source.done(*held)
        self._step(6)
        for item in items:
            if not item.outcome:
                item.outcome, item.done_reason = "failed", "not written (Group-Office failed)"
            outcome = item.result()
            (log.warning if item.outcome == "failed" else log.info)("%s", outcome.line())

    # -- acknowledgements -------------------------------------------------------------------

    def _acknowledge(self, work: list[_Item], read: _Read) -> None:
        """Acknowledge the tickets the batch's mails opened, before the mails leave the inbox
        (:mod:`go_support.mail.acks`): a mail found held after a crash, whose ticket has no
        acknowledgement note yet, is acknowledged now; follow-ups never are."""
        if self.acks is None:
            return
        due: list[AckItem] = []
        for item in work:
            mail, ticket, decision = item.decision.mail, item.ticket_id, item.decision
            opened = item.outcome == "new-ticket" or (
                item.outcome == "duplicate" and read.by_key.get(item.key) == ticket)
            if not opened or ticket is None or mail is None or item.key in self._acked or \
                    not decision.acknowledge or not decision.type_name:
                continue
            task = self._targets.get(ticket)
            state = None if task is None else (
                str(task.get("progress") or Status.NEEDS_ACTION.value),
                str(task.get("responsibleUserId") or "") or None)
            due.append(AckItem(item.key, ticket, decision.type_name, mail, state))
        if due:
            self.acks.run(self.desk, due)


def _comments(batch: Batch, tickets: dict[str, Any]) -> tuple[Call, Call]:
    """The comments of ``tickets`` (an ``entityId`` filter or a reference to ids)."""
    query = batch.call("Comment/query", {"filter": {"entity": "Task", **tickets}})
    return query, batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                             "properties": ["id", "entityId", "text"]})


def _held_keys(comments: Iterable[Mapping[str, Any]], held: dict[str, str]) -> None:
    """Mail key -> ticket, of the keys on ``comments``."""
    for comment in comments:
        for key in _MARK.findall(str(comment.get("text") or "")):
            held.setdefault(key, str(comment.get("entityId")))


def _tags(subject: str) -> list[str]:
    from go_support.mail.thread_ids import subject_tags
    return [t for t in subject_tags(subject) if t.isdigit()]


def _objects(responses: Responses, call: Call) -> list[dict[str, Any]]:
    return [dict(o) for o in GetResult.from_json(responses.get(call)).objects]


def _when(value: Any, default: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def summary(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """How many mails had each outcome."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
    return counts



# --- one mail, again (go-support mail quarantine retry) ---------------------------------------


class _Single(PushedSource):
    """A source of one mail that changes nothing when it is done or quarantined: the caller
    keeps or removes its quarantine entry."""

    def __init__(self, mail: IncomingMail) -> None:
        super().__init__(mail.source)
        self._mail = mail

    def fetch(self, limit: int | None = None) -> list[IncomingMail]:
        return [self._mail]


def import_one(desk: SupportDesk, settings: Any, incoming: IncomingMail) -> Outcome:
    """Run one mail through the whole intake again (``go-support mail quarantine retry``):
    decided with today's settings and written exactly once like any other (a mail Group-Office
    holds already is a ``duplicate`` of its ticket), acknowledged when it opens a ticket.
    Nothing is put into the local quarantine: the caller keeps or removes its entry.
    ``settings`` are go-support's whole settings (the default ticket type too)."""
    from go_support.mail.runner import build_intake

    intake = build_intake(desk, settings)
    intake.store = None
    (outcome,) = intake.handle(_Single(incoming), [incoming])
    return outcome


# --- who belongs to a ticket (the subject tag) ------------------------------------------------

_THREAD = re.compile(r'data-go-support-thread="([^"]*)"')
_THREAD_MAX = 20  # addresses kept per mail: the people of a thread, not a mailing list


def _thread_marker(mail: ParsedMail, own: Sequence[str]) -> str:
    """The empty element that keeps, in a mail's comment, the addresses the mail was from and
    to (not ours): who is on the ticket's thread, for a later subject tag."""
    ours = {a.casefold() for a in own}
    found = [a.email for a in (mail.sender, *mail.from_, *mail.to, *mail.cc)
             if a.email and a.email.casefold() not in ours]
    people = list(dict.fromkeys(a.casefold() for a in found))[:_THREAD_MAX]
    if not people:
        return ""
    return f'<span data-go-support-thread="{htmllib.escape(" ".join(people))}"></span>'


def _on_thread(comments: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """Ticket id -> the addresses its mails' comments name (:func:`_thread_marker`)."""
    found: dict[str, set[str]] = {}
    for comment in comments:
        for value in _THREAD.findall(str(comment.get("text") or "")):
            found.setdefault(str(comment.get("entityId")), set()).update(
                htmllib.unescape(value).split())
    return found


def _agents(read: _Read, acl: Mapping[str, int]) -> set[str]:
    """The batch's senders who are agents of a type with ``acl`` (write access or more on its
    list through a group, or admins), as the desk counts agents."""
    from go_support.desk.actor import AGENT_LEVEL, user_level

    return {address for address, (groups, admin) in read.accounts.items()
            if user_level(acl, groups, admin) >= AGENT_LEVEL}
