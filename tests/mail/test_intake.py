"""Every fixture mail ends as a new ticket, a follow-up, a bounce or quarantine with a reason;
and the decisions for the cases the issue names (loops, held auto-replies, foreign tags...)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pytest

from go_support.mail.config import MailboxSettings
from go_support.mail.intake import Decision, decide
from go_support.mail.routing import Router
from go_support.mail.sources import IncomingMail
from go_support.mail.thread_ids import MessageIds
from tests.mail.fixtures import all_mails, read

IDS = MessageIds("0123456789abcdef0123456789abcdef", "desk.example")
ROUTER = Router({
    "support": MailboxSettings(host="imap.desk.example", user="support@desk.example",
                               type="General",
                               addresses={"hardware@desk.example": "Hardware"}),
    "untyped": MailboxSettings(host="imap.desk.example", user="other@desk.example"),
})
KNOWN = {"<1234@local.machine.example>": "10",
         "<200712232303.lBNN3jDq002941@mail12.rrrr.com.au>": "20"}
PEOPLE = {"10": ["jdoe@machine.example"], "11": ["ann@example.org"]}
OWN = ["support@desk.example"]


def known(message_ids: Sequence[str]) -> Mapping[str, str]:
    return {m: KNOWN[m] for m in message_ids if m in KNOWN}


def people(ticket: str) -> Iterable[str] | None:
    return PEOPLE.get(ticket)


def run(raw: bytes | None, *, size: int | None = None, source: str = "support",
        envelope: str | None = None) -> Decision:
    incoming = IncomingMail(source, "1:1", raw, size if size is not None else len(raw or b""),
                            envelope)
    return decide(incoming, router=ROUTER, ids=IDS, known=known, people=people,
                  own_addresses=OWN, max_bytes=100_000)


NEW = ("new-ticket", "General")
OUTCOMES: dict[str, tuple[str, str | None]] = {
    # (action, type for a new ticket / ticket for a follow-up or bounce / code for quarantine)
    "error_emails/bad_encoded_subject.eml": ("quarantine", "no-sender"),
    "sample_output_multipart/sample_output_multipart": ("quarantine", "empty"),
    "rfc2822/example07.eml": ("follow-up", "10"),
    "multipart_report_emails/report_530.eml": ("bounce", "20"),
    # bounces of mails we never sent
    "mime_emails/raw_email_with_mimepart_without_content_type.eml":
        ("quarantine", "unknown-bounce"),
    "multipart_report_emails/multi_address_bounce1.eml": ("quarantine", "unknown-bounce"),
    "multipart_report_emails/multi_address_bounce2.eml": ("quarantine", "unknown-bounce"),
    "multipart_report_emails/multipart_report_multiple_status.eml":
        ("quarantine", "unknown-bounce"),
    "multipart_report_emails/report_422.eml": ("quarantine", "unknown-bounce"),
}
NOT_ACKNOWLEDGED = {"error_emails/bad_date_header.eml"}  # Precedence: junk


@pytest.mark.parametrize("name", all_mails())
def test_every_fixture_ends_as_ticket_follow_up_bounce_or_quarantine(name: str) -> None:
    decision = run(read(name))
    action, detail = OUTCOMES.get(name, NEW)
    assert decision.action == action, decision
    assert decision.reason
    if action == "new-ticket":
        assert decision.type_name == detail
        assert decision.acknowledge == (name not in NOT_ACKNOWLEDGED)
    elif action == "quarantine":
        assert decision.code == detail
    else:
        assert decision.ticket_id == detail and not decision.acknowledge


def test_the_fixture_table_names_only_fixtures() -> None:
    assert set(OUTCOMES) | NOT_ACKNOWLEDGED <= set(all_mails())


def mail(headers: str, body: str = "hello") -> bytes:
    return (headers.strip().replace("\n", "\r\n") + "\r\n\r\n" + body).encode()


def test_the_sentences_the_daemon_logs() -> None:
    new = run(mail("From: ann@example.org\nTo: hardware@desk.example\nSubject: disk"))
    assert str(new) == "new-ticket: new ticket in Hardware: sent to hardware@desk.example"
    assert new.acknowledge and new.mail is not None and new.mail.subject == "disk"
    ours = IDS.new(11, 5)
    reply = run(mail(f"From: ann@example.org\nIn-Reply-To: {ours}\nSubject: Re: disk"))
    assert str(reply) == f"follow-up: a follow-up to ticket 11: replies to our message {ours}"


def test_a_subject_tag_of_someone_else_s_ticket_opens_a_new_one() -> None:
    decision = run(mail("From: mallory@example.net\nSubject: Re: [#11] disk"))
    assert (decision.action, decision.type_name) == ("new-ticket", "General")
    assert decision.reason == ("new ticket in General: the type of mailbox 'support'; the "
                               "subject names ticket 11, but mallory@example.net does not "
                               "belong to it")
    own = run(mail("From: ann@example.org\nSubject: Re: [#11] disk"))
    assert (own.action, own.ticket_id) == ("follow-up", "11")


def test_a_mail_from_our_own_address_is_quarantined_as_a_loop() -> None:
    decision = run(mail("From: Help desk <support@desk.example>\nSubject: Re: [#11] x"))
    assert (decision.action, decision.code) == ("quarantine", "loop")
    assert decision.reason == "a mail loop: sent from our own address support@desk.example"


def test_out_of_office_replies_are_stored_on_their_ticket_or_held_back() -> None:
    ours = IDS.new(11, 5)
    stored = run(mail(f"From: ann@example.org\nIn-Reply-To: {ours}\n"
                      "Subject: Out of office: Re: [#11] disk\nAuto-Submitted: auto-replied"))
    assert (stored.action, stored.ticket_id, stored.acknowledge) == ("follow-up", "11", False)
    assert stored.reason.startswith("an automatic reply to ticket 11")
    held = run(mail("From: bob@example.org\nSubject: Automatic reply: hello"))
    assert (held.action, held.code) == ("quarantine", "held")


def test_a_bounce_of_our_mail_names_the_comment() -> None:
    ours = IDS.new(11, 5)
    report = (
        "From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered Mail Returned to Sender\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"')
    body = ("--B\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            "Final-Recipient: rfc822; ann@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
            f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ours}\r\n"
            "Subject: Re: [#11] disk\r\n\r\n--B--\r\n")
    decision = run(mail(report, body))
    assert (decision.action, decision.ticket_id, decision.comment_id, decision.failed) == (
        "bounce", "11", "5", True)
    assert decision.reason == (f"our mail {ours} to ticket 11 bounced: ann@example.org: "
                               "failed (smtp; 550 5.1.1 user unknown)")


def test_size_and_routing_problems_are_quarantined_with_reasons() -> None:
    big = run(None, size=200_000)
    assert (big.action, big.code) == ("quarantine", "too-large")
    assert big.reason == ("the mail has 200,000 bytes, over the size limit of 100,000 bytes "
                          "(mail.max_size_mb)")
    unrouted = run(mail("From: ann@example.org\nSubject: x"), source="untyped")
    assert (unrouted.action, unrouted.code) == ("quarantine", "unrouted")
    garbage = run(b"\x00\x01\x02 not a mail at all \xff\xfe")
    assert (garbage.action, garbage.code) == ("quarantine", "not-a-mail")
