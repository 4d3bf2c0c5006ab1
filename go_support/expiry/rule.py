"""Group-Office's auto-close rule and our warning, decided for one ticket (pure: the clock
and the messages are passed in; nothing here talks to Group-Office).

What counts as a message of the exchange: every message that is not a private note and not
a warning of ours. The last one decides: by the requester (a mail received from them, or a
message written by the requester's own user), the ticket waits for an agent and is never
closed; by an agent (any other: answers written in Group-Office or through go-support, our
closing feedback), its ``date`` starts the quiet period.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from go_support.desk.models import Message, Status
from go_support.expiry.templates import Marker, find_marker

__all__ = ["Action", "Decision", "Policy", "TicketFacts", "decide"]

DAY = timedelta(days=1)


class Action(enum.Enum):
    """What a run does to a ticket."""

    CLOSE = "close"
    WARN = "warn"
    FINISH = "finish"
    """Close a ticket whose closing feedback is written but which is not closed (a run
    interrupted between the two): the state only, nothing is written again."""
    RESTORE = "restore"
    """Put back in progress a ticket that our warning left needing action (the comment hook of
    Group-Office resets the progress; a run interrupted before it set it again)."""
    SKIP = "skip"


@dataclass(frozen=True)
class Policy:
    """The ``[expiry]`` settings with names resolved to ids."""

    days: int
    warning_days: int = 0
    excluded_types: frozenset[str] = frozenset()
    excluded_categories: frozenset[str] = frozenset()
    only_types: frozenset[str] | None = None
    """The run's scope (``--type``): tickets of other types are left alone."""


@dataclass(frozen=True)
class TicketFacts:
    """What the rule looks at: the ticket's type, status, categories, requester, and all its
    messages (private notes included), oldest first."""

    id: str
    type_id: str
    type_name: str
    status: Status
    category_ids: tuple[str, ...]
    category_names: tuple[str, ...]
    requester_id: str | None
    messages: Sequence[Message]


@dataclass(frozen=True)
class Decision:
    """The outcome for one ticket: the action, why, and what it rests on.

    ``anchor`` is the agent's message that started the quiet period (its id marks what we
    write), ``quiet_days`` the whole days since it, ``close_on`` when the ticket closes (a
    warning announces it) or closed."""

    ticket_id: str
    action: Action
    reason: str
    anchor: Message | None = None
    quiet_days: int = 0
    close_on: datetime | None = None

    @property
    def marker(self) -> Marker | None:
        """The marker of what this decision writes (none for a skip or a repair)."""
        if self.anchor is None or self.action not in (Action.CLOSE, Action.WARN):
            return None
        return Marker("warning" if self.action is Action.WARN else "close", self.anchor.id)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def by_requester(message: Message, requester_id: str | None) -> bool:
    """A message of the requester: a mail received from them, or written by their user."""
    if message.mail_status == "received":
        return True
    author = message.author.id if message.author is not None else None
    return requester_id is not None and author == requester_id


def decide(facts: TicketFacts, policy: Policy, now: datetime) -> Decision:
    """Warn, close, repair or skip one ticket, and why."""
    tid = facts.id

    def skip(reason: str, anchor: Message | None = None, quiet_days: int = 0,
             close_on: datetime | None = None) -> Decision:
        return Decision(tid, Action.SKIP, reason, anchor, quiet_days, close_on)

    if policy.days <= 0:
        return skip("auto-close is off (expiry.days is 0)")
    if policy.only_types is not None and facts.type_id not in policy.only_types:
        return skip(f"its type '{facts.type_name}' is not in this run's --type")
    if facts.type_id in policy.excluded_types:
        return skip(f"its type '{facts.type_name}' is excluded (expiry.excluded_types)")
    for cid, name in zip(facts.category_ids, facts.category_names, strict=True):
        if cid in policy.excluded_categories:
            return skip(f"its category '{name}' is excluded (expiry.excluded_categories)")
    newest = facts.messages[-1] if facts.messages else None
    newest_marker = find_marker(newest.html) if newest is not None else None
    if newest is not None and newest_marker is not None:
        if newest_marker.kind == "close" and not facts.status.is_closed:
            return Decision(tid, Action.FINISH, f"its closing feedback (message {newest.id}) "
                            "is there but it was not closed: a run was interrupted")
        if newest_marker.kind == "warning" and facts.status is Status.NEEDS_ACTION:
            return Decision(tid, Action.RESTORE, f"our warning (message {newest.id}) left it "
                            "needing action: a run was interrupted")
    if facts.status is not Status.IN_PROGRESS:
        return skip(f"its status is {facts.status.label}, not In progress")
    public = [m for m in facts.messages if not m.private]
    counted = [m for m in public if (find_marker(m.html) or Marker("close", "")).kind == "close"]
    if not counted:
        return skip("it has no messages (private notes and warnings do not count)")
    last = counted[-1]
    if by_requester(last, facts.requester_id):
        return skip(f"the requester wrote last (message {last.id}): it waits for an agent")
    if last.date is None:
        return skip(f"its last message {last.id} has no date")
    quiet = now - last.date
    quiet_days = max(0, quiet // DAY)
    since = f"the agent's last message {last.id} is from {_day(last.date)} ({quiet_days} days)"
    close_by_age = last.date + policy.days * DAY
    if not policy.warning_days:
        if now >= close_by_age:
            return Decision(tid, Action.CLOSE, f"{since}, more than {policy.days}",
                            last, quiet_days, now)
        return skip(f"{since}; it closes on {_day(close_by_age)}", anchor=last,
                    quiet_days=quiet_days, close_on=close_by_age)
    warnings = [m for m in public if find_marker(m.html) == Marker("warning", last.id)]
    if not warnings:
        warn_on = close_by_age - policy.warning_days * DAY
        if now >= warn_on:
            close_on = now + policy.warning_days * DAY
            return Decision(tid, Action.WARN, f"{since}: warned {policy.warning_days} days "
                            f"before closing, on {_day(close_on)}", last, quiet_days, close_on)
        return skip(f"{since}; the warning goes out on {_day(warn_on)}", anchor=last,
                    quiet_days=quiet_days, close_on=close_by_age)
    warned = warnings[0]
    # The warning names a day: from its first moment (UTC) on, the ticket closes, so that a
    # daily run a little earlier in the day than the warning's does not wait one more day.
    announced = max(close_by_age, (warned.date or now) + policy.warning_days * DAY)
    due = announced.replace(hour=0, minute=0, second=0, microsecond=0)
    if now >= due:
        return Decision(tid, Action.CLOSE, f"{since}, more than {policy.days}, and the "
                        f"requester did not answer the warning of "
                        f"{_day(warned.date or now)}", last, quiet_days, now)
    return skip(f"{since}; warned on {_day(warned.date or now)} (message {warned.id}), it "
                f"closes on {_day(due)}", anchor=last, quiet_days=quiet_days, close_on=due)
