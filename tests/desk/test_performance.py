"""HTTP requests per desk call (counted on the wire, not timed).

The first page of 10,000 tickets from a fresh client and desk takes at most 2 requests (the
session GET is not needed), a ticket with 50 messages at most 2; with the layout known, one.
A real Group-Office gets 300 tickets instead of 10,000 (about 50 tasks per second, DESIGN.md
§5): the number of requests does not depend on it.
"""

from __future__ import annotations

import time

import pytest

from go_support.desk import Status, TicketFilter
from go_support.desk.layout import REQUESTER_EMAIL, REQUESTER_ID, REQUESTER_NAME
from go_support.jmap import Batch, GroupOfficeClient
from tests.desk.conftest import World
from tests.jmap.conftest import RecordingTransport

pytestmark = pytest.mark.live


def _seed(admin: GroupOfficeClient, world: World, count: int) -> None:
    """``count`` tickets in type A through batched Task/set (1,000 per call)."""
    customer = int(world.users["customer"])
    created = 0
    while created < count:
        batch = Batch()
        for _ in range(5):  # 5,000 tasks per request
            chunk = min(1000, count - created)
            if chunk <= 0:
                break
            batch.set("Task", create={
                f"t{created + i}": {
                    "tasklistId": world.type_a.id,
                    "title": f"seeded ticket {created + i}",
                    "progress": ("needs-action", "in-progress")[(created + i) % 2],
                    "customFields": {REQUESTER_ID: customer if (created + i) % 3 else None,
                                     REQUESTER_EMAIL: f"r{created + i}@example.com",
                                     REQUESTER_NAME: ""},
                } for i in range(chunk)})
            created += chunk
        responses = admin.execute(batch)
        for call in batch.calls:
            assert not responses.get(call)["notCreated"]


def _requests(recorder: RecordingTransport) -> list[str]:
    return [f"{method} {url.rsplit('/', 1)[-1]}" for method, url, _ in recorder.sent]


def test_list_over_many_tickets(world: World, admin: GroupOfficeClient,
                                on_emulator: bool) -> None:
    live = not on_emulator
    count = 300 if live else 10_000
    started = time.monotonic()
    _seed(admin, world, count)
    seeded = time.monotonic() - started

    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)  # a fresh GroupOfficeClient and SupportDesk
    page = desk.tickets.list()
    cold = _requests(recorder)
    assert len(page.tickets) == 50 and page.total == count and page.has_more
    assert [t.subject for t in page.tickets[:2]] == [f"seeded ticket {count - 1}",
                                                      f"seeded ticket {count - 2}"]
    assert len(cold) <= 2, cold
    assert all(r.startswith("POST") for r in cold)  # no session GET

    recorder.clear()
    second = desk.tickets.list(TicketFilter(status=Status.IN_PROGRESS), page=3)
    assert len(_requests(recorder)) == 1
    assert second.total == count // 2 and len(second.tickets) == 50

    recorder.clear()
    customer = world.fresh(transport=recorder).as_user(world.users["customer"])
    mine = customer.tickets.list(per_page=100)
    customer_cold = _requests(recorder)
    assert len(customer_cold) <= 2, customer_cold
    assert mine.total == count - len(range(0, count, 3))
    recorder.clear()
    customer.tickets.list(page=2)
    assert len(_requests(recorder)) == 1
    print(f"\n{count} tickets seeded in {seeded:.1f}s; cold list: {cold}; "
          f"customer cold list: {customer_cold}")


def test_show_a_ticket_with_50_messages(world: World, admin: GroupOfficeClient) -> None:
    ticket = world.desk.tickets.create(world.type_a, "chatty", "<p>message 0</p>",
                                       world.users["customer"])
    batch = Batch()
    batch.set("Comment", create={
        f"m{i}": {"entity": "Task", "entityId": ticket.id, "text": f"<p>message {i}</p>",
                  "mailStatus": "received" if i % 2 else "pending"}
        for i in range(1, 50)})
    admin.execute(batch)

    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    shown = desk.tickets.get(ticket.id)
    cold = _requests(recorder)
    assert shown.messages is not None and len(shown.messages) == 50
    assert [m.html for m in shown.messages[:2]] == ["<p>message 0</p>", "<p>message 1</p>"]
    assert len(cold) <= 2, cold
    recorder.clear()
    desk.tickets.get(ticket.id)
    assert len(_requests(recorder)) == 1
    recorder.clear()
    customer = desk.as_user(world.users["customer"])
    assert len(customer.tickets.get(ticket.id).messages or ()) == 50
    assert len(_requests(recorder)) == 1
    print(f"\nshow with 50 messages, cold: {cold}")


def test_show_a_ticket_with_250_messages(world: World, admin: GroupOfficeClient) -> None:
    """More than one page of messages (100 per Comment/get): one more request."""
    ticket = world.desk.tickets.create(world.type_a, "very chatty", "<p>0</p>",
                                       world.users["customer"])
    batch = Batch()
    batch.set("Comment", create={f"m{i}": {"entity": "Task", "entityId": ticket.id,
                                           "text": f"<p>{i}</p>"} for i in range(1, 250)})
    admin.execute(batch)
    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    desk.layout  # noqa: B018 - warm the layout
    recorder.clear()
    shown = desk.tickets.get(ticket)
    assert [m.html for m in shown.messages or ()] == [f"<p>{i}</p>" for i in range(250)]
    assert len(_requests(recorder)) == 2
