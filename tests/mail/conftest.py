"""Fixtures of the mail tests: a Dovecot for the session, a fresh IMAP user per test, and an
SMTP sink (the services are in ``tests/mail/services.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mail.services import Account, Dovecot, SmtpSink, dovecot, smtp_sink


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    with dovecot() as server:
        yield server


@pytest.fixture
def imap_account(dovecot_server: Dovecot) -> Account:
    """A new IMAP user with an empty INBOX on the session's Dovecot."""
    return dovecot_server.add_user()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink
