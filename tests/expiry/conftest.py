"""Fixtures of the auto-close tests: the help desk's world (tests/desk), and tickets whose
messages are backdated (a comment's ``date`` is writable, groupoffice-wire 09 and 18), so
that the same tests run against the emulator and a real Group-Office."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from go_support.desk import Ticket
from tests.desk import conftest as desk_fixtures
from tests.desk.conftest import World

# The help desk's fixtures (a Group-Office with the desk installed, and a world of types and
# people), under the same names.
go_server = desk_fixtures.go_server
on_emulator = desk_fixtures.on_emulator
admin = desk_fixtures.admin
tag = desk_fixtures.tag
cleanup = desk_fixtures.cleanup
recorder = desk_fixtures.recorder
world = desk_fixtures.world

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
