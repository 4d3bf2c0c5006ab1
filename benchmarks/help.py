"""The help page's two everyday views over HTTP: requests to Group-Office per page view, and
the time the page takes.

    .venv/bin/python -m benchmarks.help
    .venv/bin/python -m benchmarks.help --tickets 20000 --mine 200 --messages 50 --repeat 5

Against the embedded emulator: seeds a desk of ``--tickets`` tickets (batched ``Task/set``,
as ``benchmarks.desk`` does), ``--mine`` of them requested by the customer Ann, and one of
Ann's tickets with ``--messages`` messages (every tenth a private note). The help page runs
in-process under waitress, its desk on a transport that counts HTTP requests to Group-Office
(``CountingTransport``); a client signs in as Ann over HTTP, then views

* "My requests" (the first page: her newest 25 of ``--mine``) and its last page;
* the page of the ticket with ``--messages`` messages;
* the New Request form (one ticket type: it asks once per type whether Ann is a customer).

Each view is measured ``--repeat`` times after one warm-up view (the desk learns its layout
once per process): requests to Group-Office per view (target: at most 2) and the median wall
time of the page, as the browser's HTTP request sees it (loopback; the emulator's time
included). Figures only: nothing is asserted (the emulator is not Group-Office, DESIGN.md §5).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.common import CountingTransport
from benchmarks.desk import seed_messages, seed_tickets
from go_support.desk import SupportDesk
from go_support.emulator import Emulator
from go_support.help import HelpOptions, create_app
from go_support.help.server import serving
from go_support.jmap import GroupOfficeClient
from go_support.migrations import install
from go_support.settings import load_settings

TARGET = 2  # HTTP requests to Group-Office per page view
EVERY = 4  # benchmarks.desk.seed_tickets gives every fourth ticket the requester it is given


def sign_in(base: str, username: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(base + "/signin", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = http.post(base + "/signin", data={"username": username, "password": password,
                                               "csrf_token": token.group(1)}, timeout=30)
    if "My requests" not in answer.text:
        raise SystemExit("signing in failed")
    return http


def measure(http: requests.Session, url: str, meter: CountingTransport, repeat: int,
            expect: str) -> tuple[int, float, float]:
    """``(requests to Group-Office per view, median ms, max ms)`` after one warm-up view."""
    http.get(url, timeout=60)
    counts, times = [], []
    for _ in range(repeat):
        meter.requests = 0
        started = time.perf_counter()
        answer = http.get(url, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        counts.append(meter.requests)
        if answer.status_code != 200 or expect not in answer.text:
            raise SystemExit(f"{url} answered {answer.status_code} without {expect!r}")
    return max(counts), statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000, help="tickets on the desk")
    parser.add_argument("--mine", type=int, default=200, help="of them, the customer's")
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5, help="views per measurement")
    args = parser.parse_args()
    if not 0 < args.mine * EVERY < args.tickets:
        raise SystemExit(f"--mine must be between 1 and --tickets / {EVERY}")

    emu = Emulator()
    server = emu.start()
    url, key = server.base_url, server.admin_api_key
    with tempfile.TemporaryDirectory() as folder, \
            GroupOfficeClient(url, api_key=key) as admin:
        try:
            install(admin)
            customers = admin.groups.create({"name": "Customers"})
            agents = admin.groups.create({"name": "Benchmark agents"})
            agent = admin.users.create({"username": "agent", "displayName": "Agent",
                                        "email": "agent@example.com",
                                        "groups": [2, 3, int(agents)]})
            other = admin.users.create({"username": "bob", "displayName": "Bob",
                                        "email": "bob@example.com",
                                        "groups": [2, 3, int(customers)]})
            ann = admin.users.create({"username": "ann", "displayName": "Ann",
                                      "email": "ann@example.com", "password": "ann-pass-1",
                                      "groups": [2, 3, int(customers)]})
            config = Path(folder, "go-support.toml")
            config.write_text('[desk]\ncustomer_groups = ["Customers"]\n', encoding="utf-8")
            settings = load_settings(config, env={"GO_SUPPORT_URL": url,
                                                  "GO_SUPPORT_API_KEY": key})
            desk = SupportDesk(admin, settings)
            ticket_type = desk.types.create("Benchmark", agents=[agents])
            mine_seeded = (args.mine - 1) * EVERY  # and the ticket with many messages
            seconds = seed_tickets(admin, ticket_type.id, agent, other,
                                   args.tickets - mine_seeded - 1)
            seconds += seed_tickets(admin, ticket_type.id, agent, ann, mine_seeded)
            chatty = seed_messages(admin, desk, ticket_type.id, args.messages, requester=ann)
            print(f"Emulator at {url}: {args.tickets:,} tickets seeded in {seconds:.1f}s, "
                  f"{args.mine} of them Ann's, ticket {chatty.id} with {args.messages} "
                  f"messages ({args.messages // 10} private notes).")

            meter = CountingTransport()
            page_desk = SupportDesk(GroupOfficeClient(url, api_key=key, transport=meter),
                                    settings)
            app = create_app(settings, HelpOptions(), desk=page_desk)
            with serving(app) as base:
                http = sign_in(base, "ann", "ann-pass-1")
                last = -(-args.mine // 25)
                rows = [
                    ("My requests, first page", f"{base}/requests", "My requests"),
                    (f"My requests, page {last}", f"{base}/requests?page={last}",
                     "My requests"),
                    (f"ticket page, {args.messages} messages",
                     f"{base}/requests/{chatty.id}", "message 49"),
                    ("New request form (one type)", f"{base}/requests/new", "Send request"),
                ]
                print(f"Each view: {args.repeat} times after one warm-up; requests to "
                      "Group-Office per view (the most seen), wall time over HTTP.\n")
                print(f"{'page view':40} {'GO requests':>11} {'target':>6} {'median ms':>10} "
                      f"{'max ms':>8}")
                for what, page_url, expect in rows:
                    count, median, worst = measure(http, page_url, meter, args.repeat, expect)
                    verdict = "ok" if count <= TARGET else "OVER"
                    print(f"{what:40} {count:11d} {'<=' + str(TARGET):>6} {median:10.1f} "
                          f"{worst:8.1f}  {verdict}")
            page_desk.client.close()
        finally:
            emu.stop()


if __name__ == "__main__":
    main()
