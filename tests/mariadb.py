"""A throw-away MariaDB server for tests: own data directory, free loopback port.

:class:`MariaDBServer` runs Debian's ``mariadbd`` (installed by
``scripts/system-packages.sh``) on ``127.0.0.1`` with a data directory in a temporary
folder, creates a password-protected user (so that a refused login can be tested: the server
never runs with ``--skip-grant-tables``), and stops it again. A missing MariaDB is an error,
never a reason to skip: the migration tests must not pass vacuously.

Use the ``mariadb`` session fixture of ``tests/legacy/conftest.py``, or start one yourself::

    with MariaDBServer.started(tmp_dir) as server:
        server.create_database("scratch")
        conn = server.connect("scratch")
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from tests._support import free_port, stop_process

TEST_USER = "gotest"
TEST_PASSWORD = "Test-Secret-42"  # a throw-away server on loopback; only the tests know it
INSTALL_HINT = ("MariaDB is missing: the legacy-migration tests start a throw-away mariadbd. "
                "Install it with scripts/system-packages.sh (as root) or "
                "`sudo apt-get install mariadb-server`.")


class MariaDBMissing(RuntimeError):
    """mariadbd or mariadb-install-db is not installed."""


_SEARCH_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/sbin")  # sbin is not on every PATH


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or next(
            (str(p) for d in _SEARCH_DIRS
             if (p := Path(d) / name).is_file() and os.access(p, os.X_OK)), None)
        if found:
            return found
    raise MariaDBMissing(f"{INSTALL_HINT} (looked for {', '.join(names)})")


@dataclass
class MariaDBServer:
    """A running throw-away server (see the module docstring)."""

    base: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    user: str = TEST_USER
    password: str = field(default=TEST_PASSWORD, repr=False)
    host: str = "127.0.0.1"
    _short: Path | None = field(default=None, repr=False)

    @property
    def socket_path(self) -> Path:
        """The root login's socket; a Unix socket path must stay under 108 bytes, so a deep
        temporary folder gets a short one of its own."""
        path = self.base / "mysqld.sock"
        if len(str(path)) < 100:
            return path
        if self._short is None:
            self._short = Path(tempfile.mkdtemp(prefix="gomdb-"))
        return self._short / "mysqld.sock"

    @classmethod
    @contextlib.contextmanager
    def started(cls, base: Path, timeout: float = 60.0) -> Iterator[MariaDBServer]:
        """Install a data directory under ``base``, start mariadbd, yield, stop it."""
        server = cls(base=base, port=free_port())
        server.start(timeout)
        try:
            yield server
        finally:
            server.stop()

    def start(self, timeout: float) -> None:
        mariadbd = _binary("mariadbd", "mysqld")
        install_db = _binary("mariadb-install-db", "mysql_install_db")
        data = self.base / "data"
        data.mkdir(parents=True, exist_ok=True)
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        log = self.base / "install.log"
        with log.open("wb") as out:
            rc = subprocess.call(
                [install_db, "--no-defaults", f"--datadir={data}", *as_root,
                 "--auth-root-authentication-method=socket", "--skip-test-db"],
                stdout=out, stderr=subprocess.STDOUT)
        if rc != 0:
            raise RuntimeError(f"mariadb-install-db failed ({rc}): {log.read_text()[-2000:]}")
        self.process = subprocess.Popen(
            [mariadbd, "--no-defaults", f"--datadir={data}", *as_root,
             "--bind-address=127.0.0.1", f"--port={self.port}",
             f"--socket={self.socket_path}", f"--pid-file={self.base / 'mysqld.pid'}",
             f"--log-error={self.base / 'error.log'}", "--skip-log-bin",
             "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=48M",
             "--innodb-flush-log-at-trx-commit=0", "--character-set-server=utf8mb4",
             "--collation-server=utf8mb4_unicode_ci", "--max-allowed-packet=64M"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {self.process.returncode}: "
                                   f"{self._error_log()}")
            try:
                root = pymysql.connect(unix_socket=str(self.socket_path), user="root",
                                       connect_timeout=2)
                break
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"mariadbd did not answer within {timeout:.0f} s: "
                                       f"{self._error_log()}") from None
                time.sleep(0.1)
        with root, root.cursor() as cur:
            for host in ("127.0.0.1", "localhost"):
                cur.execute(f"CREATE USER '{self.user}'@'{host}' IDENTIFIED BY %s",
                            (self.password,))
                cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{self.user}'@'{host}'")

    def _error_log(self) -> str:
        path = self.base / "error.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        stop_process(self.process, 30)
        if self._short is not None:
            shutil.rmtree(self._short, ignore_errors=True)

    def connect(self, database: str | None = None, **options: Any) -> pymysql.Connection[Any]:
        """A connection as the test user (autocommit)."""
        return pymysql.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, database=database, charset="utf8mb4",
                               autocommit=True, **options)

    def create_database(self, name: str) -> str:
        """A new empty database ``name`` (dropped first when it exists)."""
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                        f"COLLATE utf8mb4_unicode_ci")
        return name

    def load_sql(self, database: str, sql_file: Path) -> None:
        """Load a dump with the ``mariadb`` client (what an administrator would do)."""
        client = _binary("mariadb", "mysql")
        with sql_file.open("rb") as stdin:
            done = subprocess.run(
                [client, "--no-defaults", f"--socket={self.socket_path}", "-uroot",
                 "--default-character-set=utf8mb4", database],
                stdin=stdin, capture_output=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"loading {sql_file.name} failed: "
                               f"{done.stderr.decode(errors='replace')[-2000:]}")
