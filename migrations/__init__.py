"""Versioned, idempotent steps that prepare a Group-Office instance for go-support.

Installed as ``go_support.migrations``. ``go-support install`` runs them::

    from go_support.migrations import install, pending

    for plan in pending(client):              # reads only
        print(plan.step, [a.summary for a in plan.actions])
    report = install(client)                  # InstallReport; a second run changes nothing

The steps, in order (:data:`STEPS`): ``0001_field_set`` (the custom-field set "Support" on
Task), ``0002_groupings`` (the task-list groupings "Support" and "Support archive"),
``0003_fields`` (the custom fields of ``go_support.desk.names.FIELDS``), ``0004_private_label``
(the comment label "Private"). The record of applied steps lives in Group-Office, in the
description of the "Support" field set (``go-support schema: 0001_field_set ...``), so every
host running go-support against the same Group-Office agrees on it.

Errors: :class:`Conflict` (an object clashes with what a step needs: named, nothing guessed),
:class:`MissingRight` (the API key's user may not create custom fields), both
:class:`MigrationError`, a :class:`~go_support.errors.GoSupportError`.
"""

if __name__ != "go_support.migrations":  # a second name would copy MigrationError & co.
    raise ImportError(
        f"import go_support.migrations, not {__name__} (migrations/ is installed under go_support)"
    )

from go_support.migrations.base import (
    MANAGED_SENTENCE,
    Action,
    Conflict,
    MigrationError,
    MissingRight,
    State,
    format_record,
    parse_record,
    read_state,
)
from go_support.migrations.runner import (
    InstallReport,
    Progress,
    StepPlan,
    StepResult,
    applied_steps,
    install,
    pending,
)
from go_support.migrations.steps import (
    STEPS,
    CommentLabelStep,
    FieldSetStep,
    FieldsStep,
    GroupingsStep,
    Step,
)

#: The id of the last step this version knows; a Group-Office recorded up to it is current.
LATEST = STEPS[-1].id

__all__ = [
    "LATEST",
    "MANAGED_SENTENCE",
    "STEPS",
    "Action",
    "CommentLabelStep",
    "Conflict",
    "FieldSetStep",
    "FieldsStep",
    "GroupingsStep",
    "InstallReport",
    "MigrationError",
    "MissingRight",
    "Progress",
    "State",
    "Step",
    "StepPlan",
    "StepResult",
    "applied_steps",
    "format_record",
    "install",
    "parse_record",
    "pending",
    "read_state",
]
