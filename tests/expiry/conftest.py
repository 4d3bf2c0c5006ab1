"""Fixtures of the auto-close tests: the help desk's world (tests/desk), and tickets whose
messages are backdated (a comment's ``date`` is writable, groupoffice-wire 09 and 18), so
that the same tests run against the emulator and a real Group-Office."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from go_support.desk import Ticket
from tests.desk.conftest import (  # noqa: F401  (fixtures)
    World,
    admin,
    cleanup,
    go_server,
    on_emulator,
    recorder,
    tag,
    world,
)

DAY = timedelta(days=1)


def now() -> datetime:
    """The clock of a test: a fixed moment, passed to every run."""
    return datetime.now(UTC).replace(microsecond=0)


def quiet_ticket(world: World, moment: datetime, agent_days: float, *, type_: str = "a",
                 requester_days: float | None = None, category: str | None = None,
                 subject: str = "printer") -> Ticket:
    """A ticket the requester opened, answered by an agent ``agent_days`` before ``moment``
    (in progress, assigned to the admin); ``requester_days``: the requester answered then."""
    ticket_type = world.type_a if type_ == "a" else world.type_b
    opened = moment - (agent_days + 1) * DAY
    ticket = world.desk.tickets.create(
        ticket_type, f"{world.tag} {subject}", "<p>It does not work</p>",
        world.users["customer"], date=opened, category=category)
    world.desk.messages.reply(ticket, "<p>Please try again and tell us.</p>",
                              date=moment - agent_days * DAY)
    if requester_days is not None:
        world.as_("customer").messages.reply(ticket, "<p>Still broken.</p>",
                                             date=moment - requester_days * DAY)
        # an agent takes it up again without writing: in progress, the requester last
        world.desk.tickets.set_status(ticket, "In progress")
    return world.desk.tickets.get(ticket.id)
