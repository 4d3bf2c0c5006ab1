"""``go_support.expiry`` against the emulator and (``[live]``) a real Group-Office, with the
clock passed in and the messages backdated. Every run is scoped to the test's own types
(``types=``): a real Group-Office is shared."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest

from go_support.desk import SupportDesk, Ticket
from go_support.desk.models import Status
from go_support.expiry.config import ExpirySettings
from go_support.expiry.rule import Action
from go_support.expiry.runner import Report, run
from go_support.expiry.templates import find_marker
from go_support.settings import ConfigError
from tests.desk.conftest import World
from tests.expiry.conftest import DAY, now, quiet_ticket


def expire(world: World, settings: ExpirySettings, moment: datetime,
           desk: SupportDesk | None = None, **kwargs: Any) -> Report:
    return run(desk or world.fresh(), settings, now=moment,
               types=[world.type_a.name, world.type_b.name], **kwargs)


def state(world: World, ticket: Ticket) -> Ticket:
    return world.desk.tickets.get(ticket.id, with_messages=True)


def ours(ticket: Ticket) -> list[Any]:
    return [m for m in ticket.messages or () if find_marker(m.html) is not None]


def results(report: Report) -> dict[str, str]:
    return {o.ticket_id: o.result for o in report.outcomes}


def test_closes_exactly_what_the_rule_says(world: World) -> None:
    moment = now()
    cat = world.desk.categories.create(f"{world.tag} waiting", type=world.type_a)
    due = quiet_ticket(world, moment, 12)
    recent = quiet_ticket(world, moment, 5)
    requester_last = quiet_ticket(world, moment, 20, requester_days=12)
    with_note = quiet_ticket(world, moment, 12)
    world.desk.messages.note(with_note, "<p>called them, no answer</p>")  # dated now
    needs_action = quiet_ticket(world, moment, 12)
    world.desk.tickets.set_status(needs_action, "Needs action")
    excluded_type = quiet_ticket(world, moment, 12, type_="b")
    excluded_cat = quiet_ticket(world, moment, 12, category=cat.id)
    settings = ExpirySettings(days=10, excluded_types=[world.type_b.name],
                              excluded_categories=[cat.name])

    dry = expire(world, settings, moment, dry_run=True)
    assert results(dry) == {due.id: "would be closed", with_note.id: "would be closed"}
    assert state(world, due).status is Status.IN_PROGRESS  # the dry run changed nothing

    report = expire(world, settings, moment)
    assert results(report) == {due.id: "closed", with_note.id: "closed"}
    assert not report.failed
    for ticket in (due, with_note):
        after = state(world, ticket)
        assert after.status is Status.COMPLETED and after.agent == ticket.agent
        assert not ours(after)  # feedback "none"
    for ticket in (recent, requester_last, needs_action, excluded_type, excluded_cat):
        assert state(world, ticket).status is not Status.COMPLETED, ticket.id

    assert expire(world, settings, moment).outcomes == []  # idempotent

    explained = expire(world, settings, moment, explain=[
        recent.id, requester_last.id, excluded_type.id, excluded_cat.id, due.id])
    reasons = {o.ticket_id: o.reason for o in explained.outcomes}
    assert "closes on" in reasons[recent.id]
    assert "requester wrote last" in reasons[requester_last.id]
    assert "is excluded" in reasons[excluded_type.id]
    assert "category" in reasons[excluded_cat.id]
    assert "Completed" in reasons[due.id]


def test_zero_days_is_off(world: World) -> None:
    moment = now()
    ticket = quiet_ticket(world, moment, 400)
    report = expire(world, ExpirySettings(days=0), moment)
    assert report.outcomes == []
    assert state(world, ticket).status is Status.IN_PROGRESS


@pytest.mark.parametrize("mode", ["none", "private", "public"])
def test_feedback_modes(world: World, mode: str) -> None:
    moment = now()
    ticket = quiet_ticket(world, moment, 15, subject="scanner")
    template = "Closed {ticket} ({subject}) for {requester} after {days} days; {agent}."
    settings = ExpirySettings(days=10, feedback=mode,  # type: ignore[arg-type]
                              feedback_template=template)
    before = state(world, ticket)
    report = expire(world, settings, moment)
    assert results(report) == {ticket.id: "closed"}
    after = state(world, ticket)
    assert after.status is Status.COMPLETED
    assert after.agent == before.agent
    written = ours(after)
    if mode == "none":
        assert written == []
        return
    (feedback,) = written
    assert f"Closed {ticket.id} ({world.tag} scanner) for" in feedback.html
    assert "after 15 days" in feedback.html
    assert feedback.private is (mode == "private")
    assert feedback.mail_status == (None if mode == "private" else "pending")
    assert expire(world, settings, moment).outcomes == []


def test_warning_then_close_and_a_reply_after_the_warning(world: World) -> None:
    moment = now()
    silent = quiet_ticket(world, moment, 8)
    answers = quiet_ticket(world, moment, 8)
    settings = ExpirySettings(days=10, warning_days=3, feedback="public")
    report = expire(world, settings, moment)
    assert results(report) == {silent.id: "warned", answers.id: "warned"}
    for ticket in (silent, answers):
        after = state(world, ticket)
        (warning,) = ours(after)
        assert warning.mail_status == "pending" and not warning.private
        assert "will close it on" in warning.html
        # the warning's comment must not leave the ticket needing action
        assert after.status is Status.IN_PROGRESS and after.agent == ticket.agent
    assert expire(world, settings, moment).outcomes == []  # warned once
    assert expire(world, settings, moment + 2 * DAY).outcomes == []  # not yet

    world.as_("customer").messages.reply(answers, "<p>Here is the log.</p>",
                                         date=moment + DAY)
    later = expire(world, settings, moment + 3 * DAY)
    assert results(later) == {silent.id: "closed"}
    assert state(world, answers).status is Status.NEEDS_ACTION
    # an agent answers the requester: a new quiet period, warned again in time
    world.desk.messages.reply(answers, "<p>Thanks, fixed?</p>", date=moment + 2 * DAY)
    again = expire(world, settings, moment + 9 * DAY)
    assert results(again) == {answers.id: "warned"}
    assert len(ours(state(world, answers))) == 2


def test_two_runs_at_once_write_once(world: World) -> None:
    moment = now()
    tickets = [quiet_ticket(world, moment, 8 if i % 2 else 12, subject=f"t{i}")
               for i in range(6)]
    settings = ExpirySettings(days=10, warning_days=3, feedback="public")
    desks = [world.fresh(), world.fresh()]
    for desk in desks:
        desk.layout  # noqa: B018  (discovered before the start, so that both write together)
    reports: list[Report] = []
    start = threading.Barrier(2)

    def one(desk: SupportDesk) -> None:
        start.wait()
        reports.append(expire(world, settings, moment, desk=desk))

    threads = [threading.Thread(target=one, args=(d,)) for d in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(reports) == 2 and not any(r.failed for r in reports)
    for ticket in tickets:
        after = state(world, ticket)
        written = ours(after)
        assert len(written) == 1, (ticket.id, [m.id for m in written])
        kind = find_marker(written[0].html)
        assert kind is not None
        assert after.status is (Status.COMPLETED if kind.kind == "close"
                                else Status.IN_PROGRESS)
    assert expire(world, settings, moment).outcomes == []


def test_unknown_names_are_configuration_errors(world: World) -> None:
    moment = now()
    for key, settings in (
        ("expiry.excluded_types", ExpirySettings(days=3, excluded_types=["No such type"])),
        ("expiry.excluded_categories",
         ExpirySettings(days=3, excluded_categories=[f"{world.tag} nope"])),
        ('expiry.types."Nope"', ExpirySettings(days=3, types={"Nope": {}})),  # type: ignore[dict-item]
    ):
        with pytest.raises(ConfigError) as caught:
            expire(world, settings, moment)
        assert caught.value.problems[0].key == key
        assert "there is no" in str(caught.value)


def test_an_interrupted_run_is_finished_by_the_next(world: World) -> None:
    """The closing feedback written but the ticket not closed (the run died in between),
    and a warning that left the ticket needing action: the next run repairs both, writing
    nothing again."""
    from go_support.desk.operations import NewMessage, Writes
    from go_support.expiry.templates import Marker, render
    from go_support.jmap import Batch

    moment = now()
    closing = quiet_ticket(world, moment, 12)
    warned = quiet_ticket(world, moment, 8)
    anchors = {t.id: state(world, t).messages[-1].id for t in (closing, warned)}  # type: ignore[index]
    batch = Batch()
    writes = Writes(batch)
    writes.post(closing.id, NewMessage(render("bye", {}, Marker("close", anchors[closing.id])),
                                       "pending"))
    writes.post(warned.id, NewMessage(render("soon", {}, Marker("warning", anchors[warned.id])),
                                      "pending"))
    world.admin.execute(batch)
    # Group-Office's comment hook: the service's comment leaves the tickets needing action
    for ticket in (closing, warned):
        world.desk.tickets.set_status(ticket, "Needs action")
    settings = ExpirySettings(days=10, warning_days=3, feedback="public")
    report = expire(world, settings, moment)
    assert {o.ticket_id: o.action for o in report.outcomes} == {
        closing.id: Action.FINISH, warned.id: Action.RESTORE}
    assert state(world, closing).status is Status.COMPLETED
    assert state(world, warned).status is Status.IN_PROGRESS
    assert len(ours(state(world, closing))) == 1 and len(ours(state(world, warned))) == 1


def test_requests_do_not_grow_per_ticket(world: World, on_emulator: bool,
                                         recorder: Any) -> None:
    """Three tickets or thirty: the same number of HTTP requests for a dry and a real run."""
    if not on_emulator:
        pytest.skip("counts requests on the emulator only (the live server is shared)")
    moment = now()
    settings = ExpirySettings(days=10, warning_days=3, feedback="public")
    counts = []
    for size in (3, 30):
        for n in range(size):
            quiet_ticket(world, moment, 12 if n % 2 else 8, subject=f"n{n}")
        per_run = []
        for dry in (True, False):
            recorder.clear()
            report = expire(world, settings, moment, desk=world.fresh(transport=recorder),
                            dry_run=dry)
            assert len(report.outcomes) == size and not report.failed
            per_run.append(len(recorder.api_requests()))
        counts.append(per_run)
    assert counts[0] == counts[1], counts
    assert counts[1][0] <= 4 and counts[1][1] <= 6, counts
