"""``go-support config check`` / ``config show``, ``--config``, and the file under ``check``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from go_support.cli import exitcodes
from tests._support import run_cli

SECRET = "Th1s-Key-Must-N3ver-Be-Printed-0123456789abcdef"


GOOD = """\
[groupoffice]
url = "https://go.example.com"
timeout = 12
api_key_file = "api-key"

[desk]
managers_group = "Managers"
"""

BAD = """\
[groupoffice]
url = "https://go.example.com"
timeout = "soon"

[desk]
manager_group = "Managers"

[desk.close]
feedback = "loud"
"""


def test_check_valid_shows_settings_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    Path("go-support.toml").write_text(GOOD)
    Path("api-key").write_text(SECRET)
    Path("api-key").chmod(0o600)

    code, out, err = run_cli(capsys, "--timeout", "3", "config", "check")

    assert code == exitcodes.OK, err
    assert "configuration file: go-support.toml (found)" in out
    assert "No problems." in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert lines["groupoffice.url"][1:] == ["https://go.example.com", "go-support.toml"]
    assert lines["groupoffice.timeout"][1:] == ["3.0", "--timeout"]
    assert lines["groupoffice.api_key"][1] == "<set>"
    assert lines["desk.close.feedback"][1:] == ["none", "default"]
    assert SECRET not in out + err


def test_check_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    Path("site.toml").write_text(GOOD.replace('api_key_file = "api-key"\n', ""))
    monkeypatch.setenv("GO_SUPPORT_API_KEY", SECRET)

    for argv in (["--config", "site.toml", "config", "check", "--json"],
                 ["--config", "site.toml", "--json", "config", "check"]):
        code, out, _ = run_cli(capsys, *argv)
        assert code == exitcodes.OK
        data = json.loads(out)
        assert data["valid"] is True and data["problems"] == []
        assert data["file"] == "site.toml"
        assert data["settings"]["groupoffice"]["api_key"] == "<set>"
        assert data["origins"]["groupoffice.api_key"] == "environment variable GO_SUPPORT_API_KEY"
        assert data["origins"]["desk.managers_group"] == "site.toml"
        assert SECRET not in out


def test_check_lists_every_problem_and_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    Path("go-support.toml").write_text(BAD)

    code, out, _ = run_cli(capsys, "config", "check")

    assert code == exitcodes.CONFIG
    assert "3 problems:" in out
    assert ("go-support.toml: desk.manager_group: unknown key "
            "(did you mean 'managers_group'?)") in out
    assert "go-support.toml: groupoffice.timeout: must be a number (got 'soon')" in out
    assert ("go-support.toml: desk.close.feedback: must be one of none, private, public "
            "(got 'loud')") in out

    code, out, _ = run_cli(capsys, "config", "check", "--json")
    assert code == exitcodes.CONFIG
    data = json.loads(out)
    assert data["valid"] is False and data["settings"] is None
    assert {(p["source"], p["key"]) for p in data["problems"]} == {
        ("go-support.toml", "desk.manager_group"), ("go-support.toml", "groupoffice.timeout"),
        ("go-support.toml", "desk.close.feedback")}


def test_show_and_other_commands_fail_with_3_on_a_bad_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("go-support.toml").write_text(BAD)
    for argv in (["config", "show"], ["check"], ["install", "--dry-run"]):
        code, _, err = run_cli(capsys, *argv)
        assert code == exitcodes.CONFIG, argv
        assert err.startswith("go-support: error: 3 problems in the configuration:")
        assert "go-support.toml: desk.close.feedback" in err


def test_an_api_key_in_the_file_is_refused_without_echoing_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("go-support.toml").write_text(f'[groupoffice]\napi_key = "{SECRET}"\n')
    code, out, err = run_cli(capsys, "config", "check")
    assert code == exitcodes.CONFIG
    assert "groupoffice.api_key: secrets do not belong in the configuration file" in out
    assert "GO_SUPPORT_API_KEY" in out
    assert SECRET not in out + err


def test_show_without_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "config", "show")
    assert code == exitcodes.OK
    assert "no configuration file" in out
    assert "<not set>" in out
    code, out, _ = run_cli(capsys, "--json", "config", "show")
    data = json.loads(out)
    assert data["file"] is None and "valid" not in data
    assert data["settings"]["groupoffice"]["api_key"] == "<not set>"


def test_check_command_connects_with_the_file(
    capsys: pytest.CaptureFixture[str], emulator: tuple[str, str]
) -> None:
    url, key = emulator
    Path("key").write_text(key + "\n")
    Path("key").chmod(0o600)
    Path("conf.toml").write_text(f'[groupoffice]\nurl = "{url}"\napi_key_file = "key"\n')

    code, out, err = run_cli(capsys, "--config", "conf.toml", "--json", "check")

    assert code == exitcodes.OK, err
    assert json.loads(out)["url"] == url
    assert key not in out + err


def test_options_override_the_file(
    capsys: pytest.CaptureFixture[str], emulator: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, key = emulator
    Path("go-support.toml").write_text('[groupoffice]\nurl = "http://127.0.0.1:9"\n')
    monkeypatch.setenv("GO_SUPPORT_API_KEY", key)

    code, _, _ = run_cli(capsys, "--timeout", "2", "check")
    assert code == exitcodes.CONNECTION  # the file's URL: nothing listens there
    code, _, err = run_cli(capsys, "--url", url, "check")
    assert code == exitcodes.OK, err
    monkeypatch.setenv("GO_SUPPORT_URL", url)
    code, _, err = run_cli(capsys, "check")
    assert code == exitcodes.OK, err


def test_missing_url_names_every_way_to_set_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "check")
    assert code == exitcodes.CONFIG  # a missing setting is bad configuration, not usage
    assert "GO_SUPPORT_URL" in err and "[groupoffice]" in err and "--url" in err


def test_missing_api_key_names_every_way_to_set_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--url", "https://go.example.com", "check")
    assert code == exitcodes.CONFIG
    assert len(err.strip().splitlines()) == 1
    assert "groupoffice.api_key" in err and "GO_SUPPORT_API_KEY" in err
    assert "groupoffice.api_key_file" in err


def test_check_without_url_and_key_reports_both_and_exits_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A valid (here: absent) file is not enough: without them every command fails."""
    code, out, _ = run_cli(capsys, "config", "check")
    assert code == exitcodes.CONFIG
    assert "No problems." not in out
    assert "2 problems:" in out
    url_line = next(x for x in out.splitlines() if "groupoffice.url: required" in x)
    assert "GO_SUPPORT_URL" in url_line and "[groupoffice]" in url_line
    key_line = next(x for x in out.splitlines() if "groupoffice.api_key: required" in x)
    assert "GO_SUPPORT_API_KEY" in key_line and "groupoffice.api_key_file" in key_line
    assert "desk.close.feedback" in out  # the settings are still shown

    code, out, _ = run_cli(capsys, "config", "check", "--json")
    assert code == exitcodes.CONFIG
    data = json.loads(out)  # one document: no error object after the report
    assert data["valid"] is False
    assert [p["key"] for p in data["problems"]] == ["groupoffice.url", "groupoffice.api_key"]
    assert data["settings"]["groupoffice"]["api_key"] == "<not set>"

    # only the key missing: one problem
    Path("go-support.toml").write_text('[groupoffice]\nurl = "https://go.example.com"\n')
    code, out, _ = run_cli(capsys, "config", "check")
    assert code == exitcodes.CONFIG
    assert "1 problem:" in out and "groupoffice.api_key: required" in out
