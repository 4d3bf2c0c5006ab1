"""The desk's pure parts, without a server: conversions, conditions, names, the operations
layer's calls, the JSON forms."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from go_support.desk import Category, Person, Status, TicketType, UnknownCategory
from go_support.desk.categories import category_scope, pick_category
from go_support.desk.checks import PersonSpec, parse_person
from go_support.desk.convert import (
    id_or_none,
    is_id,
    like_exact,
    message_from_comment,
    requester_of,
    same_id,
    str_or_none,
    ticket_from_task,
)
from go_support.desk.discovery import DeskLayout
from go_support.desk.forms import ticket_json
from go_support.desk.names import FIRST_MESSAGE_ID, LEGACY_TICKET_ID, REQUESTER_EMAIL, REQUESTER_ID
from go_support.desk.operations import NewMessage, NewTicket, Writes, state_patches, utc_text
from go_support.desk.ticket_list import _split_category_refs
from go_support.jmap import Batch

TYPE = TicketType("7", "Hardware", None, False, {"3": 30})
LAYOUT = DeskLayout("1", None, (TYPE,), {"7": 50}, "9", "s1")


def test_ids_and_empty_values() -> None:
    assert is_id("12") and not is_id("١٢") and not is_id("1a") and not is_id("")
    assert same_id(12, "12") and not same_id(None, None) and not same_id("1", "2")
    assert [str_or_none(v) for v in (None, "", False, "x", 0)] == [None, None, None, "x", "0"]
    assert [id_or_none(v) for v in (None, "", 0, "0", 5, "5")] == [None] * 4 + ["5", "5"]


def test_like_patterns_match_only_themselves() -> None:
    assert like_exact("a_b%c\\d") == "a\\_b\\%c\\\\d"
    assert like_exact(12) == "12"


def test_utc_text() -> None:
    assert utc_text(date(2024, 2, 3)) == "2024-02-03T00:00:00+00:00"
    assert utc_text(datetime(2024, 2, 3, 4, 5, 6)) == "2024-02-03T04:05:06+00:00"


def test_the_requester_of_a_task() -> None:
    ann = Person("4", "ann@example.com", "Ann")
    assert requester_of({"customFields": {REQUESTER_ID: 4}}, {"4": ann}) == ann
    assert requester_of({"customFields": {REQUESTER_ID: 0, REQUESTER_EMAIL: "b@x.org"}},
                        {}) == Person(None, "b@x.org", None)
    assert requester_of({"customFields": [], "createdBy": 8}, {}) == Person("8")


def test_a_task_as_a_ticket_and_a_comment_as_a_message() -> None:
    task = {"id": 5, "tasklistId": "7", "title": "Printer", "progress": "no such",
            "responsibleUserId": 3, "categories": [2], "createdAt": "2024-01-01T10:00:00Z",
            "customFields": {LEGACY_TICKET_ID: "L-1", FIRST_MESSAGE_ID: "", REQUESTER_ID: 4}}
    ticket = ticket_from_task(task, LAYOUT, {"3": Person("3", name="Agent")},
                              {"2": Category("2", "Toner", "7")})
    assert (ticket.id, ticket.type, ticket.status, ticket.legacy_id) == (
        "5", TYPE, Status.NEEDS_ACTION, "L-1")
    assert ticket.first_message_id is None and ticket.agent == Person("3", name="Agent")
    assert ticket.created_at == datetime(2024, 1, 1, 10, tzinfo=UTC)
    note = message_from_comment({"id": 1, "entityId": 5, "text": "<p>x</p>", "labels": ["9"],
                                 "createdBy": 3}, ticket.requester, {}, "9")
    assert note.private and note.author == Person("3")
    received = message_from_comment({"id": 2, "entityId": 5, "mailStatus": "received",
                                     "createdBy": 1}, ticket.requester, {}, "9")
    assert received.author == ticket.requester and not received.private
    assert ticket_json(ticket)["legacyId"] == "L-1"
    assert ticket_json(ticket)["agent"] == {"id": "3", "email": None, "name": "Agent"}


def test_people_as_callers_name_them() -> None:
    assert parse_person(37, role="agent") == PersonSpec("37")
    assert parse_person(" me ", role="agent", me="5") == PersonSpec("5")
    assert parse_person('"Doe, Ann" <ann@example.com>', role="requester") == PersonSpec(
        None, "ann@example.com", "Doe, Ann")


def test_categories_by_reference() -> None:
    own = Category("5", "Toner", "7")
    shared = Category("3", "toner", None)
    assert pick_category("TONER", [shared, own]) == own  # the type's own before a global one
    assert pick_category(3, [shared, own]) == shared
    assert pick_category(shared, [shared]) == shared and pick_category("x", [own]) is None
    assert category_scope(["7"]) == {"operator": "OR", "conditions": [
        {"global": True}, {"tasklistId": ["7"]}]}
    assert _split_category_refs([own, 4, " 6 ", "Paper"]) == (["5", "4", "6"], ["Paper"])
    with pytest.raises(UnknownCategory, match="is not a category name or id"):
        _split_category_refs([None])


def test_a_state_change_sets_the_agent_before_the_progress() -> None:
    assert state_patches(Status.IN_PROGRESS, "4", False) == (
        {"responsibleUserId": "4"}, {"progress": "in-progress"})
    assert state_patches(Status.NEEDS_ACTION, None, True)[1] == {
        "progress": "needs-action", "percentComplete": 0}


def _ticket(n: int) -> NewTicket:
    return NewTicket("7", f"t{n}", NewMessage(f"<p>{n}</p>", "received",
                                              message_id=f"<{n}@x>"),
                     requester_email="a@b.org", status=Status.COMPLETED)


def test_operations_share_their_calls() -> None:
    batch = Batch()
    writes = Writes(batch, per_call=2)
    handles = [writes.create_ticket(_ticket(n)) for n in range(5)]
    assert [c.method for c in batch.calls] == ["Task/set", "Comment/set"] * 3
    assert [len(c.args["create"]) for c in batch.calls] == [2, 2, 2, 2, 1, 1]
    first = batch.calls[1].args["create"][handles[0].comment_cid]
    assert first["#entityId"] == batch.calls[0].created_ref(handles[0].task_cid)
    assert first["mimeMessageId"] == "<0@x>" and first["mailStatus"] == "received"
    task = batch.calls[0].args["create"][handles[0].task_cid]
    assert task["progress"] == "needs-action"  # the first message would reset it anyway
    assert task["customFields"][FIRST_MESSAGE_ID] == "<0@x>"
    assert all(h.needs_state for h in handles)
    later = Batch()
    changes = Writes(later)
    for n in range(3):
        changes.change_state(str(n + 1), Status.COMPLETED, None)
    assert [c.method for c in later.calls] == ["Task/set", "Task/set"]
    assert later.calls[0].args["update"] == {str(n): {"responsibleUserId": None}
                                             for n in (1, 2, 3)}
    assert later.calls[1].args["update"]["2"] == {"progress": "completed"}
