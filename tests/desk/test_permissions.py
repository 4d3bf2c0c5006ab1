"""Who may do what: checked before anything is sent, and never left to Group-Office alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from go_support.desk import (
    DeskError,
    InvalidTicket,
    NotATicket,
    PermissionDenied,
    Ticket,
    TicketFilter,
)
from go_support.jmap import GroupOfficeClient
from tests.desk.conftest import World

pytestmark = pytest.mark.live


def _tickets(world: World) -> dict[str, Ticket]:
    desk = world.desk
    made = {
        "a_customer": desk.tickets.create(world.type_a, "a customer", "<p>1</p>",
                                          world.users["customer"]),
        "a_other": desk.tickets.create(world.type_a, "a other", "<p>2</p>",
                                       world.users["other"]),
        "b_customer": desk.tickets.create(world.type_b, "b customer", "<p>3</p>",
                                          world.users["customer"]),
        "b_other": desk.tickets.create(world.type_b, "b other", "<p>4</p>",
                                       world.users["other"]),
    }
    for ticket in made.values():
        desk.messages.note(ticket, "<p>internal: do not tell the customer</p>")
        desk.messages.reply(ticket, "<p>public answer</p>")
    return made


def test_a_customer_sees_only_their_tickets_and_public_messages(world: World) -> None:
    made = _tickets(world)
    customer = world.as_("customer")
    listed = customer.tickets.list()
    assert sorted(t.id for t in listed) == sorted([made["a_customer"].id,
                                                   made["b_customer"].id])
    assert listed.total == 2
    assert customer.tickets.list(TicketFilter(requester=world.users["other"])).total == 0
    shown = customer.tickets.get(made["a_customer"].id)
    assert [m.html for m in shown.messages or ()] == ["<p>1</p>", "<p>public answer</p>"]
    assert not any(m.private for m in shown.messages or ())
    assert [m.html for m in customer.messages.list(made["b_customer"])] == [
        "<p>3</p>", "<p>public answer</p>"]
    for key in ("a_other", "b_other"):
        with pytest.raises(PermissionDenied, match=rf"user {world.users['customer']} may not "
                           rf"read ticket {made[key].id}: not its requester"):
            customer.tickets.get(made[key].id)
        with pytest.raises(PermissionDenied, match="not its requester"):
            customer.messages.list(made[key].id)
        with pytest.raises(PermissionDenied, match="may not answer"):
            customer.messages.reply(made[key], "<p>let me in</p>")
    assert world.as_("stranger").tickets.list().total == 0


def test_create_level_does_not_widen_a_customer_view(world: World,
                                                     admin: GroupOfficeClient) -> None:
    """A user with create (20) on a list reads every task of it (groupoffice-wire 16), and
    Comment/query applies no ACL (32): the desk still shows only the customer's own."""
    made = _tickets(world)
    admin.task_lists.update(world.type_a.id, {f"acl/{world.groups['customers']}": 20})
    own = world.own("customer")
    assert own.client.tasks.get_one(made["a_other"].id, ["id"]) is not None  # GO shows it
    listed = own.tickets.list()
    assert [t.id for t in listed] == [made["a_customer"].id]
    with pytest.raises(PermissionDenied):
        own.tickets.get(made["a_other"].id)
    shown = own.tickets.get(made["a_customer"].id)
    assert [m.private for m in shown.messages or ()] == [False, False]
    # on B, without any ACL, the customer's own key sees nothing at all
    assert [t.id for t in world.own("other").tickets.list()] == [made["a_other"].id]
    with pytest.raises(NotATicket):
        world.own("other").tickets.get(made["b_other"].id)


def test_an_agent_of_a_cannot_touch_b(world: World, unchanged: Callable[[World], Any]) -> None:
    """Through ``as_user`` on the admin key the ticket is readable, so each refusal is a
    PermissionDenied naming the missing right; on the agent's own key, Group-Office does not
    let him read B's tickets (NotATicket) nor B's list (the type is known only by the
    ``TicketType`` object: PermissionDenied)."""
    made = _tickets(world)
    agent_a = world.users["agent_a"]
    agent_b_id = world.users["agent_b"]
    ticket = made["b_customer"].id
    type_b = world.type_b.name
    needs = "needs write access on its task list"
    not_agent = f"user {agent_a} is not an agent of type '{type_b}'"
    hidden = (NotATicket, f"there is no ticket {ticket} (no such task, or the API key's user "
                          "cannot read it)")
    expected: dict[str, dict[str, tuple[type[Exception], str]]] = {
        "as_user": {
            "reply": (PermissionDenied,
                      f"user {agent_a} may not answer ticket {ticket}: not its requester, and "
                      f"not an agent of type '{type_b}' ({needs})"),
            "note": (PermissionDenied, f"{not_agent} to write private notes: {needs}"),
            "assign": (PermissionDenied, f"{not_agent} to assign tickets: {needs}"),
            "set_status": (PermissionDenied,
                           f"{not_agent} to change the status of tickets: {needs}"),
            "close": (PermissionDenied, f"{not_agent} to close tickets: {needs}"),
            "create": (PermissionDenied,
                       f"{not_agent} and may only open tickets for themself: {needs}"),
        },
        "own key": {
            "reply": hidden, "note": hidden, "assign": hidden, "set_status": hidden,
            "close": hidden,
            "create": (PermissionDenied, f"{not_agent}: {needs} (this user cannot even read it)"),
        },
    }
    for variant, desk in (("as_user", world.as_("agent_a")), ("own key", world.own("agent_a"))):
        # listing shows A's tickets only (and B's the agent requested: none)
        assert sorted(t.id for t in desk.tickets.list()) == sorted(
            [made["a_customer"].id, made["a_other"].id])
        actions: dict[str, Callable[[], Any]] = {
            "reply": lambda desk=desk: desk.messages.reply(ticket, "<p>x</p>"),
            "note": lambda desk=desk: desk.messages.note(ticket, "<p>x</p>"),
            "assign": lambda desk=desk: desk.tickets.assign(ticket, agent_b_id),
            "set_status": lambda desk=desk: desk.tickets.set_status(ticket, "completed"),
            "close": lambda desk=desk: desk.tickets.close(ticket),
            "create": lambda desk=desk: desk.tickets.create(world.type_b, "x", "<p>x</p>",
                                                            world.users["customer"]),
        }
        with unchanged(world):
            for name, action in actions.items():
                error, message = expected[variant][name]
                with pytest.raises(DeskError) as caught:
                    action()
                assert type(caught.value) is error, (variant, name, caught.value)
                assert str(caught.value) == message, (variant, name)
                if isinstance(caught.value, PermissionDenied):
                    assert (caught.value.actor, caught.value.right) == (agent_a, "agent")


def test_denial_names_actor_and_right(world: World) -> None:
    made = _tickets(world)
    with pytest.raises(PermissionDenied) as caught:
        world.as_("agent_a").tickets.close(made["b_other"])
    assert str(caught.value) == (
        f"user {world.users['agent_a']} is not an agent of type '{world.type_b.name}' to close "
        "tickets: needs write access on its task list")
    assert caught.value.actor == world.users["agent_a"] and caught.value.right == "agent"


def test_customers_only_open_tickets_for_themselves_in_their_types(
        world: World, unchanged: Callable[[World], Any]) -> None:
    customer = world.as_("customer")
    mine = world.desk.tickets.create(world.type_a, "y", "<p>y</p>", world.users["customer"])
    with unchanged(world):
        with pytest.raises(PermissionDenied, match="may only open tickets for themself"):
            customer.tickets.create(world.type_a, "x", "<p>x</p>", world.users["other"])
        with pytest.raises(PermissionDenied, match="is not a customer of type"):
            world.as_("stranger").tickets.create(world.type_a, "x", "<p>x</p>", "me")
        with pytest.raises(PermissionDenied, match="only agents"):
            customer.messages.reply(mine, "<p>close it</p>", status="completed")
        with pytest.raises(PermissionDenied, match="is not an agent"):
            customer.messages.note(mine, "<p>note</p>")
        with pytest.raises(PermissionDenied, match="is not an agent"):
            customer.tickets.close(mine)
        with pytest.raises(PermissionDenied, match="is not an agent"):
            customer.tickets.assign(mine, world.users["agent_a"])
        with pytest.raises(PermissionDenied, match="is not an agent"):
            customer.tickets.set_status(mine, "completed")


def test_a_disabled_user_is_no_agent_and_cannot_be_assigned(
        world: World, unchanged: Callable[[World], Any]) -> None:
    desk = world.desk
    ticket = desk.tickets.create(world.type_a, "x", "<p>x</p>", world.users["customer"])
    a2 = world.users["agent_a2"]
    assert world.as_("agent_a2").roles.is_agent(world.type_a)
    world.admin.users.update(a2, {"enabled": False})
    disabled = rf"user {a2} \(Agenta2 {world.tag[-4:]}\) is disabled"
    with unchanged(world):
        with pytest.raises(InvalidTicket, match=disabled + " and cannot be assigned"):
            desk.tickets.assign(ticket, a2)
        with pytest.raises(InvalidTicket, match=disabled):
            desk.tickets.create(world.type_a, "y", "<p>y</p>", world.users["customer"],
                                agent=a2)
        as_a2 = world.as_("agent_a2")
        assert not as_a2.roles.is_agent(world.type_a)
        # an agent's reply to an unassigned ticket would assign it to the replier
        with pytest.raises(PermissionDenied, match=disabled + " and may not answer"):
            as_a2.messages.reply(ticket, "<p>mine now</p>")
        with pytest.raises(PermissionDenied, match=disabled):
            as_a2.tickets.assign(ticket, "me")
        with pytest.raises(PermissionDenied, match=disabled):
            as_a2.roles.require_agent(world.type_a)
        with pytest.raises(PermissionDenied, match=disabled + " and may not open tickets"):
            as_a2.tickets.create(world.type_a, "z", "<p>z</p>", world.users["customer"])
    world.admin.users.update(a2, {"enabled": True})
    assigned = desk.tickets.assign(ticket, a2).agent
    assert assigned is not None and assigned.id == a2
