"""Mail intake without Group-Office: parsing and deciding, and reading a real Dovecot.

    .venv/bin/python -m benchmarks.mail_sources
    .venv/bin/python -m benchmarks.mail_sources --backlog 2000 --idle-rounds 50

Prints three figures:

* parse + decide (:func:`go_support.mail.intake.decide`) over the real-world fixture mails,
  repeated: mails per second of one core;
* an IMAP backlog: ``--backlog`` mails APPENDed to a throw-away Dovecot, then read by
  :class:`~go_support.mail.sources.ImapSource` (``fetch``), and each moved to the processed
  folder (``done``, 100 mails per MOVE): mails per second for each step;
* IDLE: ``--idle-rounds`` times, a second client APPENDs one mail while the source waits in
  IDLE; the delay from APPEND to the mail fetched (p50, p95).

Figures only: nothing is asserted. The full pipeline into Group-Office is measured by
benchmarks/intake.py.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import imapclient

from go_support.mail.config import MailboxSettings
from go_support.mail.imap import ImapSource
from go_support.mail.intake import decide
from go_support.mail.routing import Router
from go_support.mail.sources import IncomingMail
from go_support.mail.thread_ids import MessageIds
from tests.mail.fixtures import all_mails, read
from tests.mail.services import dovecot


def parse_rate(repeat: int) -> None:
    raws = [read(name) for name in all_mails()]
    router = Router({"support": MailboxSettings(host="h", user="u", type="General")})
    ids = MessageIds("0123456789abcdef0123456789abcdef", "desk.example")
    start = time.perf_counter()
    for _ in range(repeat):
        for raw in raws:
            decide(IncomingMail("support", "1:1", raw, len(raw)), router=router, ids=ids,
                   known=lambda m: {}, people=lambda t: None, max_bytes=25 << 20)
    took = time.perf_counter() - start
    count = repeat * len(raws)
    size = sum(len(r) for r in raws) / len(raws)
    print(f"parse + decide: {count} mails (fixtures, {size:,.0f} bytes on average) in "
          f"{took:.2f} s: {count / took:,.0f} mails/s")


def mail(n: int) -> bytes:
    return (f"From: Ann <ann{n % 50}@example.org>\r\nTo: support@desk.example\r\n"
            f"Subject: Printer {n}\r\nMessage-ID: <bench-{n}@example.org>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + "The printer on floor 2 does not print. " * 20 + "\r\n").encode()


def imap(backlog: int, rounds: int) -> None:
    with dovecot() as server:
        account = server.add_user()
        peer = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=30)
        peer.login(account.user, account.password)
        start = time.perf_counter()
        for n in range(backlog):
            peer.append("INBOX", mail(n))
        appended = time.perf_counter() - start
        settings = MailboxSettings(host="127.0.0.1", port=server.port, security="starttls",
                                   ca_bundle=str(server.ca_file), user=account.user)
        source = ImapSource("support", settings, account.password)
        start = time.perf_counter()
        mails = source.fetch()
        fetched = time.perf_counter() - start
        start = time.perf_counter()
        for first in range(0, len(mails), 100):
            source.done(*mails[first:first + 100])
        moved = time.perf_counter() - start
        print(f"IMAP backlog of {len(mails)} mails: APPEND {backlog / appended:,.0f}/s, "
              f"fetch {len(mails) / fetched:,.0f}/s ({fetched:.2f} s), "
              f"move to Processed {len(mails) / moved:,.0f}/s (one MOVE per 100 mails)")

        delays = []
        for n in range(rounds):
            sent: list[float] = []

            def append(n: int = n, sent: list[float] = sent) -> None:
                sent.append(time.perf_counter())
                peer.append("INBOX", mail(backlog + n))

            timer = threading.Timer(0.05, append)
            timer.start()
            got: list[IncomingMail] = []
            while not got:
                source.wait(timeout=10)
                got = source.fetch()
            delays.append(time.perf_counter() - sent[0])
            timer.join()
            source.done(*got)
        source.close()
        peer.logout()
        delays.sort()
        p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
        print(f"IDLE, APPEND to fetched, {rounds} mails: p50 {statistics.median(delays) * 1000:.0f}"
              f" ms, p95 {p95 * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the fixtures")
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--idle-rounds", type=int, default=50)
    args = parser.parse_args()
    parse_rate(args.repeat)
    imap(args.backlog, args.idle_rounds)


if __name__ == "__main__":
    main()
