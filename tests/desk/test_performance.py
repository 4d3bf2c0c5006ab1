"""HTTP requests per desk call (counted on the wire, not timed).

The first page of 10,000 tickets from a fresh client and desk takes at most 2 requests (the
session GET is not needed), a ticket with 50 messages at most 2; with the layout known, one.
A real Group-Office gets 300 tickets instead of 10,000 (about 50 tasks per second, DESIGN.md
§5): the number of requests does not depend on it.
"""

from __future__ import annotations

import contextlib
import time

import pytest

from go_support.desk import Status, TicketFilter
from go_support.desk.names import REQUESTER_EMAIL, REQUESTER_ID, REQUESTER_NAME
from go_support.jmap import Batch, GroupOfficeClient
from go_support.jmap.errors import DbException
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


def _one_request(recorder: RecordingTransport, on_emulator: bool) -> None:
    """One request with the layout known. On a shared Group-Office, someone else may change
    the task lists in the meantime: the check in that request then sees a new TaskList
    state, and the desk reads the layout again (and the work, if the types changed)."""
    bodies = [[call[0] for call in body] for body in recorder.api_requests()]
    if len(bodies) == 1 or on_emulator:
        assert len(bodies) == 1, bodies
        return
    assert len(bodies) <= 3 and bodies[1][0] == "TaskListGrouping/get", bodies


def _comment(admin: GroupOfficeClient, ticket_id: str, count: int, first: int = 1,
             **extra: str) -> None:
    """Messages ``first`` .. ``count - 1`` on a ticket, 20 per call. A real Group-Office under
    load may refuse a call with a database deadlock (dbException for the whole call): the
    messages still missing are sent again."""
    wanted = {f"<p>message {i}</p>": i for i in range(first, count)}
    for _attempt in range(5):
        batch = Batch()
        have = batch.call("Comment/query", {"filter": {"entity": "Task", "entityId": ticket_id}})
        texts = batch.call("Comment/get", {"#ids": have.ref("/ids"), "properties": ["text"]})
        present = {c["text"] for c in admin.execute(batch).get(texts)["list"]}
        missing = [t for t in wanted if t not in present]
        if not missing:
            return
        for start in range(0, len(missing), 20):
            batch = Batch()
            batch.set("Comment", create={
                f"m{wanted[text]}": {"entity": "Task", "entityId": ticket_id, "text": text,
                                     "mailStatus": "received" if wanted[text] % 2 else "pending",
                                     **extra}
                for text in missing[start:start + 20]})
            with contextlib.suppress(DbException):
                admin.execute(batch).get(batch.calls[0])
    raise AssertionError(f"could not write the messages of ticket {ticket_id}")


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
    _one_request(recorder, on_emulator)
    assert second.total == count // 2 and len(second.tickets) == 50

    recorder.clear()
    customer = world.fresh(transport=recorder).as_user(world.users["customer"])
    mine = customer.tickets.list(per_page=100)
    customer_cold = _requests(recorder)
    assert len(customer_cold) <= 2, customer_cold
    assert mine.total == count - len(range(0, count, 3))
    recorder.clear()
    customer.tickets.list(page=2)
    _one_request(recorder, on_emulator)
    print(f"\n{count} tickets seeded in {seeded:.1f}s; cold list: {cold}; "
          f"customer cold list: {customer_cold}")


def test_show_a_ticket_with_50_messages(world: World, admin: GroupOfficeClient) -> None:
    ticket = world.desk.tickets.create(world.type_a, "chatty", "<p>message 0</p>",
                                       world.users["customer"])
    _comment(admin, ticket.id, 50)

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
    ticket = world.desk.tickets.create(world.type_a, "very chatty", "<p>message 0</p>",
                                       world.users["customer"])
    _comment(admin, ticket.id, 250)
    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    desk.layout  # noqa: B018 - warm the layout
    recorder.clear()
    shown = desk.tickets.get(ticket)
    # the seeding may have sent some messages again (see _comment): compare the contents
    assert sorted(m.html for m in shown.messages or ()) == sorted(
        f"<p>message {i}</p>" for i in range(250))
    assert len(_requests(recorder)) == 2


def test_each_change_is_its_checks_and_one_request(world: World,
                                                   admin: GroupOfficeClient) -> None:
    """Every write is one request after the one that reads and checks the ticket: the
    Task/sets that survive Group-Office's progress rule travel together (no second attempt)."""
    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    desk.layout  # noqa: B018 - warm the layout
    recorder.clear()
    agent = world.users["agent_a"]
    changes: list[tuple[str, object]] = []

    def counted(what: str, change: object) -> None:
        writes = [[c[0] for c in body] for body in recorder.api_requests()
                  if any(c[0].endswith("/set") for c in body)]
        changes.append((what, [len(recorder.api_requests()), writes]))
        recorder.clear()

    ticket = desk.tickets.create(world.type_a, "counted", "<p>m</p>", world.users["customer"])
    counted("create", ticket)
    counted("reply", desk.messages.reply(ticket, "<p>on it</p>"))
    counted("note", desk.messages.note(ticket, "<p>toner</p>"))
    counted("assign", desk.tickets.assign(ticket, agent))
    counted("status", desk.tickets.set_status(ticket, "needs action"))
    counted("close", desk.tickets.close(ticket, feedback="<p>done</p>"))
    two_sets = ["Task/set", "Task/set"]
    # Each write lists, in the same request, what exists before it (the type's recent tasks,
    # the ticket's comments): should it fail, that tells what it still created.
    assert changes == [
        ("create", [2, [["Task/query", "Task/set", "Comment/set", "Task/get", "User/get",
                         "User/get", "TaskCategory/get", "Comment/get"]]]),
        ("reply", [2, [["Comment/query", "Comment/set", *two_sets, "Task/get", "User/get",
                        "User/get", "TaskCategory/get", "Comment/get"]]]),
        ("note", [2, [["Comment/query", "Comment/set", *two_sets, "Task/get", "User/get",
                       "User/get", "TaskCategory/get", "Comment/get"]]]),
        ("assign", [2, [[*two_sets, "Task/get", "User/get", "User/get", "TaskCategory/get"]]]),
        ("status", [2, [[*two_sets, "Task/get", "User/get", "User/get", "TaskCategory/get"]]]),
        ("close", [2, [["Comment/query", "Comment/set", *two_sets, "Task/get", "User/get",
                        "User/get", "TaskCategory/get", "Comment/get"]]]),
    ]
    task = admin.tasks.get_one(ticket.id, ["progress", "responsibleUserId"])
    assert task == {"id": ticket.id, "progress": "completed", "responsibleUserId": agent}
