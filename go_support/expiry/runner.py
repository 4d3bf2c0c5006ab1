"""A run of ``go-support expire``: plan, write in shared calls, read back, repair, report.

How it stays safe (``docs/architecture.md`` has the whole argument):

* **One request for the writes.** Messages go in shared ``Comment/set`` calls, then the state
  changes in shared ``Task/set`` calls guarded by a reference to the first new message (a
  refused ``Comment/set`` leaves every task as it was), then the read-back of the same tickets:
  their progress and all their messages.
* **Idempotent.** A closed ticket is no longer in progress; a warning carries the id of the
  agent's message whose quiet period it belongs to, so a second run sees it and warns nothing.
* **Two runs at once.** Both may write the same warning or feedback; each reads its tickets
  back after writing, and the run whose message is not the oldest of its kind for that quiet
  period destroys its own in the next request, long before the mail outbound's grace period
  ends: the requester gets one message. Closing twice leaves the same state.
* **Nothing half-done.** A ticket closed without its feedback is reopened; feedback written
  without the close gets its state change again; a run cut off between the two leaves a marker
  that the next run finishes (:class:`~go_support.expiry.rule.Action` ``FINISH``, ``RESTORE``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from go_support.desk import SupportDesk
from go_support.desk.changes import needs_percent_reset
from go_support.desk.checks import check_message
from go_support.desk.lookups import add_messages_of
from go_support.desk.models import Status
from go_support.desk.operations import MessagePost, NewMessage, StateChange, Writes
from go_support.expiry.config import ExpirySettings
from go_support.expiry.planner import CHUNK, Candidate, Plan, plan_run
from go_support.expiry.rule import Action
from go_support.expiry.templates import Marker, find_marker, render
from go_support.jmap import Batch, Responses
from go_support.jmap.errors import JMAPError
from go_support.jmap.results import GetResult

__all__ = ["Outcome", "Report", "run"]

log = logging.getLogger(__name__)

#: What each action leaves the ticket in.
_WANTED = {Action.CLOSE: Status.COMPLETED, Action.FINISH: Status.COMPLETED,
           Action.WARN: Status.IN_PROGRESS, Action.RESTORE: Status.IN_PROGRESS}
_DONE = {Action.CLOSE: "closed", Action.FINISH: "closed", Action.WARN: "warned",
         Action.RESTORE: "restored", Action.SKIP: "skipped"}


@dataclass(frozen=True)
class Outcome:
    """One ticket of the report: what was (or would be) done and why; ``ok`` false when it
    failed (``error`` says how, and what is left)."""

    ticket_id: str
    subject: str
    type_name: str
    action: Action
    reason: str
    result: str
    ok: bool = True
    message_id: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"ticket": self.ticket_id, "subject": self.subject, "type": self.type_name,
                "action": self.action.value, "reason": self.reason, "result": self.result,
                "ok": self.ok, "messageId": self.message_id, "error": self.error}


@dataclass
class Report:
    """A run's report: the tickets acted on (and, for ``--explain``, the ones skipped)."""

    now: datetime
    dry_run: bool
    days: int
    warning_days: int
    feedback: str
    outcomes: list[Outcome] = field(default_factory=list)
    examined: int = 0

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result and o.ok)

    def to_json(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "dryRun": self.dry_run, "days": self.days,
                "warningDays": self.warning_days, "feedback": self.feedback,
                "examined": self.examined, "failed": len(self.failed),
                "tickets": [o.to_json() for o in self.outcomes]}


def _outcome(c: Candidate, result: str, *, ok: bool = True, message_id: str | None = None,
             error: str | None = None) -> Outcome:
    d = c.decision
    return Outcome(c.facts.id, c.subject, c.facts.type_name, d.action, d.reason, result, ok,
                   message_id, error)


def _message(c: Candidate, expiry: ExpirySettings, label_id: str) -> NewMessage | None:
    """The warning or the closing feedback of ``c`` (``None``: nothing to write)."""
    d = c.decision
    marker = d.marker
    if marker is None or (d.action is Action.CLOSE and expiry.feedback == "none"):
        return None
    kind: Literal["warning", "feedback"] = "warning" if d.action is Action.WARN else "feedback"
    values = {
        "ticket": c.facts.id, "subject": c.subject,
        "requester": c.requester.name or c.requester.email or "customer",
        "agent": (c.agent.name if c.agent and c.agent.name else "our team"),
        "days": d.quiet_days,
        "close_date": (d.close_on or datetime.now(UTC)).strftime("%Y-%m-%d"),
    }
    html = check_message(render(expiry.template_for(c.facts.type_name, kind), values, marker),
                         what=f"expiry.{kind}_template")
    if d.action is Action.CLOSE and expiry.feedback == "private":
        return NewMessage(html, private_label_id=label_id)
    return NewMessage(html, "pending")


@dataclass
class _Readback:
    """The written tickets as read in the writing request: progress and our markers."""

    progress: dict[str, str] = field(default_factory=dict)
    markers: dict[tuple[str, Marker], list[int]] = field(default_factory=dict)


def _add_readback(batch: Batch, ticket_ids: Sequence[str]) -> list[Any]:
    handles = []
    for start in range(0, len(ticket_ids), CHUNK):
        chunk = list(ticket_ids[start:start + CHUNK])
        tasks = batch.call("Task/get", {"ids": chunk, "properties": ["id", "progress"]})
        handles.append((tasks, add_messages_of(batch, chunk)))
    return handles


def _parse_readback(responses: Responses, handles: Sequence[Any],
                    type_ids: Sequence[str]) -> _Readback:
    back = _Readback()
    for tasks, messages in handles:
        for task in GetResult.from_json(responses.get(tasks)).objects:
            back.progress[str(task["id"])] = str(task.get("progress"))
        for comment in messages.result(responses, type_ids):
            marker = find_marker(str(comment.get("text") or ""))
            if marker is not None:
                key = (str(comment.get("entityId")), marker)
                back.markers.setdefault(key, []).append(int(str(comment["id"])))
    for ids in back.markers.values():
        ids.sort()
    return back


def run(desk: SupportDesk, expiry: ExpirySettings, *, now: datetime | None = None,
        dry_run: bool = False, settings_path: Path | None = None,
        explain: Sequence[str] | None = None, types: Sequence[str] | None = None) -> Report:
    """Warn, close and repair what the rule says (nothing written with ``dry_run``).

    ``now`` is the clock (default: now, UTC). ``explain``: decide these tickets only and
    report each, skipped ones included, with the reason; nothing is written. The report lists
    every ticket acted on; ``report.failed`` the ones that failed (the command's exit code 7).
    ``types``: only tickets of these types (names or ids).
    """
    moment = now or datetime.now(UTC)
    if expiry.days <= 0 and explain is None:  # off: not a single request
        return Report(moment, dry_run, expiry.days, expiry.warning_days, expiry.feedback)
    plan = plan_run(desk, expiry, moment, settings_path=settings_path, only=explain,
                    types=types)
    report = Report(moment, dry_run or explain is not None, expiry.days, expiry.warning_days,
                    expiry.feedback, examined=plan.examined)
    if explain is not None:
        found = {c.facts.id: c for c in plan.candidates}
        for ticket in explain:
            c = found.get(str(ticket))
            if c is None:
                report.outcomes.append(Outcome(str(ticket), "", "", Action.SKIP,
                                               "not a ticket (no task in a ticket type)",
                                               "skipped"))
            else:
                verb = "skipped" if c.decision.action is Action.SKIP else (
                    f"would be {_DONE[c.decision.action]}")
                report.outcomes.append(_outcome(c, verb))
        return report
    acting = plan.acting()
    if report.dry_run:
        report.outcomes = [_outcome(c, f"would be {_DONE[c.decision.action]}") for c in acting]
        return report
    if acting:
        report.outcomes = _write(desk, expiry, plan, acting)
    # Tickets on which Group-Office wrote nothing (a lock timeout or deadlock under load) are
    # read and decided again, and written once more.
    again = [o.ticket_id for o in report.outcomes if not o.ok and o.result == "failed"]
    if again:
        replan = plan_run(desk, expiry, moment, settings_path=settings_path, only=again,
                          types=types)
        redo = {o.ticket_id: o for o in _write(desk, expiry, replan, replan.acting())} if (
            replan.acting()) else {}
        report.outcomes = [redo.get(o.ticket_id, o) for o in report.outcomes]
    return report


def _write(desk: SupportDesk, expiry: ExpirySettings, plan: Plan,
           acting: Sequence[Candidate]) -> list[Outcome]:
    label = plan.layout.private_label_id
    type_ids = [t.id for t in plan.layout.types]
    batch = Batch()
    writes = Writes(batch)
    posts: dict[str, MessagePost] = {}
    for c in acting:
        message = _message(c, expiry, label)
        if message is not None:
            posts[c.facts.id] = writes.post(c.facts.id, message)
    guard = next(iter(posts.values())).guard() if posts else None
    changes: dict[str, StateChange] = {}
    for c in acting:
        wanted = _WANTED[c.decision.action]
        changes[c.facts.id] = writes.change_state(
            c.facts.id, wanted, c.agent_id, reset_percent=needs_percent_reset(c.task, wanted),
            guard=guard)
    ids = [c.facts.id for c in acting]
    handles = _add_readback(batch, ids)
    responses: Responses | None
    try:
        responses = desk.client.execute(batch)
        back = _parse_readback(responses, handles, type_ids)
    except JMAPError as exc:
        # The outcome is unknown: read the tickets back on their own before deciding.
        log.warning("the writing request failed (%s); reading the tickets back", exc)
        responses = None
        try:
            batch = Batch()
            handles = _add_readback(batch, ids)
            back = _parse_readback(desk.client.execute(batch), handles, type_ids)
        except JMAPError as again:
            return [_outcome(c, "unknown", ok=False, error=(
                f"Group-Office did not answer ({again}); the next run finishes or repeats "
                "it (nothing is written twice)")) for c in acting]
    return _settle(desk, acting, posts, responses, back, type_ids)


def _settle(desk: SupportDesk, acting: Sequence[Candidate], posts: Mapping[str, MessagePost],
            responses: Responses | None, back: _Readback,
            type_ids: Sequence[str]) -> list[Outcome]:
    """Compare what was asked with what the read-back shows; one more request repairs
    half-done tickets and removes our duplicates of another run's messages."""
    del type_ids
    outcomes: dict[str, Outcome] = {}
    batch = Batch()
    writes = Writes(batch)
    losers: list[str] = []
    repairs: dict[str, tuple[Candidate, str]] = {}
    for c in acting:
        tid, d = c.facts.id, c.decision
        wanted = _WANTED[d.action]
        ours: str | None = None
        post = posts.get(tid)
        if post is not None and responses is not None:
            created = post.result(responses)
            if isinstance(created, dict):
                ours = str(created.get("id"))
        marker = d.marker
        written = (marker is not None and post is not None
                   and bool(back.markers.get((tid, marker))))
        needs_message = post is not None
        state_ok = back.progress.get(tid) == wanted.value
        if needs_message and marker is not None and written:
            same = [str(i) for i in back.markers[(tid, marker)]]
            oldest = same[0]
            # Two runs wrote it: every run that sees the copies removes all but the oldest
            # (removing one twice is harmless), also when its own answer was lost.
            losers += same[1:]
            if ours is not None and ours != oldest:
                outcomes[tid] = _outcome(c, f"already {_DONE[d.action]} by another run",
                                         message_id=oldest)
                if not state_ok:
                    repairs[tid] = (c, "the state after the other run's message")
                continue
            if state_ok:
                outcomes[tid] = _outcome(c, _DONE[d.action], message_id=ours or oldest)
            else:
                repairs[tid] = (c, "its message was written but its status was not set")
            continue
        if needs_message and not written:
            if d.action is Action.CLOSE and back.progress.get(tid) == wanted.value:
                repairs[tid] = (c, "closed but its feedback was refused: reopened")
            else:
                outcomes[tid] = _outcome(c, "failed", ok=False, error=(
                    "Group-Office refused the message; nothing was changed, the next run "
                    "tries again"))
            continue
        outcomes[tid] = _outcome(c, _DONE[d.action]) if state_ok else _outcome(
            c, "failed", ok=False, error="Group-Office did not set the status; the next run "
            "tries again")
    fixes: dict[str, StateChange] = {}
    for tid, (c, _why) in repairs.items():
        reopen = c.decision.action is Action.CLOSE and tid not in outcomes and not any(
            back.markers.get((tid, m)) for m in [c.decision.marker] if m is not None)
        status = c.facts.status if reopen else _WANTED[c.decision.action]
        fixes[tid] = writes.change_state(tid, status, c.agent_id,
                                         reset_percent=reopen)
    destroy = batch.set("Comment", destroy=losers) if losers else None
    if fixes or destroy is not None:
        try:
            fixed = desk.client.execute(batch)
        except JMAPError as exc:
            fixed = None
            log.warning("the repairing request failed: %s", exc)
        for tid, (c, why) in repairs.items():
            refused = fixes[tid].result(fixed) if fixed is not None else "no answer"
            reopened = "reopened" in why
            if refused is None and not reopened:
                outcomes.setdefault(tid, _outcome(c, _DONE[c.decision.action]))
            elif refused is None:
                outcomes[tid] = _outcome(c, "failed", ok=False, error=(
                    "Group-Office refused the feedback; the ticket was reopened, the next run "
                    "tries again"))
            else:
                outcomes[tid] = _outcome(c, "failed", ok=False, error=(
                    f"{why} ({refused}); the next run finishes it"))
    return [outcomes[c.facts.id] for c in acting]


def explain_text(outcome: Outcome) -> str:
    """One line of the report."""
    head = f"ticket {outcome.ticket_id}"
    if outcome.subject:
        head += f" ({outcome.subject})"
    tail = f": {outcome.error}" if outcome.error else ""
    return f"{head}: {outcome.result}: {outcome.reason}{tail}"

