"""Mail intake end to end: Dovecot (IMAP) into the emulator (or a real Group-Office).

    .venv/bin/python -m benchmarks.intake
    .venv/bin/python -m benchmarks.intake --mails 2000 --idle-rounds 50
    .venv/bin/python -m benchmarks.intake --url http://127.0.0.1:8080 --key-file KEYFILE

Prints:

* a backlog: ``--mails`` mails (70% new requests, 30% follow-ups to earlier ones) APPENDed to
  a throw-away Dovecot, then imported by the daemon's runner: mails per second and HTTP
  requests to Group-Office per mail (attachment uploads included; there are none here);
* live delay with IDLE: ``--idle-rounds`` times, a mail APPENDed while the runner waits in
  IDLE; the delay from APPEND to Group-Office answering the request that wrote its ticket
  (readable from then on), p50 and p95, and the delay to the end of its batch (the mail out
  of the inbox); then where the time went: Dovecot's notice of the new mail (it waits 500 ms
  after a change before it tells an IDLE client: ``NOTIFY_DELAY_MSECS`` in its source), the
  IMAP commands, and each request to Group-Office by its first method.

Against a real Group-Office (``--url``), the tickets go into a new type named after the run,
which is destroyed with its tickets at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import imapclient

from benchmarks.common import CountingTransport
from go_support.desk import SupportDesk
from go_support.jmap import Batch, GroupOfficeClient
from go_support.mail.config import MailboxSettings, MailSettings
from go_support.mail.imap import ImapSource
from go_support.mail.pipeline import Intake, Outcome
from go_support.mail.runner import Runner
from go_support.mail.sources import IncomingMail, MailSource
from go_support.settings import Settings
from tests.mail.services import dovecot


def a_mail(n: int, run: str, reply_to: int | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Requester {n % 97} <req{n % 97}-{run}@example.com>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Re: Request {reply_to}" if reply_to is not None else f"Request {n}"
    mail["Message-ID"] = f"<bench-{run}-{n}@example.com>"
    if reply_to is not None:
        mail["In-Reply-To"] = f"<bench-{run}-{reply_to}@example.com>"
    mail.set_content(f"Mail {n} of run {run}: the printer on floor {n % 7} jams.")
    return mail.as_bytes()


class Timed(Intake):
    """The intake, noting when Group-Office answered the request that wrote each mail
    (``readable_at``), when its batch was over (``held_at``) and when its batch began."""

    held_at: dict[str, float]
    readable_at: dict[str, float]
    started_at: dict[str, float]

    def handle(self, source: MailSource, mails: Any) -> list[Outcome]:
        begun = time.monotonic()
        for mail in mails:
            self.started_at.setdefault(_message_id(mail), begun)
        outcomes = super().handle(source, mails)
        now = time.monotonic()
        for outcome in outcomes:
            if outcome.action in ("new-ticket", "follow-up"):
                self.held_at.setdefault(_message_id(outcome.mail), now)
        return outcomes

    def _create(self, new: Any, read: Any) -> None:
        super()._create(new, read)
        self._readable(new)

    def _follow_up(self, items: Any, read: Any) -> None:
        super()._follow_up(items, read)
        self._readable(items)

    def _readable(self, items: Any) -> None:
        now = time.monotonic()
        for item in items:
            if item.outcome in ("new-ticket", "follow-up"):
                self.readable_at.setdefault(_message_id(item.mail), now)


class Timing(CountingTransport):
    """Counts the requests and notes how long each took, by its first method."""

    def __init__(self) -> None:
        super().__init__()
        self.took: list[tuple[str, float]] = []

    def send(self, method: str, url: str, *, headers: Any, body: bytes | None,
             timeout: float) -> Any:
        started = time.monotonic()
        try:
            return super().send(method, url, headers=headers, body=body, timeout=timeout)
        finally:
            name = "other"
            if body and url.endswith("jmap.php"):
                calls = json.loads(body)
                name = "+".join(dict.fromkeys(c[0] for c in calls))
            self.took.append((name, time.monotonic() - started))


def _message_id(mail: IncomingMail) -> str:
    for line in (mail.raw or b"").splitlines():
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--idle-rounds", type=int, default=50)
    parser.add_argument("--url", default=None, help="a real Group-Office (default: emulator)")
    parser.add_argument("--key-file", default=None, help="its admin API key, in a file")
    args = parser.parse_args()
    run = time.strftime("%H%M%S")
    emu = None
    if args.url:
        url, key = args.url, Path(args.key_file).read_text().strip()
    else:  # its own process, as a Group-Office is: the figures are the daemon's own
        from tests.desk.conftest import install_layout

        emu = subprocess.Popen([str(Path(sys.executable).with_name("go-support")), "emulator",
                                "--port", "0"], stdout=subprocess.PIPE, text=True)
        assert emu.stdout is not None
        url = emu.stdout.readline().split()[-1]
        key = emu.stdout.readline().split()[-1]
        with GroupOfficeClient(url, api_key=key) as client:
            install_layout(client)
    type_name = f"Intake bench {run}"
    counter = Timing()
    with dovecot() as imap, GroupOfficeClient(url, api_key=key, transport=counter) as client:
        desk = SupportDesk(client)
        desk.types.create(type_name)
        account = imap.add_user()
        box = MailboxSettings(host="127.0.0.1", port=imap.port, security="starttls",
                              ca_bundle=str(imap.ca_file), user=account.user, type=type_name,
                              poll_seconds=1.0)
        settings = Settings(mail=MailSettings(addresses=["support@example.com"],
                                              mailboxes={"box": box}))
        source = ImapSource("box", box, account.password)
        runner = Runner(desk, settings, sources=[source])
        intake = Timed(desk, settings.mail, default_type=type_name)
        intake.held_at, intake.readable_at, intake.started_at = {}, {}, {}
        runner.intake = intake
        desk.layout  # noqa: B018 - read once, as the daemon does at start

        new = int(args.mails * 0.7)
        raws = [a_mail(n, run) for n in range(new)]
        raws += [a_mail(new + n, run, reply_to=n % new) for n in range(args.mails - new)]
        with imapclient.IMAPClient("127.0.0.1", port=imap.port, ssl=False) as feeder:
            feeder.login(account.user, account.password)
            for raw in raws:
                feeder.append("INBOX", raw)
        before = counter.requests
        started = time.monotonic()
        outcomes = runner.run_once()
        elapsed = time.monotonic() - started
        kinds: dict[str, int] = {}
        for outcome in outcomes:
            kinds[outcome.action] = kinds.get(outcome.action, 0) + 1
        print(f"backlog: {len(raws)} mails in {elapsed:.1f} s = {len(raws) / elapsed:.0f} "
              f"mails/s, {(counter.requests - before) / len(raws):.3f} requests per mail "
              f"({kinds})")

        thread = threading.Thread(target=runner.run, kwargs={"poll": 1.0})
        thread.start()
        delays, done, noticed = [], [], []
        counter.took.clear()
        with imapclient.IMAPClient("127.0.0.1", port=imap.port, ssl=False) as feeder:
            feeder.login(account.user, account.password)
            for n in range(args.idle_rounds):
                time.sleep(0.3)  # the runner is back in IDLE
                raw = a_mail(100000 + n, run)
                appended = time.monotonic()
                feeder.append("INBOX", raw)
                wanted = f"<bench-{run}-{100000 + n}@example.com>"
                while wanted not in intake.held_at and time.monotonic() - appended < 30:
                    time.sleep(0.005)
                delays.append(intake.readable_at.get(wanted, float("inf")) - appended)
                done.append(intake.held_at.get(wanted, float("inf")) - appended)
                noticed.append(intake.started_at.get(wanted, float("inf")) - appended)
        runner.stop()
        thread.join()
        if args.url:
            cleanup = Batch()
            cleanup.call("TaskList/set", {"destroy": [desk.types.get(type_name).id]})
            client.execute(cleanup)
        print(f"IDLE: APPEND to ticket readable {_p50_p95(delays)}; to the batch's end (out "
              f"of the inbox) {_p50_p95(done)} ({len(delays)} mails)")
        print(f"  of which: APPEND to the batch's start (Dovecot's notice, IMAP fetch and "
              f"claim) {_p50_p95(noticed)}")
        by_kind: dict[str, list[float]] = {}
        for name, took in counter.took:
            by_kind.setdefault(name, []).append(took)
        for name, times in sorted(by_kind.items(), key=lambda kv: -sum(kv[1])):
            print(f"  {len(times) / len(delays):.2f} requests per mail {name}: "
                  f"{_p50_p95(times)}")
    if emu is not None:
        emu.terminate()
        emu.wait()


def _p50_p95(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


if __name__ == "__main__":
    main()
