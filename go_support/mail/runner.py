"""The daemon's loop: every mailbox into the desk, then outbound, until told to stop.

:class:`Runner` builds the sources of ``[mail.mailboxes]`` and one
:class:`~go_support.mail.pipeline.Intake`, and runs cycles: each mailbox's waiting mail in
batches, then ``go_support.mail.delivery.deliver_pending`` when that module is installed
(:data:`DELIVERY_HOOK`). A mailbox that fails (a refused login, a lost connection) is logged
and retried in the next cycle; the others keep running. Between cycles it waits on the first
IMAP mailbox with IDLE (new mail wakes it at once), else polls.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from go_support.errors import GoSupportError
from go_support.mail.config import MailboxSettings
from go_support.mail.pipeline import Intake, Outcome
from go_support.mail.quarantine import QuarantineStore
from go_support.mail.seen import record_error, record_seen, state_dir
from go_support.mail.sources import MaildirSource, MailSource, SourceError
from go_support.mail.thread_ids import MessageIds, SecretMissing

if TYPE_CHECKING:
    from go_support.desk import SupportDesk
    from go_support.settings import Settings

__all__ = ["BATCH", "DELIVERY_HOOK", "Runner", "build_intake"]

log = logging.getLogger("go_support.mail")

BATCH = 500  # mails per intake batch: a few requests each
DELIVERY_HOOK = "go_support.mail.delivery"
"""The outbound module; its ``deliver_pending(desk, sender, settings, *, now, state)`` runs once
per cycle when it is importable (``state``: its ``DeliveryState()``, one per process)."""


def build_intake(desk: SupportDesk, settings: Settings, *,
                 env: dict[str, str] | None = None) -> Intake:
    """The intake of ``settings``: Message-ID signing when ``GO_SUPPORT_MAIL_SECRET`` is set,
    acknowledgements of new tickets when outbound mail can be sent (else a log line says
    why not), the local quarantine when ``[mail] quarantine_dir`` is set."""
    mail = settings.mail
    ids = None
    if mail.id_domain:
        try:
            ids = MessageIds.from_env(mail.id_domain, env)
        except SecretMissing as exc:
            log.warning("%s; replies are threaded by known Message-IDs and subject tags only",
                        exc)
    store = QuarantineStore(mail.quarantine_dir) if mail.quarantine_dir else None
    from go_support.mail.acks import Acknowledger

    return Intake(desk, mail, default_type=settings.desk.default_type, ids=ids,
                  quarantine=store, acks=Acknowledger.from_settings(mail, ids, env))


class Runner:
    """The daemon: ``run_once()`` for cron, ``run()`` until :meth:`stop`."""

    def __init__(self, desk: SupportDesk, settings: Settings, *,
                 sources: list[MailSource] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.desk = desk
        self.settings = settings
        self.intake = build_intake(desk, settings, env=env)
        self.sources = sources if sources is not None else self._sources(env)
        self.stopping = threading.Event()
        self.state_dir = state_dir(settings.mail, env)
        self._sender: Any = None
        self._delivery: Callable[..., Any] | bool | None = False
        self._state: Any = None  # the DeliveryState of this process, with the module

    def _sources(self, env: dict[str, str] | None) -> list[MailSource]:
        found: list[MailSource] = []
        mail = self.settings.mail
        for name, box in mail.mailboxes.items():
            if box.kind == "maildir":
                found.append(MaildirSource.from_settings(name, box, max_bytes=mail.max_bytes))
            elif box.kind == "jmap":
                from go_support.mail.jmapsource import JmapMailSource  # jmapc only when used

                found.append(JmapMailSource(name, box, box.password_for(name, env),
                                            max_bytes=mail.max_bytes))
            else:
                from go_support.mail.imap import ImapSource  # imapclient only when used

                found.append(ImapSource(name, box, box.password_for(name, env),
                                        max_bytes=mail.max_bytes))
        return found

    def stop(self) -> None:
        """Finish the batch at hand, then return from :meth:`run` (SIGTERM)."""
        self.stopping.set()

    def run_once(self) -> list[Outcome]:
        """One cycle: every mailbox until it is empty (or stopping), then outbound."""
        outcomes: list[Outcome] = []
        for source in self.sources:
            outcomes += self._drain(source)
        self._deliver()
        return outcomes

    def _drain(self, source: MailSource) -> list[Outcome]:
        outcomes: list[Outcome] = []
        while not self.stopping.is_set():
            try:
                mails = source.fetch(BATCH)
            except ValueError as exc:  # a mailbox setting the source cannot use
                log.error("mailbox %r: %s", source.name, exc)
                self._seen_error(source, str(exc))
                return outcomes
            except SourceError as exc:
                log.error("%s (%s)", exc, "retried next cycle" if exc.temporary
                          else "fix the settings; retried next cycle")
                self._seen_error(source, str(exc))
                return outcomes
            if not mails:
                return outcomes
            try:
                got = self.intake.handle(source, mails)
            except (GoSupportError, OSError) as exc:
                log.error("mailbox %r: Group-Office failed (%s); %d mail(s) stay in the inbox "
                          "and are tried again", source.name, exc, len(mails))
                self._seen_error(source, f"Group-Office failed: {exc}")
                return outcomes
            except Exception:  # a bug: the daemon logs it and keeps serving the others
                log.exception("mailbox %r: importing %d mail(s) failed; they stay in the "
                              "inbox and are tried again", source.name, len(mails))
                return outcomes
            outcomes += got
            record_seen(self.state_dir, source.name, got)
            if all(o.action in ("failed", "deferred") for o in got):
                return outcomes  # nothing moved: wait for the next cycle
        return outcomes

    def _seen_error(self, source: MailSource, error: str) -> None:
        record_error(self.state_dir, source.name, error)

    def _deliver(self) -> None:
        """Outbound, when :data:`DELIVERY_HOOK` is installed."""
        if self._delivery is False:
            try:
                module = importlib.import_module(DELIVERY_HOOK)
                self._delivery = module.deliver_pending
                self._state = module.DeliveryState()
            except ImportError:
                self._delivery = None
                log.info("no outbound module (%s): agents' answers are not mailed",
                         DELIVERY_HOOK)
        if not callable(self._delivery):
            return
        try:
            if self._sender is None:
                from go_support.mail.outbound import SmtpSender
                self._sender = SmtpSender.from_settings(self.settings.mail.smtp)
            report = self._delivery(self.desk, self._sender, self.settings,
                                    now=datetime.now(UTC), state=self._state)
            log.info("outbound: %d sent, %d failed, %d deferred, %d in their grace period",
                     len(report.sent), len(report.failed), len(report.deferred),
                     len(report.waiting))
        except SecretMissing as exc:  # a setting, not a moment: said once, not every cycle
            self._delivery = None
            log.error("outbound is off until the daemon restarts with the secret: %s", exc)
        except GoSupportError as exc:
            log.error("outbound failed (%s); tried again next cycle", exc)

    def run(self, *, poll: float = 60.0) -> None:
        """Cycles until :meth:`stop`; waits with IDLE on the first IMAP mailbox that has it."""
        while not self.stopping.is_set():
            try:
                self.run_once()
                if self.stopping.is_set():
                    break
                self._wait(poll)
            except Exception:  # a bug: logged, and the next cycle starts after a pause
                log.exception("the cycle failed; the next one starts in %g s", poll)
                self.stopping.wait(poll)
        for source in self.sources:
            source.close()

    def _wait(self, poll: float) -> None:
        waiting = [s for s in self.sources if getattr(s, "uses_idle", False)]
        if waiting and len(self.sources) == 1:
            try:
                waiting[0].wait(min(poll, 5.0))  # short: SIGTERM is seen within 5 s
                return
            except SourceError as exc:
                log.error("%s", exc)
        step = min(poll, min((_poll_of(s) for s in self.sources), default=poll))
        deadline = time.monotonic() + step
        while not self.stopping.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.2, step))


def _poll_of(source: MailSource) -> float:
    if isinstance(source, MaildirSource):
        return source.poll_seconds
    settings = getattr(source, "settings", None)  # IMAP and JMAP mailboxes
    if isinstance(settings, MailboxSettings):
        return settings.poll_seconds
    return float(getattr(source, "poll_seconds", 1.0))
