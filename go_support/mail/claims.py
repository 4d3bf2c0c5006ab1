"""Which daemon imports an IMAP mail: a claim that only one of them can take.

Two daemons (two hosts, or two processes) that watch one mailbox both see a new mail. Each
sets its claim on the mails it wants with one conditional ``UID STORE`` (RFC 7162
``UNCHANGEDSINCE``): the server applies it only to mails whose mod-sequence has not moved
since the daemon looked at them, and answers ``[MODIFIED ...]`` for the others. Setting a
claim moves the mod-sequence, so of two daemons that looked at the same moment exactly one
gets each mail; the other leaves it alone. Dovecot's ``MOVE`` is no such lock: two sessions
moving the same mail at the same moment both get a copy (measured on a Maildir store).

A claim is two keywords: ``GoSupportClaimed`` (any daemon) and ``GoSupportBy_<daemon>``
(which one). A daemon is its host name and a slot, ``-1``, ``-2``... for a second or third
process on that host: a process holds a lock file of its slot while it runs, so a daemon
restarted after a crash is the same daemon and takes its own claims back at once, while two
processes at the same time are never the same daemon.

A claim of a daemon that stopped (a host gone for good) must not hold a mail forever: a claim
whose mod-sequence stayed the same for ``lease`` seconds (ten minutes by default) is taken
over, with the same conditional ``STORE``. A daemon renews the claims it holds when it hands
them out again (Group-Office down: the same mails every cycle), so its claims move at least
every quarter lease. A batch is written within the desk's retries (about a minute), well
inside a lease, so a live daemon's mail is never taken from it while it writes.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any

import imapclient
from imapclient.util import to_bytes

__all__ = ["CLAIMED", "DEFAULT_LEASE", "Claims", "daemon_slot"]

log = logging.getLogger("go_support.mail")

CLAIMED = "GoSupportClaimed"
LEASE = "GoSupportLease"
"""Toggled to move a claim's mod-sequence when the daemon renews it."""
OWNER = "GoSupportBy_"
DEFAULT_LEASE = 600.0


def daemon_slot(where: str, *, folder: str | None = None) -> tuple[str, IO[bytes]]:
    """This process's daemon name for the mailbox ``where`` (host name and the first free
    slot) and the open lock file that keeps the slot while the process lives."""
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname() or "host")[:60]
    digest = hashlib.sha256(where.encode()).hexdigest()[:16]
    base = folder or tempfile.gettempdir()
    for slot in range(1000):
        path = os.path.join(base, f"go-support-claim-{digest}-{slot}.lock")
        handle = open(path, "ab")  # noqa: SIM115 - kept open: the lock lives with the process
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        return (host if slot == 0 else f"{host}-{slot}"), handle
    raise RuntimeError(f"no free daemon slot for {where} in {base}")


class Claims:
    """The claims of one daemon on one selected IMAP folder (see the module)."""

    def __init__(self, name: str, *, lease: float = DEFAULT_LEASE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.owner = OWNER + name
        self.lease = lease
        self._clock = clock
        self._mine: dict[int, float] = {}
        """uid -> when this process last set or renewed its claim."""
        self._others: dict[int, tuple[int, float]] = {}
        """uid -> (mod-sequence, when first seen with it) of other daemons' claims."""

    @property
    def held(self) -> list[int]:
        """The uids this process claimed and has not released."""
        return sorted(self._mine)

    @property
    def fetch_items(self) -> list[str]:
        return ["FLAGS", "MODSEQ"]

    def take(self, client: imapclient.IMAPClient, seen: Mapping[int, Mapping[bytes, Any]],
             limit: int | None) -> list[int]:
        """Of the mails ``seen`` (their ``FLAGS`` and ``MODSEQ`` fetched), the uids this
        daemon may import now, at most ``limit``: its own claims (renewed when due), then new
        claims on unclaimed mails, then claims of others that stood still for a lease."""
        now = self._clock()
        free: list[int] = []
        mine: list[int] = []
        stale: list[int] = []
        others: dict[int, tuple[int, float]] = {}
        for uid in sorted(seen):
            flags = {_text(f) for f in seen[uid].get(b"FLAGS", ())}
            modseq = _modseq(seen[uid])
            if self.owner in flags:
                mine.append(uid)
            elif CLAIMED in flags:
                known = self._others.get(uid)
                others[uid] = known if known and known[0] == modseq else (modseq, now)
                if now - others[uid][1] >= self.lease:
                    stale.append(uid)
            else:
                free.append(uid)
        self._others = others
        self._mine = {u: t for u, t in self._mine.items() if u in seen}
        highest = max((_modseq(d) for d in seen.values()), default=0)
        room = len(seen) if limit is None else limit
        taken = self._renew(client, mine[:room], seen, highest, now)
        room -= len(mine[:room])
        if free and room > 0:
            taken += self._claim(client, free[:room], highest, now)
            room -= len(free[:room])
        for uid in stale[:max(room, 0)]:
            if self._take_over(client, uid, seen[uid]):
                taken.append(uid)
        return sorted(taken)

    def release(self, client: imapclient.IMAPClient, uids: Sequence[int]) -> None:
        """Take this daemon's claim off ``uids`` (they are done or quarantined)."""
        if uids:
            client.remove_flags(list(uids), [CLAIMED, self.owner, LEASE], silent=True)
        for uid in uids:
            self._mine.pop(uid, None)

    def forget(self) -> None:
        """A new session (the folder may have been recreated): start looking afresh."""
        self._mine.clear()
        self._others.clear()

    # -- the conditional stores --------------------------------------------------------------

    def _store(self, client: imapclient.IMAPClient, uids: Iterable[int], since: int,
               action: str, flags: Iterable[str]) -> set[int]:
        """``UID STORE uids (UNCHANGEDSINCE since) action flags``; the uids it changed."""
        wanted = sorted(set(uids))
        if not wanted:
            return set()
        imap = client._imap  # imapclient has no UNCHANGEDSINCE: its own command helper
        imap.untagged_responses.pop("MODIFIED", None)
        client._command_and_check(
            "store", ",".join(map(str, wanted)), f"(UNCHANGEDSINCE {since})",
            f"{action}.SILENT", "(" + " ".join(flags) + ")", uid=True)
        imap.untagged_responses.pop("FETCH", None)  # the losers' current flags
        refused: set[int] = set()
        for value in imap.untagged_responses.pop("MODIFIED", None) or ():
            refused |= _uid_set(value)
        return set(wanted) - refused

    def _claim(self, client: imapclient.IMAPClient, uids: list[int], since: int,
               now: float) -> list[int]:
        got = self._store(client, uids, since, "+FLAGS", [CLAIMED, self.owner])
        for uid in got:
            self._mine[uid] = now
        if len(got) < len(uids):
            log.info("daemon %s: %d mail(s) claimed by another daemon at the same moment",
                     self.name, len(uids) - len(got))
        return sorted(got)

    def _renew(self, client: imapclient.IMAPClient, uids: list[int],
               seen: Mapping[int, Mapping[bytes, Any]], since: int, now: float) -> list[int]:
        """Hand out this daemon's claims again; those not renewed for a quarter lease (or
        left by this daemon before a restart) get their mod-sequence moved first."""
        due = [u for u in uids if now - self._mine.get(u, -self.lease) >= self.lease / 4]
        kept = [u for u in uids if u not in due]
        for toggle in ("-FLAGS", "+FLAGS"):
            group = [u for u in due if (LEASE in {_text(f) for f in seen[u].get(b"FLAGS", ())})
                     == (toggle == "-FLAGS")]
            for uid in self._store(client, group, since, toggle, [LEASE]):
                self._mine[uid] = now
                kept.append(uid)
        return sorted(kept)

    def _take_over(self, client: imapclient.IMAPClient, uid: int,
                   data: Mapping[bytes, Any]) -> bool:
        flags = [_text(f) for f in data.get(b"FLAGS", ())]
        former = [f for f in flags if f.startswith(OWNER)]
        keep = [f for f in flags if not f.startswith(OWNER) and f != "\\Recent"]
        got = self._store(client, [uid], _modseq(data), "FLAGS",
                          list(dict.fromkeys([*keep, CLAIMED, self.owner])))
        if got:
            self._mine[uid] = self._clock()
            self._others.pop(uid, None)
            log.warning("daemon %s: took over mail %d, claimed by %s and untouched for %g s",
                        self.name, uid, ", ".join(f[len(OWNER):] for f in former) or "nobody",
                        self.lease)
        return bool(got)


def _text(flag: Any) -> str:
    return flag.decode() if isinstance(flag, bytes) else str(flag)


def _modseq(data: Mapping[bytes, Any]) -> int:
    value = data.get(b"MODSEQ", (0,))
    return int(value[0] if isinstance(value, (tuple, list)) else value)


def _uid_set(value: Any) -> set[int]:
    """``1,3:5`` -> {1, 3, 4, 5}."""
    found: set[int] = set()
    for part in to_bytes(value).decode().split(","):
        low, _, high = part.strip().partition(":")
        if low.isdigit():
            found.update(range(int(low), int(high or low) + 1))
    return found

