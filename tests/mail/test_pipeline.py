"""Mail into the desk, exactly once: the pipeline in-process, and the daemon as a process that
is killed (SIGKILL) at each step and at random, run twice at once, and run while Group-Office
is down. Real services: the emulator over HTTP, Dovecot, Maildir."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import imapclient
import pytest

from go_support.desk import SupportDesk
from go_support.emulator import Emulator
from go_support.jmap import Batch, GroupOfficeClient
from go_support.mail.config import MailboxSettings, MailSettings
from go_support.mail.pipeline import STOP_AFTER_VARIABLE, Intake, Outcome, mail_key
from go_support.mail.quarantine import QuarantineStore
from go_support.mail.sources import MaildirSource
from tests._support import RecordingTransport, free_port
from tests.desk.conftest import install_layout
from tests.mail.services import Account, Dovecot

ROOT = Path(__file__).resolve().parents[2]
GO_SUPPORT = str(Path(sys.executable).with_name("go-support"))
MARK = re.compile(r'data-go-support-mail="(k[0-9a-f]{20})"')


def a_mail(n: int, subject: str = "", *, reply_to: str | None = None,
           message_id: str | None = None, body: str = "") -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Requester {n} <req{n}@example.com>"
    mail["To"] = "support@example.com"
    mail["Subject"] = subject or f"Request {n}"
    mail["Message-ID"] = message_id or f"<mail-{n}@example.com>"
    if reply_to:
        mail["In-Reply-To"] = reply_to
    mail.set_content(body or f"Please help with number {n}.")
    return mail.as_bytes()


def a_bounce(message_id: str) -> bytes:
    """An RFC 3464 delivery-status report: our mail ``message_id`` failed (550 unknown)."""
    return (
        "From: MAILER-DAEMON@example.com\r\nTo: support@example.com\r\n"
        "Subject: Undelivered\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
        "report-type=delivery-status; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain"
        "\r\n\r\nfailed\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; x@example.com"
        "\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 unknown\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {message_id}\r\n\r\n--B--\r\n").encode()


class Server:
    """An emulator on a fixed port and data file, which can be stopped and started again."""

    def __init__(self, root: Path) -> None:
        self.path = str(root / "go.sqlite")
        self.port = free_port()
        self.emu: Emulator | None = None
        self.start()
        with self.client() as client:
            install_layout(client)
            SupportDesk(client).types.create("IT")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.emu = Emulator(self.path)
        self.key = self.emu.admin_api_key
        self.emu.start(port=self.port)

    def stop(self) -> None:
        assert self.emu is not None
        self.emu.stop()

    def client(self, transport: object = None) -> GroupOfficeClient:
        return GroupOfficeClient(self.url, api_key=self.key, transport=transport)

    def keys(self) -> Counter[str]:
        """How often each mail key is on a comment, all tickets of all types."""
        with self.client() as client:
            batch = Batch()
            query = batch.call("Comment/query", {"filter": {"entity": "Task"}})
            get = batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                             "properties": ["id", "text"]})
            found: Counter[str] = Counter()
            for comment in client.execute(batch).get(get)["list"]:
                found.update(MARK.findall(comment["text"]))
            return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    yield running
    running.stop()


def settings_file(root: Path, server: Server, box: str) -> Path:
    path = root / "go-support.toml"
    path.write_text(f"""
[groupoffice]
url = "{server.url}"

[desk]
default_type = "IT"

[mail]
addresses = ["support@example.com"]
quarantine_dir = "{root / 'quarantine'}"
state_dir = "{root / 'state'}"

{box}
""")
    return path


def maildir_box(path: Path) -> str:
    return f"""[mail.mailboxes.box]
kind = "maildir"
path = "{path}"
type = "IT"
poll_seconds = 0.2
"""


def imap_box(dovecot: Dovecot, account: Account) -> str:
    return f"""[mail.mailboxes.box]
host = "127.0.0.1"
port = {dovecot.port}
security = "starttls"
ca_bundle = "{dovecot.ca_file}"
user = "{account.user}"
password_env = "BOX_PASSWORD"
type = "IT"
poll_seconds = 0.5
"""


def daemon(config: Path, server: Server, *args: str, stop_after: int | None = None,
           password: str = "") -> subprocess.Popen[bytes]:
    env = {**os.environ, "GO_SUPPORT_CONFIG": str(config), "GO_SUPPORT_API_KEY": server.key,
           "BOX_PASSWORD": password, "PYTHONPATH": str(ROOT)}
    env.pop(STOP_AFTER_VARIABLE, None)
    if stop_after is not None:
        env[STOP_AFTER_VARIABLE] = str(stop_after)
    return subprocess.Popen([GO_SUPPORT, "daemon", *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def assert_exactly_once(server: Server, raws: list[bytes]) -> None:
    found = server.keys()
    wanted = {mail_key(r) for r in raws}
    assert set(found) == wanted, f"missing {len(wanted - set(found))}"
    doubled = {k: n for k, n in found.items() if n > 1}
    assert not doubled, f"imported more than once: {doubled}"


# --- in-process ----------------------------------------------------------------------------


def test_new_follow_up_duplicate_and_quarantine(server: Server, tmp_path: Path) -> None:
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    mail = MailSettings(addresses=["support@example.com"], mailboxes={
        "box": MailboxSettings(kind="maildir", path=str(box), type="IT")})
    recorder = RecordingTransport()
    with server.client(recorder) as client:
        desk = SupportDesk(client)
        intake = Intake(desk, mail, default_type="IT")
        raws = [a_mail(n) for n in range(100)]
        for n, raw in enumerate(raws):
            (box / "new" / f"{n}.eml").write_bytes(raw)
        desk.layout  # noqa: B018 - the layout is read once per daemon, not per batch
        before = len(recorder.sent)
        outcomes = intake.handle(source, source.fetch())
        assert [o.action for o in outcomes] == ["new-ticket"] * 100
        assert (len(recorder.sent) - before) / 100 <= 0.2

        # a follow-up, the same mail again, a different mail with the same Message-ID,
        # a bounce for a mail we never sent
        twin = a_mail(7, "Other words", message_id="<mail-7@example.com>")
        (box / "new" / "a.eml").write_bytes(a_mail(200, "Re: Request 3",
                                                   reply_to="<mail-3@example.com>"))
        (box / "new" / "b.eml").write_bytes(raws[5])
        (box / "new" / "c.eml").write_bytes(twin)
        bounce = EmailMessage()
        bounce["From"] = "MAILER-DAEMON@example.com"
        bounce["To"] = "support@example.com"
        bounce["Subject"] = "Undelivered Mail Returned to Sender"
        bounce["Auto-Submitted"] = "auto-replied"
        bounce.set_content("could not deliver")
        (box / "new" / "d.eml").write_bytes(bounce.as_bytes())
        time.sleep(0.01)
        got = {o.mail.key.split("/")[1]: o for o in intake.handle(source, source.fetch())}
    assert got["a.eml"].action == "follow-up"
    assert got["b.eml"].action == "duplicate"
    assert got["c.eml"].action == "new-ticket"
    assert got["d.eml"].action == "quarantine"
    assert got["a.eml"].ticket_id == outcomes[3].ticket_id
    assert got["b.eml"].ticket_id == outcomes[5].ticket_id
    assert not os.listdir(box / "new") and not os.listdir(box / "cur")
    follow_up = a_mail(200, "Re: Request 3", reply_to="<mail-3@example.com>")
    assert_exactly_once(server, [*raws, twin, follow_up])

    # a ticket whose first message is missing (a crash or a deadlock between the task and
    # its comment): the mail, delivered again, puts it back on the same ticket
    ticket = outcomes[9].ticket_id
    with server.client() as client:
        batch = Batch()
        query = batch.call("Comment/query", {"filter": {"entity": "Task",
                                                        "entityId": ticket}})
        batch.call("Comment/set", {"#destroy": query.ref("/ids")})
        client.execute(batch)
        (box / "new" / "e.eml").write_bytes(raws[9])
        again = intake.handle(source, source.fetch())
    assert [(o.action, o.ticket_id) for o in again] == [("new-ticket", ticket)]
    assert_exactly_once(server, [*raws, twin, follow_up])


def test_injected_deadlocks(tmp_path: Path) -> None:
    """Group-Office failing a third of the writes: every mail ends in exactly once."""
    emu = Emulator(fail_writes=0.3, fail_seed=3)
    running = emu.start()
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    mail = MailSettings(mailboxes={"box": MailboxSettings(kind="maildir", path=str(box),
                                                          type="IT")})
    raws = [a_mail(n) for n in range(60)] + [
        a_mail(100 + n, reply_to=f"<mail-{n}@example.com>") for n in range(30)]
    try:
        with GroupOfficeClient(running.base_url, api_key=running.admin_api_key) as client:
            for _ in range(20):
                try:
                    install_layout(client)
                    SupportDesk(client).types.create("IT")
                    break
                except Exception:
                    continue
            intake = Intake(SupportDesk(client), mail, default_type="IT")
            for n, raw in enumerate(raws):
                (box / "new" / f"{n:03}.eml").write_bytes(raw)
                os.utime(box / "new" / f"{n:03}.eml", (n, n))
            failures = 0
            for _ in range(60):
                mails = source.fetch(40)
                if not mails:
                    break
                try:
                    outcomes = intake.handle(source, mails)
                except Exception:
                    failures += 1
                    continue
                failures += sum(o.action == "failed" for o in outcomes)
            assert failures > 0  # the faults were there
            assert not source.fetch()
            batch = Batch()
            query = batch.call("Comment/query", {"filter": {"entity": "Task"}})
            get = batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                             "properties": ["text"]})
            for _ in range(20):
                try:
                    found = Counter(k for c in client.execute(batch).get(get)["list"]
                                    for k in MARK.findall(c["text"]))
                    break
                except Exception:
                    continue
    finally:
        emu.stop()
    assert set(found) == {mail_key(r) for r in raws}
    assert max(found.values()) == 1


# --- the daemon as a process ---------------------------------------------------------------


def a_maildir(tmp_path: Path, server: Server, raws: list[bytes]) -> tuple[Path, Path]:
    """A Maildir holding ``raws``, and a settings file whose mailbox it is."""
    box = tmp_path / "Maildir"
    MaildirSource("box", box)
    for n, raw in enumerate(raws):
        (box / "new" / f"a{n:03}.eml").write_bytes(raw)
    return box, settings_file(tmp_path, server, maildir_box(box))


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5, 6])
def test_killed_after_each_step(server: Server, tmp_path: Path, step: int) -> None:
    first = [a_mail(n) for n in range(10)]
    box, config = a_maildir(tmp_path, server, first)
    assert daemon(config, server, "--once").wait(120) == 0
    # new tickets, follow-ups (one to a ticket that is closed meanwhile), a reply to nothing
    with server.client() as client:
        SupportDesk(client).tickets.close(1)
    raws = first + [a_mail(100 + n) for n in range(10)] + [
        a_mail(200 + n, f"Re: Request {n}", reply_to=f"<mail-{n}@example.com>")
        for n in range(10)] + [a_mail(300, reply_to="<never@example.com>")]
    for n, raw in enumerate(raws[10:]):
        (box / "new" / f"b{n:03}.eml").write_bytes(raw)
    killed = daemon(config, server, "--once", stop_after=step)
    assert killed.wait(120) == -signal.SIGKILL, killed.stderr.read().decode()[-2000:]
    done = daemon(config, server, "--once")
    assert done.wait(120) == 0, done.stderr.read().decode()[-2000:]
    assert not os.listdir(box / "new") and not os.listdir(box / "cur")
    assert_exactly_once(server, raws)


def append(dovecot: Dovecot, account: Account, raws: list[bytes], pause: float) -> None:
    with imapclient.IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login(account.user, account.password)
        for raw in raws:
            client.append("INBOX", raw)
            if pause:
                time.sleep(pause)


def test_killed_at_random_while_mail_arrives(server: Server, tmp_path: Path,
                                             dovecot_server: Dovecot,
                                             imap_account: Account) -> None:
    kills = int(os.environ.get("GO_SUPPORT_TEST_KILLS", "200"))
    config = settings_file(tmp_path, server, imap_box(dovecot_server, imap_account))
    raws = [a_mail(n) for n in range(500)]
    # the mails arrive over the whole time of the kills (about 1.1 s each)
    feeder = threading.Thread(target=append, args=(dovecot_server, imap_account, raws,
                                                   kills * 1.1 / len(raws)))
    feeder.start()
    rng = random.Random(11)
    for _ in range(kills):
        process = daemon(config, server, password=imap_account.password)
        time.sleep(rng.uniform(0.2, 2.0))
        process.kill()
        process.wait()
    feeder.join()
    last = daemon(config, server, "--once", password=imap_account.password)
    assert last.wait(300) == 0, last.stderr.read().decode()[-2000:]
    assert_exactly_once(server, raws)


def test_two_daemons_on_one_mailbox(server: Server, tmp_path: Path, dovecot_server: Dovecot,
                                    imap_account: Account) -> None:
    config = settings_file(tmp_path, server, imap_box(dovecot_server, imap_account))
    raws = [a_mail(n) for n in range(150)]
    feeder = threading.Thread(target=append, args=(dovecot_server, imap_account, raws, 0.01))
    feeder.start()
    first = daemon(config, server, password=imap_account.password)
    second = daemon(config, server, password=imap_account.password)
    feeder.join()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(server.keys()) < len(raws):
        time.sleep(1)
    for process in (first, second):
        process.send_signal(signal.SIGTERM)
    for process in (first, second):
        assert process.wait(60) == 0, process.stderr.read().decode()[-3000:]
    assert_exactly_once(server, raws)


def test_two_intakes_stepped_by_hand(server: Server, dovecot_server: Dovecot,
                                     imap_account: Account) -> None:
    """The interleaving that doubled a mail: both daemons fetch it, A looks it up (not held
    yet), B imports it and takes it out of the inbox, then A writes and dies before any
    check afterwards. With claims only A ever gets the mail."""
    from go_support.mail.imap import ImapSource

    box = MailboxSettings(host="127.0.0.1", port=dovecot_server.port, security="starttls",
                          ca_bundle=str(dovecot_server.ca_file), user=imap_account.user,
                          type="IT")
    mail = MailSettings(addresses=["support@example.com"], mailboxes={"box": box})
    raws = [a_mail(n) for n in range(12)]
    append(dovecot_server, imap_account, raws, 0)
    looked_up, b_done = threading.Event(), threading.Event()

    class Paused(Intake):
        def _write(self, work: Any, read: Any) -> None:
            looked_up.set()
            assert b_done.wait(60)
            super()._write(work, read)

        def _settle(self, work: Any) -> None:
            return None  # killed right after writing

    sources = [ImapSource("box", box, imap_account.password) for _ in range(2)]
    with server.client() as one, server.client() as two:
        a = Paused(SupportDesk(one), mail, default_type="IT")
        b = Intake(SupportDesk(two), mail, default_type="IT")
        try:
            fetched_a, fetched_b = sources[0].fetch(), sources[1].fetch()
            assert len(fetched_a) == 12
            thread = threading.Thread(target=a.handle, args=(sources[0], fetched_a))
            thread.start()
            assert looked_up.wait(60)
            b.handle(sources[1], fetched_b)
            b_done.set()
            thread.join()
            assert sources[0].fetch() == [] and sources[1].fetch() == []
        finally:
            for source in sources:
                source.close()
    assert_exactly_once(server, raws)


def test_group_office_down(server: Server, tmp_path: Path) -> None:
    raws = [a_mail(n) for n in range(10)]
    box, config = a_maildir(tmp_path, server, raws)
    server.stop()
    down = daemon(config, server, "--once")
    assert down.wait(120) == 0
    log = down.stderr.read().decode()
    assert "Group-Office failed" in log and "stay in the inbox" in log
    assert len(os.listdir(box / "new")) == 10
    server.start()
    up = daemon(config, server, "--once")
    assert up.wait(120) == 0
    assert not os.listdir(box / "new")
    lines = [line for line in up.stderr.read().decode().splitlines()
             if "new-ticket -> ticket" in line]
    assert len(lines) == 10  # a line per mail: which ticket and why
    assert_exactly_once(server, raws)


def test_group_office_down_while_two_daemons_run(server: Server, tmp_path: Path,
                                                 dovecot_server: Dovecot,
                                                 imap_account: Account) -> None:
    """Group-Office goes away in the middle of a run (requests cut off half-way, some of them
    after their writes) and stays away while mail keeps arriving; the daemons keep running
    and, once it is back, every mail is in exactly once."""
    config = settings_file(tmp_path, server, imap_box(dovecot_server, imap_account))
    raws = [a_mail(n) for n in range(60)] + [
        a_mail(100 + n, f"Re: Request {n}", reply_to=f"<mail-{n}@example.com>")
        for n in range(0, 60, 3)]
    feeder = threading.Thread(target=append, args=(dovecot_server, imap_account, raws, 0.15))
    daemons = [daemon(config, server, password=imap_account.password) for _ in range(2)]
    feeder.start()
    time.sleep(3)
    server.stop()
    down_since = time.monotonic()
    time.sleep(12)
    assert all(d.poll() is None for d in daemons), "a daemon stopped while Group-Office was down"
    server.start()
    feeder.join()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(server.keys()) < len(raws):
        time.sleep(1)
    for process in daemons:
        process.send_signal(signal.SIGTERM)
    logs = []
    for process in daemons:
        assert process.wait(60) == 0
        logs.append(process.stderr.read().decode())
    assert time.monotonic() - down_since > 12
    assert any("Group-Office failed" in text and "stay in the inbox" in text for text in logs)
    assert_exactly_once(server, raws)


def test_ingest_exit_codes(server: Server, tmp_path: Path) -> None:
    config = settings_file(tmp_path, server, maildir_box(tmp_path / "unused"))
    env = {**os.environ, "GO_SUPPORT_CONFIG": str(config), "GO_SUPPORT_API_KEY": server.key,
           "PYTHONPATH": str(ROOT)}
    command = [GO_SUPPORT, "ingest", "--mailbox", "box"]
    raw = a_mail(1)
    assert subprocess.run(command, input=raw, env=env, capture_output=True).returncode == 0
    assert subprocess.run(command, input=raw, env=env, capture_output=True).returncode == 0
    assert subprocess.run(command, input=b"", env=env, capture_output=True).returncode == 0
    server.stop()
    try:
        failed = subprocess.run(command, input=a_mail(2), env=env, capture_output=True)
        assert failed.returncode == 75, failed.stderr.decode()
    finally:
        server.start()
    assert_exactly_once(server, [raw])


def test_ingest_without_mailbox_and_with_an_unknown_one(server: Server, tmp_path: Path) -> None:
    """Without --mailbox a mail is routed as "stdin" ([desk] default_type here) even with no
    [mail.mailboxes.stdin]; a --mailbox the settings lack is a configuration error naming the
    key and the file, and exit 75 keeps the mail at the MTA."""
    config = settings_file(tmp_path, server, maildir_box(tmp_path / "unused"))
    env = {**os.environ, "GO_SUPPORT_CONFIG": str(config), "GO_SUPPORT_API_KEY": server.key,
           "PYTHONPATH": str(ROOT)}
    raw = a_mail(1)
    done = subprocess.run([GO_SUPPORT, "ingest"], input=raw, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    unknown = subprocess.run([GO_SUPPORT, "ingest", "--mailbox", "sales"], input=a_mail(2),
                             env=env, capture_output=True)
    assert unknown.returncode == 75
    error = unknown.stderr.decode()
    assert "mail.mailboxes.sales" in error and str(config) in error and "known: box" in error
    assert "Traceback" not in error
    assert_exactly_once(server, [raw])


def test_ingest_without_a_quarantine_folder_returns_the_mail(server: Server,
                                                             tmp_path: Path) -> None:
    """A mail to quarantine with nowhere to keep it is refused (65: the MTA bounces it to its
    sender with the reason), never accepted and dropped."""
    config = settings_file(tmp_path, server, "")
    config.write_text(config.read_text().replace("quarantine_dir", "# quarantine_dir"))
    env = {**os.environ, "GO_SUPPORT_CONFIG": str(config), "GO_SUPPORT_API_KEY": server.key,
           "PYTHONPATH": str(ROOT)}
    refused = subprocess.run([GO_SUPPORT, "ingest"], input=b"\x00\xff garbage", env=env,
                             capture_output=True)
    assert refused.returncode == 65, refused.stderr.decode()
    assert "not accepted" in refused.stderr.decode()
    assert not server.keys()


def test_the_daemon_logs_a_line_per_mail(server: Server, tmp_path: Path) -> None:
    """Which ticket each mail went to and why, on stderr (the journal of a systemd unit)."""
    box = tmp_path / "Maildir"
    config = settings_file(tmp_path, server, maildir_box(box))
    MaildirSource("box", box)  # creates the folders
    (box / "new" / "1.eml").write_bytes(a_mail(1))
    (box / "new" / "2.eml").write_bytes(b"\x00garbage")
    run = daemon(config, server, "--once")
    assert run.wait(120) == 0
    assert run.stderr is not None
    log = run.stderr.read().decode()
    assert re.search(r"go-support daemon: box \S+: new-ticket -> ticket \d+: ", log), log
    assert re.search(r"go-support daemon: box \S+: quarantine: ", log), log


def test_requesters_matched_or_registered(server: Server, tmp_path: Path) -> None:
    """A sender who is a user becomes the requester; an unknown one becomes a user only while
    Group-Office allows registration, else the ticket keeps the address."""
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    mail = MailSettings(mailboxes={"box": MailboxSettings(kind="maildir", path=str(box),
                                                          type="IT")})
    with server.client() as client:
        known = client.users.create({"username": "req1", "displayName": "Requester 1",
                                     "email": "req1@example.com"})
        desk = SupportDesk(client)
        intake = Intake(desk, mail, default_type="IT")
        (box / "new" / "1.eml").write_bytes(a_mail(1))
        (box / "new" / "2.eml").write_bytes(a_mail(2))
        first = {o.mail.key[-5:]: o for o in intake.handle(source, source.fetch())}
        batch = Batch()
        batch.call("Module/set", {"update": {"1": {"settings": {"allowRegistration": True}}}})
        client.execute(batch)
        (box / "new" / "3.eml").write_bytes(a_mail(3))
        third = intake.handle(source, source.fetch())
        tickets = {t: desk.tickets.get(t, with_messages=False) for t in (
            first["1.eml"].ticket_id, first["2.eml"].ticket_id, third[0].ticket_id)}
    one, two, three = tickets.values()
    assert one.requester is not None and one.requester.id == str(known)
    assert two.requester is not None and two.requester.id is None
    assert two.requester.email == "req2@example.com"
    assert three.requester is not None and three.requester.id is not None
    assert three.requester.email == "req3@example.com"


def test_bounce_marks_our_message(server: Server, tmp_path: Path) -> None:
    """A delivery report for our signed Message-ID marks that comment senderror and keeps
    the reason on the ticket as a private note; it opens no ticket."""
    from go_support.mail.thread_ids import MessageIds

    ids = MessageIds("a-test-secret-of-enough-length", "example.com")
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    mail = MailSettings(addresses=["support@example.com"], mailboxes={
        "box": MailboxSettings(kind="maildir", path=str(box), type="IT")})
    with server.client() as client:
        desk = SupportDesk(client)
        ticket = desk.tickets.create("IT", "Printer", "<p>jammed</p>", "ann@example.com")
        answer = desk.messages.reply(ticket, "<p>on my way</p>")
        intake = Intake(desk, mail, default_type="IT", ids=ids)
        report = a_bounce(ids.new(ticket.id, answer.id))
        (box / "new" / "dsn.eml").write_bytes(report)
        (outcome,) = intake.handle(source, source.fetch())
        messages = desk.messages.list(ticket)
    assert (outcome.action, outcome.ticket_id) == ("bounce", ticket.id)
    bounced = next(m for m in messages if m.id == answer.id)
    assert bounced.mail_status == "senderror"
    assert any(m.private and "550 unknown" in m.html for m in messages)


def test_every_fixture_mail_has_an_outcome(server: Server, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """The real-world fixture mails, and bad input, through the whole pipeline: each ends
    as a ticket, a follow-up, a bounce or quarantined with a reason, and the log has its
    line; none stays behind."""
    import logging

    from tests.mail.fixtures import all_mails, read

    caplog.set_level(logging.INFO, "go_support.mail")

    box = tmp_path / "Maildir"
    source = MaildirSource("box", box, max_bytes=2_000_000)
    mail = MailSettings(addresses=["support@example.com"], max_size_mb=1.9, mailboxes={
        "box": MailboxSettings(kind="maildir", path=str(box), type="IT")})
    names = all_mails()
    bad = {"empty": b"", "garbage": random.Random(5).randbytes(3000), "truncated": a_mail(1)[:60],
           "huge": a_mail(2, body="x" * 2_100_000),
           "charset": a_mail(3).replace(b'charset="utf-8"', b'charset="no-such-set"'),
           "own": a_mail(4).replace(b"req4@example.com", b"support@example.com"),
           "bounce": a_bounce("<never-sent@example.com>")}
    for n, name in enumerate(names):
        (box / "new" / f"f{n:04}.eml").write_bytes(read(name))
    for name, raw in bad.items():
        (box / "new" / f"{name}.eml").write_bytes(raw)
    seen: dict[str, Outcome] = {}
    with server.client() as client:
        intake = Intake(SupportDesk(client), mail, default_type="IT",
                        quarantine=QuarantineStore(tmp_path / "q"))
        for _ in range(5):
            for outcome in intake.handle(source, source.fetch()):
                seen[outcome.mail.key.split("/")[-1]] = outcome
        # a stranger names the ticket of one of the mails above in the subject
        other = next(o.ticket_id for o in seen.values() if o.action == "new-ticket")
        (box / "new" / "tag.eml").write_bytes(a_mail(5, f"[#{other}] mine now"))
        [tagged] = intake.handle(source, source.fetch())
        seen["tag.eml"] = tagged
    assert not source.fetch()
    assert len(seen) == len(names) + len(bad) + 1
    actions = Counter(o.action for o in seen.values())
    assert set(actions) <= {"new-ticket", "follow-up", "bounce", "quarantine", "duplicate"}
    assert actions["new-ticket"] > len(names) // 2
    for outcome in seen.values():
        assert outcome.reason and outcome.line() in caplog.text, outcome
    codes = {name: seen[f"{name}.eml"].code for name in ("empty", "garbage", "huge", "own",
                                                          "bounce")}
    assert codes == {"empty": "empty", "garbage": "not-a-mail", "huge": "too-large",
                     "own": "loop", "bounce": "unknown-bounce"}, codes
    # cut off after its first headers: a sender and nothing else is still a request
    assert seen["truncated.eml"].action == "new-ticket"
    assert "which we never sent" in seen["bounce.eml"].reason
    assert seen["charset.eml"].action == "new-ticket"
    assert tagged.action == "new-ticket" and tagged.ticket_id != other
    assert f"the subject names ticket {other}, but req5@example.com does not belong to it" in \
        caplog.text


@pytest.mark.parametrize("reopen_days", [14, 0])
def test_follow_up_to_a_closed_ticket(server: Server, tmp_path: Path, reopen_days: int) -> None:
    """Within ``reopen_days`` of closing, a reply reopens the ticket; later, it opens a new
    ticket that names the old one."""
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    mail = MailSettings(reopen_days=reopen_days, mailboxes={
        "box": MailboxSettings(kind="maildir", path=str(box), type="IT")})
    with server.client() as client:
        desk = SupportDesk(client)
        intake = Intake(desk, mail, default_type="IT")
        (box / "new" / "1.eml").write_bytes(a_mail(1))
        (opened,) = intake.handle(source, source.fetch())
        assert opened.ticket_id is not None
        desk.tickets.close(opened.ticket_id)
        time.sleep(1.1)
        (box / "new" / "2.eml").write_bytes(a_mail(2, reply_to="<mail-1@example.com>"))
        (reply,) = intake.handle(source, source.fetch())
        old = desk.tickets.get(opened.ticket_id)
        if reopen_days:
            assert (reply.action, reply.ticket_id) == ("follow-up", opened.ticket_id)
            assert old.status.value == "needs-action"
            assert "reopened" in reply.reason
        else:
            assert reply.action == "new-ticket" and reply.ticket_id != opened.ticket_id
            assert old.status.value == "completed"
            new = desk.tickets.get(str(reply.ticket_id))
            assert f"ticket #{opened.ticket_id}" in (new.messages or ())[0].html


def test_a_mailbox_that_refuses_the_login(server: Server, tmp_path: Path,
                                          dovecot_server: Dovecot,
                                          imap_account: Account) -> None:
    """One mailbox refuses the login: the log says so, the other mailbox is imported."""
    box, _ = a_maildir(tmp_path, server, [a_mail(1)])
    refused = imap_box(dovecot_server, imap_account).replace("[mail.mailboxes.box]",
                                                             "[mail.mailboxes.broken]")
    config = settings_file(tmp_path, server, maildir_box(box) + "\n" + refused)
    process = daemon(config, server, "--once", password="not-the-password")
    assert process.wait(120) == 0
    log = process.stderr.read().decode()
    assert "refused the login" in log and "broken" in log
    assert "not-the-password" not in log
    assert_exactly_once(server, [a_mail(1)])


def test_the_daemon_keeps_running_through_bad_input(server: Server, tmp_path: Path,
                                                    dovecot_server: Dovecot,
                                                    imap_account: Account) -> None:
    """The daemon, not once but running: a mailbox that refuses the login, every fixture mail
    and bad input in another; it logs a line for each and still imports a mail that arrives
    afterwards, then stops on SIGTERM with exit 0."""
    from tests.mail.fixtures import all_mails, read

    bad = [b"", random.Random(6).randbytes(2000), a_mail(1)[:60],
           a_mail(2).replace(b"req2@example.com", b"support@example.com"),
           a_bounce("<never-sent@example.com>")]
    box, _ = a_maildir(tmp_path, server, [read(n) for n in all_mails()] + bad)
    refused = imap_box(dovecot_server, imap_account).replace("[mail.mailboxes.box]",
                                                             "[mail.mailboxes.broken]")
    config = settings_file(tmp_path, server, maildir_box(box) + "\n" + refused)
    process = daemon(config, server, "--poll", "0.5", password="not-the-password")
    lines: list[str] = []
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(
        line.decode() for line in process.stderr or ()), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and os.listdir(box / "new"):
            time.sleep(0.5)
        assert not os.listdir(box / "new"), "the daemon stopped importing"
        late = a_mail(3, "After the bad ones")
        (box / "new" / "late.eml").write_bytes(late)
        while time.monotonic() < deadline and not server.keys()[mail_key(late)]:
            time.sleep(0.5)
        # a cycle after the late mail's has tried the broken mailbox again (a busy machine)
        while time.monotonic() < deadline and "".join(lines).count("refused the login") < 2:
            time.sleep(0.2)
        assert process.poll() is None, "the daemon exited"
    finally:
        process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    reader.join(10)
    log = "".join(lines)
    assert server.keys()[mail_key(late)] == 1
    assert log.count("refused the login") >= 2  # tried again each cycle, said each time
    assert "not-the-password" not in log
    for n in range(len(all_mails()) + len(bad)):
        assert re.search(rf"box new/a{n:03}\.eml: (new-ticket|follow-up|bounce|quarantine"
                         r"|duplicate)\b.*: \S", log), n
    assert "box new/late.eml: new-ticket -> ticket" in log
    assert "which we never sent" in log and "a mail loop: sent from our own address" in log


def test_outbound_without_its_secret_is_said_once(server: Server, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A missing $GO_SUPPORT_MAIL_SECRET is a setting, not a passing failure: the daemon says
    once that outbound is off instead of an error every cycle, and keeps importing."""
    from go_support.mail.runner import Runner
    from go_support.settings import Settings

    monkeypatch.delenv("GO_SUPPORT_MAIL_SECRET", raising=False)
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    settings = Settings(mail=MailSettings(
        addresses=["support@example.com"], state_dir=str(tmp_path / "state"),
        mailboxes={"box": MailboxSettings(kind="maildir", path=str(box), type="IT")}))
    with server.client() as client, caplog.at_level("INFO", logger="go_support.mail"):
        runner = Runner(SupportDesk(client), settings, sources=[source], env={})
        for n in range(3):
            (box / "new" / f"{n}.eml").write_bytes(a_mail(n))
            runner.run_once()
    assert caplog.text.count("outbound is off until the daemon restarts") == 1
    assert "outbound failed" not in caplog.text
    assert_exactly_once(server, [a_mail(n) for n in range(3)])
