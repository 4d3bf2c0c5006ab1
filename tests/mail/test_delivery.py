"""Outbound delivery against Group-Office (the emulator, and a real one for ``[live]``) and a
real SMTP server (the aiosmtpd sink): grace period, edits and Private labels within it,
web-client comments, SMTP refusals, a crash between send and mark, acknowledgements.

Every scan is limited to the test's own ticket types (``only_types``): a real Group-Office is
shared, and its other comments are not ours to mail.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any

import pytest

from go_support.desk.convert import parse_datetime
from go_support.mail.config import MailSettings
from go_support.mail.delivery import (
    DeliveryState,
    acknowledge,
    deliver_pending,
    outbound_queue,
)
from go_support.mail.loops import HourlyCap
from go_support.mail.outbound import SmtpSender
from go_support.mail.thread_ids import MessageIds
from tests.desk import conftest as desk_fixtures
from tests.desk.conftest import World
from tests.mail.services import SmtpSink

# the help desk's fixtures (a Group-Office with two ticket types, agents and customers)
go_server, admin, cleanup, tag, world = (desk_fixtures.go_server, desk_fixtures.admin,
                                         desk_fixtures.cleanup, desk_fixtures.tag,
                                         desk_fixtures.world)

IDS = MessageIds("a-test-secret-of-32-bytes-length", "desk.example.org")
FIRST_ID = "<first-{tag}@requester.example.org>"


def settings(**outbound: Any) -> MailSettings:
    return MailSettings.model_validate({
        "addresses": ["support@desk.example.org"],
        "outbound": {"lookback_hours": 1.0, **outbound}})


@pytest.fixture
def sender(smtp: SmtpSink) -> SmtpSender:
    return SmtpSender(smtp.host, smtp.port, security="none", timeout=10)


def deliver(world: World, sender: SmtpSender, now: datetime, conf: MailSettings | None = None,
            **kw: Any) -> Any:
    return deliver_pending(world.desk, sender, conf or settings(), now=now, ids=IDS,
                           only_types=[world.type_a.id, world.type_b.id], **kw)


def comment(world: World, comment_id: str) -> dict[str, Any]:
    found = world.admin.call("Comment/get", {"ids": [comment_id], "properties": [
        "id", "mailStatus", "mimeMessageId", "modifiedAt", "text", "labels"]})
    return dict(found["list"][0])


def modified(world: World, comment_id: str) -> datetime:
    value = parse_datetime(comment(world, comment_id)["modifiedAt"])
    assert value is not None
    return value


def parsed(data: bytes) -> EmailMessage:
    return message_from_bytes(data)


@pytest.fixture
def ticket(world: World) -> Iterator[Any]:
    yield world.desk.tickets.create(
        world.type_a, "Printer jammed", "<p>It eats paper.</p>",
        f"Ann Smith <ann.{world.tag}@example.com>",
        message_id=FIRST_ID.format(tag=world.tag))


def test_an_answer_waits_for_the_grace_period_then_leaves_with_our_threading(
        world: World, ticket: Any, smtp: SmtpSink, sender: SmtpSender) -> None:
    reply = world.own("agent_a").messages.reply(ticket, "<p>On my way.</p>")
    written = modified(world, reply.id)

    early = deliver(world, sender, written + timedelta(seconds=119))
    assert early.sent == [] and reply.id in early.waiting and smtp.messages == []

    done = deliver(world, sender, written + timedelta(seconds=121))
    assert done.sent == [reply.id]
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == [f"ann.{world.tag}@example.com"]
    message = parsed(mail.data)
    stored = comment(world, reply.id)
    assert stored["mailStatus"] == "sent"
    assert stored["mimeMessageId"] == message["Message-ID"]
    ref = IDS.verify(message["Message-ID"])
    assert ref is not None and (ref.ticket_id, ref.comment_id) == (ticket.id, reply.id)
    assert message["In-Reply-To"] == FIRST_ID.format(tag=world.tag)
    assert FIRST_ID.format(tag=world.tag) in message["References"]
    assert f"[#{ticket.id}]" in message["Subject"]
    assert message["X-Loop"] == "support@desk.example.org"
    assert message["Auto-Submitted"] is None  # a person's answer, not automatic mail
    assert "On my way." in mail.data.decode()

    again = deliver(world, sender, written + timedelta(seconds=300))
    assert again.sent == [] and len(smtp.messages) == 1


def test_an_answers_attachments_go_along(world: World, ticket: Any, smtp: SmtpSink,
                                         sender: SmtpSender) -> None:
    reply = world.own("agent_a").messages.reply(
        ticket, "<p>The manual is attached.</p>",
        attachments=[("manual.pdf", b"%PDF-1.4 the manual", "application/pdf")])
    deliver(world, sender, modified(world, reply.id) + timedelta(seconds=121))
    message = parsed(smtp.wait_for(1)[0].data)
    files = [(p.get_filename(), p.get_payload(decode=True)) for p in message.walk()
             if p.get_filename()]
    assert files == [("manual.pdf", b"%PDF-1.4 the manual")]


def test_an_edit_restarts_the_grace_period_and_the_edited_text_leaves(
        world: World, ticket: Any, smtp: SmtpSink, sender: SmtpSender) -> None:
    agent = world.own("agent_a")
    reply = agent.messages.reply(ticket, "<p>Frist draft.</p>")
    agent.client.call("Comment/set", {"update": {reply.id: {"text": "<p>First draft.</p>"}}})
    edited = modified(world, reply.id)
    assert deliver(world, sender, edited + timedelta(seconds=100)).sent == []
    assert deliver(world, sender, edited + timedelta(seconds=121)).sent == [reply.id]
    [mail] = smtp.wait_for(1)
    assert "First draft." in mail.data.decode() and "Frist" not in mail.data.decode()


def test_a_comment_labelled_private_within_the_grace_period_is_never_mailed(
        world: World, ticket: Any, smtp: SmtpSink, sender: SmtpSender) -> None:
    agent = world.own("agent_a")
    reply = agent.messages.reply(ticket, "<p>Between us: the toner is fake.</p>")
    label = world.desk.layout.private_label_id
    agent.client.call("Comment/set", {"update": {reply.id: {"labels": [label]}}})
    note = agent.messages.note(ticket, "<p>a private note</p>")
    later = modified(world, reply.id) + timedelta(hours=0.5)
    report = deliver(world, sender, later)
    assert report.sent == [] and smtp.messages == []
    assert comment(world, reply.id)["mailStatus"] == "pending"
    assert comment(world, note.id)["mailStatus"] is None
    # the requester's own first message (received) is not echoed either: nothing queued
    first = world.desk.messages.list(ticket)[0]
    assert first.mail_status == "received"
    assert outbound_queue(world.desk, settings(), now=later, ids=IDS,
                          only_types=[world.type_a.id]) == []


def test_a_web_client_comment_without_mail_status_is_mailed(
        world: World, ticket: Any, smtp: SmtpSink, sender: SmtpSender) -> None:
    agent = world.own("agent_a")
    created = agent.client.call("Comment/set", {"create": {"w": {
        "entity": "Task", "entityId": ticket.id, "text": "<p>Written in the web client.</p>"}}})
    cid = str(created["created"]["w"]["id"])
    assert comment(world, cid)["mailStatus"] is None
    queue = outbound_queue(world.desk, settings(), now=modified(world, cid), ids=IDS,
                           only_types=[world.type_a.id])
    assert [(i.comment_id, i.state) for i in queue] == [(cid, "waiting")]
    report = deliver(world, sender, modified(world, cid) + timedelta(seconds=121))
    assert report.sent == [cid]
    assert comment(world, cid)["mailStatus"] == "sent"
    assert "Written in the web client." in smtp.wait_for(1)[0].data.decode()


def test_an_smtp_refusal_is_a_send_error_with_the_servers_answer_in_a_private_note(
        world: World, ticket: Any, smtp: SmtpSink, sender: SmtpSender) -> None:
    smtp.refuse.add(f"ann.{world.tag}@example.com")
    reply = world.own("agent_a").messages.reply(ticket, "<p>Answer.</p>")
    report = deliver(world, sender, modified(world, reply.id) + timedelta(seconds=121))
    assert list(report.failed) == [reply.id] and "550" in report.failed[reply.id]
    assert comment(world, reply.id)["mailStatus"] == "senderror"
    messages = world.desk.messages.list(ticket)
    notes = [m for m in messages if m.private]
    assert len(notes) == 1 and "550 5.1.1" in notes[0].html and reply.id in notes[0].html
    later = deliver(world, sender, modified(world, reply.id) + timedelta(seconds=600))
    assert later.sent == [] and later.failed == {} and smtp.messages == []


def test_a_temporary_failure_stays_pending_and_is_retried(
        world: World, ticket: Any, smtp: SmtpSink) -> None:
    reply = world.own("agent_a").messages.reply(ticket, "<p>Answer.</p>")
    due = modified(world, reply.id) + timedelta(seconds=121)
    closed = SmtpSender("127.0.0.1", 1, security="none", timeout=2)
    report = deliver(world, closed, due)
    assert list(report.deferred) == [reply.id]
    assert comment(world, reply.id)["mailStatus"] == "pending"
    working = SmtpSender(smtp.host, smtp.port, security="none", timeout=10)
    assert deliver(world, working, due).sent == [reply.id]
    [mail] = smtp.wait_for(1)
    assert parsed(mail.data)["Message-ID"] == comment(world, reply.id)["mimeMessageId"]


class _Crash(BaseException):
    """The daemon killed right after the SMTP server accepted the mail."""


class CrashingSender(SmtpSender):
    def send(self, message: Any) -> str:
        super().send(message)
        raise _Crash


@pytest.mark.parametrize("with_journal", [True, False])
def test_a_crash_between_send_and_mark(world: World, ticket: Any, smtp: SmtpSink,
                                       sender: SmtpSender, tmp_path: Path,
                                       with_journal: bool) -> None:
    conf = settings(journal=str(tmp_path / "outbound.journal") if with_journal else None)
    reply = world.own("agent_a").messages.reply(ticket, "<p>Answer.</p>")
    due = modified(world, reply.id) + timedelta(seconds=121)
    crashing = CrashingSender(smtp.host, smtp.port, security="none", timeout=10)
    if with_journal:  # the crash comes after the journal noted the accept
        class JournalThenCrash(SmtpSender):
            def send(self, message: Any) -> str:
                found = super().send(message)
                Path(conf.outbound.journal or "").write_text(found + "\n")
                raise _Crash
        crashing = JournalThenCrash(smtp.host, smtp.port, security="none", timeout=10)
    with pytest.raises(_Crash):
        deliver(world, crashing, due, conf)
    first = smtp.wait_for(1)[0]
    stored = comment(world, reply.id)
    assert stored["mailStatus"] == "pending"  # claimed, not marked
    assert stored["mimeMessageId"] == parsed(first.data)["Message-ID"]
    report = deliver(world, sender, due, conf)
    assert comment(world, reply.id)["mailStatus"] == "sent"
    if with_journal:
        assert report.marked == [reply.id] and report.sent == []
        assert len(smtp.messages) == 1  # not sent twice
    else:
        # without a journal it is sent again, with the same Message-ID (receivers that
        # de-duplicate show it once): the documented remaining window
        assert report.sent == [reply.id]
        second = smtp.wait_for(2)[1]
        assert parsed(second.data)["Message-ID"] == parsed(first.data)["Message-ID"]


def test_old_comments_are_never_mailed(world: World, ticket: Any, smtp: SmtpSink,
                                       sender: SmtpSender) -> None:
    reply = world.own("agent_a").messages.reply(ticket, "<p>Answer.</p>")
    much_later = modified(world, reply.id) + timedelta(hours=2)  # look-back is one hour
    report = deliver(world, sender, much_later)
    assert report.sent == [] and smtp.messages == []
    assert comment(world, reply.id)["mailStatus"] == "pending"


def test_a_daemon_state_reads_from_the_oldest_waiting_answer(
        world: World, ticket: Any, smtp: SmtpSink, sender: SmtpSender) -> None:
    state = DeliveryState()
    reply = world.own("agent_a").messages.reply(ticket, "<p>Answer.</p>")
    written = modified(world, reply.id)
    deliver(world, sender, written + timedelta(seconds=10), state=state)
    assert state.since is not None and state.since <= written
    assert deliver(world, sender, written + timedelta(seconds=121),
                   state=state).sent == [reply.id]


# --- acknowledgements ---------------------------------------------------------------------


def test_acknowledgement_on_and_off_per_type_with_the_hourly_cap(smtp: SmtpSink,
                                                                   sender: SmtpSender) -> None:
    clock = [0.0]
    cap = HourlyCap(2, clock=lambda: clock[0])
    conf = settings(acknowledge_types={"Sales": False})
    ann = ("ann@example.org", "Ann <Smith>")
    common: dict[str, Any] = {"cap": cap, "ids": IDS, "subject": "Printer jammed",
                              "in_reply_to": "<m1@example.org>"}
    sent = acknowledge(sender, conf, ticket_id="12", type_name="IT", to=ann, **common)
    assert sent.sent, sent.reason
    off = acknowledge(sender, conf, ticket_id="13", type_name="sales", to=ann, **common)
    assert not off.sent and "off" in off.reason
    robot = acknowledge(sender, conf, ticket_id="14", type_name="IT", to=ann, allowed=False,
                        **common)
    assert not robot.sent and "automated" in robot.reason
    own = acknowledge(sender, conf, ticket_id="15", type_name="IT",
                      to=("Support@desk.example.org", ""), **common)
    assert not own.sent and "own address" in own.reason
    assert acknowledge(sender, conf, ticket_id="16", type_name="IT", to=ann, **common).sent
    capped = acknowledge(sender, conf, ticket_id="17", type_name="IT", to=ann, **common)
    assert not capped.sent and "loop protection" in capped.reason
    clock[0] = 3601.0
    assert acknowledge(sender, conf, ticket_id="18", type_name="IT", to=ann, **common).sent
    mails = smtp.wait_for(3)
    assert len(mails) == 3
    first = parsed(mails[0].data)
    assert first["Auto-Submitted"] == "auto-replied"
    assert first["X-Auto-Response-Suppress"] == "All"
    assert first["In-Reply-To"] == "<m1@example.org>"
    assert "[#12]" in first["Subject"]
    body = mails[0].data.decode()
    assert "Ann &lt;Smith&gt;" in body  # the template's values are escaped


def test_a_bad_acknowledgement_template_names_the_placeholder() -> None:
    with pytest.raises(ValueError, match=r"unknown placeholder.*requester"):
        settings(acknowledgement="<p>Hi {requester}</p>")


def test_marking_sent_leaves_the_ticket_as_the_answer_left_it(world: World, ticket: Any,
                                                         smtp: SmtpSink,
                                                         sender: SmtpSender) -> None:
    """The service (admin key) marks an agent's comment sent; the task is untouched
    (groupoffice-wire 18)."""
    reply = world.own("agent_a").messages.reply(ticket, "<p>Answer.</p>")
    after_reply = world.desk.tickets.get(ticket.id)
    deliver(world, sender, modified(world, reply.id) + timedelta(seconds=121))
    after_send = world.desk.tickets.get(ticket.id)
    assert (after_send.status, after_send.agent) == (after_reply.status, after_reply.agent)
    assert comment(world, reply.id)["mailStatus"] == "sent"

