"""Every settings test runs in an empty folder, with no go-support variables and no home or
system configuration file of the machine running the tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("GO_SUPPORT_URL", "GO_SUPPORT_API_KEY", "GO_SUPPORT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr("go_support.settings.SYSTEM_CONFIG", tmp_path / "etc" / "config.toml")
    return tmp_path
