"""Fixtures of the legacy-migration tests: a throw-away MariaDB and the go65 demo database.

MariaDB missing is a failure (see ``tests/mariadb.py``), and so is a missing
``shared/fixtures/legacy/go65-demo.sql`` (``<repo>/../shared`` or ``$GO_SUPPORT_SHARED``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from go_support.legacy.config import DatabaseSettings
from tests.mariadb import MariaDBServer

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_ENV = "GO_SUPPORT_SHARED"


def go65_sql() -> Path:
    """``shared/fixtures/legacy/go65-demo.sql``; a clear failure when it is not there."""
    env = os.environ.get(SHARED_ENV)
    shared = Path(env) if env else REPO_ROOT.parent / "shared"
    path = shared / "fixtures" / "legacy" / "go65-demo.sql"
    if not path.is_file():
        pytest.fail(f"the Group-Office 6.5 demo dump is not at {path}; set ${SHARED_ENV} to "
                    f"the folder that contains fixtures/legacy/go65-demo.sql")
    return path


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer]:
    """One throw-away MariaDB server for the whole session."""
    with MariaDBServer.started(tmp_path_factory.mktemp("mariadb")) as server:
        yield server


def settings_for(server: MariaDBServer, database: str,
                 password: str | None = None) -> DatabaseSettings:
    """The DatabaseSettings a config.php pointing at ``database`` would give."""
    return DatabaseSettings(host=server.host, port=server.port, name=database,
                            user=server.user,
                            password=server.password if password is None else password)


@pytest.fixture(scope="session")
def go65_db(mariadb: MariaDBServer) -> str:
    """The go65 demo dump, loaded once into database ``go65`` (read-only for the tests)."""
    name = mariadb.create_database("go65")
    mariadb.load_sql(name, go65_sql())
    return name


@pytest.fixture
def go65_copy(mariadb: MariaDBServer, request: pytest.FixtureRequest) -> str:
    """A fresh copy of the go65 demo database a test may change."""
    name = mariadb.create_database(f"t_{abs(hash(request.node.nodeid)) % 10**10}")
    mariadb.load_sql(name, go65_sql())
    return name
