"""The test services themselves: a missing Dovecot fails the tests, the SMTP sink refuses."""

from __future__ import annotations

import smtplib

import pytest

from tests.mail import services
from tests.mail.services import SmtpSink


def test_a_missing_dovecot_fails_never_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "DOVECOT", "/nonexistent/dovecot")
    with pytest.raises(pytest.fail.Exception, match=r"scripts/system-packages\.sh"), \
            services.dovecot():
        pass


def test_the_smtp_sink_keeps_mail_and_refuses_what_it_is_told(smtp: SmtpSink) -> None:
    smtp.refuse.add("gone@example.org")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        refused = client.sendmail("support@desk.example", ["ann@example.org", "gone@example.org"],
                                  b"Subject: hi\r\n\r\nhello\r\n")
        assert refused == {"gone@example.org": (
            550, b"5.1.1 <gone@example.org>: Recipient address rejected: User unknown")}
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("support@desk.example", ["gone@example.org"], b"Subject: x\r\n\r\n")
    [message] = smtp.wait_for(1)
    assert (message.mail_from, message.rcpt_tos) == ("support@desk.example", ["ann@example.org"])
    assert message.data == b"Subject: hi\r\n\r\nhello\r\n"
