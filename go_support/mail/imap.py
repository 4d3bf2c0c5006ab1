"""The IMAP source: :class:`ImapSource` (see :mod:`go_support.mail.sources` for the contract
every source keeps). In a module of its own so that what does not read IMAP (``go-support
ingest``, ``lmtp``) does not load ``imapclient``.
"""

from __future__ import annotations

import functools
import imaplib
import logging
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

import imapclient
from imapclient.exceptions import IMAPClientError, LoginError

from go_support.errors import redact
from go_support.mail.claims import DEFAULT_LEASE, Claims, daemon_slot
from go_support.mail.config import MailboxSettings
from go_support.mail.parse import DEFAULT_MAX_BYTES
from go_support.mail.sources import IncomingMail, SourceError

__all__ = ["ImapSource"]

log = logging.getLogger("go_support.mail")

_FETCH_CHUNK = 25  # mails per FETCH of bodies: bounded memory, few round trips
_SIZE_CHUNK = 1000  # UIDs per FETCH, MOVE or STORE (a server limits a command's length)
_IDLE_RENEW = 25 * 60  # RFC 2177: re-issue IDLE before the server's 30-minute timeout


class ImapSource:
    """One IMAP mailbox (``[mail.mailboxes.<name>]``, ``kind = "imap"``)."""

    def __init__(self, name: str, settings: MailboxSettings, password: str, *,
                 max_bytes: int = DEFAULT_MAX_BYTES,
                 sleep: Callable[[float], None] = time.sleep,
                 claim_lease: float = DEFAULT_LEASE) -> None:
        if settings.kind != "imap":
            raise ValueError(f"mailbox {name!r} is a {settings.kind} mailbox, not IMAP")
        self.name = name
        self.settings = settings
        self.max_bytes = max_bytes
        self._password = password
        self._sleep = sleep
        self._client: imapclient.IMAPClient | None = None
        self._uidvalidity: int | None = None
        self._capabilities: frozenset[bytes] = frozenset()
        self._claim_lease = claim_lease
        self._claims: Claims | None = None
        self._slot: IO[bytes] | None = None

    @property
    def claims(self) -> bool:
        """Whether this source claims its mails (the server has CONDSTORE)."""
        return self._claims is not None

    def __repr__(self) -> str:
        s = self.settings
        return f"ImapSource({self.name!r}, {s.user}@{s.host}:{s.effective_port}/{s.folder})"

    # -- connection ---------------------------------------------------------------------

    def _where(self) -> str:
        s = self.settings
        return f"mailbox {self.name!r} ({s.user} at {s.host}:{s.effective_port})"

    def _fail(self, exc: BaseException, doing: str, *, temporary: bool) -> SourceError:
        text = redact(str(exc) or type(exc).__name__, self._password)
        return SourceError(f"{self._where()}: {doing}: {text}", temporary=temporary)

    def connect(self) -> None:
        """Connect, log in, create the folders we move to, select the inbox folder."""
        if self._client is not None:
            return
        s = self.settings
        timeout = imapclient.SocketTimeout(connect=s.timeout, read=s.timeout)
        context = s.tls_context() if s.security != "none" else None
        try:
            client = imapclient.IMAPClient(s.host or "", port=s.effective_port,
                                           ssl=s.security == "tls", ssl_context=context,
                                           timeout=timeout)
        except ssl.SSLCertVerificationError as exc:
            raise self._fail(exc, "the server's TLS certificate does not verify (give the CA "
                             "in ca_bundle)", temporary=False) from None
        except (OSError, IMAPClientError) as exc:
            raise self._fail(exc, "cannot connect", temporary=True) from None
        try:
            if s.security == "starttls":
                try:
                    client.starttls(context)
                except ssl.SSLCertVerificationError as exc:
                    raise self._fail(exc, "the server's TLS certificate does not verify (give "
                                     "the CA in ca_bundle)", temporary=False) from None
            try:
                client.login(s.user or "", self._password)
            except LoginError as exc:
                raise self._fail(exc, f"the server refused the login of {s.user!r} (check the "
                                 "user and its password variable)", temporary=False) from None
            self._capabilities = frozenset(client.capabilities())
            self._set_up_claims()
            for folder in (s.move_to, s.quarantine_folder):
                if folder and not client.folder_exists(folder):
                    try:
                        client.create_folder(folder)
                    except IMAPClientError as exc:  # another daemon created it just now
                        if "ALREADYEXISTS" not in str(exc):
                            raise
            selected = client.select_folder(s.folder)
            self._uidvalidity = int(selected[b"UIDVALIDITY"])
            if s.processed_flag is not None:
                flags = selected.get(b"PERMANENTFLAGS", ())
                if b"\\*" not in flags and s.processed_flag.encode() not in flags:
                    raise SourceError(f"{self._where()}: the server does not store the keyword "
                                      f"{s.processed_flag!r}; use processed_folder instead",
                                      temporary=False)
        except SourceError:
            _close(client)
            raise
        except (OSError, IMAPClientError) as exc:
            _close(client)
            raise self._fail(exc, "the IMAP session failed", temporary=True) from None
        self._client = client
        log.info("%s: connected (%s)", self._where(),
                 "IDLE" if self.uses_idle else f"polling every {s.poll_seconds:g} s")

    def _set_up_claims(self) -> None:
        if b"CONDSTORE" not in self._capabilities:
            if self._claims is None:
                log.warning("%s: the server has no CONDSTORE: two daemons on this mailbox "
                            "may import a mail at the same moment (the later copy is "
                            "removed afterwards)", self._where())
            return
        if self._claims is None:
            s = self.settings
            name, self._slot = daemon_slot(f"{s.host}:{s.effective_port}:{s.user}:{s.folder}")
            self._claims = Claims(name, lease=self._claim_lease)
            log.info("%s: claims its mails as daemon %s", self._where(), name)
        else:
            self._claims.forget()

    @property
    def uses_idle(self) -> bool:
        return self.settings.idle and b"IDLE" in self._capabilities

    def close(self) -> None:
        """Log out; the claims on mails not done are taken off first (the other daemons need
        not wait a lease for them)."""
        client, self._client = self._client, None
        if client is not None:
            claims = self._claims
            if claims is not None and claims.held:
                _quietly(functools.partial(claims.release, client, claims.held))
            _close(client)
        slot, self._slot = self._slot, None
        if slot is not None:
            slot.close()
            self._claims = None

    def _session(self) -> imapclient.IMAPClient:
        self.connect()
        assert self._client is not None
        return self._client

    def _call(self, doing: str, action: Callable[[imapclient.IMAPClient], Any]) -> Any:
        """Run ``action`` on the session; a broken connection is closed, so that the next
        call reconnects, and reported as temporary."""
        client = self._session()
        try:
            return action(client)
        except (OSError, imaplib.IMAP4.abort) as exc:  # timeouts are OSErrors
            self._client = None
            _quietly(client.shutdown)
            raise self._fail(exc, doing, temporary=True) from None
        except IMAPClientError as exc:  # the server said NO or BAD: the session lives on
            raise self._fail(exc, doing, temporary=True) from None

    # -- the mailbox --------------------------------------------------------------------

    def _criteria(self) -> list[Any]:
        if self.settings.processed_flag is not None:
            return ["NOT", "DELETED", "NOT", "KEYWORD", self.settings.processed_flag]
        return ["NOT", "DELETED"]

    def fetch(self, limit: int | None = None) -> list[IncomingMail]:
        def run(client: imapclient.IMAPClient) -> list[IncomingMail]:
            client.noop()  # lets the server report mail that arrived since the last command
            uids = sorted(client.search(self._criteria()))
            if not uids:
                return []
            claims = self._claims
            if claims is None and limit is not None:
                uids = uids[:limit]
            items = ["RFC822.SIZE", "INTERNALDATE"] + (claims.fetch_items if claims else [])
            sizes: dict[int, Any] = {}
            for start in range(0, len(uids), _SIZE_CHUNK):  # command lines stay short
                sizes.update(client.fetch(uids[start:start + _SIZE_CHUNK], items))
            if claims is not None:
                uids = claims.take(client, sizes, limit)
            elif limit is not None:
                uids = uids[:limit]
            small = [u for u in uids if u in sizes and sizes[u][b"RFC822.SIZE"] <= self.max_bytes]
            bodies: dict[int, bytes] = {}
            for start in range(0, len(small), _FETCH_CHUNK):
                chunk = small[start:start + _FETCH_CHUNK]
                for uid, data in client.fetch(chunk, ["BODY.PEEK[]"]).items():
                    if data.get(b"BODY[]") is not None:  # NIL: expunged by another session
                        bodies[uid] = bytes(data[b"BODY[]"])
            mails = []
            for uid in uids:
                if uid not in sizes:
                    continue  # expunged meanwhile (another daemon took it)
                if uid in small and uid not in bodies:
                    continue
                received = sizes[uid].get(b"INTERNALDATE")
                mails.append(IncomingMail(
                    source=self.name, key=f"{self._uidvalidity}:{uid}", raw=bodies.get(uid),
                    size=int(sizes[uid][b"RFC822.SIZE"]),
                    received_at=received.astimezone(UTC) if isinstance(received, datetime)
                    else None))
            return mails

        return list(self._call("fetching mail failed", run))

    def _uids(self, mails: tuple[IncomingMail, ...]) -> list[int]:
        self._session()
        uids = []
        for mail in mails:
            validity, _, uid = mail.key.partition(":")
            if mail.source != self.name or not uid.isdigit():
                raise ValueError(f"{mail.key!r} is not a mail of {self._where()}")
            if str(self._uidvalidity) != validity:
                raise SourceError(
                    f"{self._where()}: the folder was recreated (UIDVALIDITY changed from "
                    f"{validity} to {self._uidvalidity}); fetch again", temporary=True)
            uids.append(int(uid))
        return uids

    def _move(self, uids: list[int], folder: str) -> None:
        def move(client: imapclient.IMAPClient, some: list[int]) -> None:
            if b"MOVE" in self._capabilities:
                client.move(some, folder)
                return
            client.copy(some, folder)
            client.add_flags(some, [imapclient.DELETED])
            if b"UIDPLUS" in self._capabilities:
                client.uid_expunge(some)
            else:
                client.expunge()

        def run(uids: list[int], client: imapclient.IMAPClient) -> None:
            try:
                move(client, uids)
                return
            except IMAPClientError as exc:
                if "EXPUNGEISSUED" not in str(exc):
                    raise
            # some were taken meanwhile (by another daemon): the others one by one
            for uid in uids:
                try:
                    move(client, [uid])
                except IMAPClientError as exc:
                    if "EXPUNGEISSUED" not in str(exc):
                        raise
                    log.info("%s: mail %s was already taken", self._where(), uid)

        for start in range(0, len(uids), _SIZE_CHUNK):
            chunk = uids[start:start + _SIZE_CHUNK]
            self._call(f"moving {len(chunk)} mail(s) to {folder!r} failed",
                       functools.partial(run, chunk))

    def done(self, *mails: IncomingMail) -> None:
        """Move ``mails`` to the processed folder (one MOVE), or flag them. Call it only once
        Group-Office holds them."""
        uids = self._uids(mails)
        flag = self.settings.processed_flag
        if flag is not None:
            for start in range(0, len(uids), _SIZE_CHUNK):
                chunk = uids[start:start + _SIZE_CHUNK]
                self._call(f"flagging {len(chunk)} mail(s) failed",
                           functools.partial(_flag, chunk, flag))
            self._release(uids)
        else:
            assert self.settings.move_to is not None
            self._release(uids)
            self._move(uids, self.settings.move_to)

    def quarantine(self, *mails: IncomingMail) -> None:
        uids = self._uids(mails)
        self._release(uids)
        self._move(uids, self.settings.quarantine_folder)

    def _release(self, uids: list[int]) -> None:
        """Our claim off mails that leave the inbox (their keywords would travel along)."""
        claims = self._claims
        if claims is None:
            return
        for start in range(0, len(uids), _SIZE_CHUNK):
            chunk = uids[start:start + _SIZE_CHUNK]
            self._call(f"releasing {len(chunk)} mail(s) failed",
                       functools.partial(claims.release, uids=chunk))

    def wait(self, timeout: float) -> bool:
        """IDLE until the server reports a change, or ``timeout``; polling, sleep
        ``poll_seconds`` (at most ``timeout``). A server that breaks IDLE turns polling on."""
        if not self.uses_idle:
            self._sleep(min(timeout, self.settings.poll_seconds))
            return True

        def run(client: imapclient.IMAPClient) -> bool:
            client.idle()
            responses: list[Any] = []
            try:
                responses += client.idle_check(timeout=min(timeout, _IDLE_RENEW))
            finally:
                # what arrived between the last check and DONE counts too
                responses += client.idle_done()[1]
            return any(isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT")
                       for r in responses)

        try:
            return bool(self._call("waiting for mail (IDLE) failed", run))
        except SourceError as exc:
            if self._client is not None:  # the session lives: IDLE itself is what failed
                log.warning("%s: IDLE failed (%s); polling instead", self._where(), exc)
                self._capabilities = self._capabilities - {b"IDLE"}
                return True
            raise


def _flag(uids: list[int], flag: str, client: imapclient.IMAPClient) -> None:
    client.add_flags(uids, [flag])


def _close(client: imapclient.IMAPClient) -> None:
    """Log out if the session still works; close the socket in any case."""
    _quietly(client.logout)
    _quietly(client.shutdown)


def _quietly(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception as exc:  # closing a broken connection: nothing left to do
        log.debug("ignored while closing: %s", exc)


