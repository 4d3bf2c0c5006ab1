"""Acknowledgements of new tickets: exactly one per ticket opened by a person's mail, none
for anything else, recorded on the ticket so that a daemon killed in between neither loses
nor doubles one. Real services: the emulator over HTTP, the SMTP sink, the daemon as a
process."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from go_support.desk import SupportDesk
from go_support.mail.acks import ACKED, Acknowledger
from go_support.mail.config import MailboxSettings, MailSettings, OutboundSettings
from go_support.mail.outbound import SmtpSender
from go_support.mail.pipeline import STOP_AFTER_VARIABLE, Intake, mail_key
from go_support.mail.sources import MaildirSource
from go_support.mail.thread_ids import SECRET_ENV, MessageIds
from tests.mail.services import SmtpSink
from tests.mail.test_pipeline import GO_SUPPORT, ROOT, Server, a_bounce, a_mail, server

__all__ = ["server"]  # the fixture this module uses

SECRET = "an-acknowledgement-test-secret"


def settings(box: Path, **outbound: Any) -> MailSettings:
    return MailSettings(addresses=["support@example.com"], auto_reply_per_hour=2,
                        outbound=OutboundSettings(**outbound),
                        mailboxes={"box": MailboxSettings(kind="maildir", path=str(box),
                                                          type="IT")})


def acknowledger(smtp: SmtpSink, mail: MailSettings) -> Acknowledger:
    return Acknowledger(SmtpSender(smtp.host, smtp.port, security="none"), mail,
                        MessageIds(SECRET, "example.com"))


def intake(desk: SupportDesk, mail: MailSettings, smtp: SmtpSink) -> Intake:
    """An intake that signs and acknowledges, as the daemon builds it."""
    acks = acknowledger(smtp, mail)
    return Intake(desk, mail, default_type="IT", ids=acks.ids, acks=acks)


def automated(n: int) -> bytes:
    raw = a_mail(n, f"Newsletter {n}")
    return raw.replace(b"Subject:", b"List-Id: <news.example.com>\nSubject:", 1)


def out_of_office(n: int) -> bytes:
    raw = a_mail(n, "Out of office")
    return raw.replace(b"Subject:", b"Auto-Submitted: auto-replied\nSubject:", 1)


def drop(box: Path, **mails: bytes) -> None:
    for name, raw in mails.items():
        (box / "new" / f"{name}.eml").write_bytes(raw)


def notes(desk: SupportDesk, ticket: str) -> list[Any]:
    return [m for m in desk.messages.list(ticket) if ACKED.search(m.html or "")]


def test_one_acknowledgement_per_new_ticket_and_none_for_anything_else(
        server: Server, tmp_path: Path, smtp: SmtpSink,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "go_support.mail")
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    mail = settings(box)
    with server.client() as client:
        desk = SupportDesk(client)
        daemon = intake(desk, mail, smtp)
        drop(box, a=a_mail(1), b=automated(2), c=out_of_office(3),
             d=a_mail(4).replace(b"req4@example.com", b"support@example.com"),
             e=a_bounce("<never-sent@example.com>"))
        first = {o.mail.key.split("/")[-1]: o for o in daemon.handle(source, source.fetch())}
        assert [first[k + ".eml"].action for k in "abcde"] == [
            "new-ticket", "new-ticket", "quarantine", "quarantine", "quarantine"]
        [ack] = smtp.wait_for(1)
        ticket = str(first["a.eml"].ticket_id)

        # the same mail again, a follow-up, and a reply to the acknowledgement itself
        sent = message_from_bytes(ack.data)
        drop(box, f=a_mail(1), g=a_mail(5, "Re: Request 1", reply_to="<mail-1@example.com>"),
             h=a_mail(6, "Re: ack", reply_to=str(sent["Message-ID"])))
        second = {o.mail.key.split("/")[-1]: o for o in daemon.handle(source, source.fetch())}
        assert [second[k + ".eml"].action for k in "fgh"] == ["duplicate", "follow-up", "follow-up"]
        assert second["h.eml"].ticket_id == ticket
        recorded = notes(desk, ticket)
        state = desk.tickets.get(ticket, with_messages=False)
    assert len(smtp.messages) == 1
    assert ack.rcpt_tos == ["req1@example.com"]
    assert sent["In-Reply-To"] == "<mail-1@example.com>"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert f"[#{ticket}]" in str(sent["Subject"])
    assert MessageIds(SECRET, "example.com").verify(str(sent["Message-ID"])) is not None
    # recorded as a private note, sent, with the acknowledgement's Message-ID; the ticket is
    # left as the mail left it (the comment hook would have taken it)
    [note] = recorded
    assert note.private and note.mail_status == "sent"
    assert note.message_id == sent["Message-ID"] and mail_key(a_mail(1)) in note.html
    assert state.status.value == "needs-action" and state.agent is None
    text = caplog.text
    assert f"ticket {ticket}: acknowledged to req1@example.com as {sent['Message-ID']}" in text
    assert "req2@example.com" not in text  # automated: never acknowledged, never tried


def test_type_switch_and_hourly_cap(server: Server, tmp_path: Path, smtp: SmtpSink,
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "go_support.mail")
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    with server.client() as client:
        desk = SupportDesk(client)
        off = settings(box, acknowledge_types={"it": False})
        drop(box, a=a_mail(1))
        intake(desk, off, smtp).handle(source, source.fetch())
        assert smtp.messages == [] and "acknowledgements are off for type 'IT'" in caplog.text

        mail = settings(box)  # at most 2 per recipient per hour
        daemon = intake(desk, mail, smtp)
        drop(box, **{f"m{n}": a_mail(10, f"Question {n}", message_id=f"<q{n}@example.com>")
                     for n in range(3)})
        outcomes = daemon.handle(source, source.fetch())
    assert [o.action for o in outcomes] == ["new-ticket"] * 3
    assert len(smtp.wait_for(2)) == 2 and len(smtp.messages) == 2
    assert "req10@example.com got 2 automatic mails within the hour already" in caplog.text


def test_a_crash_after_the_ticket_and_before_the_acknowledgement(
        server: Server, tmp_path: Path, smtp: SmtpSink) -> None:
    """In-process: the ticket written, the mail still in the inbox, no acknowledgement yet
    (the daemon died): the next run finds the mail held and acknowledges it, once."""
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    mail = settings(box)
    with server.client() as client:
        desk = SupportDesk(client)
        drop(box, a=a_mail(1))
        mails = source.fetch()
        crashed = Intake(desk, mail, default_type="IT")  # wrote, then "died": no ack
        crashed._finish = lambda *_: None  # type: ignore[method-assign]
        [written] = crashed.handle(source, mails)
        assert len(source.fetch()) == 1 and smtp.messages == []
        daemon = intake(desk, mail, smtp)
        [again] = daemon.handle(source, source.fetch())
        assert (again.action, again.ticket_id) == ("duplicate", written.ticket_id)
        smtp.wait_for(1)
        drop(box, b=a_mail(1))
        daemon.handle(source, source.fetch())
        assert len(notes(desk, str(written.ticket_id))) == 1
    assert len(smtp.messages) == 1


def daemon_config(root: Path, server: Server, smtp: SmtpSink, box: Path) -> Path:
    path = root / "go-support.toml"
    path.write_text(f"""
[groupoffice]
url = "{server.url}"
[desk]
default_type = "IT"
[mail]
addresses = ["support@example.com"]
state_dir = "{root / 'state'}"
auto_reply_per_hour = 100
[mail.smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
[mail.outbound]
enabled = false
[mail.mailboxes.box]
kind = "maildir"
path = "{box}"
type = "IT"
""")
    return path


def run(config: Path, server: Server, *args: str, stop_after: int | None = None,
        stdin: bytes | None = None, secret: bool = True) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GO_SUPPORT_CONFIG": str(config), "GO_SUPPORT_API_KEY": server.key,
           "PYTHONPATH": str(ROOT)}
    env.pop(STOP_AFTER_VARIABLE, None)
    env.pop(SECRET_ENV, None)
    if secret:
        env[SECRET_ENV] = SECRET
    if stop_after is not None:
        env[STOP_AFTER_VARIABLE] = str(stop_after)
    return subprocess.run([GO_SUPPORT, *args], input=stdin, env=env, capture_output=True,
                          timeout=120)


@pytest.mark.parametrize("step", [3, 4, 5, 6])
def test_the_daemon_killed_around_the_acknowledgements(server: Server, tmp_path: Path,
                                                       smtp: SmtpSink, step: int) -> None:
    """Killed before, while or after writing the tickets, or after taking the mails out of
    the inbox: in the end every new ticket has exactly one acknowledgement, follow-ups
    none."""
    box = tmp_path / "Maildir"
    MaildirSource("box", box)
    config = daemon_config(tmp_path, server, smtp, box)
    drop(box, **{f"a{n}": a_mail(n) for n in range(5)})
    assert run(config, server, "daemon", "--once").returncode == 0
    assert len(smtp.wait_for(5)) == 5
    drop(box, **{f"b{n}": a_mail(10 + n) for n in range(5)},
         **{f"c{n}": a_mail(20 + n, reply_to=f"<mail-{n}@example.com>") for n in range(5)})
    killed = run(config, server, "daemon", "--once", stop_after=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    done = run(config, server, "daemon", "--once")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert not os.listdir(box / "new") and not os.listdir(box / "cur")
    got = sorted(m.rcpt_tos[0] for m in smtp.wait_for(10))
    assert got == sorted(f"req{n}@example.com" for n in [*range(5), *range(10, 15)])
    with server.client() as client:
        desk = SupportDesk(client)
        for ticket in desk.tickets.list(per_page=100).tickets:
            assert len(notes(desk, ticket.id)) == 1, ticket.id


def test_ingest_acknowledges_or_says_why_not(server: Server, tmp_path: Path,
                                             smtp: SmtpSink) -> None:
    box = tmp_path / "Maildir"
    config = daemon_config(tmp_path, server, smtp, box)
    ingest = ("ingest", "--mailbox", "box")
    first = run(config, server, *ingest, stdin=a_mail(1))
    assert first.returncode == 0, first.stderr.decode()
    [ack] = smtp.wait_for(1)
    assert ack.rcpt_tos == ["req1@example.com"]
    again = run(config, server, *ingest, stdin=a_mail(1))
    assert again.returncode == 0 and "duplicate" in again.stderr.decode()
    unsigned = run(config, server, *ingest, stdin=a_mail(2), secret=False)
    assert unsigned.returncode == 0
    assert "new tickets are not acknowledged: no Message-ID signing key" in \
        unsigned.stderr.decode()
    config.write_text(config.read_text().replace(
        'addresses = ["support@example.com"]', "addresses = []"))
    bare = run(config, server, *ingest, stdin=a_mail(3))
    assert bare.returncode == 0
    assert "new tickets are not acknowledged: [mail] addresses is empty" in bare.stderr.decode()
    assert len(smtp.messages) == 1
