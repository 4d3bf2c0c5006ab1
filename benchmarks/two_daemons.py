"""Two daemons on one mailbox, run after run: is every mail imported exactly once?

    .venv/bin/python -m benchmarks.two_daemons
    .venv/bin/python -m benchmarks.two_daemons --runs 30 --mails 300 --fail-writes 0.1
    .venv/bin/python -m benchmarks.two_daemons --runs 5 --kill-every 2
    .venv/bin/python -m benchmarks.two_daemons --runs 1 --mails 50 --url URL --key-file KEYFILE

Each run: a fresh Dovecot user and a fresh emulator (``--fail-writes``: that fraction of
``/set`` calls fails as a deadlock does), ``--daemons`` ``go-support daemon`` processes on the
one INBOX, and ``--mails`` mails APPENDed while they run (a fifth of them replies to earlier
ones). ``--kill-every S``: every S seconds one daemon, chosen at random, is killed (SIGKILL)
and started again. The run ends when every mail left the inbox; then the comments of every
ticket of the run's type are read and each mail's key counted. Prints per run the mails
imported once, missing and doubled, and tickets opened twice by one mail, and a total.

Against a real Group-Office (``--url``) the run's tickets go into a new type named after the
run, which is destroyed with its tickets at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import imapclient

from benchmarks.intake import a_mail
from go_support.desk import SupportDesk, names
from go_support.emulator import Emulator
from go_support.jmap import Batch, GroupOfficeClient
from go_support.mail.pipeline import mail_key
from tests.mail.services import Account, Dovecot, dovecot

GO_SUPPORT = str(Path(sys.executable).with_name("go-support"))
ROOT = Path(__file__).resolve().parents[1]
MARK = re.compile(r'data-go-support-mail="(k[0-9a-f]{20})"')


def feed(imap: Dovecot, account: Account, raws: list[bytes], pause: float) -> None:
    with imapclient.IMAPClient("127.0.0.1", port=imap.port, ssl=False) as client:
        client.login(account.user, account.password)
        for raw in raws:
            client.append("INBOX", raw)
            time.sleep(pause)


def waiting(imap: Dovecot, account: Account) -> int:
    with imapclient.IMAPClient("127.0.0.1", port=imap.port, ssl=False) as client:
        client.login(account.user, account.password)
        return int(client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"])


def settings_file(root: Path, url: str, imap: Dovecot, account: Account,
                  type_name: str) -> Path:
    path = root / "go-support.toml"
    path.write_text(f"""
[groupoffice]
url = "{url}"

[desk]
default_type = "{type_name}"

[mail]
addresses = ["support@example.com"]

[mail.mailboxes.box]
host = "127.0.0.1"
port = {imap.port}
security = "starttls"
ca_bundle = "{imap.ca_file}"
user = "{account.user}"
password_env = "BOX_PASSWORD"
type = "{type_name}"
poll_seconds = 0.5
""")
    return path


def start(config: Path, key: str, password: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GO_SUPPORT_CONFIG": str(config), "GO_SUPPORT_API_KEY": key,
           "BOX_PASSWORD": password, "PYTHONPATH": str(ROOT)}
    with open(log, "ab") as stderr:
        return subprocess.Popen([GO_SUPPORT, "daemon"], env=env, stdout=subprocess.DEVNULL,
                                stderr=stderr)


def count(client: GroupOfficeClient, type_id: str) -> tuple[Counter[str], Counter[str]]:
    """Each mail key on the comments of the type's tickets; each opening key on tickets."""
    batch = Batch()
    tasks = batch.call("Task/query", {"filter": {"tasklistId": [type_id]}})
    got = batch.call("Task/get", {"#ids": tasks.ref("/ids"),
                                  "properties": ["id", "customFields"]})
    found = client.execute(batch).get(got)["list"]
    keys: Counter[str] = Counter()
    ids = [str(t["id"]) for t in found]
    for start in range(0, len(ids), 100):
        batch = Batch()
        comments = batch.call("Comment/query", {"filter": {
            "entity": "Task", "entityId": ids[start:start + 100]}})
        texts = batch.call("Comment/get", {"#ids": comments.ref("/ids"),
                                           "properties": ["id", "text"]})
        for comment in client.execute(batch).get(texts)["list"]:
            keys.update(MARK.findall(comment["text"]))
    opened: Counter[str] = Counter()
    for task in found:
        value = str((task.get("customFields") or {}).get(names.FIRST_MESSAGE_ID) or "")
        if value:
            opened[value.rsplit(" ", 1)[-1]] += 1
    return keys, opened


def one_run(number: int, args: argparse.Namespace, imap: Dovecot,
            root: Path) -> tuple[int, int, int, int]:
    run = f"{time.strftime('%H%M%S')}-{number}"
    emu = None
    if args.url:
        url, key = args.url, Path(args.key_file).read_text().strip()
    else:
        from tests.desk.conftest import install_layout

        data = str(root / f"go-{number}.sqlite")
        plain = Emulator(data)
        running = plain.start()
        with GroupOfficeClient(running.base_url, api_key=plain.admin_api_key) as client:
            install_layout(client)
        plain.stop()
        emu = Emulator(data, fail_writes=args.fail_writes, fail_seed=number)
        running = emu.start()
        url, key = running.base_url, emu.admin_api_key
    type_name = f"Two daemons {run}"
    with GroupOfficeClient(url, api_key=key) as client:
        for _ in range(20):
            try:
                type_id = SupportDesk(client).types.create(type_name).id
                break
            except Exception:
                time.sleep(0.2)
    account = imap.add_user()
    config = settings_file(root, url, imap, account, type_name)
    logs = [root / f"daemon-{number}-{n}.log" for n in range(args.daemons)]
    processes = [start(config, key, account.password, log) for log in logs]
    new = args.mails - args.mails // 5
    raws = [a_mail(n, run) for n in range(new)]
    raws += [a_mail(new + n, run, reply_to=n * 3 % new) for n in range(args.mails - new)]
    feeder = threading.Thread(target=feed, args=(imap, account, raws, args.pause))
    feeder.start()
    rng = random.Random(number)
    kills = 0
    deadline = time.monotonic() + args.timeout
    last_kill = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if args.kill_every and time.monotonic() - last_kill >= args.kill_every:
            victim = rng.randrange(len(processes))
            processes[victim].kill()
            processes[victim].wait()
            processes[victim] = start(config, key, account.password, logs[victim])
            kills += 1
            last_kill = time.monotonic()
        if not feeder.is_alive() and waiting(imap, account) == 0:
            break
    feeder.join()
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
    with GroupOfficeClient(url, api_key=key) as client:
        keys, opened = count(client, type_id)
        if args.url:
            cleanup = Batch()
            cleanup.call("TaskList/set", {"destroy": [type_id]})
            client.execute(cleanup)
    if emu is not None:
        emu.stop()
    wanted = {mail_key(r) for r in raws}
    once = sum(1 for k in wanted if keys[k] == 1)
    missing = sum(1 for k in wanted if keys[k] == 0)
    doubled = sum(1 for k in wanted if keys[k] > 1)
    twice_opened = sum(1 for n in opened.values() if n > 1)
    left = waiting(imap, account)
    texts = [log.read_text(errors="replace") for log in logs]
    shares = [len(re.findall(r": (?:new-ticket|follow-up) -> ticket", t)) for t in texts]
    lost = sum(int(n) for t in texts for n in re.findall(
        r"(\d+) mail\(s\) claimed by another daemon at the same moment", t))
    print(f"run {number}: {len(opened)} tickets, {once} once, {missing} missing, "
          f"{doubled} doubled, {twice_opened} tickets opened twice, {left} left in the inbox, "
          f"{kills} kills; imported by each daemon {shares}, claims lost to the other {lost}"
          + (f" (logs {root})" if missing or doubled or twice_opened else ""), flush=True)
    return once, missing, doubled, twice_opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--mails", type=int, default=150)
    parser.add_argument("--daemons", type=int, default=2)
    parser.add_argument("--pause", type=float, default=0.01, help="seconds between APPENDs")
    parser.add_argument("--fail-writes", type=float, default=0.0)
    parser.add_argument("--kill-every", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--url", default=None, help="a real Group-Office (default: emulator)")
    parser.add_argument("--key-file", default=None, help="its admin API key, in a file")
    args = parser.parse_args()
    totals = [0, 0, 0, 0]
    with dovecot() as imap, tempfile.TemporaryDirectory() as folder:
        for number in range(1, args.runs + 1):
            result = one_run(number, args, imap, Path(folder))
            totals = [t + r for t, r in zip(totals, result, strict=True)]
    print(f"{args.runs} runs x {args.mails} mails, {args.daemons} daemons, fail_writes "
          f"{args.fail_writes}, kill every {args.kill_every or '-'} s: {totals[0]} once, "
          f"{totals[1]} missing, {totals[2]} doubled, {totals[3]} tickets opened twice")


if __name__ == "__main__":
    main()
