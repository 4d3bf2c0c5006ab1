"""The subject tag ``[#<ticket>]`` threads a mail that has no references only when its sender
belongs to the ticket: the requester, an address on the ticket's thread (From, To or Cc of a
mail stored on it), or an agent of the ticket's type. Anyone else opens a new ticket, so that
guessing a number gains nothing. On the emulator and (``[live]``) the real server."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from pathlib import Path

import pytest

from go_support.desk import SupportDesk
from go_support.jmap import GroupOfficeClient
from go_support.mail.config import MailboxSettings, MailSettings
from go_support.mail.pipeline import Intake
from go_support.mail.sources import MaildirSource
from tests._support import RecordingTransport
from tests.desk.conftest import FAST_RETRY, World, admin, cleanup, go_server, tag, world

__all__ = ["admin", "cleanup", "go_server", "tag", "world"]  # the fixtures this module uses


def a_mail(sender: str, subject: str, n: int, cc: str | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@example.com"
    if cc:
        mail["Cc"] = cc
    mail["Subject"] = subject
    mail["Message-ID"] = f"<tag-{n}-{abs(hash(sender))}@example.com>"
    mail.set_content(f"Message {n}.")
    return mail.as_bytes()


def test_who_may_follow_up_by_subject_tag(world: World, tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "go_support.mail")
    t = world.tag
    ann, bob, eve = (f"ann.{t}@example.com", f"bob.{t}@example.com", f"eve.{t}@example.com")
    agent_a, agent_b, stranger = (f"{name}.{t}@example.com"
                                  for name in ("agenta", "agentb", "stranger"))
    box = tmp_path / "Maildir"
    source = MaildirSource("box", box)
    settings = MailSettings(addresses=["support@example.com"], mailboxes={
        "box": MailboxSettings(kind="maildir", path=str(box), type=world.type_a.name)})
    recorder = RecordingTransport()
    with GroupOfficeClient(world.url, api_key=world.admin_token, retry=FAST_RETRY,
                           transport=recorder) as client:
        intake = Intake(SupportDesk(client, world.config), settings,
                        default_type=world.type_a.name)
        (box / "new" / "0.eml").write_bytes(a_mail(ann, f"Printer {t}", 0, cc=bob))
        (opened,) = intake.handle(source, source.fetch())
        ticket = opened.ticket_id
        assert opened.action == "new-ticket" and ticket is not None

        senders = {"ann": ann, "bob": bob, "agent_a": agent_a, "agent_b": agent_b,
                   "stranger": stranger, "eve": eve}
        for n, (name, address) in enumerate(senders.items(), start=1):
            (box / "new" / f"{name}.eml").write_bytes(
                a_mail(address, f"Re: [#{ticket}] Printer {t}", n))
        (box / "new" / "nothing.eml").write_bytes(a_mail(ann, "[#999999999] lost", 9))
        before = len(recorder.sent)
        got = {o.mail.key.split("/")[-1][:-4]: o for o in intake.handle(source,
                                                                         source.fetch())}
        requests = [[c[0] for c in body] for _, _, body in recorder.sent[before:]
                    if body]
    for name in ("ann", "bob", "agent_a"):
        assert (got[name].action, got[name].ticket_id) == ("follow-up", ticket), got[name]
        assert "belongs to it" in got[name].reason
    for name in ("agent_b", "stranger", "eve"):
        assert got[name].action == "new-ticket" and got[name].ticket_id != ticket, got[name]
        assert f"{senders[name]} does not belong to it" in got[name].reason
    assert got["nothing"].action == "new-ticket"
    assert "ticket 999999999, which does not exist" in got["nothing"].reason
    assert "does not belong to it" in caplog.text  # the log line says why
    # the tags cost no request of their own: their tickets, threads and the senders' groups
    # are read with the batch's first look-up
    assert {"Comment/get", "User/get", "Task/get"} <= set(requests[0])
    assert len(requests) <= 6, requests
