"""Bulk creation through the desk (``tickets.create_many``) and the look-ups of the operations
layer: the checks of one-by-one creation hold for every ticket of a bulk, a bulk with a refused
ticket is refused as a whole (named), first statuses survive the first message, and tickets are
found again by legacy id, by first Message-ID, and with their messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from go_support.desk import (
    CreatedTicket,
    InvalidMessage,
    InvalidTicket,
    RefusedTickets,
    Status,
    TicketDraft,
    UnknownCategory,
    UnknownUser,
)
from go_support.desk.lookups import add_messages_of, add_pending_messages, add_tickets_by
from go_support.desk.names import FIRST_MESSAGE_ID, LEGACY_TICKET_ID
from go_support.jmap import Batch, GroupOfficeClient
from tests.desk.conftest import World
from tests.jmap.conftest import RecordingTransport

pytestmark = pytest.mark.live


def _drafts(world: World, count: int, tag: str) -> list[TicketDraft]:
    """Tickets as a migration brings them: legacy ids, Message-IDs, dates, first statuses,
    requesters by address (most of them no Group-Office users) and by user id, agents."""
    statuses = [Status.NEEDS_ACTION, Status.IN_PROGRESS, Status.COMPLETED]
    return [TicketDraft(
        world.type_a, f"bulk ticket {n}", f"<p>message {n}</p>",
        world.users["customer"] if n % 5 == 0 else f"Person {n} <p{n}.{tag}@example.com>",
        legacy_id=f"{tag}-{n}", message_id=f"<{tag}-{n}@example.com>",
        date=datetime(2020, 1, 1 + n % 28, 12, tzinfo=UTC), status=statuses[n % 3],
        agent=world.users["agent_a"] if n % 2 else None, due=date(2030, 1, 1),
    ) for n in range(count)]


def test_a_bulk_with_one_bad_ticket_is_refused_whole(
        world: World, unchanged: Callable[[World], Any], on_emulator: bool) -> None:
    """500 tickets, one with an empty subject: nothing is sent, the error names it; without
    it, the bulk is created (500 on the emulator, a few on a shared real server, whose
    database refuses big comment writes under load)."""
    drafts = _drafts(world, 500, world.tag)
    bad = TicketDraft(world.type_a, "   ", "<p>m</p>", "ann@example.com", legacy_id="L-bad")
    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    with unchanged(world), pytest.raises(RefusedTickets) as caught:
        desk.tickets.create_many([*drafts[:250], bad, *drafts[250:]])
    assert str(caught.value).startswith("1 of 501 tickets were refused, nothing was created: "
                                        "ticket 250 (legacy id 'L-bad'): the subject must not "
                                        "be empty")
    ((position, error),) = caught.value.problems
    assert position == 250 and isinstance(error, InvalidTicket)
    assert not any(c[0].endswith("/set") for body in recorder.api_requests() for c in body)

    size = 500 if on_emulator else 12
    recorder.clear()
    results = desk.tickets.create_many(drafts[:size])
    assert all(isinstance(r, CreatedTicket) for r in results)
    assert [r.position for r in results] == list(range(size))
    # the checks and look-ups, the tickets with their first messages (after the query of the
    # types' recent tasks that tells, should the request fail, which tasks it still created),
    # the first statuses
    sent = [[c[0] for c in body] for body in recorder.api_requests()]
    assert [b for b in sent if any(m.endswith("/set") for m in b)] == [
        ["Task/query", "Task/set", "Comment/set"], ["Task/set", "Task/set"]]
    assert len(sent) == 3 or (not on_emulator and len(sent) <= 5)  # a shared server's lists
    created = [r for r in results if isinstance(r, CreatedTicket)]
    page = desk.tickets.list(per_page=100)
    assert page.total == size
    shown = desk.tickets.get(created[4].ticket_id)
    assert (shown.subject, shown.legacy_id, shown.status, shown.agent) == (
        "bulk ticket 4", f"{world.tag}-4", Status.IN_PROGRESS, None)
    assert shown.first_message_id == f"<{world.tag}-4@example.com>"
    assert shown.requester.email == f"p4.{world.tag}@example.com"
    assert shown.messages is not None and shown.messages[0].html == "<p>message 4</p>"
    assert shown.messages[0].date == datetime(2020, 1, 5, 12, tzinfo=UTC)
    fifth = desk.tickets.get(created[5].ticket_id)
    assert fifth.status is Status.COMPLETED and fifth.requester.id == world.users["customer"]
    assert fifth.agent is not None and fifth.agent.id == world.users["agent_a"]


def test_bulk_drafts_get_every_check_of_create(world: World,
                                               unchanged: Callable[[World], Any]) -> None:
    good = _drafts(world, 3, world.tag)
    bad = [
        TicketDraft(world.type_a, "s", "<p>m</p>", 999999),
        TicketDraft(world.type_a, "s", "<p>m</p>", "a@b.org", category="nope"),
        TicketDraft(world.type_a, "s", "<p>m</p>", "a@b.org", agent=world.users["agent_b"]),
        TicketDraft(world.type_a, "s", "<p>m</p>", "a@b.org", legacy_id="x" * 51),
        TicketDraft(world.type_a, "s", "<p> </p>", "a@b.org"),
    ]
    with unchanged(world), pytest.raises(RefusedTickets) as caught:
        world.desk.tickets.create_many([*good, *bad])
    kinds = [(p, type(e)) for p, e in caught.value.problems]
    assert kinds == [(3, UnknownUser), (4, UnknownCategory), (5, InvalidTicket),
                     (6, InvalidTicket), (7, InvalidMessage)]
    assert str(caught.value).startswith("5 of 8 tickets were refused, nothing was created: "
                                        "ticket 3 ('s'): the requester, user 999999, does not "
                                        "exist; ticket 4 ('s'): there is no category 'nope'")
    # a customer may open tickets for themself only, and sets no first status
    customer = world.as_("customer")
    with unchanged(world), pytest.raises(RefusedTickets, match="only agents of type"):
        customer.tickets.create_many([
            TicketDraft(world.type_a, "s", "<p>m</p>", "me"),
            TicketDraft(world.type_a, "s", "<p>m</p>", "me", status="completed")])


def test_tickets_are_found_by_legacy_id_message_id_and_their_messages(
        world: World, admin: GroupOfficeClient) -> None:
    started = datetime.now(UTC) - timedelta(seconds=5)
    drafts = _drafts(world, 6, world.tag)
    created = [r for r in world.desk.tickets.create_many(drafts)
               if isinstance(r, CreatedTicket)]
    ticket = created[1].ticket_id
    reply = world.desk.messages.reply(ticket, "<p>answer</p>")
    note = world.desk.messages.note(ticket, "<p>private</p>")

    batch = Batch()
    by_legacy = add_tickets_by(batch, [world.type_a.id], LEGACY_TICKET_ID,
                               [f"{world.tag}-1", f"{world.tag}-4", "nope", "%"])
    by_mail = add_tickets_by(batch, [world.type_a.id, world.type_b.id], FIRST_MESSAGE_ID,
                             [f"<{world.tag}-2@example.com>"])
    messages = add_messages_of(batch, [c.ticket_id for c in created[:3]])
    pending = add_pending_messages(batch, started)
    responses = admin.execute(batch)

    found = by_legacy.result(responses)
    assert {k: str(v["id"]) for k, v in found.items()} == {
        f"{world.tag}-1": created[1].ticket_id, f"{world.tag}-4": created[4].ticket_id}
    assert {k: str(v["id"]) for k, v in by_mail.result(responses).items()} == {
        f"<{world.tag}-2@example.com>": created[2].ticket_id}
    listed = messages.result(responses, [world.type_a.id])
    assert sorted(str(c["id"]) for c in listed) == sorted(
        [c.message_id for c in created[:3]] + [reply.id, note.id])
    waiting = [str(c["id"]) for c in pending.result(responses, [world.type_a.id])]
    assert waiting == [reply.id]


def test_an_unknown_type_in_a_bulk_is_named(world: World,
                                            unchanged: Callable[[World], Any]) -> None:
    drafts = [*_drafts(world, 2, world.tag),
              TicketDraft("No such type", "s", "<p>m</p>", "a@b.org")]
    with unchanged(world), pytest.raises(RefusedTickets, match=(
            "1 of 3 tickets were refused, nothing was created: ticket 2 \\('s'\\): there is no "
            "ticket type 'No such type'")):
        world.desk.tickets.create_many(drafts)
    assert world.desk.tickets.create_many([]) == []


def test_a_bulk_built_ahead_is_sent_as_built(world: World, tmp_path: Any) -> None:
    """``plan_tickets`` builds the request that creates checked tickets without sending
    anything (a bulk writer builds the next bulk while the current one is on the server);
    ``write_tickets`` sends it, and only for the tickets it was built for. Tickets with
    attachments are not planned: their uploads are writes."""
    from go_support.desk.ticket_creation import check_drafts, plan_tickets, write_tickets

    recorder = RecordingTransport()
    core = world.fresh(transport=recorder)._core
    prepared = check_drafts(core, _drafts(world, 3, f"{world.tag}p"))
    other = check_drafts(core, _drafts(world, 2, f"{world.tag}q"))
    recorder.clear()
    planned = plan_tickets(core, prepared)
    assert recorder.api_requests() == []
    with pytest.raises(ValueError, match="other tickets"):
        write_tickets(core, other, planned=planned)
    written = write_tickets(core, prepared, planned=planned)
    assert [(type(r), r.legacy_id) for r in written.results] == [
        (CreatedTicket, f"{world.tag}p-{n}") for n in range(3)]
    sent = [[c[0] for c in body] for body in recorder.api_requests()]
    assert sent[0] == ["Task/query", "Task/set", "Comment/set"]  # as built, sent first
    attached = tmp_path / "a.txt"
    attached.write_text("x")
    with_file = check_drafts(core, [TicketDraft(world.type_a, "with a file", "<p>m</p>",
                                                "ann@example.com", attachments=[attached])])
    with pytest.raises(ValueError, match="attachments"):
        plan_tickets(core, with_file)
