"""The JMAP mail source against a real Cyrus IMAP serving JMAP (tests/mail/cyrus.py), and the
daemon importing from it into the emulator exactly once, killed in the middle too."""

from __future__ import annotations

import logging
import signal
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from go_support.mail import jmapsource
from go_support.mail.config import MailboxSettings
from go_support.mail.jmapsource import JmapMailSource
from go_support.mail.sources import SourceError
from tests._support import free_port
from tests.mail.cyrus import Cyrus, cyrus
from tests.mail.services import Account
from tests.mail.test_pipeline import (
    Server,
    a_mail,
    assert_exactly_once,
    daemon,
    settings_file,
)


@pytest.fixture(scope="module")
def cyrus_server() -> Iterator[Cyrus]:
    with cyrus() as running:
        yield running


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Server]:
    """The emulator over HTTP, with the layout and the ticket type "IT"."""
    running = Server(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def account(cyrus_server: Cyrus) -> Account:
    """A new user with an empty INBOX on the module's Cyrus."""
    return cyrus_server.add_user()


def mail_bytes(n: int, size: int = 0) -> bytes:
    return (f"From: ann@example.org\r\nTo: support@desk.example\r\nSubject: mail {n}\r\n"
            f"Message-ID: <m{n}@example.org>\r\n\r\nbody {n}\r\n" + "x" * size).encode()


def settings(server: Cyrus, account: Account, **values: Any) -> MailboxSettings:
    base: dict[str, Any] = {"kind": "jmap", "url": server.url, "user": account.user,
                            "ca_bundle": str(server.ca_file), "timeout": 10.0}
    return MailboxSettings.model_validate(base | values)


def source(server: Cyrus, account: Account, max_bytes: int = 10_000,
           **values: Any) -> JmapMailSource:
    return JmapMailSource("support", settings(server, account, **values), account.password,
                          max_bytes=max_bytes)


def test_a_mail_leaves_the_inbox_only_when_told_it_is_stored(cyrus_server: Cyrus,
                                                             account: Account) -> None:
    raws = [mail_bytes(n) for n in range(3)]
    cyrus_server.append(account, *raws)
    jmap = source(cyrus_server, account)
    first = jmap.fetch()
    # the bytes as delivered, oldest first (receivedAt counts seconds: the order within one
    # second is the server's)
    assert sorted(m.raw or b"" for m in first) == raws
    assert all(m.size == len(m.raw or b"") and m.received_at for m in first)
    assert [m.key for m in jmap.fetch()] == [m.key for m in first]  # fetching changes nothing
    assert cyrus_server.count(account, "INBOX") == 3
    jmap.done(*first[:2])
    assert cyrus_server.count(account, "INBOX") == 1
    assert cyrus_server.count(account, "Processed") == 2
    assert [m.raw for m in jmap.fetch()] == [first[2].raw]
    jmap.close()
    # another session (another daemon) sees the same
    assert [m.key for m in source(cyrus_server, account).fetch()] == [first[2].key]


def test_flag_instead_of_move_and_a_nested_processed_mailbox(cyrus_server: Cyrus,
                                                            account: Account) -> None:
    cyrus_server.append(account, mail_bytes(1), mail_bytes(2))
    flagging = source(cyrus_server, account, processed_flag="$GoSupportDone")
    one, two = flagging.fetch()
    flagging.done(one)
    assert [m.key for m in flagging.fetch()] == [two.key]
    flagged = [any(k.lower() == b"$gosupportdone" for k in flags)
               for flags in cyrus_server.keywords(account)]
    assert sorted(flagged) == [False, True]
    moving = source(cyrus_server, account, processed_folder="Archive/Support")
    moving.done(two)
    assert cyrus_server.count(account, "Archive/Support") == 1
    assert cyrus_server.count(account, "INBOX") == 1  # the flagged one stays


def test_oversize_mail_is_not_downloaded_and_goes_to_quarantine(cyrus_server: Cyrus,
                                                                account: Account) -> None:
    cyrus_server.append(account, mail_bytes(1), mail_bytes(2, size=5000))
    jmap = source(cyrus_server, account, max_bytes=1000)
    small, large = jmap.fetch()
    assert small.raw == mail_bytes(1)
    assert large.raw is None and large.size == len(mail_bytes(2, size=5000))
    jmap.quarantine(large)
    assert cyrus_server.count(account, "Quarantine") == 1
    assert [m.key for m in jmap.fetch()] == [small.key]


def test_more_mail_than_one_page_and_a_limit(cyrus_server: Cyrus, account: Account,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jmapsource, "_PAGE", 16)  # 40 mails: three Email/query pages
    monkeypatch.setattr(jmapsource, "_SET_CHUNK", 16)
    raws = [mail_bytes(n) for n in range(40)]
    cyrus_server.append(account, *raws)
    jmap = source(cyrus_server, account)
    some = jmap.fetch(20)
    assert len(some) == 20 and {m.raw for m in some} <= set(raws)
    everything = jmap.fetch()
    assert sorted(m.raw or b"" for m in everything) == sorted(raws)
    assert len({m.key for m in everything}) == 40
    jmap.done(*everything)
    assert cyrus_server.count(account, "INBOX") == 0
    assert cyrus_server.count(account, "Processed") == 40


def test_a_mail_taken_meanwhile(cyrus_server: Cyrus, account: Account,
                                caplog: pytest.LogCaptureFixture) -> None:
    """Two daemons: what one took the other neither fails on nor moves back; a mail deleted
    meanwhile is logged and passed over."""
    cyrus_server.append(account, mail_bytes(1), mail_bytes(2))
    one, two = source(cyrus_server, account), source(cyrus_server, account)
    first, second = one.fetch()
    assert [m.key for m in two.fetch()] == [first.key, second.key]
    two.done(first)
    one.done(first)
    assert cyrus_server.count(account, "Processed") == 1
    with cyrus_server.imap(account) as client:  # a person deletes the other mail
        client.select_folder("INBOX")
        client.delete_messages(client.search())
        client.expunge()
    with caplog.at_level(logging.INFO, "go_support.mail"):
        one.done(second)
    assert "already taken" in caplog.text
    assert one.fetch() == []


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_is_verified_by_default(cyrus_server: Cyrus, account: Account,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's self-signed certificate is refused unless it is the configured CA; the
    configured CA wins over ``REQUESTS_CA_BUNDLE`` in the environment."""
    import certifi

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    cyrus_server.append(account, mail_bytes(1))
    untrusted = source(cyrus_server, account, ca_bundle=None)
    with pytest.raises(SourceError) as caught:
        untrusted.fetch()
    assert not caught.value.temporary and "ca_bundle" in str(caught.value)
    assert len(source(cyrus_server, account).fetch()) == 1
    assert len(source(cyrus_server, account, ca_bundle=None, verify_tls=False).fetch()) == 1


def test_a_refused_login_names_the_user_never_the_password(cyrus_server: Cyrus,
                                                            account: Account) -> None:
    jmap = JmapMailSource("support", settings(cyrus_server, account), "wrong-secret-123")
    with pytest.raises(SourceError) as caught:
        jmap.fetch()
    text = str(caught.value)
    assert not caught.value.temporary
    assert "refused the login" in text and account.user in text
    assert "wrong-secret-123" not in text


def test_an_unreachable_server_is_temporary(cyrus_server: Cyrus, account: Account) -> None:
    jmap = source(cyrus_server, account, url=f"https://127.0.0.1:{free_port()}")
    with pytest.raises(SourceError) as caught:
        jmap.fetch()
    assert caught.value.temporary


def test_a_missing_inbox_folder_is_named(cyrus_server: Cyrus, account: Account) -> None:
    with pytest.raises(SourceError, match="no mailbox 'Support/Inbox'"):
        source(cyrus_server, account, folder="Support/Inbox").fetch()


@pytest.mark.parametrize(("values", "error"), [
    ({}, "needs url and user"),
    ({"url": "http://mail.example.com", "user": "u"}, "must be https://"),
    ({"url": "https://mail.example.com/jmap/", "user": "u"}, "must be https://"),
    ({"url": "https://mail.example.com:x", "user": "u"}, "port that is not a number"),
    ({"url": "https://mail.example.com", "user": "u", "host": "h"}, "takes url, not host"),
])
def test_settings_of_a_jmap_mailbox(values: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        MailboxSettings.model_validate({"kind": "jmap", **values})
    with pytest.raises(ValueError, match="url is for kind"):
        MailboxSettings.model_validate({"host": "h", "user": "u",
                                        "url": "https://mail.example.com"})
    good = MailboxSettings.model_validate({"kind": "jmap", "user": "u",
                                           "url": "https://mail.example.com:8443"})
    assert good.jmap_host == "mail.example.com:8443"


# --- the daemon --------------------------------------------------------------------------


def jmap_box(server: Cyrus, account: Account) -> str:
    return f"""[mail.mailboxes.box]
kind = "jmap"
url = "{server.url}"
ca_bundle = "{server.ca_file}"
user = "{account.user}"
password_env = "BOX_PASSWORD"
type = "IT"
poll_seconds = 0.5
"""


def log_of(process: subprocess.Popen[bytes]) -> str:
    return (process.stderr.read() if process.stderr else b"").decode()[-2000:]


def a_bounce_of_nothing() -> bytes:
    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@example.com"
    bounce["To"] = "support@example.com"
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Auto-Submitted"] = "auto-replied"
    bounce.set_content("could not deliver")
    return bounce.as_bytes()


def test_the_daemon_imports_from_jmap_exactly_once(emulator: Server, tmp_path: Path,
                                                   cyrus_server: Cyrus,
                                                   account: Account) -> None:
    """New requests, follow-ups and a bounce of nothing through ``go-support daemon --once``:
    tickets, the mails moved; the same mails delivered again import nothing twice."""
    config = settings_file(tmp_path, emulator, jmap_box(cyrus_server, account))
    raws = [a_mail(n) for n in range(10)] + [
        a_mail(100 + n, f"Re: Request {n}", reply_to=f"<mail-{n}@example.com>")
        for n in range(5)]
    cyrus_server.append(account, *raws, a_bounce_of_nothing())
    run = daemon(config, emulator, "--once", password=account.password)
    assert run.wait(120) == 0, log_of(run)
    assert_exactly_once(emulator, raws)
    assert cyrus_server.count(account, "INBOX") == 0
    assert cyrus_server.count(account, "Processed") == 15
    assert cyrus_server.count(account, "Quarantine") == 1
    cyrus_server.append(account, *raws[:3])  # delivered again
    again = daemon(config, emulator, "--once", password=account.password)
    assert again.wait(120) == 0, log_of(again)
    assert_exactly_once(emulator, raws)
    assert cyrus_server.count(account, "INBOX") == 0


@pytest.mark.parametrize("step", [4, 5])
def test_killed_after_a_step(emulator: Server, tmp_path: Path, cyrus_server: Cyrus,
                             account: Account, step: int) -> None:
    """Killed after the tickets or the follow-ups, before the move: the next run completes, and
    nothing is lost or doubled."""
    config = settings_file(tmp_path, emulator, jmap_box(cyrus_server, account))
    raws = [a_mail(n) for n in range(8)] + [
        a_mail(200 + n, f"Re: Request {n}", reply_to=f"<mail-{n}@example.com>")
        for n in range(4)]
    cyrus_server.append(account, *raws[:4])
    first = daemon(config, emulator, "--once", password=account.password)
    assert first.wait(120) == 0, log_of(first)
    cyrus_server.append(account, *raws[4:])
    killed = daemon(config, emulator, "--once", stop_after=step, password=account.password)
    assert killed.wait(120) == -signal.SIGKILL, log_of(killed)
    done = daemon(config, emulator, "--once", password=account.password)
    assert done.wait(120) == 0, log_of(done)
    assert cyrus_server.count(account, "INBOX") == 0
    assert_exactly_once(emulator, raws)


def test_two_daemons_on_one_jmap_mailbox(emulator: Server, tmp_path: Path,
                                         cyrus_server: Cyrus, account: Account) -> None:
    """Two daemons (two hosts) reading the same mailbox at once import each mail once."""
    config = settings_file(tmp_path, emulator, jmap_box(cyrus_server, account))
    raws = [a_mail(n) for n in range(60)]
    cyrus_server.append(account, *raws)
    both = [daemon(config, emulator, "--once", password=account.password) for _ in range(2)]
    for process in both:
        assert process.wait(180) == 0, log_of(process)
    assert cyrus_server.count(account, "INBOX") == 0
    assert cyrus_server.count(account, "Processed") == 60
    assert_exactly_once(emulator, raws)
