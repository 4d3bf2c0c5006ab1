"""Running the steps: ``install``, ``pending`` and what they report."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from go_support.jmap import GroupOfficeClient, StateMismatch
from go_support.migrations.base import (
    Action,
    Conflict,
    MigrationError,
    MissingRight,
    State,
    format_record,
    read_state,
)
from go_support.migrations.steps import STEPS, Step, raise_for_set

__all__ = [
    "InstallReport",
    "Progress",
    "StepPlan",
    "StepResult",
    "applied_steps",
    "install",
    "pending",
]

log = logging.getLogger("go_support.migrations")

#: How often a step is re-planned after a concurrent change before giving up.
MAX_ATTEMPTS = 10

Status = Literal["applied", "recorded", "up to date", "pending"]


@dataclass(frozen=True)
class StepPlan:
    """A step against the current state: what it would create, and whether it is recorded."""

    step: str
    description: str
    actions: tuple[Action, ...]
    recorded: bool

    @property
    def is_pending(self) -> bool:
        """Not recorded yet, or recorded but something it creates is missing (repair)."""
        return not self.recorded or bool(self.actions)


@dataclass(frozen=True)
class StepResult:
    """What happened to one step.

    ``status``: ``applied`` (objects were created), ``recorded`` (everything existed already,
    e.g. after an interrupted run; only the record was written), ``up to date`` (nothing to
    do, or another install did it meanwhile), ``pending`` (dry run: would be applied).
    ``actions`` are the changes in words (done, or for a dry run, planned).
    """

    step: str
    description: str
    status: Status
    actions: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.step, "description": self.description, "status": self.status,
                "actions": list(self.actions)}


@dataclass(frozen=True)
class Progress:
    """Passed to ``on_progress``: ``started`` before a step changes anything, ``done`` after
    it is recorded, ``up to date`` for a step with nothing to do."""

    step: str
    description: str
    index: int
    total: int
    event: Literal["started", "done", "up to date"]
    status: Status | None = None
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstallReport:
    """The outcome of :func:`install` (or of a dry run)."""

    dry_run: bool
    steps: tuple[StepResult, ...]
    recorded: tuple[str, ...]
    """The step ids recorded in Group-Office after the run."""
    field_set_id: str | None = None
    newer_steps: tuple[str, ...] = ()
    """Recorded ids this version does not know: a newer go-support prepared this server."""
    missing_rights: tuple[str, ...] = ()
    """Dry run only: rights the pending steps need that the user lacks."""
    user_id: str | None = None

    @property
    def up_to_date(self) -> bool:
        """Nothing was (or, for a dry run, would be) changed."""
        return all(s.status == "up to date" for s in self.steps)

    @property
    def changed(self) -> tuple[StepResult, ...]:
        return tuple(s for s in self.steps if s.status != "up to date")

    def to_json(self) -> dict[str, Any]:
        return {
            "dryRun": self.dry_run,
            "upToDate": self.up_to_date,
            "steps": [s.to_json() for s in self.steps],
            "recorded": list(self.recorded),
            "fieldSetId": self.field_set_id,
            "newerSteps": list(self.newer_steps),
            "missingRights": list(self.missing_rights),
            "userId": self.user_id,
        }


# --- planning ----------------------------------------------------------------------------


def _plan(step: Step, state: State) -> StepPlan:
    return StepPlan(step.id, step.description, tuple(step.plan(state)),
                    step.id in state.recorded)


def _plan_all(state: State, steps: Sequence[Step]) -> list[StepPlan]:
    """Every step against ``state``; one :class:`Conflict` naming every clash."""
    plans: list[StepPlan] = []
    conflicts: list[str] = []
    for step in steps:
        try:
            plans.append(_plan(step, state))
        except Conflict as exc:
            conflicts += exc.conflicts
    if conflicts:
        raise Conflict(conflicts)
    return plans


def _missing_rights(client: GroupOfficeClient, plans: Sequence[StepPlan]) -> list[str]:
    needed = {a.right for p in plans if p.is_pending for a in p.actions if a.right}
    missing = []
    for package, module, right in sorted(needed):
        rights = client.session.module_rights(package, module) or {}
        if not rights.get(right):
            missing.append(right)
    return missing


def pending(client: GroupOfficeClient, *, steps: Sequence[Step] = STEPS) -> list[StepPlan]:
    """The steps :func:`install` would apply, with what each would create (reads only).

    Raises :class:`Conflict` when Group-Office holds clashing objects.
    """
    return [p for p in _plan_all(read_state(client), steps) if p.is_pending]


def applied_steps(client: GroupOfficeClient) -> tuple[str, ...]:
    """The step ids recorded in Group-Office (empty before the first install)."""
    return read_state(client).recorded


# --- installing --------------------------------------------------------------------------


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.05 * attempt))


def _record(client: GroupOfficeClient, state: State, step_id: str) -> None:
    support = state.support_field_set
    if support is None:
        raise MigrationError(
            "the field set that keeps go-support's record is missing; run go-support install "
            "again")
    description = format_record(support.get("description"), [*state.recorded, step_id])
    result = client.field_sets.set(update={str(support["id"]): {"description": description}},
                                   if_in_state=state.states["FieldSet"])
    raise_for_set(result, "FieldSet", client)


def _run_step(
    client: GroupOfficeClient, step: Step, state: State
) -> tuple[State, Status, tuple[str, ...]]:
    """Apply and record one step, re-planning whenever a concurrent change interferes."""
    done: list[str] = []
    wrote_record = False
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            actions = step.plan(state)
            if actions:
                step.apply(client, state, actions)
                done += [a.summary for a in actions]
                state = read_state(client)
                continue  # re-plan: normally nothing is left, then record
            if step.id not in state.recorded:
                _record(client, state, step.id)
                wrote_record = True
                state = read_state(client)
                continue  # confirm the record
        except StateMismatch:
            log.info("%s: Group-Office changed meanwhile (another install?); re-reading",
                     step.id)
            _backoff(attempt)
            state = read_state(client)
            continue
        if done:
            return state, "applied", tuple(done)
        return state, "recorded" if wrote_record else "up to date", ()
    raise MigrationError(
        f"{step.id}: Group-Office kept changing while this step ran ({MAX_ATTEMPTS} attempts); "
        "is another go-support install running in a loop? Try again")


def install(
    client: GroupOfficeClient,
    *,
    dry_run: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    steps: Sequence[Step] = STEPS,
) -> InstallReport:
    """Prepare Group-Office for go-support: apply every pending step, in order.

    Idempotent: objects are found by name (or ``databaseName``) before they are created, so an
    interrupted install resumes, and a second install changes nothing. Each step is recorded
    in the "Support" field set's description once done (with ``ifInState``, so that two
    concurrent installs cannot both record, and cannot both create). Before changing
    anything, every step is planned: a clash anywhere raises :class:`Conflict`, a missing
    right :class:`MissingRight`. ``dry_run`` only plans. ``on_progress`` is called per step
    (an exception it raises stops the install; running it again resumes).
    """
    state = read_state(client)
    plans = _plan_all(state, steps)
    known = {s.id for s in STEPS}
    newer = tuple(i for i in state.recorded if i not in known)
    user_id = client.session.user_id
    missing = _missing_rights(client, plans)
    if dry_run:
        results = tuple(
            StepResult(p.step, p.description, "pending" if p.is_pending else "up to date",
                       tuple(a.summary for a in p.actions) or (
                           ("record it as applied",) if p.is_pending else ()))
            for p in plans)
        fs = state.support_field_set
        return InstallReport(True, results, state.recorded, str(fs["id"]) if fs else None,
                             newer, tuple(missing), user_id)
    if missing:
        raise MissingRight(missing, user_id=user_id)
    results_list: list[StepResult] = []
    total = len(steps)
    for index, (step, plan) in enumerate(zip(steps, plans, strict=True), 1):
        if not plan.is_pending:
            results_list.append(StepResult(step.id, step.description, "up to date"))
            if on_progress:
                on_progress(Progress(step.id, step.description, index, total, "up to date",
                                     "up to date"))
            continue
        if on_progress:
            on_progress(Progress(step.id, step.description, index, total, "started", None,
                                 tuple(a.summary for a in plan.actions)))
        state, status, done = _run_step(client, step, state)
        result = StepResult(step.id, step.description, status, done)
        results_list.append(result)
        log.info("%s: %s %s", step.id, status, "; ".join(done))
        if on_progress:
            on_progress(Progress(step.id, step.description, index, total, "done", status, done))
    fs = state.support_field_set
    return InstallReport(False, tuple(results_list), state.recorded,
                         str(fs["id"]) if fs else None, newer, (), user_id)
