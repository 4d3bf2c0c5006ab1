"""Every settings test runs in an empty folder, with no go-support variables and no home or
system configuration file of the machine running the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._support import isolate_from_machine


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``tmp_path``, holding the empty ``home`` and ``work`` (the working folder) folders."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    isolate_from_machine(monkeypatch, home=home, cwd=work,
                         system_config=tmp_path / "etc" / "config.toml")
    return tmp_path
