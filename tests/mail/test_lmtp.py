"""Delivery over LMTP: the answer to the MTA is the bookkeeping. Real LMTP over TCP and a Unix
socket (Python's smtplib as the MTA), the emulator over HTTP, and ``go-support lmtp`` as a
process killed at each step of the intake and at random."""

from __future__ import annotations

import os
import random
import signal
import smtplib
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from go_support.desk import SupportDesk
from go_support.mail.config import MailSettings
from go_support.mail.lmtp import LmtpListener, LmtpWorker, parse_listen
from go_support.mail.pipeline import STOP_AFTER_VARIABLE, Intake
from go_support.mail.quarantine import QuarantineStore
from go_support.mail.seen import last_seen
from tests._support import free_port
from tests.mail.test_pipeline import (
    GO_SUPPORT,
    ROOT,
    Server,
    a_bounce,
    assert_exactly_once,
    settings_file,
)
from tests.mail.test_pipeline import a_mail as a_file_mail


def a_mail(n: int, subject: str = "", *, reply_to: str | None = None, body: str = "") -> bytes:
    """As on the wire (CRLF): what the MTA sends, so what the mail's key is taken of."""
    raw = a_file_mail(n, subject, reply_to=reply_to, body=body)
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

Reply = tuple[int, str]


def deliver(where: tuple[str, int] | str, raw: bytes,
            recipients: Sequence[str] = ("support@example.com",)) -> list[Reply]:
    """What an MTA does: LHLO, MAIL, RCPT..., DATA; one reply per recipient (RFC 2033)."""
    client = smtplib.LMTP(timeout=60)
    if isinstance(where, str):
        client.connect(where)
    else:
        client.connect(*where)
    try:
        client.ehlo()
        client.mail("sender@example.com")
        for recipient in recipients:
            assert client.rcpt(recipient)[0] == 250
        try:
            code, message = client.data(raw)
        except smtplib.SMTPDataError as refused:
            code, message = refused.smtp_code, refused.smtp_error
        replies = [(code, message.decode())]
        replies += [(c, m.decode()) for c, m in (client.getreply() for _ in recipients[1:])]
        return replies
    finally:
        client.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    yield running
    running.stop()


@contextmanager
def serving(server: Server, root: Path, *, quarantine: bool = True,
            listen: tuple[str, int] | str | None = None) -> Iterator[LmtpListener]:
    """An LMTP listener in this process on the emulator; stopped (answering what it received)
    and its client closed afterwards."""
    mail = MailSettings(addresses=["support@example.com"], max_size_mb=0.02,
                        state_dir=str(root / "state"))
    store = QuarantineStore(root / "quarantine") if quarantine else None
    with server.client() as client:
        intake = Intake(SupportDesk(client), mail, default_type="IT", quarantine=store)
        listener = LmtpListener(LmtpWorker(intake, max_bytes=mail.max_bytes),
                                listen or ("127.0.0.1", free_port()))
        listener.start()
        try:
            yield listener
        finally:
            listener.stop()


def test_new_follow_up_and_the_same_mail_again(server: Server, tmp_path: Path) -> None:
    first, second = a_mail(1), a_mail(2, reply_to="<mail-1@example.com>")
    with serving(server, tmp_path) as listener:
        replies = deliver(listener.address, first,
                          ["support@example.com", "helpdesk@example.com"])
        again = deliver(listener.address, first)
        follow_up = deliver(listener.address, second)
    assert [code for code, _ in replies] == [250, 250]
    assert "new-ticket ticket" in replies[0][1]
    seen = last_seen("stdin", tmp_path / "state")
    assert seen is not None and seen.action == "follow-up"
    assert again[0][0] == 250 and "duplicate" in again[0][1]
    ticket = replies[0][1].split("ticket ")[-1]
    assert follow_up[0][0] == 250 and follow_up[0][1].endswith(f"follow-up ticket {ticket}")
    assert_exactly_once(server, [first, second])


def test_mails_arriving_together_share_a_batch(server: Server, tmp_path: Path) -> None:
    """Twenty MTA connections at once: every one answered 250, each mail imported once."""
    raws = [a_mail(n) for n in range(20)]
    with serving(server, tmp_path) as listener, ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda raw: deliver(listener.address, raw), raws))
    assert all(a[0][0] == 250 for a in answers), answers
    assert_exactly_once(server, raws)


def test_quarantine_is_kept_or_refused_never_dropped(server: Server, tmp_path: Path) -> None:
    """Kept in quarantine_dir: 250 with the reason. No quarantine_dir: 554 with the reason,
    so the MTA returns the mail to its sender instead of it vanishing here."""
    too_big = a_mail(3, body="x" * 30_000)
    with serving(server, tmp_path) as listener:
        kept = deliver(listener.address, too_big)
    assert kept[0][0] == 250 and "quarantined" in kept[0][1] and "limit" in kept[0][1], kept
    assert list((tmp_path / "quarantine").rglob("*.json"))
    with serving(server, tmp_path / "none", quarantine=False) as listener:
        refused = deliver(listener.address, too_big)
    assert refused[0][0] == 554 and "limit" in refused[0][1], refused


def test_a_bounce_of_a_mail_we_never_sent_opens_nothing(server: Server, tmp_path: Path) -> None:
    with serving(server, tmp_path) as listener:
        reply = deliver(listener.address, a_bounce("<never-sent@example.com>"))
    assert reply[0][0] == 250 and "quarantined" in reply[0][1], reply
    assert not server.keys()


def test_group_office_down_answers_451_and_the_retry_imports_once(
        server: Server, tmp_path: Path) -> None:
    raw = a_mail(4)
    with serving(server, tmp_path) as listener:
        server.stop()
        try:
            down = deliver(listener.address, raw)
        finally:
            server.start()
        again = deliver(listener.address, raw)
    assert down[0][0] == 451, down
    assert again[0][0] == 250, again
    assert_exactly_once(server, [raw])


def test_a_unix_socket(server: Server, tmp_path: Path) -> None:
    socket_path = str(tmp_path / "lmtp.sock")
    with serving(server, tmp_path, listen=socket_path) as listener:
        assert listener.address == socket_path
        reply = deliver(socket_path, a_mail(5))
    assert reply[0][0] == 250, reply
    assert_exactly_once(server, [a_mail(5)])


@pytest.mark.parametrize(("value", "expected"), [
    ("127.0.0.1:2424", ("127.0.0.1", 2424)),
    ("[::1]:24", ("::1", 24)),
    (":2424", ("127.0.0.1", 2424)),
    ("unix:/run/go-support/lmtp", "/run/go-support/lmtp"),
])
def test_listen_addresses(value: str, expected: object) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["2424", "host:", "host:99999", "unix:", "host:port"])
def test_a_bad_listen_address_says_what_is_expected(value: str) -> None:
    with pytest.raises(ValueError, match=r"HOST:PORT|socket"):
        parse_listen(value)


# --- the command, killed ---------------------------------------------------------------------


class LmtpProcess:
    def __init__(self, config: Path, server: Server, port: int) -> None:
        self.config, self.server, self.port = config, server, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, stop_after: int | None = None) -> None:
        env = {**os.environ, "GO_SUPPORT_CONFIG": str(self.config),
               "GO_SUPPORT_API_KEY": self.server.key, "PYTHONPATH": str(ROOT)}
        if stop_after:
            env[STOP_AFTER_VARIABLE] = str(stop_after)
        self.process = subprocess.Popen(
            [GO_SUPPORT, "lmtp", "--listen", f"127.0.0.1:{self.port}"], env=env,
            stderr=subprocess.PIPE)
        assert self.process.stderr is not None
        seen = []
        while not seen or "listening on" not in seen[-1]:
            line = self.process.stderr.readline().decode()
            assert line, "".join(seen)  # it ended before it listened
            seen.append(line)
        threading.Thread(target=self.process.stderr.read, daemon=True).start()  # the log

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


def until_accepted(lmtp: LmtpProcess, raw: bytes, *, attempts: int = 50) -> Reply:
    """An MTA: delivers again after a 4xx or a dropped connection (the process restarted)."""
    for _ in range(attempts):
        try:
            reply = deliver(("127.0.0.1", lmtp.port), raw)[0]
        except (OSError, smtplib.SMTPException):
            time.sleep(0.1)
            if lmtp.process is not None and lmtp.process.poll() is not None:
                lmtp.start()
            continue
        if reply[0] == 250:
            return reply
        time.sleep(0.1)
    raise AssertionError("never accepted")


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5, 6])
def test_killed_at_each_step_the_mta_delivers_again(server: Server, tmp_path: Path,
                                                      step: int) -> None:
    config = settings_file(tmp_path, server, "")
    lmtp = LmtpProcess(config, server, free_port())
    lmtp.start(stop_after=step)
    raw = a_mail(10 + step)
    with pytest.raises((OSError, smtplib.SMTPException)):
        deliver(("127.0.0.1", lmtp.port), raw)  # killed before it answered
    assert lmtp.process is not None and lmtp.process.wait(30) == -signal.SIGKILL
    lmtp.start()
    try:
        assert until_accepted(lmtp, raw)[0] == 250
    finally:
        assert lmtp.stop() == 0
    assert_exactly_once(server, [raw])


def test_killed_at_random_while_mail_arrives(server: Server, tmp_path: Path) -> None:
    """60 mails, the process killed at random moments 20 times: every mail imported once."""
    config = settings_file(tmp_path, server, "")
    lmtp = LmtpProcess(config, server, free_port())
    lmtp.start()
    raws = [a_mail(100 + n) for n in range(60)]
    rng = random.Random(11)
    kill_at = set(rng.sample(range(len(raws)), 20))
    try:
        for n, raw in enumerate(raws):
            if n in kill_at:  # dies while this mail is in flight, at a random moment
                threading.Timer(rng.uniform(0.0, 0.05), lmtp.kill).start()
            until_accepted(lmtp, raw)
    finally:
        if lmtp.process is not None and lmtp.process.poll() is None:
            assert lmtp.stop() == 0
    assert_exactly_once(server, raws)
