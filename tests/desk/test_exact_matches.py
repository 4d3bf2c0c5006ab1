"""Values meant as exact matches are never SQL LIKE patterns, and a person is exactly one
address: ``_``/``%`` are escaped in filters, address lists and trailing text are refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from go_support.desk import InvalidTicket, TicketFilter
from go_support.desk.convert import like_exact
from go_support.desk.names import LEGACY_TICKET_ID
from go_support.emulator.filters import like
from go_support.jmap import GroupOfficeClient
from tests.desk.conftest import World
from tests.jmap.conftest import RecordingTransport

pytestmark = pytest.mark.live


def test_the_emulator_like_honours_backslash_escapes() -> None:
    """MariaDB's LIKE, default escape character the backslash."""
    assert like("axb@example.com", "a_b@example.com")
    assert not like("axb@example.com", "a\\_b@example.com")
    assert like("a_b@example.com", "a\\_b@example.com")
    assert like("ANY@example.com", "%@example.com")
    assert not like("any@example.com", "\\%@example.com")
    assert like("%@example.com", "\\%@example.com")
    assert like("a\\b", "a\\\\b") and not like("a\\\\b", "a\\\\b")
    assert like("ab", "a\\b")  # an escaped ordinary character is that character
    assert like("a\\", "a\\")  # a trailing backslash matches itself
    assert like("x", "\\x") and not like("\\x", "\\x")


@pytest.mark.parametrize("value", ["a_b@example.com", "100%", "c:\\dir_1", "plain"])
def test_like_exact_matches_only_itself(value: str) -> None:
    pattern = like_exact(value)
    assert like(value, pattern)
    assert like(value.upper(), pattern)  # still MariaDB's case-insensitive collation
    for other in ("axb@example.com", "1000", "c:\\dirx1", "plainer", "x"):
        if other.casefold() != value.casefold():
            assert not like(other, pattern)


def _raw_ticket(admin: GroupOfficeClient, world: World, title: str, email: str,
                legacy: str) -> str:
    from go_support.desk.names import REQUESTER_EMAIL, REQUESTER_ID, REQUESTER_NAME

    result = admin.tasks.set(create={"t": {
        "tasklistId": world.type_a.id, "title": title, "progress": "needs-action",
        "customFields": {REQUESTER_ID: None, REQUESTER_EMAIL: email, REQUESTER_NAME: "",
                         LEGACY_TICKET_ID: legacy}}})
    return str(result.created["t"]["id"])


def test_requester_and_legacy_filters_are_exact(world: World, admin: GroupOfficeClient,
                                                recorder: RecordingTransport) -> None:
    tag = world.tag
    underscore = _raw_ticket(admin, world, "underscore", f"a_b.{tag}@example.com", "T_1")
    look_alike = _raw_ticket(admin, world, "look-alike", f"axb.{tag}@example.com", "TX1")
    percent = _raw_ticket(admin, world, "percent", f"c.{tag}@example.com", "50%")
    desk = world.fresh(transport=recorder)
    found = desk.tickets.list(TicketFilter(requester=f"a_b.{tag}@example.com"))
    assert [t.id for t in found] == [underscore]
    found = desk.tickets.list(TicketFilter(requester=f"AXB.{tag}@example.com"))
    assert [t.id for t in found] == [look_alike]
    assert [t.id for t in desk.tickets.list(TicketFilter(legacy_id="T_1"))] == [underscore]
    assert [t.id for t in desk.tickets.list(TicketFilter(legacy_id="TX1"))] == [look_alike]
    assert [t.id for t in desk.tickets.list(TicketFilter(legacy_id="50%"))] == [percent]
    assert list(desk.tickets.list(TicketFilter(legacy_id="%"))) == []
    sent = [c[1]["filter"] for body in recorder.api_requests() for c in body
            if c[0] == "Task/query"]
    assert any({LEGACY_TICKET_ID: "T\\_1"} in f["conditions"] for f in sent)


@pytest.mark.parametrize("requester", [
    "%@example.com", "%", "_", "a%b@example.com", "x@example.com, y@example.com",
    "Ann <a@b.c> junk", "a@b.c>", "<a@b.c", "Ann <a@b.c>, Bob <b@b.c>", "a@b.c <d@e.f>",
])
def test_a_requester_filter_must_be_one_address_or_user(world: World, requester: str) -> None:
    with pytest.raises(InvalidTicket, match=re.escape(repr(requester))):
        world.desk.tickets.list(TicketFilter(requester=requester))


@pytest.mark.parametrize("requester", [
    "x@example.com, y@example.com", "Ann <a@b.c> junk", "a@b.c>", "x@example.com y@example.com",
    "Ann <a@b.c>, Bob <b@b.c>", "x@example.com;y@example.com", "%@example.com",
])
def test_create_refuses_a_requester_that_is_not_one_address(
        world: World, requester: str, unchanged: Callable[[World], Any]) -> None:
    with unchanged(world), pytest.raises(InvalidTicket) as caught:
        world.desk.tickets.create(world.type_a, "s", "<p>m</p>", requester)
    assert repr(requester) in str(caught.value)


def test_one_address_forms_still_accepted(world: World) -> None:
    for requester, email, name in (
        ("ann@example.com", "ann@example.com", None),
        ("Ann Lee <ann@example.com>", "ann@example.com", "Ann Lee"),
        ('"Lee, Ann" <ann@example.com>', "ann@example.com", "Lee, Ann"),
        ("<ann@example.com>", "ann@example.com", None),
    ):
        ticket = world.desk.tickets.create(world.type_a, "s", "<p>m</p>", requester)
        assert (ticket.requester.email, ticket.requester.name) == (email, name), requester


@pytest.mark.parametrize("subject", ["\u200b", "\u200b\u200d\ufeff", "\x00\x1f", " \u2060 \t"])
def test_a_subject_of_invisible_characters_is_empty(world: World, subject: str) -> None:
    with pytest.raises(InvalidTicket, match="the subject must not be empty"):
        world.desk.tickets.create(world.type_a, subject, "<p>m</p>", world.users["customer"])


@pytest.mark.parametrize("value", ["\u0661\u0662", "\uff11\uff12", "\u00b2"])
def test_ids_are_ascii_digits(world: World, value: str) -> None:
    """"١٢" is not user 12, nor ticket 12."""
    from go_support.desk import NotATicket

    with pytest.raises(InvalidTicket, match=re.escape(repr(value))):
        world.desk.tickets.list(TicketFilter(requester=value))
    with pytest.raises(NotATicket, match=re.escape(repr(value))):
        world.desk.tickets.get(value)
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        world.desk.as_user(value)
