"""An SMTP sink: a real SMTP server on a loopback port that keeps what it accepts.

The demo mails agents' answers into it (so that a newcomer sees them leave without a mail
server), and the tests use it as the other side of :class:`~go_support.mail.outbound.SmtpSender`:
it speaks real SMTP (``aiosmtpd``) and refuses the recipients in ``refuse`` with a 550, so
that senders meet real SMTP errors.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["Received", "SmtpSink", "smtp_sink"]


@dataclass
class Received:
    """One accepted mail: envelope sender, envelope recipients, the bytes."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address.lower() in self.sink.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self.sink.arrived:
            self.sink.messages.append(Received(
                str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content)))
            self.sink.arrived.notify_all()
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpSink:
    """An SMTP server on a free loopback port that keeps every message it accepts and
    refuses the recipients in ``refuse`` (550)."""

    def __init__(self, port: int = 0) -> None:
        self.messages: list[Received] = []
        self.refuse: set[str] = set()
        self.arrived = threading.Condition()
        self.port = port or _free_port()
        self.host = "127.0.0.1"
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The messages once at least ``count`` arrived; fails after ``timeout`` seconds."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} of {count} messages arrived "
                                     f"within {timeout} s")
            return list(self.messages)


@contextlib.contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    """A started sink, stopped afterwards."""
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
