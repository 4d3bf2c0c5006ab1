"""Real mail services for the tests: a throw-away Dovecot and an ``aiosmtpd`` SMTP sink.

:class:`Dovecot` writes its own configuration into a fresh folder (runtime files, log, a
passdb with test users, Maildirs), listens on free loopback ports (IMAP with STARTTLS, and
IMAPS with a self-signed certificate made for it) and is stopped and removed afterwards.
It needs the Debian package ``dovecot-imapd`` (``scripts/system-packages.sh`` installs it):
when Dovecot is missing the tests that need it fail with that instruction, they never skip.

Run as root (CI, the developers' machines) Dovecot serves mail as its own system user
``dovecot``, to which the folder is given; run as another user it serves as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from go_support.mail.sink import Received, SmtpSink, smtp_sink
from tests._support import free_port, stop_process

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USERS = 500
MISSING = ("Dovecot is not installed, and the IMAP tests need a real one: run "
           "scripts/system-packages.sh as root (Debian package dovecot-imapd)")


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None = None,
                  log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            text = log.read_text(errors="replace") if log and log.exists() else ""
            raise RuntimeError(f"the service exited with {process.returncode}: {text[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class Account:
    user: str
    password: str


@dataclass
class Dovecot:
    """A running Dovecot: ``port`` (IMAP, STARTTLS offered), ``tls_port`` (IMAPS), the
    certificate it presents (``ca_file``), and :meth:`add_user`."""

    root: Path
    port: int
    tls_port: int
    ca_file: Path
    process: subprocess.Popen[bytes]
    owner: tuple[int, int]
    _users: int = field(default=0)
    accounts: list[Account] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def add_user(self) -> Account:
        """A user nobody used yet, with an empty INBOX. The passdb is written before Dovecot
        starts (it notices a changed file only by its modification second)."""
        with self._lock:
            if self._users >= len(self.accounts):
                raise RuntimeError(f"all {len(self.accounts)} test users are taken: raise USERS")
            self._users += 1
            return self.accounts[self._users - 1]

    def maildir(self, user: str) -> Path:
        return self.root / "home" / user / "Maildir"

    def stop(self) -> None:
        stop_process(self.process)


def _config(root: Path, port: int, tls_port: int, user: str, group: str, uid: int,
            gid: int, extra: str) -> str:
    login_user = "dovenull" if os.geteuid() == 0 else user
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = {min(uid, 1) if uid else 0}
first_valid_gid = {min(gid, 1) if gid else 0}
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
auth_mechanisms = plain login
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
{extra}
"""


@contextlib.contextmanager
def dovecot(extra_config: str = "") -> Iterator[Dovecot]:
    """A fresh Dovecot, stopped and removed afterwards; fails (never skips) without one.
    ``extra_config`` is appended to its configuration (e.g. to take IDLE away)."""
    if not os.path.exists(DOVECOT):
        pytest.fail(MISSING, pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="go-support-dovecot-"))
    try:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("dovecot")
            uid, gid, user = entry.pw_uid, entry.pw_gid, "dovecot"
        else:
            uid, gid = os.geteuid(), os.getegid()
            user = pwd.getpwuid(uid).pw_name
        group = _group_name(gid)
        for sub in ("run", "state", "home"):
            (root / sub).mkdir()
        accounts = [Account(f"user{n}@test.example", f"pw-{n}-{os.urandom(4).hex()}")
                    for n in range(1, USERS + 1)]
        (root / "passwd").write_text("".join(f"{a.user}:{{PLAIN}}{a.password}\n"
                                             for a in accounts))
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
            check=True, capture_output=True)
        if os.geteuid() == 0:
            os.chmod(root, 0o755)
            for path in (root / "home", root / "state"):
                os.chown(path, uid, gid)
        process: subprocess.Popen[bytes] | None = None
        for _attempt in range(5):
            port, tls_port = free_port(), free_port()
            (root / "dovecot.conf").write_text(_config(root, port, tls_port, user, group, uid,
                                                       gid, extra_config))
            with open(root / "stderr.log", "wb") as stderr:  # the child keeps its own copy
                process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                                           stdout=subprocess.DEVNULL, stderr=stderr)
            try:
                wait_for_port(port, 15, process, root / "stderr.log")
                wait_for_port(tls_port, 15, process, root / "stderr.log")
                break
            except RuntimeError:
                stop_process(process)
                log = (root / "dovecot.log")
                if log.exists() and "Address already in use" not in log.read_text(
                        errors="replace"):
                    raise
        assert process is not None
        server = Dovecot(root, port, tls_port, root / "cert.pem", process, (uid, gid),
                         accounts=accounts)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


# --- SMTP sink: the one the demo uses too (go_support.mail.sink) ----------------------------

__all__ = ["Account", "Dovecot", "Received", "SmtpSink", "dovecot", "smtp_sink",
           "wait_for_port"]
