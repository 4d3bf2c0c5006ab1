"""Mail intake on a Group-Office (``[live]``: the real server when one is configured): a new
ticket, a follow-up, a different mail with the same Message-ID, and a rerun that imports
nothing. Everything is scoped to a ticket type of the test's own."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from go_support.desk import SupportDesk
from go_support.jmap import GroupOfficeClient
from go_support.mail.config import MailboxSettings, MailSettings
from go_support.mail.pipeline import Intake, mail_key
from go_support.mail.sources import MaildirSource
from tests._support import Cleanup
from tests.desk.conftest import admin, cleanup, go_server, tag
from tests.mail.services import SmtpSink
from tests.mail.test_pipeline import a_bounce

__all__ = ["admin", "cleanup", "go_server", "tag"]  # the fixtures this module uses


def _mail(tag: str, n: int, subject: str, body: str, reply_to: str | None = None,
          message_id: str | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Live Requester <{tag}-req@example.com>"
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id or f"<{tag}-{n}@example.com>"
    if reply_to:
        mail["In-Reply-To"] = reply_to
    mail.set_content(body)
    return mail.as_bytes()


def test_intake_exactly_once(admin: GroupOfficeClient, cleanup: Cleanup, tag: str,
                             tmp_path: Path) -> None:
    desk = SupportDesk(admin)
    ticket_type = desk.types.create(f"Intake {tag}")
    cleanup("TaskList", ticket_type.id)
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    settings = MailSettings(addresses=["support@example.com"], mailboxes={
        "box": MailboxSettings(kind="maildir", path=str(box), type=ticket_type.name)})
    intake = Intake(SupportDesk(admin), settings, default_type=ticket_type.name)
    first = _mail(tag, 1, f"Printer {tag}", "The printer jams.")
    twin = _mail(tag, 1, f"Scanner {tag}", "Different words, same Message-ID.")
    (box / "new" / "1.eml").write_bytes(first)
    (box / "new" / "2.eml").write_bytes(twin)
    opened = intake.handle(source, source.fetch())
    assert [o.action for o in opened] == ["new-ticket", "new-ticket"]
    assert opened[0].ticket_id != opened[1].ticket_id

    reply = _mail(tag, 2, f"Re: Printer {tag}", "Still jammed.",
                  reply_to=f"<{tag}-1@example.com>")
    (box / "new" / "3.eml").write_bytes(reply)
    (followed,) = intake.handle(source, source.fetch())
    assert followed.action == "follow-up"
    assert followed.ticket_id in {opened[0].ticket_id, opened[1].ticket_id}

    # the same three mails again (a crash before they left the inbox): nothing new
    for name, raw in (("4.eml", first), ("5.eml", twin), ("6.eml", reply)):
        (box / "new" / name).write_bytes(raw)
    again = intake.handle(source, source.fetch())
    assert [o.action for o in again] == ["duplicate"] * 3

    messages = [m for t in (opened[0].ticket_id, opened[1].ticket_id)
                for m in desk.messages.list(str(t))]
    keys = [k for m in messages for k in (mail_key(first), mail_key(twin), mail_key(reply))
            if k in m.html]
    assert sorted(keys) == sorted([mail_key(first), mail_key(twin), mail_key(reply)])
    assert all(m.mail_status == "received" for m in messages)


def test_bounce_marks_our_answer(admin: GroupOfficeClient, cleanup: Cleanup, tag: str,
                                 tmp_path: Path) -> None:
    from go_support.mail.thread_ids import MessageIds

    desk = SupportDesk(admin)
    ticket_type = desk.types.create(f"Bounce {tag}")
    cleanup("TaskList", ticket_type.id)
    ticket = desk.tickets.create(ticket_type, f"Printer {tag}", "<p>jammed</p>",
                                 f"{tag}-req@example.com")
    answer = desk.messages.reply(ticket, "<p>on my way</p>")
    ids = MessageIds(f"live-secret-{tag}-0123456789", "example.com")
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    settings = MailSettings(addresses=["support@example.com"], mailboxes={
        "box": MailboxSettings(kind="maildir", path=str(box), type=ticket_type.name)})
    intake = Intake(SupportDesk(admin), settings, default_type=ticket_type.name, ids=ids)
    report = a_bounce(ids.new(ticket.id, answer.id))
    (box / "new" / "dsn.eml").write_bytes(report)
    (outcome,) = intake.handle(source, source.fetch())
    assert (outcome.action, outcome.ticket_id) == ("bounce", ticket.id)
    messages = desk.messages.list(ticket)
    assert next(m for m in messages if m.id == answer.id).mail_status == "senderror"
    assert any(m.private and "550 unknown" in m.html for m in messages)
    assert desk.tickets.get(ticket.id).status.value == "needs-action"


def test_acknowledged_once_and_recorded(admin: GroupOfficeClient, cleanup: Cleanup, tag: str,
                                        tmp_path: Path, smtp: SmtpSink) -> None:
    """A new ticket gets one acknowledgement, recorded as a private note that leaves the
    ticket as it was (Group-Office's comment hook would assign it to the service); the same
    mail again gets none."""
    from email import message_from_bytes

    from go_support.mail.acks import ACKED, Acknowledger
    from go_support.mail.outbound import SmtpSender
    from go_support.mail.thread_ids import MessageIds

    desk = SupportDesk(admin)
    ticket_type = desk.types.create(f"Ack {tag}")
    cleanup("TaskList", ticket_type.id)
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    settings = MailSettings(addresses=["support@example.com"], mailboxes={
        "box": MailboxSettings(kind="maildir", path=str(box), type=ticket_type.name)})
    ids = MessageIds(f"live-secret-{tag}-0123456789", "example.com")
    acks = Acknowledger(SmtpSender(smtp.host, smtp.port, security="none"), settings, ids)
    intake = Intake(SupportDesk(admin), settings, default_type=ticket_type.name, ids=ids,
                    acks=acks)
    first = _mail(tag, 1, f"Laptop {tag}", "It does not boot.")
    (box / "new" / "1.eml").write_bytes(first)
    (opened,) = intake.handle(source, source.fetch())
    assert opened.action == "new-ticket" and opened.ticket_id is not None
    [ack] = smtp.wait_for(1)
    (box / "new" / "2.eml").write_bytes(first)
    (again,) = intake.handle(source, source.fetch())
    assert (again.action, again.ticket_id) == ("duplicate", opened.ticket_id)
    assert len(smtp.messages) == 1
    sent = message_from_bytes(ack.data)
    assert ack.rcpt_tos == [f"{tag}-req@example.com"]
    assert sent["In-Reply-To"] == f"<{tag}-1@example.com>"
    ticket = desk.tickets.get(opened.ticket_id)
    [note] = [m for m in ticket.messages or () if ACKED.search(m.html or "")]
    assert note.private and note.mail_status == "sent" and note.message_id == sent["Message-ID"]
    assert ticket.status.value == "needs-action" and ticket.agent is None


def test_lmtp_delivery_exactly_once(admin: GroupOfficeClient, cleanup: Cleanup, tag: str,
                                    tmp_path: Path) -> None:
    """``go-support lmtp``'s listener on Group-Office: 250 once the ticket is written, the
    same mail delivered again (the MTA's retry) 250 as a duplicate, a reply threaded."""
    from go_support.mail.lmtp import LmtpListener, LmtpWorker
    from tests._support import free_port
    from tests.mail.test_lmtp import deliver

    desk = SupportDesk(admin)
    ticket_type = desk.types.create(f"LMTP {tag}")
    cleanup("TaskList", ticket_type.id)
    settings = MailSettings(addresses=["support@example.com"], state_dir=str(tmp_path))
    intake = Intake(SupportDesk(admin), settings, default_type=ticket_type.name)
    listener = LmtpListener(LmtpWorker(intake, max_bytes=settings.max_bytes),
                            ("127.0.0.1", free_port()))
    first, reply = (  # on the wire, as an MTA sends it: CRLF
        raw.replace(b"\n", b"\r\n") for raw in (
            _mail(tag, 1, f"Monitor {tag}", "It flickers."),
            _mail(tag, 2, f"Re: Monitor {tag}", "Still.", reply_to=f"<{tag}-1@example.com>")))
    listener.start()
    try:
        opened = deliver(listener.address, first)
        again = deliver(listener.address, first)
        followed = deliver(listener.address, reply)
    finally:
        listener.stop()
    assert opened[0][0] == 250 and "new-ticket ticket" in opened[0][1], opened
    ticket = opened[0][1].rsplit(" ", 1)[-1]
    assert again[0] == (250, f"2.0.0 duplicate ticket {ticket}"), again
    assert followed[0] == (250, f"2.0.0 follow-up ticket {ticket}"), followed
    texts = [m.html for m in desk.messages.list(ticket)]
    assert sum(mail_key(first) in t for t in texts) == 1
    assert sum(mail_key(reply) in t for t in texts) == 1
