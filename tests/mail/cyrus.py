"""A throw-away Cyrus IMAP that serves JMAP Mail (RFC 8621) for the tests of the JMAP source.

:func:`cyrus` writes its own ``imapd.conf`` and ``cyrus.conf`` into a fresh folder (database
folder, spool, sockets, a SASL password database with an admin and test users, a self-signed
certificate), starts Cyrus's ``master`` with IMAP and HTTPS (JMAP) on free loopback ports,
and stops and removes it afterwards. Mails are put into a user's mailbox by IMAP APPEND.

It needs the Debian packages ``cyrus-imapd``, ``cyrus-caldav`` (its ``httpd`` serves JMAP)
and ``sasl2-bin`` (``scripts/system-packages.sh`` installs them): when they are missing the
tests fail with that instruction, they never skip. Cyrus logs only to syslog, so a Cyrus that
does not start is reported with its exit code and standard error alone.

Run as root (CI, the developers' machines) Cyrus serves as its system user ``cyrus``, to which
the folder is given; as another user it would serve as that user (not tried).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import imapclient
import pytest

from tests._support import free_port, stop_process
from tests.mail.services import Account, wait_for_port

CYRUS_BIN = Path("/usr/lib/cyrus/bin")
#: Cyrus's imapd: Debian's cyrus-imapd conflicts with dovecot-imapd (both provide imap-server),
#: so scripts/system-packages.sh unpacks the binary here instead of installing the package.
IMAPD = next((p for p in (Path("/usr/local/lib/cyrus/bin/imapd"), CYRUS_BIN / "imapd")
              if p.exists()), CYRUS_BIN / "imapd")
SASLPASSWD = shutil.which("saslpasswd2") or "/usr/sbin/saslpasswd2"
REALM = "localhost"  # the servername: Cyrus looks users up in the SASL database under it
MISSING = ("Cyrus IMAP is not installed, and the JMAP tests need a real one: run "
           "scripts/system-packages.sh as root (Debian packages cyrus-common, cyrus-caldav "
           "and sasl2-bin, and the imapd of cyrus-imapd unpacked into /usr/local/lib/cyrus/bin)")


@dataclass
class Cyrus:
    """A running Cyrus: ``url`` (JMAP over HTTPS, certificate ``ca_file``), ``imap_port``
    (plain IMAP for putting mail in), :meth:`add_user`, :meth:`append`, :meth:`count`."""

    root: Path
    imap_port: int
    https_port: int
    ca_file: Path
    process: subprocess.Popen[bytes]
    admin: Account
    owner: tuple[int, int] | None
    _users: int = field(default=0)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def add_user(self) -> Account:
        """A new user with an empty INBOX."""
        with self._lock:
            self._users += 1
            account = Account(f"user{self._users}", f"pw-{self._users}-{os.urandom(4).hex()}")
            _set_password(self.root, account, self.owner)
        with self.imap(self.admin) as client:
            client.create_folder(f"user/{account.user}")
        return account

    @contextlib.contextmanager
    def imap(self, account: Account) -> Iterator[imapclient.IMAPClient]:
        client = imapclient.IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=10)
        try:
            client.login(account.user, account.password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, account: Account, *raws: bytes, folder: str = "INBOX") -> None:
        with self.imap(account) as client:
            for raw in raws:
                client.append(folder, raw)

    def count(self, account: Account, folder: str) -> int:
        """Mails in ``folder`` (0 when there is no such folder)."""
        with self.imap(account) as client:
            if not client.folder_exists(folder):
                return 0
            return int(client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"])

    def keywords(self, account: Account, folder: str = "INBOX") -> list[set[bytes]]:
        with self.imap(account) as client:
            client.select_folder(folder, readonly=True)
            return [set(data[b"FLAGS"]) for data in
                    client.fetch(client.search(), ["FLAGS"]).values()]

    def stop(self) -> None:
        stop_process(self.process)


def _set_password(root: Path, account: Account, owner: tuple[int, int] | None) -> None:
    database = root / "sasldb2"
    subprocess.run([SASLPASSWD, "-p", "-c", "-f", str(database), "-u", REALM, account.user],
                   input=account.password.encode(), check=True, capture_output=True)
    if owner is not None:
        os.chown(database, *owner)


def _imapd_conf(root: Path) -> str:
    return f"""configdirectory: {root}/conf
partition-default: {root}/spool
sievedir: {root}/sieve
servername: {REALM}
admins: admin
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {root}/sasldb2
sasl_mech_list: PLAIN LOGIN
allowplaintext: yes
unixhierarchysep: yes
altnamespace: yes
httpmodules: jmap
conversations: yes
conversations_db: twoskip
tls_server_cert: {root}/cert.pem
tls_server_key: {root}/key.pem
lmtpsocket: {root}/run/lmtp
idlesocket: {root}/run/idle
notifysocket: {root}/run/notify
mboxname_lockpath: {root}/run/lock
proc_path: {root}/run/proc
syslog_prefix: go-support-cyrus
"""


def _cyrus_conf(root: Path, imap_port: int, https_port: int) -> str:
    conf = f"-C {root}/imapd.conf"
    return f"""START {{
  recover cmd="ctl_cyrusdb -r {conf}"
}}
SERVICES {{
  imap cmd="{IMAPD} {conf}" listen="127.0.0.1:{imap_port}" prefork=0
  https cmd="httpd -s {conf}" listen="127.0.0.1:{https_port}" prefork=0
}}
EVENTS {{
}}
DAEMON {{
}}
"""


@contextlib.contextmanager
def cyrus() -> Iterator[Cyrus]:
    """A fresh Cyrus serving JMAP, stopped and removed afterwards; fails (never skips)
    without one."""
    if not all(os.path.exists(p) for p in (CYRUS_BIN / "master", CYRUS_BIN / "httpd", IMAPD,
                                            SASLPASSWD)):
        pytest.fail(MISSING, pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="go-support-cyrus-"))
    try:
        owner = None
        if os.geteuid() == 0:  # Cyrus serves as its own system user, to which the folder goes
            entry = pwd.getpwnam("cyrus")
            owner = (entry.pw_uid, entry.pw_gid)
        for sub in ("conf", "conf/db", "spool", "sieve", "run"):
            (root / sub).mkdir()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
            check=True, capture_output=True)
        (root / "imapd.conf").write_text(_imapd_conf(root))
        admin = Account("admin", f"admin-{os.urandom(6).hex()}")
        _set_password(root, admin, owner)
        if owner is not None:
            os.chmod(root, 0o755)
            for path in [root, *root.rglob("*")]:
                os.chown(path, *owner)
        process: subprocess.Popen[bytes] | None = None
        for _attempt in range(5):
            imap_port, https_port = free_port(), free_port()
            (root / "cyrus.conf").write_text(_cyrus_conf(root, imap_port, https_port))
            with open(root / "stderr.log", "wb") as stderr:
                process = subprocess.Popen(
                    [str(CYRUS_BIN / "master"), "-D", "-C", str(root / "imapd.conf"),
                     "-M", str(root / "cyrus.conf"), "-p", str(root / "run" / "master.pid")],
                    stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
            try:
                wait_for_port(imap_port, 15, process, root / "stderr.log")
                wait_for_port(https_port, 15, process, root / "stderr.log")
                break
            except RuntimeError:  # a port taken meanwhile: master exits; try other ports
                stop_process(process)
        else:
            raise RuntimeError(f"Cyrus did not start (exit code {process and process.poll()}; "
                               "it logs to syslog only)")
        assert process is not None
        server = Cyrus(root, imap_port, https_port, root / "cert.pem", process, admin, owner)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


__all__ = ["MISSING", "Cyrus", "cyrus"]
