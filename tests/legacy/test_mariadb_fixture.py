"""The throw-away MariaDB of the tests: a missing installation fails with instructions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import mariadb as fixture
from tests.mariadb import MariaDBMissing, MariaDBServer


def test_missing_mariadb_is_an_error_that_says_how_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fixture.shutil, "which", lambda name: None)
    monkeypatch.setattr(fixture, "_SEARCH_DIRS", (str(tmp_path),))
    with pytest.raises(MariaDBMissing, match=r"scripts/system-packages\.sh") as exc, \
            MariaDBServer.started(tmp_path / "db"):
        pass
    assert "mariadbd" in str(exc.value)


def test_the_server_is_a_real_one_with_a_password(mariadb: MariaDBServer) -> None:
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION(), CURRENT_USER()")
        version, user = cur.fetchone()
    assert "MariaDB" in version and user.startswith(f"{mariadb.user}@")
    assert mariadb.process is not None and mariadb.process.poll() is None
