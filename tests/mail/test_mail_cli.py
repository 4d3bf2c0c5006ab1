"""``go-support mail``: status, quarantine list/show/retry, send-pending, against the emulator
and the SMTP sink, through the real command line (in-process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from go_support.desk import DeskConfig, SupportDesk
from go_support.jmap import GroupOfficeClient
from go_support.mail.quarantine import QuarantineStore
from go_support.migrations import install
from tests._support import emulator_server, isolate_from_machine, run_cli
from tests.mail.services import SmtpSink

SECRET = "a-cli-test-secret-of-enough-bytes"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          smtp: SmtpSink) -> Iterator[dict[str, Any]]:
    with emulator_server(install) as (url, key):
        isolate_from_machine(monkeypatch, home=tmp_path, cwd=tmp_path,
                             system_config=tmp_path / "none.toml")
        quarantine = tmp_path / "quarantine"
        config = tmp_path / "go-support.toml"
        config.write_text(f"""
[mail]
addresses = ["support@desk.example.org"]
quarantine_dir = "{quarantine}"
[mail.smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
[mail.outbound]
grace_seconds = 0
[mail.mailboxes.support]
kind = "maildir"
path = "{tmp_path / 'Maildir'}"
type = "IT"
""")
        monkeypatch.setenv("GO_SUPPORT_URL", url)
        monkeypatch.setenv("GO_SUPPORT_API_KEY", key)
        monkeypatch.setenv("GO_SUPPORT_MAIL_SECRET", SECRET)
        with GroupOfficeClient(url, api_key=key) as client:
            desk = SupportDesk(client, DeskConfig())
            desk.types.create("IT", "computers")
            yield {"desk": desk, "quarantine": QuarantineStore(quarantine), "smtp": smtp}


def test_send_pending_once_mails_a_due_answer_and_status_shows_the_queue(
        setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    desk: SupportDesk = setup["desk"]
    ticket = desk.tickets.create("IT", "VPN down", "<p>help</p>", "bob@example.org")
    reply = desk.messages.reply(ticket, "<p>Fixed.</p>")
    code, out, err = run_cli(capsys, "mail", "status", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert status["outbound"]["queue"][0]["comment"] == reply.id
    assert status["outbound"]["due"] + status["outbound"]["waiting"] == 1
    assert status["mailboxes"][0]["name"] == "support"
    assert status["quarantine"]["count"] == 0

    code, out, err = run_cli(capsys, "mail", "send-pending", "--once")
    assert code == 0, err
    assert "1 sent" in out and "bob@example.org" in out
    [mail] = setup["smtp"].wait_for(1)
    assert mail.rcpt_tos == ["bob@example.org"]
    assert [m.mail_status for m in desk.messages.list(ticket)] == ["received", "sent"]


def test_quarantine_list_show_and_retry(setup: dict[str, Any],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    store: QuarantineStore = setup["quarantine"]
    raw = (b"From: Ann <ann@example.org>\r\nTo: support@desk.example.org\r\n"
           b"Subject: Out of office\r\nAuto-Submitted: auto-replied\r\n"
           b"Message-ID: <q1@example.org>\r\n\r\nI am away.\r\n")
    entry = store.put(raw, code="held", reason="an automatic reply to no ticket we know",
                      source="support", key="1")
    code, out, err = run_cli(capsys, "mail", "quarantine", "list")
    assert code == 0 and entry.id in out and "held" in out, err
    code, out, err = run_cli(capsys, "mail", "quarantine", "show", entry.id)
    assert code == 0 and "Subject: Out of office" in out, err
    code, out, err = run_cli(capsys, "mail", "quarantine", "show", entry.id, "--raw")
    assert code == 0 and "I am away." in out
    code, out, err = run_cli(capsys, "mail", "quarantine", "retry", entry.id, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["action"], result["code"], result["imported"]) == ("quarantine", "held",
                                                                     False)
    code, out, err = run_cli(capsys, "mail", "quarantine", "show", "0" * 20)
    assert code != 0 and "no quarantined mail with id" in err


def test_retry_of_a_mail_that_now_passes_imports_it(
        setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    store: QuarantineStore = setup["quarantine"]
    raw = (b"From: Ann <ann@example.org>\r\nTo: support@desk.example.org\r\n"
           b"Subject: Screen flickers\r\nMessage-ID: <q2@example.org>\r\n\r\nPlease.\r\n")
    entry = store.put(raw, code="unrouted", reason="no ticket type", source="support", key="2")
    code, out, err = run_cli(capsys, "mail", "quarantine", "retry", entry.id, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["action"] == "new-ticket" and "IT" in result["reason"]
    assert result["imported"] and store.list() == []
    ticket = setup["desk"].tickets.get(result["ticket"])
    assert ticket.subject == "Screen flickers" and ticket.requester.email == "ann@example.org"


def test_send_pending_without_our_address_says_which_setting(
        setup: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bare.toml"
    config.write_text("[mail]\n")
    code, _, err = run_cli(capsys, "--config", str(config), "mail", "send-pending", "--once")
    assert code != 0 and "mail.addresses" in err


def test_status_without_the_signing_key_still_shows_the_queue_and_says_why(
        setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    desk: SupportDesk = setup["desk"]
    ticket = desk.tickets.create("IT", "VPN down", "<p>help</p>", "bob@example.org")
    desk.messages.reply(ticket, "<p>Fixed.</p>")
    monkeypatch.delenv("GO_SUPPORT_MAIL_SECRET")
    code, out, err = run_cli(capsys, "mail", "status")
    assert code == 0, err
    assert "GO_SUPPORT_MAIL_SECRET is not set" in out and "1 due" in out


def test_a_quarantined_mail_fixed_by_the_settings_is_retried_into_one_ticket(
        setup: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The daemon quarantines a mail no type is set for; the sysadmin sets one and retries:
    it becomes a ticket (acknowledged once), the entry goes; the same mail quarantined and
    retried again is still that one ticket. ``mail status`` shows the mailbox's last mail."""
    from go_support.mail.sources import MaildirSource

    desk: SupportDesk = setup["desk"]
    store: QuarantineStore = setup["quarantine"]
    config = tmp_path / "go-support.toml"
    typed = config.read_text()
    config.write_text(typed.replace('type = "IT"\n', "").replace(
        "[mail]\n", f'[mail]\nstate_dir = "{tmp_path / "state"}"\n'))
    MaildirSource("support", tmp_path / "Maildir")
    raw = (b"From: Ann <ann@example.org>\r\nTo: support@desk.example.org\r\n"
           b"Subject: Screen flickers\r\nMessage-ID: <q3@example.org>\r\n\r\nPlease.\r\n")
    (tmp_path / "Maildir" / "new" / "1.eml").write_bytes(raw)
    code, _, err = run_cli(capsys, "daemon", "--once")
    assert code == 0, err
    assert "support new/1.eml: quarantine: no ticket type: mailbox 'support' has no type" in err
    assert "outbound: 0 sent, 0 failed, 0 deferred, 0 in their grace period" in err
    [entry] = store.list()
    assert entry.code == "unrouted"
    code, out, err = run_cli(capsys, "mail", "status", "--json")
    assert code == 0, err
    [box] = json.loads(out)["mailboxes"]
    assert box["lastSeen"]["action"] == "quarantine" and box["lastSeen"]["error"] is None
    assert json.loads(out)["quarantine"]["count"] == 1

    config.write_text(config.read_text().replace("[mail.mailboxes.support]\n",
                                                 '[mail.mailboxes.support]\ntype = "IT"\n'))
    code, out, err = run_cli(capsys, "mail", "quarantine", "retry", entry.id, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert (first["action"], first["imported"]) == ("new-ticket", True)
    assert store.list() == []
    [ack] = setup["smtp"].wait_for(1)
    assert ack.rcpt_tos == ["ann@example.org"]

    again = store.put(raw, code="unrouted", reason="delivered twice", source="support",
                      key="2.eml")
    code, out, err = run_cli(capsys, "mail", "quarantine", "retry", again.id)
    assert code == 0, err
    assert f"duplicate -> ticket {first['ticket']}" in out and "removed from the quarantine" in out
    tickets = desk.tickets.list().tickets
    assert [t.id for t in tickets] == [first["ticket"]]
    assert len(setup["smtp"].messages) == 1

    code, out, err = run_cli(capsys, "mail", "status")
    assert code == 0, err
    assert "support (maildir" in out and ", quarantine" in out and "Quarantine: 0 mail(s)" in out


def test_status_shows_a_mailbox_that_fails(setup: dict[str, Any], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A mailbox nobody answers on: the daemon logs it and goes on, ``mail status`` shows
    the error with the mailbox."""
    from tests._support import free_port

    config = tmp_path / "go-support.toml"
    config.write_text(config.read_text().replace(
        "[mail]\n", f'[mail]\nstate_dir = "{tmp_path / "state"}"\n') + f"""
[mail.mailboxes.down]
host = "127.0.0.1"
port = {free_port()}
security = "none"
user = "nobody@desk.example.org"
""")
    monkeypatch.setenv("GO_SUPPORT_MAILBOX_DOWN_PASSWORD", "a-password-never-logged")
    code, _, err = run_cli(capsys, "daemon", "--once")
    assert code == 0, err
    assert "down" in err and "a-password-never-logged" not in err
    code, out, err = run_cli(capsys, "mail", "status", "--json")
    assert code == 0, err
    boxes = {b["name"]: b for b in json.loads(out)["mailboxes"]}
    assert boxes["down"]["lastSeen"]["error"] and boxes["support"]["lastSeen"] is None
    code, out, err = run_cli(capsys, "mail", "status")
    assert "down (imap" in out and "error at" in out and "none seen yet" in out
