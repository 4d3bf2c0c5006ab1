"""The go-support command: output, --json, and one clear line plus an exit code on bad input."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from go_support.cli import exitcodes
from go_support.jmap import GroupOfficeClient
from tests._support import run_cli
from tests.help.conftest import Browser


class _Canned(BaseHTTPRequestHandler):
    body = b""
    content_type = "text/html"
    declared_length: int | None = None

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        length = self.declared_length if self.declared_length is not None else len(self.body)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(body: bytes, content_type: str, declared_length: int | None = None) -> Iterator[str]:
    handler = type(
        "H", (_Canned,),
        {"body": body, "content_type": content_type, "declared_length": declared_length},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def html_server() -> Iterator[str]:
    yield from _serve(b"<html><body>Welcome to nginx!</body></html>", "text/html")


@pytest.fixture
def truncated_server() -> Iterator[str]:
    yield from _serve(b'{"version": "26.0.42", "capabil', "application/json", 500)


def test_demo_shows_the_desk_on_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "demo")
    assert code == exitcodes.OK, err
    assert "prepared with go-support install" in out
    assert "IT support" in out and "Facilities" in out  # two ticket types
    table = out[out.index("id  type"):out.index("Ticket 1:")]
    rows = table.strip().splitlines()[2:]
    assert len(rows) == 5  # four opened, one from a sample mail
    # the bounce of Alice's answer leaves the printer ticket needing action, still hers
    assert any("Printer on floor 2 is jammed" in r and "Needs action" in r
               and "Alice Martin" in r for r in rows)
    assert any("Monitor flickers" in r and "Needs action" in r for r in rows)
    assert any("Cannot log in to the VPN" in r and "Completed" in r for r in rows)
    assert any("New desk chair for Dave" in r and "Needs action" in r
               and "Frank Nowak" in r for r in rows)
    shown = out[out.index("Ticket 1:"):]
    assert "requester:  Ann Smith <ann@example.com>" in shown
    assert "Hi, the printer" in shown and "— from the requester" in shown
    # the answer was mailed, then bounced (a sample mail below): the ticket says so
    assert "I am on my way" in shown and "— reply, mailing it FAILED" in shown
    note = shown[:shown.index("Roller part no. 4711")].rstrip().splitlines()[-1]
    assert "PRIVATE NOTE" in note and "Alice Martin" in note  # written with her own key
    assert "admin API key" not in out  # only --keep-running prints the key
    mailed = out[out.index("through an SMTP sink at"):]  # the answers left over real SMTP
    assert "to ann@example.com: Re: [#1] Printer on floor 2 is jammed" in mailed
    assert "to bob@example.com" in mailed and "to carol@example.com" in mailed
    assert "to dave@example.com" not in mailed  # no answer on his ticket
    mail = out[out.index("Mail into tickets"):]
    assert "new-ticket -> ticket 5" in mail and "follow-up -> ticket 5" in mail
    assert "quarantine: an automatic reply" in mail and "bounce -> ticket 1" in mail


@pytest.mark.parametrize("as_json", [False, True])
def test_demo_keep_running_prints_url_and_admin_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, as_json: bool
) -> None:
    from go_support.cli import demo

    served: list[str] = []

    def check_it_serves() -> None:
        out = capsys.readouterr()
        text = out.err if as_json else out.out
        line = next(x for x in text.splitlines() if x.startswith("Serving at "))
        url, key = line.removeprefix("Serving at ").split("; admin API key: ")
        with GroupOfficeClient(url, api_key=key) as client:  # the emulator still answers
            served.append(client.session.version)
        help_line = next(x for x in text.splitlines() if x.startswith("Help page for end users"))
        found = re.fullmatch(r"Help page for end users at (\S+)/ : sign in as (\S+) with the "
                             r"password (\S+)", help_line)
        assert found is not None, help_line
        browser = Browser(found.group(1))  # Ann sees her ticket and its reply, not the note
        page = browser.sign_in(found.group(2), found.group(3))
        assert "Printer on floor 2 is jammed" in page.text
        ticket = re.search(r'href="(/requests/\d+)">Printer', page.text)
        assert ticket is not None
        shown = browser.get(ticket.group(1)).text
        assert "I am on my way" in shown and "Roller part" not in shown
        served.append("help")
        print(out.out, end="")  # keep stdout for the assertions below

    monkeypatch.setattr(demo, "wait_forever", check_it_serves)
    code, out, _ = run_cli(capsys, *(["--json"] if as_json else []), "demo", "--keep-running")
    assert code == exitcodes.OK
    assert served == ["26.0.42", "help"]
    if as_json:
        assert json.loads(out)["adminApiKey"]  # stdout stays one JSON document


def test_demo_json_is_parseable_and_complete(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--json", "demo")
    assert code == exitcodes.OK
    data = json.loads(out)
    assert data["url"].startswith("http://127.0.0.1:")
    assert [t["name"] for t in data["types"]] == ["Facilities", "IT support"]
    assert sorted(t["status"] for t in data["tickets"]) == [
        "completed", "in-progress", "needs-action", "needs-action", "needs-action"]
    shown = data["ticket"]
    assert shown["subject"] == "Printer on floor 2 is jammed"
    # the answer bounced (a sample mail): marked senderror, the reason in a private note
    assert [(m["mailStatus"], m["private"]) for m in shown["messages"]] == [
        ("received", False), ("senderror", False), (None, True), (None, True)]
    sent_id = shown["messages"][1]["messageId"]  # mailed once, then bounced
    assert [m["messageId"] for m in data["mailed"]["mails"]].count(sent_id) == 1
    assert sorted(m["to"] for m in data["mailed"]["mails"]) == [
        "ann@example.com", "bob@example.com", "carol@example.com"]
    assert len(data["mail"]) == 5  # four sample mails, one acknowledgement of the new ticket
    assert [line.split(":")[0] for line in data["mail"] if line.startswith("acknowledgement")] \
        == ["acknowledgement to erin@example.com"]
    assert "adminApiKey" not in data


def test_demo_keeps_its_data_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data_file = str(tmp_path / "demo.sqlite")
    first = run_cli(capsys, "demo", "--json", "--data", data_file)
    again = run_cli(capsys, "demo", "--json", "--data", data_file)  # no duplicates, no conflict
    assert first[0] == again[0] == exitcodes.OK
    assert len(json.loads(again[1])["tickets"]) == 5  # four opened, one from a sample mail


def test_check_reports_version_and_rights(
    capsys: pytest.CaptureFixture[str], emulator: tuple[str, str]
) -> None:
    url, key = emulator
    code, out, _ = run_cli(capsys, "--url", url, "--api-key", key, "--json", "check")
    assert code == exitcodes.OK
    data = json.loads(out)
    assert data["version"] == "26.0.42"
    assert data["rights"]["community/tasks"]["mayChangeTasklists"] is True
    assert key not in out


def test_bad_api_key_exits_5_without_echoing_it(
    capsys: pytest.CaptureFixture[str], emulator: tuple[str, str]
) -> None:
    url, _ = emulator
    code, out, err = run_cli(capsys, "--url", url, "--api-key", "not-a-real-key-123", "check")
    assert code == exitcodes.AUTHENTICATION
    assert err.startswith("go-support: error:")
    assert len(err.strip().splitlines()) == 1
    assert "not-a-real-key-123" not in out + err


def check_cannot_connect(capsys: pytest.CaptureFixture[str], url: str, *options: str) -> str:
    """``check`` against ``url`` exits 4 with one line on stderr; returns that line."""
    code, _, err = run_cli(capsys, "--url", url, "--api-key", "k", *options, "check")
    assert code == exitcodes.CONNECTION
    assert len(err.strip().splitlines()) == 1
    return err


def test_refused_connection_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    err = check_cannot_connect(capsys, "http://127.0.0.1:9", "--timeout", "2")
    assert "refused" in err


def test_html_instead_of_json_exits_4(
    capsys: pytest.CaptureFixture[str], html_server: str
) -> None:
    err = check_cannot_connect(capsys, html_server)
    assert "Group-Office" in err


def test_truncated_answer_exits_4(
    capsys: pytest.CaptureFixture[str], truncated_server: str
) -> None:
    check_cannot_connect(capsys, truncated_server, "--timeout", "2")


def test_missing_url_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 3 ("a missing or invalid setting"), one clear line naming the setting."""
    monkeypatch.delenv("GO_SUPPORT_URL", raising=False)
    monkeypatch.delenv("GO_SUPPORT_CONFIG", raising=False)
    code, out, err = run_cli(capsys, "check")
    assert code == exitcodes.CONFIG
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("go-support: error: ")
    assert "GO_SUPPORT_URL" in err and "groupoffice.url" in err


def test_tls_failure_points_to_the_ca_bundle_setting(
    capsys: pytest.CaptureFixture[str], html_server: str
) -> None:
    """A TLS handshake with a plain-HTTP server: the hint is the command's setting, not the
    library's ``verify=`` argument."""
    err = check_cannot_connect(capsys, html_server.replace("http://", "https://"),
                               "--timeout", "2")
    assert "TLS error" in err
    assert "groupoffice.ca_bundle" in err and "--insecure" in err
    assert "verify=" not in err


def test_json_errors_are_also_a_json_document_on_stdout(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GO_SUPPORT_URL", raising=False)
    monkeypatch.delenv("GO_SUPPORT_CONFIG", raising=False)
    _, _, plain_err = run_cli(capsys, "check")
    for argv in (["--json", "check"], ["tickets", "list", "--json"]):  # global, own --json
        code, out, err = run_cli(capsys, *argv)
        assert code == exitcodes.CONFIG
        assert err == plain_err  # the stderr line is unchanged
        data = json.loads(out)
        assert data == {"error": err.strip().removeprefix("go-support: error: "),
                        "exitCode": exitcodes.CONFIG}

    code, out, err = run_cli(capsys, "--json", "check", "--no-such-option")  # click's usage
    assert code == exitcodes.USAGE
    assert "--no-such-option" in err
    assert json.loads(out)["exitCode"] == exitcodes.USAGE
    assert "--no-such-option" in json.loads(out)["error"]

    code, out, _ = run_cli(capsys, "--url", "http://127.0.0.1:9", "--api-key", "k",
                           "--timeout", "2", "--json", "check")
    assert code == exitcodes.CONNECTION
    assert json.loads(out)["exitCode"] == exitcodes.CONNECTION

    code, out, _ = run_cli(capsys, "check")
    assert code == exitcodes.CONFIG and out == ""  # without --json: stdout stays empty


@pytest.mark.parametrize("command", ["demo", "emulator", "check"])
def test_every_command_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == exitcodes.OK
    assert "Example" in out
