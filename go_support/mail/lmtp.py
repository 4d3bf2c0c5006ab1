"""Delivery from the MTA over LMTP (RFC 2033): no process per mail, and still exactly once.

``go-support ingest`` starts a process for every mail, which spends most of its time loading
Python. Here one long-running process (``go-support lmtp``) listens on a loopback port or a
Unix socket, as Dovecot and Cyrus do for their own deliveries, and runs every mail through
the same :class:`~go_support.mail.pipeline.Intake` as the daemon and ``ingest``.

The answer to the MTA is the bookkeeping. After ``DATA`` each recipient gets:

* ``250`` once Group-Office holds the mail (a new ticket, a follow-up, a bounce noted on its
  ticket, or a duplicate of a mail it already holds), or once it was quarantined into
  ``[mail] quarantine_dir`` with its reason;
* ``451`` when Group-Office failed for now: the MTA keeps the mail in its queue and delivers
  it again later. A mail written just before the failure, or just before the process was
  killed, is found again by its key on that second delivery and answered ``250`` without a
  second import;
* ``554`` when the mail would have to be quarantined but no ``quarantine_dir`` is set: the MTA
  returns it to its sender with the reason instead of it being dropped here.

Mails that arrive together are handled in one batch (a few requests per batch, as for a
mailbox), by one worker thread: the desk is used from one thread only. A message for several
recipients is one mail (routed by its first recipient), answered once per recipient.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from go_support.errors import GoSupportError
from go_support.mail.sources import IncomingMail, PushedSource

if TYPE_CHECKING:
    from go_support.mail.pipeline import Intake, Outcome

__all__ = ["HELD", "LmtpListener", "LmtpWorker", "parse_listen"]

log = logging.getLogger("go_support.mail")

#: Outcomes after which the MTA may forget the mail.
HELD = frozenset({"new-ticket", "follow-up", "bounce", "duplicate"})
#: How long the worker waits for more mail to join a batch once one has arrived.
GATHER_SECONDS = 0.02
BATCH = 200


@dataclass
class _Waiting:
    mail: IncomingMail
    answer: Future[Outcome]


class LmtpWorker:
    """Runs the mails the listener received through ``intake``, in batches, on one thread."""

    def __init__(self, intake: Intake, *, mailbox: str = "stdin", max_bytes: int) -> None:
        self.intake = intake
        self.source = PushedSource(mailbox)
        self.max_bytes = max_bytes
        self.keeps_quarantine = intake.store is not None
        self._queue: queue.Queue[_Waiting | None] = queue.Queue()
        self._numbers = itertools.count(1)
        self._prefix = f"{int(time.time())}"
        self._thread = threading.Thread(target=self._run, name="lmtp-intake", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Handle what was received, then end (SIGTERM): no sender is left without answer."""
        self._queue.put(None)
        self._thread.join()

    def submit(self, raw: bytes, size: int, recipient: str | None) -> Future[Outcome]:
        """Queue one received mail; the future gives its outcome. ``raw`` is empty when the
        mail was larger than the limit (it is quarantined with that reason)."""
        key = f"{self._prefix}.{next(self._numbers)}"
        mail = IncomingMail(self.source.name, key, raw if size <= self.max_bytes else None,
                            size, recipient, datetime.now(UTC))
        answer: Future[Outcome] = Future()
        self._queue.put(_Waiting(mail, answer))
        return answer

    def _gather(self, first: _Waiting) -> tuple[list[_Waiting], bool]:
        batch, stopping = [first], False
        deadline = time.monotonic() + GATHER_SECONDS
        while len(batch) < BATCH:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                stopping = True
                break
            batch.append(item)
        return batch, stopping

    def _run(self) -> None:
        stopping = False
        carried: list[_Waiting] = []
        while True:
            if carried:
                batch, carried = carried, []
            else:
                if stopping:
                    return
                first = self._queue.get()
                if first is None:
                    return
                batch, stopping = self._gather(first)
            carried = self._handle(batch)

    def _handle(self, batch: list[_Waiting]) -> list[_Waiting]:
        """Answers what was decided; returns the mails deferred to the next batch."""
        from go_support.mail.pipeline import Outcome
        from go_support.mail.seen import record_error, record_seen, state_dir

        try:
            outcomes: Sequence[Outcome] = self.intake.handle(self.source,
                                                             [w.mail for w in batch])
        except Exception as exc:  # Group-Office failed (or a bug): the MTA tries again
            if isinstance(exc, GoSupportError | OSError):
                log.error("lmtp: Group-Office failed (%s); %d mail(s) answered 451, the MTA "
                          "delivers them again", exc, len(batch))
            else:
                log.exception("lmtp: importing %d mail(s) failed", len(batch))
            with contextlib.suppress(OSError):
                record_error(state_dir(self.intake.settings), self.source.name, str(exc))
            for waiting in batch:
                waiting.answer.set_result(Outcome(waiting.mail, "failed", str(exc)))
            return []
        with contextlib.suppress(OSError):  # "mail status" only: never a reason to answer 451
            record_seen(state_dir(self.intake.settings), self.source.name, outcomes)
        by_key = {o.mail.key: o for o in outcomes}
        deferred = []
        for waiting in batch:
            outcome = by_key.get(waiting.mail.key)
            if outcome is not None and outcome.action == "deferred":
                deferred.append(waiting)
            else:
                waiting.answer.set_result(outcome or Outcome(
                    waiting.mail, "failed", "no outcome (a bug); delivered again later"))
        return deferred

    def reply(self, outcome: Outcome) -> str:
        """The LMTP status line for one recipient of a mail with ``outcome``."""
        if outcome.action in HELD:
            where = f" ticket {outcome.ticket_id}" if outcome.ticket_id else ""
            return _one_line(f"250 2.0.0 {outcome.action}{where}")
        if outcome.action == "quarantine":
            if self.keeps_quarantine:
                return _one_line(f"250 2.0.0 quarantined: {outcome.reason}")
            return _one_line(f"554 5.6.0 not accepted: {outcome.reason}")
        return _one_line(f"451 4.3.0 not imported yet, try again later: {outcome.reason}")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


class _Handler:
    """aiosmtpd's hooks: accept any recipient, answer after the worker decided."""

    def __init__(self, worker: LmtpWorker) -> None:
        self.worker = worker

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content or b"")
        recipients = list(envelope.rcpt_tos) or [None]
        answer = self.worker.submit(raw, len(raw), recipients[0])
        outcome = await asyncio.wrap_future(answer)
        line = self.worker.reply(outcome)
        log.info("lmtp %s from %s to %s: %s", outcome.mail.key, envelope.mail_from,
                 ", ".join(r for r in recipients if r) or "-", line)
        return "\r\n".join(line for _ in recipients)


def parse_listen(value: str) -> tuple[str, int] | str:
    """``"127.0.0.1:2424"`` -> ``("127.0.0.1", 2424)``; ``"unix:/run/go-support/lmtp"`` ->
    the socket's path. Anything else is a ``ValueError`` that says what is expected."""
    if value.startswith("unix:"):
        path = value.removeprefix("unix:")
        if not path:
            raise ValueError("unix: needs the socket's path, e.g. unix:/run/go-support/lmtp")
        return path
    host, colon, port = value.rpartition(":")
    if not colon or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:2424) or "
                         "unix:/path/to/socket")
    return host.strip("[]") or "127.0.0.1", int(port)


class LmtpListener:
    """The LMTP server: a thread of its own in front of an :class:`LmtpWorker`."""

    def __init__(self, worker: LmtpWorker, listen: tuple[str, int] | str, *,
                 hostname: str = "go-support") -> None:
        from aiosmtpd.controller import Controller, UnixSocketController
        from aiosmtpd.lmtp import LMTP

        self.worker = worker
        handler = _Handler(worker)
        # a mail up to four times the limit is read and quarantined with its size; beyond
        # that the MTA is refused at once ("552 too much mail data") and returns it
        limit = 4 * worker.max_bytes

        def lmtp() -> LMTP:
            return LMTP(handler, hostname=hostname, data_size_limit=limit, decode_data=False,
                        ident="go-support LMTP")

        self._controller: Any
        if isinstance(listen, str):
            self._controller = UnixSocketController(handler, unix_socket=listen)
        else:
            self._controller = Controller(handler, hostname=listen[0], port=listen[1])
        self._controller.factory = lmtp
        self.listen = listen

    @property
    def address(self) -> tuple[str, int] | str:
        """Where it listens (the real port when 0 was asked for)."""
        if isinstance(self.listen, str):
            return self.listen
        server = self._controller.server
        port = server.sockets[0].getsockname()[1] if server is not None else self.listen[1]
        return self.listen[0], int(port)

    def start(self) -> None:
        self.worker.start()
        self._controller.start()

    def stop(self) -> None:
        """Stop listening, answer what was received, then return."""
        self._controller.stop()
        self.worker.stop()


def serve(listener: LmtpListener, stopping: threading.Event,
          ready: Callable[[LmtpListener], None] | None = None) -> None:
    """Run until ``stopping`` is set (SIGTERM), then drain."""
    listener.start()
    try:
        if ready is not None:
            ready(listener)
        stopping.wait()
    finally:
        listener.stop()
