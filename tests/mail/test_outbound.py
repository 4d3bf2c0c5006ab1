"""Outbound: the mail for a comment, sent through a real SMTP sink and read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from go_support.mail.config import PasswordMissing, SmtpSettings
from go_support.mail.loops import classify
from go_support.mail.outbound import OutgoingAttachment, SendFailed, SmtpSender, compose
from go_support.mail.parse import ParsedMail, parse_mail
from go_support.mail.thread_ids import MessageIds, TicketRef, match_thread
from tests._support import free_port
from tests.mail.services import SmtpSink

IDS = MessageIds("0123456789abcdef0123456789abcdef", "desk.example")
DESK = ("support@desk.example", "Help desk")


def answer(**values: object) -> object:
    base: dict[str, object] = dict(
        ids=IDS, ticket_id=12, comment_id=34, sender=DESK, to=[("ann@example.org", "Ann")],
        subject="Printer broken", html="<p>Hello Ann,</p><p>try <b>this</b>.</p>",
        in_reply_to="<m2@example.org>", references=["<m1@example.org>"],
        date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    return compose(**(base | values))  # type: ignore[arg-type]


def test_an_answer_threads_in_the_requester_s_client_and_back_to_us(smtp: SmtpSink) -> None:
    message = answer(attachments=[OutgoingAttachment("log.txt", b"line 1\n")])
    sender = SmtpSender(smtp.host, smtp.port, security="none", timeout=10)
    message_id = sender.send(message)
    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ["ann@example.org"]
    assert received.mail_from == "support@desk.example"
    mail = parse_mail(received.data)
    assert isinstance(mail, ParsedMail)
    assert mail.message_id == message_id and IDS.verify(message_id) == TicketRef("12", "34")
    assert mail.subject == "Re: [#12] Printer broken"
    assert mail.in_reply_to == ("<m2@example.org>",)
    assert mail.references == ("<m1@example.org>", "<m2@example.org>")
    assert mail.html == "<p>Hello Ann,</p><p>try <b>this</b>.</p>"
    assert mail.text == "Hello Ann,\n\ntry this."
    assert [(a.filename, a.data) for a in mail.attachments] == [("log.txt", b"line 1\n")]
    assert mail.headers("X-Loop") == ["support@desk.example"]
    assert mail.headers("Auto-Submitted") == []
    # the requester's reply finds the ticket by our signed Message-ID
    reply = parse_mail(f"From: ann@example.org\r\nIn-Reply-To: {message_id}\r\n"
                       "Subject: Re: [#12] Printer broken\r\n\r\nthanks".encode())
    assert isinstance(reply, ParsedMail)
    found = match_thread(reply, ids=IDS, known=lambda ids: {}, people=lambda t: None)
    assert (found.ticket_id, found.how, found.comment_id) == ("12", "signed-id", "34")
    # and our own mail, if it ever came back, is a loop
    assert classify(mail, own_addresses=[DESK[0]]).kind == "loop"


def test_acknowledgements_are_marked_automatic() -> None:
    message = answer(automatic=True, in_reply_to=None, references=[], comment_id=None)
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["In-Reply-To"] is None and message["References"] is None
    assert IDS.verify(str(message["Message-ID"])) == TicketRef("12", None)


def test_long_threads_keep_the_root_and_the_newest_references() -> None:
    refs = [f"<r{n}@example.org>" for n in range(30)]
    message = answer(references=refs, in_reply_to="<r29@example.org>")
    kept = str(message["References"]).split()
    assert len(kept) == 10 and kept[0] == "<r0@example.org>" and kept[-1] == "<r29@example.org>"


def test_a_refused_recipient_is_a_permanent_failure_with_the_smtp_text(smtp: SmtpSink) -> None:
    smtp.refuse.add("ann@example.org")
    with pytest.raises(SendFailed) as failed:
        SmtpSender(smtp.host, smtp.port, security="none", timeout=10).send(answer())
    assert failed.value.permanent and failed.value.code == 550
    assert str(failed.value) == (
        f"SMTP 127.0.0.1:{smtp.port}: recipient refused: 550 5.1.1 <ann@example.org>: "
        "Recipient address rejected: User unknown (ann@example.org)")
    assert smtp.messages == []


def test_an_unreachable_server_is_temporary() -> None:
    with pytest.raises(SendFailed, match="cannot connect") as failed:
        SmtpSender("127.0.0.1", free_port(), security="none", timeout=5).send(answer())
    assert not failed.value.permanent and failed.value.code is None


def test_starttls_is_required_by_default(smtp: SmtpSink) -> None:
    sender = SmtpSender(smtp.host, smtp.port, user="desk", password="s3cret-pw", timeout=10)
    with pytest.raises(SendFailed) as failed:
        sender.send(answer())  # the sink offers no STARTTLS: nothing goes out in clear
    assert "STARTTLS" in str(failed.value) and "s3cret-pw" not in str(failed.value)
    assert smtp.messages == []


def test_the_sender_from_the_settings(smtp: SmtpSink) -> None:
    settings = SmtpSettings(host=smtp.host, port=smtp.port, security="none")
    SmtpSender.from_settings(settings, env={}).send(answer())
    assert len(smtp.wait_for(1)) == 1
    with pytest.raises(PasswordMissing, match="GO_SUPPORT_SMTP_PASSWORD"):
        SmtpSender.from_settings(SmtpSettings(user="desk"), env={})
    assert SmtpSettings(security="tls").effective_port == 465
