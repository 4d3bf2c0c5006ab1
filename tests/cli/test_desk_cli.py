"""The help-desk commands (types, categories, tickets) against the emulator.

Every command's happy path as a table and as ``--json``; bad input gives one line on stderr,
the documented exit code, and leaves Group-Office as it was; every command has ``--help``
with an example; the API key never appears in any output.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest

from go_support.cli import exitcodes
from go_support.cli.main import cli, exit_code_for, main
from go_support.desk import DeskConfig, InvalidPage, SupportDesk, Ticket, TicketType
from go_support.desk.names import LEGACY_TICKET_ID
from go_support.emulator import Emulator
from go_support.jmap import Batch, GroupOfficeClient
from go_support.migrations import install
from tests.jmap.conftest import RecordingTransport


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Env:
    """An emulator prepared by ``go-support install``, two types with an agent each."""

    url: str
    key: str
    config: Path
    admin: GroupOfficeClient
    desk: SupportDesk
    it: TicketType
    facilities: TicketType
    users: dict[str, str]
    capsys: pytest.CaptureFixture[str]
    outputs: list[str] = field(default_factory=list)

    def run(self, *argv: str, stdin: str | None = None,
            monkeypatch: pytest.MonkeyPatch | None = None, transport: Any = None) -> Result:
        if stdin is not None:
            assert monkeypatch is not None
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return self.bare("--config", str(self.config), "--url", self.url, "--api-key",
                         self.key, *argv, transport=transport)

    def bare(self, *argv: str, transport: Any = None) -> Result:
        with pytest.raises(SystemExit) as exc:
            main(list(argv), transport=transport)
        out, err = self.capsys.readouterr()
        code = exc.value.code
        result = Result(int(code if isinstance(code, int) else 1), out, err)
        self.outputs.append(out + err)
        assert self.key not in out + err  # secrets are never printed
        return result

    def ok(self, *argv: str, **kwargs: Any) -> Result:
        result = self.run(*argv, **kwargs)
        assert result.code == exitcodes.OK, result.err
        assert result.err == ""
        return result

    def ticket(self, subject: str = "Printer jammed", type_: str = "IT support",
               requester: str = "Ann Smith <ann@example.com>") -> Ticket:
        return self.desk.tickets.create(type_, subject, f"<p>{subject}: help</p>", requester)

    def counts(self) -> tuple[int, int, int, int]:
        """Tasks, comments, task lists and categories: what a bad command must not add."""
        batch = Batch()
        calls = [batch.call("Task/query", {"filter": {}}),
                 batch.call("Comment/query", {"filter": {"entity": "Task"}}),
                 batch.call("TaskList/query", {"filter": {}}),
                 batch.call("TaskCategory/query", {"filter": {}})]
        responses = self.admin.execute(batch)
        a, b, c, d = (len(responses.get(call)["ids"]) for call in calls)
        return a, b, c, d


@pytest.fixture
def env(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Iterator[Env]:
    emu = Emulator()
    server = emu.start()
    config = tmp_path / "go-support.toml"
    config.write_text('[desk]\ncustomer_groups = ["Staff"]\n')
    try:
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as admin:
            install(admin)
            users: dict[str, str] = {}
            groups = {name: admin.groups.create({"name": name})
                      for name in ("IT agents", "Facilities agents", "Staff")}
            for username, name, group in (("alice", "Alice Martin", "IT agents"),
                                          ("frank", "Frank Nowak", "Facilities agents"),
                                          ("ann", "Ann Smith", "Staff")):
                users[username] = admin.users.create({
                    "username": username, "displayName": name,
                    "email": f"{username}@example.com",
                    "groups": [2, 3, int(groups[group])]})
            desk = SupportDesk(admin, DeskConfig())
            it = desk.types.create("IT support", "Computers", agents=["IT agents"])
            facilities = desk.types.create("Facilities", agents=["Facilities agents"])
            yield Env(server.base_url, server.admin_api_key, config, admin, desk, it,
                      facilities, users, capsys)
    finally:
        emu.stop()


def _refused(result: Result, *fragments: str, code: int = exitcodes.REFUSED) -> None:
    assert result.code == code, (result.code, result.out, result.err)
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("go-support: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


# --- help -------------------------------------------------------------------------------------


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # through click: the commands load when asked for
        command = group.get_command(ctx, name)
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
    return paths


DESK_COMMANDS = [
    ("types",), ("types", "list"), ("types", "create"), ("types", "rename"),
    ("types", "archive"), ("types", "restore"), ("categories",), ("categories", "list"),
    ("categories", "create"), ("tickets",), ("tickets", "list"), ("tickets", "show"),
    ("tickets", "create"), ("tickets", "reply"), ("tickets", "note"), ("tickets", "assign"),
    ("tickets", "status"), ("tickets", "close"),
]


def test_the_desk_commands_are_registered() -> None:
    assert set(DESK_COMMANDS) <= set(_command_paths(cli))


@pytest.mark.parametrize("path", _command_paths(cli), ids=" ".join)
def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str],
                                                path: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*path, "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    assert "Example" in out
    assert f"go-support {' '.join(path)}" in out  # the example uses the command itself


# --- types and categories -----------------------------------------------------------------------


def test_types_list_create_rename_archive_restore(env: Env) -> None:
    listed = env.ok("types", "list").out
    assert "IT support" in listed and "Facilities" in listed
    assert "IT agents" in listed and "Staff" in listed  # agent groups, customer groups
    data = env.ok("types", "list", "--json").json()
    assert [t["name"] for t in data] == ["Facilities", "IT support"]
    (group_id,) = env.it.acl
    assert data[1]["agentGroups"] == [{"id": group_id, "name": "IT agents"}]
    assert data[1]["customerGroups"] == ["Staff"]

    created = env.ok("types", "create", "Printers", "--description", "All printers",
                     "--agents", "IT agents").out
    assert "Created ticket type 'Printers'" in created and "agents: IT agents" in created
    renamed = env.ok("--json", "types", "rename", "Printers", "Old printers").json()
    assert renamed["name"] == "Old printers" and renamed["archived"] is False
    assert "Archived ticket type 'Old printers'" in env.ok("types", "archive",
                                                           "old printers").out
    assert "Old printers" not in env.ok("types", "list").out
    assert "Old printers (archived)" in env.ok("types", "list", "--archived").out
    restored = env.ok("types", "restore", renamed["id"], "--json").json()
    assert restored["archived"] is False


def test_categories_list_and_create(env: Env) -> None:
    assert "No categories yet" in env.ok("categories", "list").out
    assert "Created category 'Urgent'" in env.ok("categories", "create", "Urgent").out
    data = env.ok("categories", "create", "Printer", "--type", "IT support", "--json").json()
    assert data["name"] == "Printer" and data["typeId"] == env.it.id
    assert data["type"] == "IT support"
    table = env.ok("categories", "list").out
    assert table.index("Urgent") < table.index("Printer")  # global ones first
    listed = env.ok("categories", "list", "--type", "Facilities", "--json").json()
    assert [(c["name"], c["type"]) for c in listed] == [("Urgent", None)]


def test_managers_only_and_taken_names(env: Env) -> None:
    before = env.counts()
    _refused(env.run("types", "create", "it SUPPORT"), "already", "IT support")
    _refused(env.run("types", "create", " "), "needs a name")
    _refused(env.run("types", "rename", "Nope", "X"), "no ticket type 'Nope'")
    _refused(env.run("categories", "create", "X", "--type", "Nope"), "'Nope'")
    assert env.counts() == before


# --- tickets: create, show, list ----------------------------------------------------------------


def test_create_then_show(env: Env, tmp_path: Path) -> None:
    env.desk.categories.create("Printer", "IT support")
    log = tmp_path / "log.txt"
    log.write_text("paper jam at tray 2\n")
    out = env.ok("tickets", "create", "--type", "it support", "--subject", "Printer jammed",
                 "--requester", "ann@example.com", "--category", "Printer", "--message",
                 "It eats every sheet.\n\nTray 2 <b>too</b>.", "--attach", str(log)).out
    assert out.startswith("Created ticket ")
    ticket_id = out.split()[2]
    assert f"for Ann Smith <ann@example.com> (user {env.users['ann']})" in out
    shown = env.ok("tickets", "show", ticket_id).out
    assert shown.splitlines()[0] == f"Ticket {ticket_id}: Printer jammed"
    assert "status:     Needs action" in shown and "categories: Printer" in shown
    assert "Tray 2 <b>too</b>." in shown  # plain text, escaped on the way in
    assert "attachment: log.txt" in shown
    ticket = env.desk.tickets.get(ticket_id)
    assert ticket.messages is not None
    assert ticket.messages[0].html == (
        "<p>It eats every sheet.</p><p>Tray 2 &lt;b&gt;too&lt;/b&gt;.</p>")
    blob = ticket.messages[0].attachments[0].blob_id
    assert env.admin.download_blob(blob) == b"paper jam at tray 2\n"


def test_create_json_html_stdin_and_file(env: Env, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = env.ok("--json", "tickets", "create", "--type", "Facilities", "--subject",
                  "Heating off", "--requester", '"Carol Jones" <carol@example.com>', "--html",
                  "--message", "<p>It is <b>cold</b></p>", "--agent",
                  "frank@example.com").json()
    assert data["subject"] == "Heating off" and data["status"] == "needs-action"
    assert data["requester"] == {"id": None, "email": "carol@example.com",
                                 "name": "Carol Jones"}
    assert data["agent"]["id"] == env.users["frank"]
    assert data["messages"][0]["html"] == "<p>It is <b>cold</b></p>"
    assert data["messages"][0]["mailStatus"] == "received"

    piped = env.ok("tickets", "create", "--type", "Facilities", "--subject", "Chair",
                   "--requester", env.users["ann"], "--json", stdin="From stdin\n",
                   monkeypatch=monkeypatch).json()
    assert piped["messages"][0]["text"] == "From stdin"
    body = tmp_path / "body.txt"
    body.write_text("From a file")
    filed = env.ok("tickets", "create", "--type", "Facilities", "--subject", "Lamp",
                   "--requester", "dave@example.com", "--message-file", str(body),
                   "--json").json()
    assert filed["messages"][0]["html"] == "<p>From a file</p>"


def test_show_lists_messages_in_date_order_with_private_notes_marked(env: Env) -> None:
    ticket = env.ticket()
    alice = env.desk.as_user(env.users["alice"])
    alice.messages.reply(ticket, "<p>On my way</p>")
    alice.messages.note(ticket, "<p>Part no. 4711</p>")
    out = env.ok("tickets", "show", ticket.id).out
    first, reply, note = (out.index(t) for t in ("Printer jammed: help", "On my way",
                                                 "Part no. 4711"))
    assert first < reply < note
    assert "[1] " in out and "— from the requester" in out
    assert "— reply, to be mailed to the requester" in out
    note_header = out[:note].rstrip().splitlines()[-1]
    assert "[3] " in note_header and "PRIVATE NOTE" in note_header
    data = env.ok("tickets", "show", ticket.id, "--json").json()
    assert [m["private"] for m in data["messages"]] == [False, False, True]
    assert [m["text"] for m in data["messages"]] == ["Printer jammed: help", "On my way",
                                                     "Part no. 4711"]
    assert data["agent"]["id"] == env.users["alice"] and data["status"] == "in-progress"
    assert "<p>Part no. 4711</p>" in env.ok("tickets", "show", ticket.id, "--html").out


def test_list_table_json_and_paging(env: Env) -> None:
    assert env.ok("tickets", "list").out.strip() == "No tickets."
    for n in range(3):
        env.ticket(f"Ticket {n}")
    out = env.ok("tickets", "list", "--per-page", "2").out
    lines = out.splitlines()
    assert lines[0].split() == ["id", "type", "status", "subject", "requester", "agent",
                                "created"]
    assert "Ticket 2" in lines[2] and "Ticket 1" in lines[3]  # newest first
    assert lines[-1] == "Tickets 1-2 of 3 (page 1 of 2); next: --page 2."
    data = env.ok("--json", "tickets", "list", "--per-page", "2", "--page", "2").json()
    assert data["total"] == 3 and data["page"] == 2 and data["perPage"] == 2
    assert data["hasMore"] is False
    assert [t["subject"] for t in data["tickets"]] == ["Ticket 0"]
    assert data["tickets"][0]["requester"]["email"] == "ann@example.com"


def test_list_filters(env: Env) -> None:
    printer = env.desk.categories.create("Printer", "IT support")
    a = env.desk.tickets.create("IT support", "Printer jammed", "<p>a</p>", "ann@example.com",
                                category=printer)
    b = env.desk.tickets.create("IT support", "VPN down", "<p>b</p>", "bob@example.com",
                                agent=env.users["alice"])
    c = env.desk.tickets.create("Facilities", "Heating off", "<p>c</p>", "bob@example.com")
    env.desk.tickets.set_status(b, "in-progress")
    env.admin.tasks.update(c.id, {f"customFields/{LEGACY_TICKET_ID}": "L-77"})

    def ids(*argv: str) -> list[str]:
        return [t["id"] for t in env.ok("tickets", "list", "--json", *argv).json()["tickets"]]

    assert ids() == [c.id, b.id, a.id]
    assert ids("--type", "Facilities") == [c.id]
    assert ids("--type", "Facilities", "--type", env.it.id) == [c.id, b.id, a.id]
    assert ids("--status", "In progress") == [b.id]
    assert ids("--status", "needs-action", "--status", "IN_PROGRESS") == [c.id, b.id, a.id]
    assert ids("--category", "Printer") == [a.id]
    assert ids("--requester", "bob@example.com") == [c.id, b.id]
    assert ids("--requester", env.users["ann"]) == [a.id]
    assert ids("--agent", env.users["alice"]) == [b.id]
    assert ids("--agent", "alice@example.com") == [b.id]
    assert ids("--agent", "none") == [c.id, a.id]
    assert ids("--agent", "me") == []  # the API key's user (the admin) has none
    assert ids("--requester", "me") == []
    assert ids("--text", "vpn") == [b.id]
    assert ids("--legacy-id", "L-77") == [c.id]
    assert ids("--created-after", "2000-01-01") == [c.id, b.id, a.id]
    assert ids("--created-before", "2000-01-01T00:00:00Z") == []
    assert ids("--modified-after", "2000-01-01T10:00+02:00", "--modified-before",
               "2999-01-01") == [c.id, b.id, a.id]


# --- tickets: changes -----------------------------------------------------------------------------


def test_reply_note_assign_status_close(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    ticket = env.ticket()
    out = env.ok("tickets", "reply", ticket.id, "--message", "Restart it, please").out
    assert "will be mailed to Ann Smith <ann@example.com>" in out
    assert "now 'In progress'" in out
    data = env.ok("tickets", "reply", ticket.id, "-m", "Done", "--status", "completed",
                  "--json").json()
    assert data["message"]["mailStatus"] == "pending" and not data["message"]["private"]
    assert data["ticket"]["status"] == "completed"

    note = env.ok("tickets", "note", ticket.id, stdin="Called them", monkeypatch=monkeypatch)
    assert "Private note" in note.out and "never sent to the requester" in note.out
    assert "now 'Completed'" in note.out  # a note changes nothing
    messages = env.desk.tickets.get(ticket.id).messages or ()
    assert [m.private for m in messages] == [False, False, False, True]

    out = env.ok("tickets", "assign", ticket.id, "alice@example.com").out
    assert "Alice Martin" in out and "status 'Completed'" in out
    data = env.ok("tickets", "assign", ticket.id, env.users["alice"], "--json").json()
    assert data["agent"]["id"] == env.users["alice"]
    data = env.ok("tickets", "assign", ticket.id, "--unassign", "--json").json()
    assert data["agent"] is None and data["status"] == "completed"

    out = env.ok("tickets", "status", ticket.id, "Needs action").out
    assert f"Ticket {ticket.id} updated: status 'Needs action'" in out
    assert env.ok("tickets", "status", ticket.id, "in-progress", "--json").json()[
        "status"] == "in-progress"

    out = env.ok("tickets", "close", ticket.id).out
    assert "closed: status 'Completed'" in out
    data = env.ok("tickets", "close", ticket.id, "--status", "cancelled", "--feedback",
                  "We could not reproduce it.", "--json").json()
    assert data["status"] == "cancelled"
    last = (env.desk.tickets.get(ticket.id).messages or ())[-1]
    assert last.html == "<p>We could not reproduce it.</p>" and last.mail_status == "pending"


# --- bad input --------------------------------------------------------------------------------


def test_bad_input_is_one_line_exit_6_and_changes_nothing(env: Env) -> None:
    ticket = env.ticket()
    plain_list = env.admin.task_lists.create({"name": "Not a type"})
    plain = env.admin.tasks.create({"tasklistId": plain_list, "title": "not a ticket"})
    before = env.counts()
    create = ("tickets", "create", "--type", "IT support", "--subject", "s", "--requester",
              "ann@example.com", "--message", "m")
    cases: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
        (("tickets", "create", "--type", "Nope", "--subject", "s", "--requester",
          "ann@example.com", "-m", "m"), ("there is no ticket type 'Nope'",)),
        (("tickets", "list", "--type", "Nope"), ("'Nope'",)),
        (("tickets", "list", "--status", "done"), ("there is no status 'done'",)),
        (("tickets", "status", ticket.id, "done"), ("there is no status 'done'",)),
        (("tickets", "close", ticket.id, "--status", "finished"), ("'finished'",)),
        (("tickets", "close", ticket.id, "--status", "in-progress"), ("closing status",)),
        (("tickets", "reply", ticket.id, "-m", "x", "--status", "later"), ("'later'",)),
        (("tickets", "show", "999999"), ("there is no ticket 999999",)),
        (("tickets", "show", "abc"), ("'abc' is not a ticket id",)),
        (("tickets", "show", plain), (f"task {plain} is not a ticket",)),
        (("tickets", "reply", plain, "-m", "x"), (f"task {plain} is not a ticket",)),
        (("tickets", "note", "999999", "-m", "x"), ("no ticket 999999",)),
        (("tickets", "assign", "999999", "--unassign"), ("no ticket 999999",)),
        (("tickets", "status", "999999", "completed"), ("no ticket 999999",)),
        (("tickets", "close", "999999"), ("no ticket 999999",)),
        ((*create[:5], "  ", *create[6:]), ("the subject must not be empty",)),
        ((*create[:7], "bob@", *create[8:]), ("'bob@' is not an e-mail address",)),
        ((*create[:7], "not an address", *create[8:]), ("'not an address'",)),
        ((*create[:9], ""), ("the first message is empty",)),
        ((*create, "--category", "Nope"), ("no category 'Nope'",)),
        ((*create, "--agent", "frank@example.com"), ("not an agent of type 'IT support'",)),
        ((*create, "--agent", "nobody@example.com"), ("'nobody@example.com'",)),
        (("tickets", "assign", ticket.id, "frank@example.com"), ("not an agent",)),
        (("tickets", "reply", ticket.id, "--html", "-m", "<p> </p>"), ("empty",)),
        (("tickets", "list", "--category", "Nope"), ("no category 'Nope'",)),
    ]
    for argv, fragments in cases:
        _refused(env.run(*argv), *fragments)
    assert env.counts() == before
    assert env.desk.tickets.get(ticket.id).status.value == "needs-action"


def test_usage_errors_exit_2(env: Env) -> None:
    ticket = env.ticket()
    before = env.counts()
    for argv in (
        ("tickets", "create", "--type", "IT support", "--requester", "ann@example.com",
         "-m", "m"),                                          # no --subject
        ("tickets", "create", "--type", "IT support", "--subject", "s", "--requester",
         "ann@example.com"),                                  # no message (stdin unreadable)
        ("tickets", "create", "--type", "IT support", "--subject", "s", "--requester",
         "ann@example.com", "-m", "m", "--attach", "/no/such/file"),
        ("tickets", "assign", ticket.id),                     # neither AGENT nor --unassign
        ("tickets", "assign", ticket.id, "7", "--unassign"),
        ("tickets", "list", "--per-page", "500"),
        ("tickets", "list", "--page", "0"),
        ("tickets", "list", "--created-after", "yesterday"),
        ("tickets", "close", ticket.id, "--feedback-mode", "loud"),
    ):
        result = env.run(*argv)
        assert result.code == exitcodes.USAGE, (argv, result.err)
        assert result.out == ""
    assert env.counts() == before


def test_not_installed_says_to_run_install(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    config = tmp_path / "go-support.toml"
    config.write_text("")
    emu = Emulator()
    server = emu.start()
    try:
        for argv in (("tickets", "list"), ("types", "list"), ("tickets", "show", "1"),
                     ("categories", "list")):
            with pytest.raises(SystemExit) as exc:
                main(["--config", str(config), "--url", server.base_url, "--api-key",
                      server.admin_api_key, *argv])
            out, err = capsys.readouterr()
            code = exc.value.code
            _refused(Result(code if isinstance(code, int) else 1, out, err),
                     "go-support install")
            assert server.admin_api_key not in out + err
    finally:
        emu.stop()


def test_connection_and_credentials(env: Env) -> None:
    result = env.bare("--config", str(env.config), "--url", env.url, "--api-key",
                      "wrong-key-123", "tickets", "list")
    _refused(result, code=exitcodes.AUTHENTICATION)
    assert "wrong-key-123" not in result.out + result.err
    result = env.bare("--config", str(env.config), "--url", "http://127.0.0.1:9",
                      "--api-key", env.key, "--timeout", "2", "tickets", "list")
    _refused(result, code=exitcodes.CONNECTION)


def test_the_api_key_is_never_printed(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also when it comes from the environment (``run`` checks every output)."""
    monkeypatch.setenv("GO_SUPPORT_API_KEY", env.key)
    monkeypatch.setenv("GO_SUPPORT_URL", env.url)
    ticket = env.ticket()
    for argv in (("tickets", "list"), ("--json", "tickets", "show", ticket.id),
                 ("types", "list", "--json"), ("tickets", "show", "999999")):
        env.bare("--config", str(env.config), *argv)
    assert len(env.outputs) == 4 and all(env.key not in text for text in env.outputs)


# --- what the desk now does for the commands ------------------------------------------------------


def _methods(recorder: RecordingTransport) -> list[list[str]]:
    """The JMAP methods of each API request."""
    return [[call[0] for call in body] for body in recorder.api_requests()]


def test_commands_spend_no_request_of_their_own(env: Env) -> None:
    """Replies and notes show the ticket as the writing request left it; addresses are looked
    up by the desk in the requests it makes anyway."""
    ticket = env.ticket()
    recorder = RecordingTransport()
    out = env.ok("tickets", "reply", ticket.id, "-m", "On my way", transport=recorder).out
    assert "now 'In progress', agent: " in out
    assert len(recorder.api_requests()) == 2  # the checks (with the layout), the change
    assert _methods(recorder)[1].count("Task/get") == 1  # the ticket, read back once
    recorder.clear()
    data = env.ok("tickets", "note", ticket.id, "-m", "Part 4711", "--json",
                  transport=recorder).json()
    assert data["message"]["private"] and data["ticket"]["status"] == "in-progress"
    assert data["ticket"]["agent"]["name"]
    assert "messages" not in data["ticket"]
    assert len(recorder.api_requests()) == 2

    recorder.clear()
    out = env.ok("tickets", "assign", ticket.id, "alice@example.com", transport=recorder).out
    assert "Alice Martin" in out
    assert len(recorder.api_requests()) == 2
    assert {"Task/get", "User/query"} <= set(_methods(recorder)[0])  # read with the ticket
    recorder.clear()
    listed = env.ok("tickets", "list", "--agent", "alice@example.com", "--json",
                    transport=recorder).json()
    assert [t["id"] for t in listed["tickets"]] == [ticket.id]
    assert len(recorder.api_requests()) == 2  # the layout, then the page with the look-up
    recorder.clear()
    data = env.ok("types", "list", "--json", transport=recorder).json()
    assert [t["customerGroups"] for t in data] == [["Staff"], ["Staff"]]
    assert len(recorder.api_requests()) == 2  # the types, the names of their groups


def test_unknown_agents_by_address_are_refused_by_the_desk(env: Env) -> None:
    ticket = env.ticket()
    before = env.counts()
    for argv in (("tickets", "assign", ticket.id, "nobody@example.com"),
                 ("tickets", "list", "--agent", "nobody@example.com")):
        _refused(env.run(*argv), "the agent 'nobody@example.com': there is no Group-Office "
                 "user with that address")
    assert env.counts() == before


def test_unknown_types_with_an_admin_key_say_no_more(env: Env) -> None:
    result = env.run("tickets", "list", "--type", "Nope")
    _refused(result, "there is no ticket type 'Nope'; the types are 'Facilities', 'IT support'")
    assert "own API key" not in result.err


def test_a_bad_page_from_the_library_is_exit_6() -> None:
    """The command checks --page and --per-page itself (usage, exit 2); the desk's own
    refusal is a desk error like any other."""
    assert exit_code_for(InvalidPage("the page number 0 is not a page")) == exitcodes.REFUSED


def test_the_exit_codes_keep_their_lines_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines()]
    start = lines.index("Exit codes:")
    table = [line.strip() for line in exitcodes.TABLE.splitlines()[1:]]
    assert lines[start + 1:start + 1 + len(table)] == table
    assert "\b" not in out


def test_reply_with_nothing_on_standard_input_is_a_usage_error(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tickets reply 1 </dev/null``: no message given, exit 2 (how the command was used)."""
    ticket = env.ticket()
    before = env.counts()
    for command in ("reply", "note"):
        result = env.run("tickets", command, ticket.id, stdin="", monkeypatch=monkeypatch)
        assert result.code == exitcodes.USAGE, result.err
        assert result.out == ""
        assert "no message" in result.err and "--message" in result.err
    assert env.counts() == before


def _key_for(env: Env, username: str, groups: list[int]) -> str:
    user_id = env.admin.users.create({"username": username, "displayName": username.title(),
                                      "email": f"{username}@example.com", "groups": groups})
    created = env.admin.keys.set(create={"k": {"name": username, "userId": user_id}})
    return str(created.created["k"]["accessToken"])


def test_empty_types_list_suggests_creating_one_to_managers_only(env: Env) -> None:
    for ticket_type in (env.it, env.facilities):
        env.desk.types.archive(ticket_type)
    assert "create one with go-support types create NAME" in env.ok("types", "list").out

    key = _key_for(env, "zed", [2, 3])  # a customer: no manager, no list readable
    result = env.bare("--config", str(env.config), "--url", env.url, "--api-key", key,
                      "types", "list")
    assert result.code == exitcodes.OK, result.err
    assert "No ticket types are visible to this user" in result.out
    assert "types create" not in result.out
