"""Loop protection: automatic mail, out-of-office replies, bounces, our own mail, the cap."""

from __future__ import annotations

import pytest

from go_support.mail.loops import HourlyCap, automatic_headers, classify, find_bounce
from go_support.mail.parse import ParsedMail, parse_mail
from tests.mail.fixtures import read

OWN = ("support@desk.example", "Hardware@Desk.Example")


def mail(headers: str, body: str = "Hello") -> ParsedMail:
    raw = (headers.strip().replace("\n", "\r\n") + "\r\n\r\n" + body).encode()
    result = parse_mail(raw)
    assert isinstance(result, ParsedMail), result
    return result


def fixture(name: str) -> ParsedMail:
    result = parse_mail(read(name))
    assert isinstance(result, ParsedMail)
    return result


def test_a_person_may_get_an_answer() -> None:
    verdict = classify(mail("From: Ann <ann@example.org>\nSubject: printer"), own_addresses=OWN)
    assert verdict.kind == "human" and verdict.reasons == ()
    assert verdict.may_open_ticket and verdict.may_answer


@pytest.mark.parametrize(("header", "reason"), [
    ("Auto-Submitted: auto-generated", "Auto-Submitted: auto-generated"),
    ("Auto-Submitted: auto-notified; owner-email=x@y.z", "Auto-Submitted: auto-notified"),
    ("Precedence: bulk", "Precedence: bulk"),
    ("Precedence: junk", "Precedence: junk"),
    ("Precedence: list", "Precedence: list"),
    ("List-Id: <users.lists.example.org>", "List-Id: <users.lists.example.org>"),
    ("X-Auto-Response-Suppress: All", "X-Auto-Response-Suppress: All"),
    ("X-Loop: helpdesk@elsewhere.example", "X-Loop: helpdesk@elsewhere.example"),
])
def test_automatic_mail_opens_tickets_but_is_never_answered(header: str, reason: str) -> None:
    verdict = classify(mail(f"From: robot@example.org\nSubject: alert\n{header}"),
                       own_addresses=OWN)
    assert verdict.kind == "automated"
    assert reason in verdict.reasons
    assert verdict.may_open_ticket and not verdict.may_answer


def test_auto_submitted_no_is_a_person() -> None:
    assert classify(mail("From: a@example.org\nAuto-Submitted: no")).kind == "human"
    assert classify(mail("From: a@example.org\nX-Auto-Response-Suppress: None")).kind == "human"


@pytest.mark.parametrize("headers", [
    "Auto-Submitted: auto-replied\nSubject: Re: your ticket",
    "X-Autoreply: yes\nSubject: Re: your ticket",
    "X-Autorespond: on\nSubject: thanks",
    "Precedence: auto_reply\nSubject: thanks",
    "Subject: Out of Office: printer broken",
    "Subject: Automatic reply: [#12] printer",
    "Subject: Abwesenheitsnotiz: Drucker",
    "Subject: =?utf-8?Q?R=C3=A9ponse_automatique=C2=A0:_imprimante?=",
    "Subject: Autosvar: skrivare",
])
def test_out_of_office_replies_are_stored_never_answered_never_open(headers: str) -> None:
    verdict = classify(mail(f"From: bob@example.org\n{headers}"), own_addresses=OWN)
    assert verdict.kind == "auto-reply", verdict
    assert not verdict.may_open_ticket and not verdict.may_answer


def test_a_subject_merely_mentioning_an_absence_is_a_person() -> None:
    verdict = classify(mail("From: bob@example.org\nSubject: my out of office is broken"))
    assert verdict.kind == "human"


def test_our_own_address_is_a_loop() -> None:
    own = classify(mail("From: Help desk <HARDWARE@desk.example>\nSubject: x"),
                   own_addresses=OWN)
    assert own.kind == "loop" and not own.may_open_ticket
    assert own.reasons == ("sent from our own address HARDWARE@desk.example",)
    looped = classify(mail("From: a@example.org\nX-Loop: support@desk.example"),
                      own_addresses=OWN)
    assert looped.kind == "loop"
    assert looped.reasons == ("X-Loop names our address (support@desk.example)",)


def test_rfc3464_reports_name_the_bounced_message_and_the_reason() -> None:
    verdict = classify(fixture("multipart_report_emails/report_530.eml"))
    assert verdict.kind == "bounce" and not verdict.may_open_ticket and not verdict.may_answer
    bounce = verdict.bounce
    assert bounce is not None and bounce.failed
    assert bounce.message_id == "<200712232303.lBNN3jDq002941@mail12.rrrr.com.au>"
    [recipient] = bounce.recipients
    assert (recipient.address, recipient.action, recipient.status) == (
        "edwin@zzzzzzz.com", "failed", "5.3.0")
    assert bounce.reason == (
        "edwin@zzzzzzz.com: failed (SMTP; 553 5.3.0 <edwin@zzzzzzz.com>... "
        "Unknown E-Mail Address)")


def test_a_report_with_several_recipients_and_parts() -> None:
    bounce = find_bounce(fixture("multipart_report_emails/multi_address_bounce1.eml"))
    assert bounce is not None and bounce.failed
    assert bounce.message_id == "<118707422.15521266992174819.JavaMail.root@lvmail01>"
    assert len(bounce.recipients) == 5
    assert {r.status for r in bounce.recipients} == {"5.1.1"}
    several = find_bounce(fixture("multipart_report_emails/multipart_report_multiple_status.eml"))
    assert several is not None
    assert several.message_id == "<4c2a146147ac8_61ff157c4ec1652df@s.h.c.mail>"
    assert [(r.address, r.status) for r in several.recipients] == [("u@ci.com", "5.3.0")]


def test_a_delay_warning_is_a_bounce_that_did_not_fail() -> None:
    bounce = find_bounce(fixture("multipart_report_emails/report_422.eml"))
    assert bounce is not None and not bounce.failed
    assert bounce.recipients[0].action == "delayed"
    assert bounce.message_id == (
        "<15655788.13.1200472642578.JavaMail.Administrator@mail.ttttt.com.au>")


def test_a_daemon_bounce_without_a_report() -> None:
    verdict = classify(mail(
        "From: MAILER-DAEMON@mx.example.org\nSubject: failure notice",
        "Sorry, we were unable to deliver your message.\r\n\r\n--- Below this line is a copy"
        "\r\n\r\nMessage-ID: <gs.12.34.x@desk.example>\r\nSubject: Re: [#12]\r\n"))
    assert verdict.kind == "bounce" and verdict.bounce is not None
    assert verdict.bounce.message_id == "<gs.12.34.x@desk.example>"
    assert verdict.bounce.failed and verdict.bounce.reason == "failure notice"


def test_anything_from_postmaster_never_opens_a_ticket() -> None:
    verdict = classify(mail("From: Postmaster <postmaster@example.org>\nSubject: hello"))
    assert verdict.kind == "bounce" and not verdict.may_open_ticket
    assert verdict.bounce is not None and verdict.bounce.message_id is None
    assert verdict.reasons == ("sent by postmaster@example.org",)


def test_our_automatic_mail_is_recognisable_by_others_and_by_us() -> None:
    headers = automatic_headers("support@desk.example")
    assert headers == {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All",
                       "X-Loop": "support@desk.example"}
    echoed = mail("From: a@example.org\n" + "\n".join(f"{k}: {v}" for k, v in headers.items()))
    assert classify(echoed, own_addresses=OWN).kind == "loop"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_hourly_cap_slides() -> None:
    clock = Clock()
    cap = HourlyCap(2, clock=clock)
    assert cap.allow("ann@example.org") and cap.allow("ANN@example.org")
    assert not cap.allow("ann@example.org")
    assert cap.remaining("ann@example.org") == 0
    assert cap.allow("bob@example.org")  # per recipient
    clock.now += 1800
    assert not cap.allow("ann@example.org")
    clock.now += 1800  # an hour after the first two
    assert cap.remaining("ann@example.org") == 2
    assert cap.allow("ann@example.org")
    assert cap.remaining("ann@example.org") == 1


def test_a_cap_of_zero_sends_nothing_and_bad_caps_are_refused() -> None:
    assert not HourlyCap(0, clock=Clock()).allow("a@example.org")
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="per_hour"):
            HourlyCap(bad)  # type: ignore[arg-type]
