"""The rule alone (pure: the clock and the messages are given), condition by condition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from go_support.desk.models import Message, Person, Status
from go_support.expiry.config import check_template
from go_support.expiry.rule import Action, Policy, TicketFacts, decide
from go_support.expiry.templates import Marker, find_marker, render

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
AGENT = Person("7", "agent@example.com", "Agent")
CUSTOMER = Person("9", "ann@example.com", "Ann")


def msg(mid: int, days_ago: float, *, by: Person = AGENT, private: bool = False,
        received: bool = False, html: str = "<p>x</p>") -> Message:
    return Message(str(mid), "1", html, NOW - days_ago * DAY, by, private,
                   "received" if received else ("pending" if not private else None))


def facts(*messages: Message, status: Status = Status.IN_PROGRESS,
          categories: tuple[str, ...] = ()) -> TicketFacts:
    return TicketFacts("1", "10", "Hardware", status, categories,
                       tuple(f"cat {c}" for c in categories), "9", messages)


def warning(mid: int, days_ago: float, anchor: int) -> Message:
    return msg(mid, days_ago, html=render("{ticket}", {"ticket": "1"},
                                          Marker("warning", str(anchor))))


OPENED = msg(1, 30, by=CUSTOMER, received=True)


def test_closes_when_the_agents_last_message_is_older_than_days() -> None:
    d = decide(facts(OPENED, msg(2, 11)), Policy(10), NOW)
    assert d.action is Action.CLOSE and d.anchor is not None and d.anchor.id == "2"
    assert d.quiet_days == 11


def test_each_condition_on_its_own() -> None:
    policy = Policy(10)
    assert decide(facts(OPENED, msg(2, 9)), policy, NOW).action is Action.SKIP
    for status in (Status.NEEDS_ACTION, Status.COMPLETED, Status.CANCELLED):
        d = decide(facts(OPENED, msg(2, 11), status=status), policy, NOW)
        assert d.action is Action.SKIP and status.label in d.reason
    d = decide(facts(OPENED, msg(2, 20), msg(3, 11, by=CUSTOMER, received=True)), policy, NOW)
    assert d.action is Action.SKIP and "requester wrote last" in d.reason
    # the requester's own user writing in Group-Office (no mail) is the requester too
    d = decide(facts(OPENED, msg(2, 20), msg(3, 11, by=CUSTOMER)), policy, NOW)
    assert "requester wrote last" in d.reason
    assert decide(facts(OPENED, msg(2, 11)), Policy(0), NOW).action is Action.SKIP


def test_private_notes_neither_count_nor_reset_the_clock() -> None:
    d = decide(facts(OPENED, msg(2, 11), msg(3, 1, private=True)), Policy(10), NOW)
    assert d.action is Action.CLOSE and d.anchor is not None and d.anchor.id == "2"
    d = decide(facts(OPENED, msg(3, 11, private=True)), Policy(10), NOW)
    assert d.action is Action.SKIP and "requester wrote last" in d.reason


def test_exclusions_by_type_and_category() -> None:
    d = decide(facts(OPENED, msg(2, 11)), Policy(10, excluded_types=frozenset({"10"})), NOW)
    assert d.action is Action.SKIP and "type 'Hardware' is excluded" in d.reason
    d = decide(facts(OPENED, msg(2, 11), categories=("4", "5")),
               Policy(10, excluded_categories=frozenset({"5"})), NOW)
    assert d.action is Action.SKIP and "category 'cat 5' is excluded" in d.reason


def test_warning_first_once_per_quiet_period_and_it_does_not_count() -> None:
    policy = Policy(10, warning_days=3)
    d = decide(facts(OPENED, msg(2, 6)), policy, NOW)
    assert d.action is Action.SKIP and "warning goes out on" in d.reason
    d = decide(facts(OPENED, msg(2, 7)), policy, NOW)
    assert d.action is Action.WARN and d.close_on == NOW + 3 * DAY
    assert d.marker == Marker("warning", "2")
    warned = facts(OPENED, msg(2, 7), warning(3, 0, anchor=2))
    assert decide(warned, policy, NOW).action is Action.SKIP
    assert decide(warned, policy, NOW + 2 * DAY).action is Action.SKIP
    assert decide(warned, policy, NOW + 3 * DAY).action is Action.CLOSE
    # the announced day counts, not the hour of the warning
    assert decide(warned, policy, NOW + 3 * DAY - 11 * HOUR).action is Action.CLOSE
    assert decide(warned, policy, NOW + 3 * DAY - 13 * HOUR).action is Action.SKIP
    # a ticket already past days when first seen is warned, and closed only after the warning
    late = facts(OPENED, msg(2, 40))
    assert decide(late, policy, NOW).action is Action.WARN
    assert decide(facts(OPENED, msg(2, 40), warning(3, 1, 2)), policy, NOW).action is Action.SKIP


def test_a_requester_reply_after_the_warning_starts_over() -> None:
    policy = Policy(10, warning_days=3)
    replied = facts(OPENED, msg(2, 12), warning(3, 5, 2), msg(4, 4, by=CUSTOMER, received=True))
    assert "requester wrote last" in decide(replied, policy, NOW).reason
    answered = facts(*replied.messages, msg(5, 8))
    d = decide(answered, policy, NOW)
    assert d.action is Action.WARN and d.marker == Marker("warning", "5")


def test_repairs_of_an_interrupted_run() -> None:
    feedback = msg(3, 0, html=render("bye", {}, Marker("close", "2")))
    assert decide(facts(OPENED, msg(2, 11), feedback, status=Status.NEEDS_ACTION),
                  Policy(10), NOW).action is Action.FINISH
    assert decide(facts(OPENED, msg(2, 11), feedback, status=Status.COMPLETED),
                  Policy(10), NOW).action is Action.SKIP
    assert decide(facts(OPENED, msg(2, 8), warning(3, 0, 2), status=Status.NEEDS_ACTION),
                  Policy(10, 3), NOW).action is Action.RESTORE


def test_templates_escape_values_and_carry_the_marker() -> None:
    html = render("Dear {requester},\n\n{subject} {{x}}", {"requester": "<b>Ann</b>",
                                                          "subject": "a & b"},
                  Marker("close", "42"))
    assert "&lt;b&gt;Ann&lt;/b&gt;" in html and "a &amp; b {x}" in html
    assert find_marker(html) == Marker("close", "42")
    assert find_marker("<p>data-go-support-expiry</p>") is None
    with pytest.raises(ValueError, match=r"unknown placeholder \{nom\}"):
        check_template("{nom}")


def test_a_type_may_have_its_own_templates() -> None:
    from go_support.expiry.config import ExpirySettings, ExpiryTypeSettings

    settings = ExpirySettings(days=5, types={"Level 2": ExpiryTypeSettings(
        feedback_template="L2 {ticket}")})
    assert settings.template_for("level 2", "feedback") == "L2 {ticket}"
    assert settings.template_for("level 2", "warning") == settings.warning_template
    assert settings.template_for("Other", "feedback") == settings.feedback_template
