"""``go-support install``: dry run, progress, up to date, JSON, exit codes."""

from __future__ import annotations

import json

import pytest

from go_support.cli import exitcodes
from go_support.migrations import read_state
from tests._support import run_cli

from .conftest import AGENT_KEY, Server, states


def go(server: Server, *argv: str, key: str | None = None) -> list[str]:
    return ["--url", server.base_url, "--api-key", key or server.admin_key, *argv]


def test_dry_run_then_install_then_up_to_date(
    capsys: pytest.CaptureFixture[str], server: Server
) -> None:
    with server.client() as c:
        before = states(c)
    code, out, _ = run_cli(capsys, *go(server, "install", "--dry-run"))
    assert code == exitcodes.OK
    assert "Dry run: nothing was changed." in out
    assert '- create field set "Support" on Task' in out
    assert "4 step(s) pending" in out
    with server.client() as c:
        assert states(c) == before

    code, out, _ = run_cli(capsys, *go(server, "install"))
    assert code == exitcodes.OK
    assert "[1/4] 0001_field_set: applied" in out
    assert "[4/4] 0004_private_label: applied" in out
    assert "Done: 4 step(s) applied" in out

    code, out, _ = run_cli(capsys, *go(server, "install"))
    assert code == exitcodes.OK
    assert "up to date" in out.lower() and "[1/4]" not in out


def test_install_json_is_parseable(capsys: pytest.CaptureFixture[str], server: Server) -> None:
    code, out, _ = run_cli(capsys, *go(server, "--json", "install"))
    assert code == exitcodes.OK
    data = json.loads(out)
    assert [s["status"] for s in data["steps"]] == ["applied"] * 4
    assert data["upToDate"] is False and data["recorded"][-1] == "0004_private_label"

    code, out, _ = run_cli(capsys, *go(server, "install", "--dry-run", "--json"))
    assert json.loads(out)["upToDate"] is True
    assert server.admin_key not in out


def test_a_conflict_exits_6_naming_the_object(
    capsys: pytest.CaptureFixture[str], server: Server
) -> None:
    with server.client() as c:
        c.comment_labels.create({"name": "Private"})
        c.comment_labels.create({"name": "Private"})

    code, _, err = run_cli(capsys, *go(server, "install"))

    assert code == exitcodes.REFUSED
    assert err.startswith("go-support: error:")
    assert 'comment labels named "Private" (ids 1, 2)' in err
    with server.client() as c:
        assert read_state(c).field_sets == ()


def test_a_non_admin_key_exits_6_naming_the_right(
    capsys: pytest.CaptureFixture[str], server: Server
) -> None:
    code, out, err = run_cli(capsys, *go(server, "install", "--dry-run", key=AGENT_KEY))
    assert code == exitcodes.OK
    assert "lacks mayChangeCustomFields" in out

    code, _, err = run_cli(capsys, *go(server, "install", key=AGENT_KEY))
    assert code == exitcodes.REFUSED
    assert "mayChangeCustomFields" in err
    assert AGENT_KEY not in err


def test_install_reads_the_configuration_file(
    capsys: pytest.CaptureFixture[str], server: Server, tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    key_file = folder / "api-key"
    key_file.write_text(server.admin_key + "\n")
    key_file.chmod(0o600)
    (folder / "go-support.toml").write_text(
        f'[groupoffice]\nurl = "{server.base_url}"\napi_key_file = "api-key"\n')

    code, out, err = run_cli(capsys, "install")

    assert code == exitcodes.OK, err
    assert "Done: 4 step(s) applied" in out
    assert server.admin_key not in out + err


@pytest.mark.parametrize("command", [["install"], ["config"], ["config", "check"],
                                     ["config", "show"]])
def test_help_has_an_example(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, out, _ = run_cli(capsys, *command, "--help")
    assert code == exitcodes.OK
    assert "Example" in out
