"""Mail sources against a real Dovecot (IMAP, IDLE, TLS), a real Maildir, and stdin."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imapclient
import pytest

from go_support.mail.config import MailboxSettings
from go_support.mail.imap import ImapSource
from go_support.mail.sources import MaildirSource, SourceError, StdinSource
from tests.mail.services import Account, Dovecot, dovecot


def mail_bytes(n: int, size: int = 0) -> bytes:
    return (f"From: ann@example.org\r\nTo: support@desk.example\r\nSubject: mail {n}\r\n"
            f"Message-ID: <m{n}@example.org>\r\n\r\nbody {n}\r\n" + "x" * size).encode()


def settings(server: Dovecot, account: Account, **values: Any) -> MailboxSettings:
    base: dict[str, Any] = {"host": "127.0.0.1", "port": server.port, "security": "starttls",
                            "ca_bundle": str(server.ca_file), "user": account.user,
                            "timeout": 10.0}
    return MailboxSettings.model_validate(base | values)


def source(server: Dovecot, account: Account, **values: Any) -> ImapSource:
    return ImapSource("support", settings(server, account, **values), account.password,
                      max_bytes=values.pop("max_bytes", 10_000) if "max_bytes" in values
                      else 10_000)


class Peer:
    """Another IMAP client of the same account: what an MTA or another person does."""

    def __init__(self, server: Dovecot, account: Account) -> None:
        self.client = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
        self.client.login(account.user, account.password)

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        self.client.append(folder, raw)

    def count(self, folder: str) -> int:
        return int(self.client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"])

    def flags(self, folder: str = "INBOX") -> list[tuple[bytes, ...]]:
        self.client.select_folder(folder, readonly=True)
        uids = self.client.search()
        flags = [data[b"FLAGS"] for data in self.client.fetch(uids, ["FLAGS"]).values()]
        self.client.unselect_folder()  # STATUS of a selected folder shows the session's view
        return flags


@pytest.fixture
def peer(dovecot_server: Dovecot, imap_account: Account) -> Iterator[Peer]:
    other = Peer(dovecot_server, imap_account)
    yield other
    other.client.logout()


def test_a_mail_leaves_the_inbox_only_when_told_it_is_stored(
        dovecot_server: Dovecot, imap_account: Account, peer: Peer) -> None:
    peer.append(mail_bytes(1))
    peer.append(mail_bytes(2))
    imap = source(dovecot_server, imap_account)
    try:
        first = imap.fetch()
        assert [m.raw for m in first] == [mail_bytes(1), mail_bytes(2)]
        # fetching set no \Seen, only this daemon's claim (go_support.mail.claims)
        assert [set(f) - {b"GoSupportClaimed"} for f in peer.flags()] == [
            {b"GoSupportBy_" + imap._claims.name.encode()} for _ in range(2)]  # type: ignore[union-attr]
        imap.close()  # a crash before Group-Office held them: nothing moved
        again = imap.fetch()
        assert [m.key for m in again] == [m.key for m in first]
        imap.done(again[0])
        assert [m.raw for m in imap.fetch()] == [mail_bytes(2)]
        assert (peer.count("INBOX"), peer.count("Processed")) == (1, 1)
        assert [set(f) - {b"\\Recent"} for f in peer.flags("Processed")] == [set()]  # unclaimed
        imap.quarantine(again[1])
        assert imap.fetch() == []
        assert (peer.count("INBOX"), peer.count("Quarantine")) == (0, 1)
    finally:
        imap.close()


def test_idle_sees_an_appended_mail_at_once(
        dovecot_server: Dovecot, imap_account: Account, peer: Peer) -> None:
    imap = source(dovecot_server, imap_account)
    try:
        assert imap.fetch() == [] and imap.uses_idle
        timer = threading.Timer(0.3, peer.append, [mail_bytes(3)])
        start = time.monotonic()
        timer.start()
        assert imap.wait(timeout=10) is True
        took = time.monotonic() - start
        timer.join()
        assert took < 3, f"IDLE reported the mail after {took:.2f} s"
        [mail] = imap.fetch()
        assert mail.raw == mail_bytes(3)
        imap.done(mail)
        assert peer.count("Processed") == 1
        # nothing new: IDLE returns when the timeout is over
        start = time.monotonic()
        assert imap.wait(timeout=0.5) is False
        assert 0.4 < time.monotonic() - start < 5
    finally:
        imap.close()


def test_polling_when_idle_is_off(dovecot_server: Dovecot, imap_account: Account,
                                  peer: Peer) -> None:
    slept: list[float] = []
    imap = ImapSource("support", settings(dovecot_server, imap_account, idle=False,
                                          poll_seconds=7.0), imap_account.password,
                      sleep=slept.append)
    try:
        peer.append(mail_bytes(4))
        imap.connect()
        assert not imap.uses_idle
        assert imap.wait(timeout=30) is True and slept == [7.0]
        assert imap.wait(timeout=2) is True and slept == [7.0, 2]
        assert [m.raw for m in imap.fetch()] == [mail_bytes(4)]
    finally:
        imap.close()


def test_a_server_without_idle_and_move_is_polled_and_copied() -> None:
    with dovecot("imap_capability = IMAP4rev1 LITERAL+ UIDPLUS") as server:
        account = server.add_user()
        slept: list[float] = []
        imap = ImapSource("support", settings(server, account, poll_seconds=5.0),
                          account.password, sleep=slept.append)
        other = Peer(server, account)
        try:
            other.append(mail_bytes(11))
            other.append(mail_bytes(12))
            mails = imap.fetch()
            assert [m.raw for m in mails] == [mail_bytes(11), mail_bytes(12)]
            assert not imap.uses_idle  # IDLE is on in the settings, but not on the server
            assert imap.wait(timeout=60) is True and slept == [5.0]
            imap.done(*mails)  # COPY, \Deleted, UID EXPUNGE
            assert (other.count("INBOX"), other.count("Processed")) == (0, 2)
            assert imap.fetch() == []
        finally:
            imap.close()
            other.client.logout()


def test_flag_instead_of_move(dovecot_server: Dovecot, imap_account: Account,
                              peer: Peer) -> None:
    peer.append(mail_bytes(5))
    imap = source(dovecot_server, imap_account, processed_flag="$GoSupportDone")
    try:
        [mail] = imap.fetch()
        imap.done(mail)
        assert imap.fetch() == []
        assert peer.count("INBOX") == 1
        assert set(peer.flags()[0]) - {b"\\Recent", b"\\Seen"} == {b"$GoSupportDone"}  # unclaimed
    finally:
        imap.close()


def test_oversize_mail_is_not_downloaded_and_goes_to_quarantine(
        dovecot_server: Dovecot, imap_account: Account, peer: Peer) -> None:
    peer.append(mail_bytes(6, size=20_000))
    peer.append(mail_bytes(7))
    imap = source(dovecot_server, imap_account)
    try:
        big, small = imap.fetch()
        assert big.raw is None and big.size > 20_000
        assert small.raw == mail_bytes(7)
        imap.quarantine(big)
        assert peer.count("Quarantine") == 1  # its bytes are kept there
    finally:
        imap.close()


def test_many_mails_move_in_one_command_even_when_some_are_gone(
        dovecot_server: Dovecot, imap_account: Account, peer: Peer) -> None:
    for n in range(20, 26):
        peer.append(mail_bytes(n))
    one, two = source(dovecot_server, imap_account), source(dovecot_server, imap_account)
    try:
        mails = one.fetch()
        assert len(mails) == 6 and two.fetch() == []  # all six are claimed by the first
        peer.client.create_folder("Elsewhere")
        peer.client.select_folder("INBOX")
        peer.client.move([int(mails[1].key.split(":")[1]), int(mails[4].key.split(":")[1])],
                         "Elsewhere")  # someone moved two of them meanwhile
        peer.client.unselect_folder()
        one.done(*mails)
        assert (peer.count("INBOX"), peer.count("Processed")) == (0, 4)
    finally:
        one.close()
        two.close()


def crash(imap: ImapSource) -> None:
    """What a killed process leaves: the connection dropped, the slot's lock file closed."""
    assert imap._client is not None and imap._slot is not None
    imap._client.shutdown()
    imap._slot.close()
    imap._client = imap._slot = imap._claims = None


def test_two_sources_on_one_mailbox_one_takes_each_mail(
        dovecot_server: Dovecot, imap_account: Account, peer: Peer) -> None:
    peer.append(mail_bytes(8))
    one, two = source(dovecot_server, imap_account), source(dovecot_server, imap_account)
    try:
        [a] = one.fetch()
        assert two.fetch() == []  # the first one's claim
        crash(one)  # the restarted daemon takes its own claim back at once
        [again] = one.fetch()
        assert again.key == a.key and two.fetch() == []
        one.close()  # stopped: its claims are taken off, the other takes the mail at once
        [taken] = two.fetch()
        two.done(taken)
        assert (peer.count("INBOX"), peer.count("Processed")) == (0, 1)
        assert two.fetch() == [] and one.fetch() == []
    finally:
        one.close()
        two.close()


def test_tls_is_verified_by_default(dovecot_server: Dovecot, imap_account: Account,
                                    peer: Peer) -> None:
    peer.append(mail_bytes(9))
    untrusted = source(dovecot_server, imap_account, port=dovecot_server.tls_port,
                       security="tls", ca_bundle=None)
    with pytest.raises(SourceError, match="TLS certificate does not verify") as failed:
        untrusted.fetch()
    assert not failed.value.temporary
    trusted = source(dovecot_server, imap_account, port=dovecot_server.tls_port,
                     security="tls")
    try:
        assert [m.raw for m in trusted.fetch()] == [mail_bytes(9)]
    finally:
        trusted.close()
    starttls = source(dovecot_server, imap_account, ca_bundle=None)
    with pytest.raises(SourceError, match="TLS certificate does not verify"):
        starttls.fetch()


def test_a_refused_login_names_the_user_never_the_password(
        dovecot_server: Dovecot, imap_account: Account) -> None:
    imap = ImapSource("support", settings(dovecot_server, imap_account), "wrong-secret-123")
    with pytest.raises(SourceError) as failed:
        imap.fetch()
    assert not failed.value.temporary
    assert f"the server refused the login of {imap_account.user!r}" in str(failed.value)
    assert "wrong-secret-123" not in str(failed.value)


def test_an_unreachable_server_is_temporary(dovecot_server: Dovecot,
                                            imap_account: Account) -> None:
    from tests._support import free_port

    imap = source(dovecot_server, imap_account, port=free_port())
    with pytest.raises(SourceError, match="cannot connect") as failed:
        imap.fetch()
    assert failed.value.temporary


def test_a_lost_connection_reconnects(dovecot_server: Dovecot, imap_account: Account,
                                      peer: Peer) -> None:
    imap = source(dovecot_server, imap_account)
    try:
        assert imap.fetch() == []
        assert imap._client is not None
        imap._client.socket().shutdown(socket.SHUT_RDWR)  # the network drops the connection
        with pytest.raises(SourceError) as failed:
            imap.fetch()
        assert failed.value.temporary
        peer.append(mail_bytes(10))
        assert [m.raw for m in imap.fetch()] == [mail_bytes(10)]  # a fresh session
    finally:
        imap.close()


# --- Maildir and stdin -------------------------------------------------------------------------


def test_maildir_moves_each_mail_once(tmp_path: Path) -> None:
    box = MaildirSource("demo", tmp_path / "Maildir", max_bytes=1000)
    (box.path / "new" / "1.a.host").write_bytes(mail_bytes(1))
    (box.path / "cur" / "2.b.host:2,S").write_bytes(mail_bytes(2, size=2000))
    (box.path / "new" / ".hidden").write_bytes(b"x")
    mails = box.fetch()
    assert [(m.key, m.raw is None) for m in mails] == [("new/1.a.host", False),
                                                       ("cur/2.b.host:2,S", True)]
    other = MaildirSource("demo", tmp_path / "Maildir")  # a second daemon on the folder
    seen_too = other.fetch()[0]
    assert seen_too.key == mails[0].key
    box.done(mails[0])
    other.done(seen_too)  # already taken: no error, nothing moved twice
    assert sorted(p.name for p in (box.path / ".Processed" / "cur").iterdir()) == [
        "1.a.host:2,"]
    box.quarantine(mails[1])
    assert [p.name for p in (box.path / ".Quarantine" / "cur").iterdir()] == ["2.b.host:2,S"]
    assert box.fetch() == []
    with pytest.raises(ValueError, match="not a mail of Maildir"):
        box.done(type(mails[0])("demo", "../x", b"", 0))


def test_maildir_wait_polls_new(tmp_path: Path) -> None:
    box = MaildirSource("demo", tmp_path / "Maildir", poll_seconds=0.05)
    assert box.wait(0.1) is False
    threading.Timer(0.1, (box.path / "new" / "3.c.host").write_bytes, [mail_bytes(3)]).start()
    assert box.wait(5) is True


def test_stdin_reads_one_mail_up_to_the_limit() -> None:
    raw = mail_bytes(1)
    stdin = StdinSource(io.BytesIO(raw), envelope_recipient="support+hw@desk.example")
    [mail] = stdin.fetch()
    assert (mail.raw, mail.size, mail.envelope_recipient) == (
        raw, len(raw), "support+hw@desk.example")
    assert stdin.fetch() == [] and stdin.wait(1) is False
    big = StdinSource(io.BytesIO(b"x" * 5000), max_bytes=100)
    [over] = big.fetch()
    assert (over.raw, over.size) == (None, 5000)


def test_a_mail_taken_away_while_its_body_is_fetched(
        dovecot_server: Dovecot, imap_account: Account, peer: Peer) -> None:
    """Another session moves a mail between the search and the body: it is skipped."""
    peer.append(mail_bytes(30))
    peer.append(mail_bytes(31))
    imap = source(dovecot_server, imap_account)
    try:
        imap.connect()
        client = imap._client
        assert client is not None
        fetch = client.fetch

        def moved_first(messages: Any, items: Any, *args: Any, **kwargs: Any) -> Any:
            if items == ["BODY.PEEK[]"]:
                peer.client.select_folder("INBOX")
                peer.client.move([1], "Processed")
                peer.client.unselect_folder()
            return fetch(messages, items, *args, **kwargs)

        client.fetch = moved_first
        assert [m.raw for m in imap.fetch()] == [mail_bytes(31)]
    finally:
        imap.close()
