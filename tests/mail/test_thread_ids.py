"""Threading: signed Message-IDs, and the order in which a mail finds its ticket."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from go_support.mail.parse import ParsedMail, parse_mail
from go_support.mail.thread_ids import (
    SECRET_ENV,
    MessageIds,
    SecretMissing,
    TicketRef,
    closed_ticket_action,
    match_thread,
    subject_tags,
    tag_subject,
)

SECRET = "0123456789abcdef0123456789abcdef"
IDS = MessageIds(SECRET, "desk.example")


def test_a_signed_id_names_its_ticket_and_comment() -> None:
    message_id = IDS.new(42, 7, nonce="abcd1234")
    assert message_id.startswith("<gs.42.7.abcd1234.") and message_id.endswith("@desk.example>")
    assert IDS.verify(message_id) == TicketRef("42", "7")
    assert IDS.verify(IDS.new("42")) == TicketRef("42", None)
    assert IDS.new(1) != IDS.new(1)  # a fresh nonce each time


def test_forged_or_foreign_ids_are_refused() -> None:
    good = IDS.new(42, 7, nonce="abcd1234")
    assert IDS.verify(good.replace("gs.42.", "gs.43.")) is None  # another ticket, same sig
    assert MessageIds("another-secret-of-enough-bytes", "desk.example").verify(good) is None
    assert IDS.verify("<1234@local.machine.example>") is None
    assert IDS.verify("") is None
    # the domain is not signed: a renamed host keeps its threads
    assert IDS.verify(good.replace("@desk.example", "@helpdesk.example")) == TicketRef("42", "7")


def test_bad_secrets_domains_and_ids() -> None:
    with pytest.raises(SecretMissing, match="at least 16 bytes"):
        MessageIds("short", "desk.example")
    with pytest.raises(SecretMissing, match=SECRET_ENV):
        MessageIds.from_env("desk.example", env={})
    assert MessageIds.from_env("desk.example", env={SECRET_ENV: SECRET}).verify(
        IDS.new(5)) == TicketRef("5")
    with pytest.raises(ValueError, match="host name"):
        MessageIds(SECRET, "not a host")
    with pytest.raises(ValueError, match="ticket id"):
        IDS.new("4.2")
    assert SECRET not in repr(IDS)


def mail(headers: str) -> ParsedMail:
    result = parse_mail((headers.strip().replace("\n", "\r\n") + "\r\n\r\nbody").encode())
    assert isinstance(result, ParsedMail)
    return result


class Desk:
    """What the caller knows: Message-IDs of stored mails, and each ticket's people."""

    def __init__(self) -> None:
        self.ids = {"<first@customer.example>": "10", "<second@customer.example>": "11"}
        self.tickets = {"10": ["ann@example.org"], "11": ["bob@example.org", "agent@desk.example"]}
        self.lookups: list[list[str]] = []

    def known(self, message_ids: Sequence[str]) -> Mapping[str, str]:
        self.lookups.append(list(message_ids))
        return {m: self.ids[m] for m in message_ids if m in self.ids}

    def people(self, ticket: str) -> Iterable[str] | None:
        return self.tickets.get(ticket)


def match(headers: str, desk: Desk | None = None):
    desk = desk or Desk()
    return match_thread(mail(headers), ids=IDS, known=desk.known, people=desk.people)


def test_in_reply_to_with_our_signed_id_comes_first() -> None:
    ours = IDS.new(99, 3)
    desk = Desk()
    found = match(f"From: stranger@example.net\nSubject: [#10] hi\n"
                  f"In-Reply-To: <first@customer.example>\nReferences: {ours}", desk)
    assert (found.ticket_id, found.how, found.comment_id) == ("99", "signed-id", "3")
    assert desk.lookups == []  # no lookup needed


def test_known_ids_then_the_newest_reference_first() -> None:
    desk = Desk()
    found = match("From: x@example.net\nSubject: Re: hi\n"
                  "References: <first@customer.example> <second@customer.example>", desk)
    assert (found.ticket_id, found.how) == ("11", "known-id")
    assert desk.lookups == [["<second@customer.example>", "<first@customer.example>"]]
    replied = match("From: x@example.net\nIn-Reply-To: <first@customer.example>\n"
                    "References: <second@customer.example>")
    assert replied.ticket_id == "10"  # In-Reply-To before References


def test_a_subject_tag_counts_only_for_the_ticket_s_people() -> None:
    found = match("From: Bob <BOB@example.org>\nSubject: Re: [#11] printer")
    assert (found.ticket_id, found.how) == ("11", "subject-tag")
    someone_else = match("From: mallory@example.net\nSubject: Re: [#11] printer")
    assert (someone_else.ticket_id, someone_else.how) == (None, "new")
    assert someone_else.reason == (
        "the subject names ticket 11, but mallory@example.net does not belong to it")
    missing = match("From: bob@example.org\nSubject: [#404] [#11] hello")
    assert missing.ticket_id == "11"
    nothing = match("From: bob@example.org\nSubject: hello")
    assert (nothing.ticket_id, nothing.reason) == (None, "no reference to a known ticket")


def test_a_forged_signed_reference_falls_through() -> None:
    forged = IDS.new(99, 3).replace("gs.99.", "gs.10.")
    found = match(f"From: mallory@example.net\nIn-Reply-To: {forged}")
    assert (found.ticket_id, found.how) == (None, "new")


def test_subject_tags() -> None:
    assert subject_tags("Re: [#12] AW: [#12] [#x-3] [#]") == ["12", "x-3"]
    assert tag_subject("Printer  broken", 12) == "[#12] Printer broken"
    assert tag_subject("Re: [#12] Printer", "12") == "Re: [#12] Printer"


def test_closed_tickets_reopen_within_the_window() -> None:
    closed = datetime(2026, 1, 1, tzinfo=UTC)
    assert closed_ticket_action(closed, closed + timedelta(days=14), 14) == "reopen"
    assert closed_ticket_action(closed, closed + timedelta(days=14, seconds=1), 14) == "new"
    assert closed_ticket_action(closed, closed + timedelta(seconds=1), 0) == "new"
    with pytest.raises(ValueError, match="reopen_days"):
        closed_ticket_action(closed, closed, -1)
