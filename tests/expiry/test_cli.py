"""``go-support expire`` end to end against the emulator: the report, ``--json``,
``--explain``, the exit codes (0, 3, 7), and Group-Office lost halfway through a run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import requests

from go_support.cli import exitcodes
from go_support.desk import Status, Ticket
from go_support.expiry.templates import find_marker
from go_support.jmap.transport import HttpResponse, RequestsTransport, _describe_failure
from tests.cli import test_desk_cli
from tests.cli.test_desk_cli import Env

env = test_desk_cli.env  # the fixture: an emulator with two types

DAY = timedelta(days=1)


def quiet(env: Env, days: float, subject: str = "Printer jammed") -> Ticket:
    moment = datetime.now(UTC)
    ticket = env.desk.tickets.create("IT support", subject, "<p>help</p>",
                                     "Ann Smith <ann@example.com>", date=moment - 40 * DAY)
    env.desk.messages.reply(ticket, "<p>Try again?</p>", date=moment - days * DAY)
    return ticket


def configure(env: Env, text: str) -> None:
    env.config.write_text('[desk]\ncustomer_groups = ["Staff"]\n' + text)


def feedback_of(env: Env, ticket: Ticket) -> list[str]:
    found = env.desk.tickets.get(ticket.id, with_messages=True)
    return [m.html for m in found.messages or () if find_marker(m.html)]


def test_dry_run_run_again_and_explain(env: Env) -> None:
    due, fresh = quiet(env, 12), quiet(env, 2, "Mouse")
    configure(env, '[expiry]\ndays = 10\nfeedback = "public"\n'
                   'feedback_template = "Closed {ticket} for {requester}."\n')
    dry = env.ok("expire", "--dry-run")
    assert "Dry run: nothing was changed." in dry.out
    assert f"ticket {due.id} (Printer jammed): would be closed:" in dry.out
    assert f"ticket {fresh.id} " not in dry.out
    data = env.ok("expire", "--dry-run", "--json").json()
    assert [t["ticket"] for t in data["tickets"]] == [due.id] and data["dryRun"] is True
    assert env.desk.tickets.get(due.id).status is Status.IN_PROGRESS

    real = env.ok("expire")
    assert f"ticket {due.id} (Printer jammed): closed:" in real.out
    assert "1 ticket(s): 1 closed" in real.out
    assert env.desk.tickets.get(due.id).status is Status.COMPLETED
    (text,) = feedback_of(env, due)
    assert f"Closed {due.id} for Ann Smith." in text
    assert "No ticket to warn or close." in env.ok("expire").out

    explained = env.ok("expire", "--explain", fresh.id, "--explain", due.id).out
    assert f"ticket {fresh.id} (Mouse): skipped: the agent's last message" in explained
    assert "closes on" in explained
    assert f"ticket {due.id} (Printer jammed): skipped: its status is Completed" in explained


def test_off_and_bad_settings(env: Env) -> None:
    assert "Auto-close is off" in env.ok("expire").out
    for text, key in (("days = -1", "expiry.days: must be 0 or more"),
                      ('days = "ten"', "expiry.days: must be a whole number"),
                      ('days = 5\nexcluded_types = ["Nope"]',
                       "expiry.excluded_types: there is no ticket type 'Nope'"),
                      ('days = 5\nexcluded_categories = ["Nope"]',
                       "expiry.excluded_categories: there is no category 'Nope'"),
                      ('days = 5\nwarning_template = "{when}"',
                       "expiry.warning_template: unknown placeholder {when}")):
        configure(env, f"[expiry]\n{text}\n")
        result = env.run("expire", "--dry-run")
        assert result.code == exitcodes.CONFIG, (text, result.err)
        assert key in result.err and str(env.config) in result.err
    configure(env, "[expiry]\ndays = 5\n")
    assert env.run("expire", "--now", "2030-01-01").code == exitcodes.USAGE


class LostAfterWriting(RequestsTransport):
    """Group-Office goes away halfway: the first request that writes comments is delivered
    and carried out, but its answer never arrives, and nothing after it gets through."""

    def __init__(self) -> None:
        super().__init__()
        self.gone = False

    def send(self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None,
             timeout: float) -> HttpResponse:
        if self.gone:
            raise _describe_failure(requests.ConnectionError("Connection refused"), method,
                                    url, timeout)
        response = super().send(method, url, headers=headers, body=body, timeout=timeout)
        if body and b'"Comment/set"' in body:
            self.gone = True
            raise _describe_failure(requests.ConnectionError("Connection reset by peer"),
                                    method, url, timeout)
        return response


def test_group_office_lost_halfway_then_the_next_run(env: Env) -> None:
    tickets = [quiet(env, 12, f"Ticket {n}") for n in range(3)]
    configure(env, '[expiry]\ndays = 10\nfeedback = "public"\n')
    lost = env.run("expire", "--json", transport=LostAfterWriting())
    assert lost.code == exitcodes.PARTIAL, lost.err
    report = lost.json()
    assert report["failed"] == 3
    assert all(t["result"] == "unknown" and "next run" in t["error"] for t in report["tickets"])
    # the next run finds each ticket closed with its one feedback: nothing half-done, nothing
    # written twice
    assert env.ok("expire", "--json").json()["tickets"] == []
    for ticket in tickets:
        assert env.desk.tickets.get(ticket.id).status is Status.COMPLETED
        assert len(feedback_of(env, ticket)) == 1


def test_injected_deadlocks_leave_nothing_half_done() -> None:
    """Group-Office failing /set calls as deadlocked (half of them): each run reports what
    failed, no ticket is ever closed without its feedback or given feedback while left open,
    and runs repeated until nothing fails close every ticket with one feedback."""
    from go_support.desk import DeskConfig, SupportDesk
    from go_support.emulator import Emulator
    from go_support.expiry.config import ExpirySettings
    from go_support.expiry.runner import run
    from go_support.jmap import GroupOfficeClient
    from go_support.migrations import install

    emu = Emulator(fail_seed=3)
    server = emu.start()
    try:
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as client:
            install(client)
            desk = SupportDesk(client, DeskConfig())
            desk.types.create("IT support")
            moment = datetime.now(UTC)
            tickets = []
            for n in range(12):
                ticket = desk.tickets.create("IT support", f"T{n}", "<p>help</p>",
                                             "ann@example.com", date=moment - 40 * DAY)
                desk.messages.reply(ticket, "<p>Try again?</p>", date=moment - 12 * DAY)
                tickets.append(ticket)
            emu.faults.fraction = 0.5
            settings = ExpirySettings(days=10, feedback="public")
            failures = []
            for _ in range(12):
                report = run(SupportDesk(client, DeskConfig()), settings, now=moment)
                failures.append(len(report.failed))
                for ticket in tickets:
                    found = desk.tickets.get(ticket.id, with_messages=True)
                    written = [m for m in found.messages or () if find_marker(m.html)]
                    assert len(written) <= 1
                    assert (found.status is Status.COMPLETED) == bool(written), ticket.id
                if not report.failed and not report.outcomes:
                    break
            assert emu.faults.injected > 0, failures  # failed calls, retried or reported
            assert all(desk.tickets.get(t.id).status is Status.COMPLETED for t in tickets)
    finally:
        emu.stop()
