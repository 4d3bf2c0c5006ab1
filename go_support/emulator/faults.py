"""Injected write failures: Group-Office's answer to a deadlock, on demand and reproducibly.

Under concurrent writers a real Group-Office deadlocks in MariaDB (every task save bumps its
list's modification sequence; ``1213 Deadlock found when trying to get lock``). The call that
lost answers ``dbException`` with the generic "Database exception. Check server logs for
details." (the text of every database error, groupoffice-wire 03 and 14), and its
transaction is rolled back: nothing it wrote stays. Calls later in the request that refer
to its result fail as every reference to an error response fails (groupoffice-wire 14:
``invalidResultReference`` "Could not resolve path part ..."), because the error's arguments
hold only ``message`` and ``type``.

``WriteFaults(0.1, seed=7)`` makes about one ``/set`` call in ten fail that way, the same
calls in every run that sends the same calls in the same order. The call fails before it
runs, which leaves what the roll-back leaves (Group-Office also uses up the auto-increment
ids of the rolled-back inserts, groupoffice-wire 16; the emulator does not).
"""

from __future__ import annotations

import random
import threading

from .errors import MethodError, db_exception

__all__ = ["WriteFaults"]


class WriteFaults:
    """Decides which ``/set`` calls fail as deadlocked; counts them in :attr:`injected`."""

    def __init__(self, fraction: float, seed: int | None = None) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fail_writes must be a fraction from 0 to 1, got {fraction!r}")
        self.fraction = fraction
        self.seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        #: how many calls failed so far
        self.injected = 0

    def __repr__(self) -> str:
        return f"WriteFaults({self.fraction!r}, seed={self.seed!r}, injected={self.injected})"

    def strike(self, verb: str) -> MethodError | None:
        """The error a call of ``verb`` (``"set"``, ``"get"``...) fails with, or None."""
        if verb != "set" or not self.fraction:
            return None
        with self._lock:
            if self._random.random() >= self.fraction:
                return None
            self.injected += 1
        return db_exception()
