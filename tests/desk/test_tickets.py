"""Tickets: create, get, list with every filter, assign, set_status, close."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from go_support.desk import (
    MAX_PER_PAGE,
    UNASSIGNED,
    DeskConfig,
    DeskError,
    InvalidPage,
    InvalidTicket,
    Person,
    Status,
    SupportDesk,
    Ticket,
    TicketFilter,
    UnknownUser,
)
from go_support.desk.names import (
    FIRST_MESSAGE_ID,
    LEGACY_TICKET_ID,
    REQUESTER_EMAIL,
    REQUESTER_ID,
    REQUESTER_NAME,
)
from go_support.jmap import GroupOfficeClient
from tests.desk.conftest import Cleanup, World
from tests.jmap.conftest import RecordingTransport

pytestmark = pytest.mark.live


def _task(admin: GroupOfficeClient, ticket_id: str) -> dict[str, object]:
    found = admin.tasks.get_one(ticket_id, ["id", "tasklistId", "title", "progress",
                                            "responsibleUserId", "categories", "customFields",
                                            "percentComplete"])
    assert found is not None
    return found


def test_create_for_a_user_by_address(world: World, admin: GroupOfficeClient) -> None:
    customer_email = f"customer.{world.tag}@example.com"
    ticket = world.desk.tickets.create(
        world.type_a.name, "  Printer   jammed ", "<p>Paper everywhere</p>",
        customer_email.upper(), message_id="<m1@example.com>")
    assert ticket.subject == "Printer jammed"
    assert ticket.type == world.type_a
    assert ticket.status is Status.NEEDS_ACTION and ticket.agent is None
    assert ticket.requester.id == world.users["customer"]
    assert ticket.requester.email == customer_email
    assert ticket.first_message_id == "<m1@example.com>"
    assert ticket.messages is not None and len(ticket.messages) == 1
    first = ticket.messages[0]
    assert first.mail_status == "received" and not first.private
    assert first.html == "<p>Paper everywhere</p>" and first.message_id == "<m1@example.com>"
    assert first.author == ticket.requester
    task = _task(admin, ticket.id)
    assert task["tasklistId"] == world.type_a.id and task["progress"] == "needs-action"
    assert task["responsibleUserId"] is None
    fields = task["customFields"]
    assert isinstance(fields, dict)
    assert str(fields[REQUESTER_ID]) == world.users["customer"]
    assert fields[REQUESTER_EMAIL] == customer_email
    assert fields[FIRST_MESSAGE_ID] == "<m1@example.com>"


def test_create_for_an_unknown_address_keeps_it(world: World, admin: GroupOfficeClient) -> None:
    ticket = world.desk.tickets.create(world.type_b, "VPN down", "<p>no VPN</p>",
                                       '"Zoë Q" <zoe.q@example.org>')
    assert ticket.requester == Person(None, "zoe.q@example.org", "Zoë Q")
    fields = _task(admin, ticket.id)["customFields"]
    assert isinstance(fields, dict)
    assert fields[REQUESTER_ID] is None
    assert (fields[REQUESTER_EMAIL], fields[REQUESTER_NAME]) == ("zoe.q@example.org", "Zoë Q")


def test_create_with_agent_category_and_attachment(world: World, cleanup: Cleanup,
                                                   admin: GroupOfficeClient) -> None:
    category = world.desk.categories.create(f"{world.tag} Printer", world.type_a)
    cleanup("TaskCategory", category.id)
    ticket = world.desk.tickets.create(
        world.type_a, "Toner", "<p>see log</p>", int(world.users["customer"]),
        category=category.name, agent=world.users["agent_a"],
        attachments=[("log.txt", b"toner low\n", "text/plain")],
        date=datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
    assert ticket.agent is not None and ticket.agent.id == world.users["agent_a"]
    assert ticket.status is Status.NEEDS_ACTION  # the agent's first comment did not move it
    assert ticket.categories == (category,)
    assert ticket.messages is not None
    (first,) = ticket.messages
    assert first.date == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    (attachment,) = first.attachments
    assert attachment.name == "log.txt"
    assert world.desk.client.download_blob(attachment.blob_id) == b"toner low\n"
    task = _task(admin, ticket.id)
    assert task["progress"] == "needs-action"
    assert task["responsibleUserId"] == world.users["agent_a"]
    assert task["categories"] == [category.id]


def test_a_customer_opens_a_ticket_for_themself(world: World) -> None:
    desk = world.as_("customer")
    ticket = desk.tickets.create(world.type_a, "My screen", "<p>flickers</p>", "me")
    assert ticket.requester.id == world.users["customer"]
    assert desk.tickets.get(ticket.id).subject == "My screen"


def test_get_shows_everything_to_agents(world: World) -> None:
    ticket = world.desk.tickets.create(world.type_a, "Disk", "<p>full</p>",
                                       world.users["customer"])
    world.as_("agent_a").messages.reply(ticket, "<p>cleaning up</p>")
    world.as_("agent_a").messages.note(ticket, "<p>user keeps videos</p>")
    for desk in (world.desk, world.as_("agent_a"), world.own("agent_a")):
        shown = desk.tickets.get(ticket.id)
        assert shown.messages is not None
        assert [m.private for m in shown.messages] == [False, False, True]
        assert [m.html for m in shown.messages] == [
            "<p>full</p>", "<p>cleaning up</p>", "<p>user keeps videos</p>"]
        assert shown.requester.email == f"customer.{world.tag}@example.com"
    bare = world.desk.tickets.get(ticket, with_messages=False)
    assert bare.messages is None and bare.id == ticket.id
    assert world.desk.messages.list(ticket.id) == list(world.desk.tickets.get(ticket).messages
                                                        or ())


def _open(world: World, type_name: str, subject: str, requester: str, **kw: object) -> Ticket:
    return world.desk.tickets.create(type_name, subject, f"<p>{subject}</p>", requester,
                                     **kw)  # type: ignore[arg-type]


def test_list_and_filters(world: World, cleanup: Cleanup, admin: GroupOfficeClient) -> None:
    desk = world.desk
    cat = desk.categories.create(f"{world.tag} Network", world.type_b)
    cleanup("TaskCategory", cat.id)
    customer, other = world.users["customer"], world.users["other"]
    t1 = _open(world, world.type_a.name, "alpha printer", customer)
    t2 = _open(world, world.type_a.name, "beta monitor", other, agent=world.users["agent_a"])
    t3 = _open(world, world.type_b.name, "gamma network", customer, category=cat.id)
    t4 = _open(world, world.type_b.name, "delta mail", "ext@example.net")
    admin.tasks.update(t4.id, {"customFields": {LEGACY_TICKET_ID: "LEG-42"}})
    desk.tickets.set_status(t3, "In progress")

    def ids(flt: TicketFilter | None = None, **kw: int) -> list[str]:
        return [t.id for t in desk.tickets.list(flt, **kw).tickets]

    assert ids() == [t4.id, t3.id, t2.id, t1.id]  # newest first
    assert ids(TicketFilter(type=world.type_a.name)) == [t2.id, t1.id]
    assert ids(TicketFilter(type=[world.type_a, world.type_b.id])) == [t4.id, t3.id, t2.id,
                                                                       t1.id]
    assert ids(TicketFilter(status="in progress")) == [t3.id]
    assert ids(TicketFilter(status=[Status.NEEDS_ACTION])) == [t4.id, t2.id, t1.id]
    assert ids(TicketFilter(category=cat.name.lower())) == [t3.id]
    assert ids(TicketFilter(category=cat)) == [t3.id]
    assert ids(TicketFilter(requester=customer)) == [t3.id, t1.id]
    assert ids(TicketFilter(requester="ext@example.net")) == [t4.id]
    assert ids(TicketFilter(agent=world.users["agent_a"])) == [t2.id]
    assert ids(TicketFilter(agent=UNASSIGNED, type=world.type_a)) == [t1.id]
    assert ids(TicketFilter(text="gamma")) == [t3.id]
    assert ids(TicketFilter(legacy_id="LEG-42")) == [t4.id]
    assert t1.created_at is not None
    assert ids(TicketFilter(created_after=t1.created_at - timedelta(minutes=1))) == [
        t4.id, t3.id, t2.id, t1.id]
    assert ids(TicketFilter(created_before=t1.created_at - timedelta(minutes=1))) == []
    assert ids(TicketFilter(modified_after=datetime.now(UTC) + timedelta(hours=1))) == []
    assert ids(TicketFilter(modified_before=datetime.now(UTC) + timedelta(hours=1),
                            type=world.type_b)) == [t4.id, t3.id]
    page = desk.tickets.list(None, page=2, per_page=3)
    assert [t.id for t in page.tickets] == [t1.id]
    assert (page.total, page.page, page.per_page, page.has_more) == (4, 2, 3, False)
    first = desk.tickets.list(per_page=3)
    assert first.total == 4 and first.has_more and len(first) == 3
    listed = {t.id: t for t in first}
    assert listed[t2.id].agent is not None and listed[t2.id].agent.name  # names come along
    assert listed[t3.id].categories == (cat,)
    assert listed[t3.id].requester.id == customer


def test_archived_types_are_listed_on_request(world: World) -> None:
    ticket = _open(world, world.type_b.name, "old", world.users["customer"])
    world.desk.types.archive(world.type_b)
    assert ticket.id not in [t.id for t in world.desk.tickets.list()]
    assert ticket.id in [t.id for t in world.desk.tickets.list(
        TicketFilter(include_archived=True))]
    assert ticket.id in [t.id for t in world.desk.tickets.list(
        TicketFilter(type=world.type_b.name))]
    assert world.desk.tickets.get(ticket.id).type.archived


def test_assign_keeps_the_status(world: World, admin: GroupOfficeClient) -> None:
    ticket = _open(world, world.type_a.name, "assign me", world.users["customer"])
    world.desk.tickets.set_status(ticket, Status.IN_PROGRESS)
    assigned = world.as_("agent_a").tickets.assign(ticket.id, world.users["agent_a"])
    assert assigned.agent is not None and assigned.agent.id == world.users["agent_a"]
    # not reset to needs-action (groupoffice-wire 08, 17)
    assert assigned.status is Status.IN_PROGRESS
    task = _task(admin, ticket.id)
    assert (task["progress"], task["responsibleUserId"]) == ("in-progress",
                                                             world.users["agent_a"])
    unassigned = world.desk.tickets.assign(ticket, None)
    assert unassigned.agent is None and unassigned.status is Status.IN_PROGRESS
    assert _task(admin, ticket.id)["responsibleUserId"] is None


def test_set_status_and_reopen(world: World, admin: GroupOfficeClient) -> None:
    ticket = _open(world, world.type_a.name, "status", world.users["customer"],
                   agent=world.users["agent_a"])
    done = world.desk.tickets.set_status(ticket.id, "completed")
    assert done.status is Status.COMPLETED and done.agent is not None
    assert _task(admin, ticket.id)["percentComplete"] == 100
    reopened = world.desk.tickets.set_status(ticket.id, "needs action")
    assert reopened.status is Status.NEEDS_ACTION
    assert reopened.agent is not None and reopened.agent.id == world.users["agent_a"]
    assert _task(admin, ticket.id)["percentComplete"] == 0  # Group-Office would leave 100


def test_close_without_feedback(world: World) -> None:
    ticket = _open(world, world.type_a.name, "close", world.users["customer"],
                   agent=world.users["agent_a"])
    closed = world.as_("agent_a").tickets.close(ticket)
    assert closed.status is Status.COMPLETED
    assert closed.agent is not None and closed.agent.id == world.users["agent_a"]
    assert len(world.desk.tickets.get(ticket).messages or ()) == 1
    failed = world.desk.tickets.close(ticket, status="Failed")
    assert failed.status is Status.FAILED


@pytest.mark.parametrize("mode", ["private", "public"])
def test_close_with_feedback_from_the_settings(world: World, admin: GroupOfficeClient,
                                               mode: str) -> None:
    config = DeskConfig(feedback=mode, feedback_text="<p>Closed after a week of silence.</p>")
    desk = SupportDesk(GroupOfficeClient(world.url, api_key=world.admin_token), config)
    world.clients.append(desk.client)
    ticket = _open(world, world.type_a.name, f"close {mode}", world.users["customer"])
    closed = desk.tickets.close(ticket.id, Status.CANCELLED)
    assert closed.status is Status.CANCELLED and closed.agent is None  # the hook's assignment
    task = _task(admin, ticket.id)                                  # was undone
    assert (task["progress"], task["responsibleUserId"]) == ("cancelled", None)
    messages = desk.tickets.get(ticket).messages or ()
    last = messages[-1]
    assert last.html == "<p>Closed after a week of silence.</p>"
    assert last.private is (mode == "private")
    assert last.mail_status == (None if mode == "private" else "pending")
    customer_view = desk.as_user(world.users["customer"]).tickets.get(ticket).messages or ()
    assert len(customer_view) == (1 if mode == "private" else 2)


def test_close_with_explicit_feedback(world: World) -> None:
    ticket = _open(world, world.type_a.name, "close text", world.users["customer"])
    world.desk.tickets.close(ticket, feedback="<p>Solved, see FAQ.</p>")
    last = (world.desk.tickets.get(ticket).messages or ())[-1]
    assert (last.html, last.private, last.mail_status) == ("<p>Solved, see FAQ.</p>", False,
                                                           "pending")
    world.desk.tickets.close(ticket, feedback="<p>internal</p>", feedback_mode="private")
    assert (world.desk.tickets.get(ticket).messages or ())[-1].private


def test_new_tickets_are_seen_by_a_long_lived_desk(world: World) -> None:
    desk = world.desk
    assert desk.tickets.list().total == 0
    _open(world, world.type_a.name, "seen", world.users["customer"])
    time.sleep(0)  # no cache of tickets, only of the layout
    assert desk.tickets.list().total == 1


def test_people_in_the_same_forms_everywhere(world: World) -> None:
    """A user id, a user's address, a Person and "me" name an agent in create, assign and
    the filter alike; an address is looked up in the request that needs it."""
    agent_a = world.users["agent_a"]
    address = f"agenta.{world.tag}@example.com"
    person = Person(None, address.upper(), "Agent A")
    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    created = desk.tickets.create(world.type_a, "forms", "<p>forms</p>",
                                  world.users["customer"], agent=person)
    assert created.agent is not None and created.agent.id == agent_a
    other = desk.tickets.create(world.type_a, "other", "<p>other</p>", world.users["customer"])
    desk.layout  # noqa: B018 - warm the layout

    for agent in (address, Person(agent_a), int(agent_a), person):
        recorder.clear()
        assigned = desk.tickets.assign(other, agent)
        assert assigned.agent is not None and assigned.agent.id == agent_a
        assert len(recorder.api_requests()) == 2  # the checks (with the look-up), the change
        recorder.clear()
        found = desk.tickets.list(TicketFilter(agent=agent))
        assert [t.id for t in found] == [other.id, created.id]
        assert len(recorder.api_requests()) == 1
        desk.tickets.assign(other, None)

    own = world.own("agent_a")
    assert own.tickets.assign(other, "me").agent == assigned.agent
    assert [t.id for t in own.tickets.list(TicketFilter(agent="me"))] == [other.id, created.id]
    assert [t.id for t in world.as_("agent_a").tickets.list(
        TicketFilter(agent=Person(None, address)))] == [other.id, created.id]


def test_unknown_or_unfit_agents_by_address(world: World,
                                            unchanged: Callable[[World], Any]) -> None:
    ticket = _open(world, world.type_a.name, "unknown", world.users["customer"])
    desk = world.desk
    nobody = f"nobody.{world.tag}@example.com"
    with unchanged(world):
        with pytest.raises(UnknownUser, match=rf"the agent '{nobody}': there is no "
                           "Group-Office user with that address"):
            desk.tickets.assign(ticket, nobody)
        with pytest.raises(UnknownUser, match=f"'{nobody}'"):
            desk.tickets.list(TicketFilter(agent=nobody))
        with pytest.raises(UnknownUser, match=f"'{nobody}'"):
            desk.tickets.create(world.type_a, "s", "<p>m</p>", world.users["customer"],
                                agent=nobody)
        with pytest.raises(InvalidTicket, match="is not an agent of type"):
            desk.tickets.assign(ticket, f"agentb.{world.tag}@example.com")
        with pytest.raises(InvalidTicket, match="'not me' is neither a user id nor an e-mail"):
            desk.tickets.list(TicketFilter(agent="not me"))


def test_an_address_that_matches_more_users_by_pattern(world: World, admin: GroupOfficeClient,
                                                       cleanup: Cleanup) -> None:
    """Group-Office's address filter is SQL LIKE ("_" matches any character): the desk escapes
    the address, so the look-alike's address finds only the look-alike, in one request."""
    look_alike = cleanup("User", admin.users.create({
        "username": f"{world.tag}-lookalike", "displayName": "Look Alike",
        "email": f"agent_a.{world.tag}@example.com", "groups": [2, 3]}))
    alike = admin.users.create({
        "username": f"{world.tag}-alike", "displayName": "Alike",
        "email": f"agentXa.{world.tag}@example.com",
        "groups": [2, 3, int(world.groups["agents-a"])]})
    cleanup("User", alike)
    ticket = _open(world, world.type_a.name, "pattern", world.users["customer"], agent=alike)
    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    desk.layout  # noqa: B018 - warm the layout
    recorder.clear()
    # "agent_a.<tag>@..." is the look-alike's address; unescaped it would also match the other's
    found = desk.tickets.list(TicketFilter(agent=f"agent_a.{world.tag}@example.com"))
    assert found.total == 0  # the look-alike has no tickets
    (sent,) = recorder.api_requests()
    assert {"email": f"agent\\_a.{world.tag}@example.com"} in [
        c[1]["filter"] for c in sent if c[0] == "User/query"]
    assert look_alike
    found = desk.tickets.list(TicketFilter(agent=f"agentXa.{world.tag}@example.com"))
    assert [t.id for t in found] == [ticket.id]


def test_a_bad_page_is_a_desk_error_naming_the_value(world: World) -> None:
    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    for kwargs, text in (({"page": 0}, "the page number 0 is not a page"),
                         ({"page": "2"}, "the page number '2'"),
                         ({"per_page": 500}, "500 tickets per page: per_page must be between 1 "
                                             f"and {MAX_PER_PAGE}"),
                         ({"per_page": 0}, "0 tickets per page"),
                         ({"per_page": True}, "True tickets per page")):
        with pytest.raises(InvalidPage, match=text) as caught:
            desk.tickets.list(**kwargs)  # type: ignore[arg-type]
        assert isinstance(caught.value, DeskError) and isinstance(caught.value, ValueError)
    assert recorder.sent == []
    assert len(desk.tickets.list(per_page=MAX_PER_PAGE, page=7).tickets) == 0
