"""The migration steps, in order. Each is small, idempotent and resumable.

A step reads nothing itself: :meth:`Step.plan` looks at a :class:`~.base.State` snapshot and
says what is missing (finding existing objects by name or ``databaseName`` first, so that a
half-applied run resumes without duplicates) or raises :class:`~.base.Conflict` for an object
it must not guess about. :meth:`Step.apply` creates what the plan listed, guarded by
``ifInState``: if anything changed meanwhile (another install), Group-Office answers
``stateMismatch`` and the runner reads the state again and re-plans.

Never change a released step: add a new one (``0005_...``). Ids are recorded in Group-Office.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from go_support.desk import names as layout
from go_support.jmap import GroupOfficeClient, SetResult
from go_support.jmap.errors import SetFailed
from go_support.migrations.base import (
    Action,
    Conflict,
    MissingRight,
    State,
    describe,
    format_record,
    same_id,
    sort_ids,
)

__all__ = ["STEPS", "CommentLabelStep", "FieldSetStep", "FieldsStep", "GroupingsStep", "Step"]

CUSTOM_FIELDS_RIGHT = ("core", "core", "mayChangeCustomFields")


class Step(ABC):
    """One versioned step: an ``id`` (``0001_field_set``), a ``description``, plan, apply."""

    id: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def plan(self, state: State) -> list[Action]:
        """What is missing in ``state``; raises :class:`Conflict` naming clashing objects."""

    @abstractmethod
    def apply(self, client: GroupOfficeClient, state: State, actions: Sequence[Action]) -> None:
        """Create what ``actions`` list; ``ifInState`` guards against concurrent installs.

        Raises :class:`~go_support.jmap.StateMismatch` when the state moved (re-plan),
        :class:`MissingRight` when Group-Office refuses for lack of rights.
        """

    def __repr__(self) -> str:
        return f"<Step {self.id}>"


def raise_for_set(result: SetResult, entity: str, client: GroupOfficeClient) -> None:
    """Turn per-object failures into errors: ``forbidden`` names the right that is missing."""
    if not result.not_created and not result.not_updated:
        return
    errors = [*result.not_created.values(), *result.not_updated.values()]
    if any(e.type == "forbidden" for e in errors):
        right = CUSTOM_FIELDS_RIGHT[2] if entity in ("FieldSet", "Field") else (
            f"create {entity} (an administrator's right)")
        raise MissingRight([right], user_id=client.session.user_id)
    raise SetFailed(method=f"{entity}/set", errors=errors, result=result)


class FieldSetStep(Step):
    id = "0001_field_set"
    description = (f'the custom-field set "{layout.FIELD_SET_NAME}" on '
                   f"{layout.FIELD_SET_ENTITY}, which also keeps this record")

    def plan(self, state: State) -> list[Action]:
        found = state.support_field_sets()
        if len(found) > 1:
            ids = ", ".join(sort_ids([str(f.get("id")) for f in found]))
            raise Conflict([
                f'{len(found)} field sets named "{layout.FIELD_SET_NAME}" on '
                f"{layout.FIELD_SET_ENTITY} (ids {ids}): go-support needs exactly one; rename "
                "or delete the others (System settings > Custom fields > Tasks)"])
        if found:
            return []
        return [Action(
            "FieldSet", layout.FIELD_SET_NAME,
            f'create field set "{layout.FIELD_SET_NAME}" on {layout.FIELD_SET_ENTITY}',
            {"name": layout.FIELD_SET_NAME, "entity": layout.FIELD_SET_ENTITY},
            CUSTOM_FIELDS_RIGHT,
        )]

    def apply(self, client: GroupOfficeClient, state: State, actions: Sequence[Action]) -> None:
        # The record starts with the set itself: creating it and recording it is one write.
        create = {"fs": {**actions[0].values, "description": format_record(None, [self.id])}}
        result = client.field_sets.set(create=create, if_in_state=state.states["FieldSet"])
        raise_for_set(result, "FieldSet", client)


class GroupingsStep(Step):
    id = "0002_groupings"
    description = (f'the task-list groupings "{layout.GROUPING_NAME}" (ticket types) and '
                   f'"{layout.ARCHIVE_GROUPING_NAME}" (archived types)')
    names = (layout.GROUPING_NAME, layout.ARCHIVE_GROUPING_NAME)

    def plan(self, state: State) -> list[Action]:
        actions: list[Action] = []
        conflicts: list[str] = []
        for name in self.names:
            found = state.groupings_named(name)
            if len(found) > 1:
                ids = ", ".join(sort_ids([str(g.get("id")) for g in found]))
                conflicts.append(
                    f'{len(found)} task-list groupings named "{name}" (ids {ids}): go-support '
                    "needs exactly one; rename or delete the others")
            elif found and (found[0].get("role") or "list") != "list":
                conflicts.append(
                    f"{describe('TaskListGrouping', found[0])} has role "
                    f'"{found[0].get("role")}", not "list"; rename it')
            elif not found:
                actions.append(Action("TaskListGrouping", name,
                                      f'create task-list grouping "{name}"',
                                      {"name": name, "role": "list"}))
        if conflicts:
            raise Conflict(conflicts)
        return actions

    def apply(self, client: GroupOfficeClient, state: State, actions: Sequence[Action]) -> None:
        create = {f"g{i}": dict(a.values) for i, a in enumerate(actions, 1)}
        result = client.task_list_groupings.set(
            create=create, if_in_state=state.states["TaskListGrouping"])
        raise_for_set(result, "TaskListGrouping", client)


class FieldsStep(Step):
    id = "0003_fields"
    description = (f'the custom fields of the "{layout.FIELD_SET_NAME}" field set: requester, '
                   "requester e-mail and name, first Message-ID, legacy ticket id")

    def plan(self, state: State) -> list[Action]:
        support = state.support_field_set
        task_sets = {str(s.get("id")): s for s in state.task_field_sets()}
        actions: list[Action] = []
        conflicts: list[str] = []
        for order, (db_name, (kind, label, options)) in enumerate(layout.FIELDS.items(), 1):
            found = [f for f in state.fields
                     if str(f.get("fieldSetId")) in task_sets
                     and str(f.get("databaseName") or "").lower() == db_name.lower()]
            for field in found:
                home = task_sets[str(field.get("fieldSetId"))]
                what = (f'Field "{field.get("databaseName")}" (id {field.get("id")}, '
                        f'"{field.get("name")}")')
                if support is None or not same_id(field.get("fieldSetId"), support.get("id")):
                    conflicts.append(
                        f'{what} is in field set "{home.get("name")}" (id {home.get("id")}); '
                        f'go-support needs a {kind} field "{db_name}" in field set '
                        f'"{layout.FIELD_SET_NAME}": delete or rename that field')
                elif field.get("type") != kind:
                    conflicts.append(
                        f"{what} is a {field.get('type')} field; go-support needs a {kind} "
                        "field: delete it (its values are lost) or rename it")
                elif field.get("databaseName") != db_name:
                    conflicts.append(
                        f'{what}: go-support needs the databaseName "{db_name}" exactly')
            if not found:
                actions.append(Action(
                    "Field", db_name,
                    f'create {kind} field "{db_name}" ("{label}") in field set '
                    f'"{layout.FIELD_SET_NAME}"',
                    {"name": label, "databaseName": db_name, "type": kind,
                     "options": dict(options), "sortOrder": order},
                    CUSTOM_FIELDS_RIGHT,
                ))
        if conflicts:
            raise Conflict(conflicts)
        return actions

    def apply(self, client: GroupOfficeClient, state: State, actions: Sequence[Action]) -> None:
        support = state.support_field_set
        if support is None:  # 0001 runs first; only a concurrent delete gets here
            raise Conflict([f'the field set "{layout.FIELD_SET_NAME}" disappeared while '
                            "installing"])
        create: dict[str, Mapping[str, Any]] = {
            f"f{i}": {**a.values, "fieldSetId": str(support["id"])}
            for i, a in enumerate(actions, 1)
        }
        result = client.fields.set(create=create, if_in_state=state.states["Field"])
        raise_for_set(result, "Field", client)


class CommentLabelStep(Step):
    id = "0004_private_label"
    description = (f'the comment label "{layout.PRIVATE_LABEL_NAME}" that makes a comment a '
                   "private note")

    def plan(self, state: State) -> list[Action]:
        found = state.labels_named(layout.PRIVATE_LABEL_NAME)
        if len(found) > 1:
            ids = ", ".join(sort_ids([str(x.get("id")) for x in found]))
            raise Conflict([
                f'{len(found)} comment labels named "{layout.PRIVATE_LABEL_NAME}" (ids {ids}): '
                "go-support cannot tell which one marks private notes; rename or delete the "
                "others"])
        if found:
            return []
        return [Action("CommentLabel", layout.PRIVATE_LABEL_NAME,
                       f'create comment label "{layout.PRIVATE_LABEL_NAME}"',
                       {"name": layout.PRIVATE_LABEL_NAME,
                        "color": layout.PRIVATE_LABEL_COLOR})]

    def apply(self, client: GroupOfficeClient, state: State, actions: Sequence[Action]) -> None:
        result = client.comment_labels.set(
            create={"l1": dict(actions[0].values)}, if_in_state=state.states["CommentLabel"])
        raise_for_set(result, "CommentLabel", client)


STEPS: tuple[Step, ...] = (FieldSetStep(), GroupingsStep(), FieldsStep(), CommentLabelStep())
"""Every step, in the order they run."""
