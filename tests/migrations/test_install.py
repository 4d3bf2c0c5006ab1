"""``go_support.migrations.install`` against the emulator (real HTTP)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from go_support.desk import names as layout
from go_support.jmap import GroupOfficeClient
from go_support.migrations import (
    LATEST,
    MANAGED_SENTENCE,
    STEPS,
    Conflict,
    MissingRight,
    Progress,
    State,
    install,
    pending,
    read_state,
)

from .conftest import AGENT_KEY, Recording, Server, states

ALL_IDS = [s.id for s in STEPS]
RECORD_LINE = "go-support schema: " + " ".join(ALL_IDS)


def objects(state: State) -> dict[str, Any]:
    """What an install is about, in a comparable form (ids included)."""
    return {
        "field_sets": sorted((s["id"], s["name"], s["entity"]) for s in state.field_sets),
        "fields": sorted((f["id"], f["fieldSetId"], f["databaseName"], f["type"])
                         for f in state.fields),
        "groupings": sorted((g["id"], g["name"]) for g in state.groupings),
        "labels": sorted((x["id"], x["name"]) for x in state.labels),
    }


def assert_installed_once(client: GroupOfficeClient) -> State:
    state = read_state(client)
    [support] = state.support_field_sets()
    assert support["entity"] == "Task"
    assert RECORD_LINE in support["description"]
    fields = [f for f in state.fields if str(f["fieldSetId"]) == str(support["id"])]
    assert sorted(f["databaseName"] for f in fields) == sorted(layout.FIELDS)
    assert len(state.fields) == len(layout.FIELDS)
    assert sorted(g["name"] for g in state.groupings) == ["Support", "Support archive"]
    assert [x["name"] for x in state.labels] == ["Private"]
    return state


def test_fresh_install_creates_exactly_the_objects(client: GroupOfficeClient) -> None:
    report = install(client)

    assert [s.status for s in report.steps] == ["applied"] * 4
    assert report.recorded == tuple(ALL_IDS) and ALL_IDS[-1] == LATEST
    state = assert_installed_once(client)
    support = state.support_field_set
    assert support is not None and report.field_set_id == support["id"]
    assert support["description"].startswith(MANAGED_SENTENCE)
    for field in state.fields:
        kind, label, options = layout.FIELDS[field["databaseName"]]
        assert (field["type"], field["name"]) == (kind, label)
        assert field["options"] == (options or field["options"])
    assert state.labels[0]["color"] == layout.PRIVATE_LABEL_COLOR
    assert all(g["role"] == "list" for g in state.groupings)
    # the fields work as the desk uses them: values on tasks, and a filter per field
    tasklist = client.task_lists.create({"name": "Hardware", "role": "list"})
    task = client.tasks.create({"tasklistId": tasklist, "title": "Printer", "customFields": {
        layout.REQUESTER_EMAIL: "ann@example.com", layout.LEGACY_TICKET_ID: "T-1"}})
    found = client.tasks.query({"tasklistId": tasklist, layout.REQUESTER_EMAIL: "ann@%"})
    assert found.ids == [task]


def test_second_install_changes_nothing(
    client: GroupOfficeClient, recording_client: Callable[[], tuple[GroupOfficeClient, Recording]]
) -> None:
    install(client)
    before, objects_before = states(client), objects(read_state(client))

    second, recording = recording_client()
    report = install(second)

    assert report.up_to_date
    assert [s.status for s in report.steps] == ["up to date"] * 4
    assert recording.writes == []
    assert states(client) == before
    assert objects(read_state(client)) == objects_before


def test_dry_run_lists_what_would_be_created_and_changes_nothing(
    client: GroupOfficeClient, recording_client: Callable[[], tuple[GroupOfficeClient, Recording]]
) -> None:
    before = states(client)
    dry, recording = recording_client()

    report = install(dry, dry_run=True)

    assert report.dry_run and not report.up_to_date
    assert [s.status for s in report.steps] == ["pending"] * 4
    actions = {s.step: s.actions for s in report.steps}
    assert actions["0001_field_set"] == ('create field set "Support" on Task',)
    assert len(actions["0003_fields"]) == len(layout.FIELDS)
    assert 'create comment label "Private"' in actions["0004_private_label"]
    assert [p.step for p in pending(dry)] == ALL_IDS
    assert recording.writes == []
    assert states(client) == before
    assert read_state(client).field_sets == ()


def test_dry_run_after_a_partial_install_lists_only_the_rest(client: GroupOfficeClient) -> None:
    client.comment_labels.create({"name": "Private"})  # made by hand before
    install(client, steps=STEPS[:2])
    before = states(client)

    report = install(client, dry_run=True)

    assert [s.status for s in report.steps] == ["up to date", "up to date", "pending",
                                                 "pending"]
    assert report.steps[3].actions == ("record it as applied",)
    assert states(client) == before


class Stop(Exception):
    pass


def test_an_interrupted_install_resumes_without_duplicates(client: GroupOfficeClient) -> None:
    def kill_after_groupings(event: Progress) -> None:
        if event.step == "0002_groupings" and event.event == "done":
            raise Stop

    with pytest.raises(Stop):
        install(client, on_progress=kill_after_groupings)
    assert read_state(client).recorded == ("0001_field_set", "0002_groupings")

    seen: list[tuple[str, str]] = []
    report = install(client, on_progress=lambda e: seen.append((e.step, e.event)))

    assert [s.status for s in report.steps] == ["up to date", "up to date", "applied",
                                                 "applied"]
    assert ("0003_fields", "started") in seen and ("0004_private_label", "done") in seen
    assert_installed_once(client)


def test_a_lost_record_is_rebuilt_from_the_objects_without_duplicates(
    client: GroupOfficeClient,
) -> None:
    install(client)
    support = read_state(client).support_field_set
    assert support is not None
    client.field_sets.update(support["id"], {"description": ""})
    objects_before = objects(read_state(client))

    report = install(client)

    assert [s.status for s in report.steps] == ["recorded"] * 4
    assert objects(read_state(client)) == objects_before
    assert_installed_once(client)


def test_objects_made_by_hand_are_adopted(client: GroupOfficeClient) -> None:
    """A half-applied run (or an administrator) left objects behind: found by name first."""
    fs = client.field_sets.create({"name": "Support", "entity": "Task",
                                   "description": "Ticket data, kept by our admins"})
    grouping = client.task_list_groupings.create({"name": "Support"})
    client.fields.create({"fieldSetId": fs, "name": "Requester", "type": "User",
                          "databaseName": layout.REQUESTER_ID})

    report = install(client)

    assert [s.status for s in report.steps] == ["recorded", "applied", "applied", "applied"]
    assert report.steps[1].actions == ('create task-list grouping "Support archive"',)
    state = assert_installed_once(client)
    assert state.support_field_set is not None and state.support_field_set["id"] == fs
    assert "Ticket data, kept by our admins" in state.support_field_set["description"]
    assert grouping in [g["id"] for g in state.groupings]


def test_a_recorded_step_whose_object_was_deleted_is_repaired(client: GroupOfficeClient) -> None:
    install(client)
    [label] = read_state(client).labels
    client.comment_labels.destroy([label["id"]])

    report = install(client)

    assert [s.status for s in report.steps] == ["up to date"] * 3 + ["applied"]
    assert_installed_once(client)


def test_steps_recorded_by_a_newer_version_are_kept(client: GroupOfficeClient) -> None:
    install(client)
    support = read_state(client).support_field_set
    assert support is not None
    client.field_sets.update(support["id"], {
        "description": f"{MANAGED_SENTENCE}\nGO-SUPPORT SCHEMA: {', '.join(ALL_IDS)}, "
                       "0099_future_step"})
    [label] = read_state(client).labels
    client.comment_labels.destroy([label["id"]])

    report = install(client)

    assert report.newer_steps == ("0099_future_step",)
    assert report.steps[3].status == "applied"
    assert "0099_future_step" in read_state(client).recorded


# --- conflicts --------------------------------------------------------------------------


def test_a_number_field_with_our_database_name_elsewhere_is_a_conflict(
    client: GroupOfficeClient,
) -> None:
    other = client.field_sets.create({"name": "Sales", "entity": "Task"})
    field = client.fields.create({"fieldSetId": other, "name": "Amount", "type": "Number",
                                  "databaseName": layout.REQUESTER_EMAIL})
    before = states(client)

    with pytest.raises(Conflict) as exc:
        install(client)

    message = str(exc.value)
    assert layout.REQUESTER_EMAIL in message and f"id {field}" in message
    assert '"Sales"' in message and "Text" in message
    assert states(client) == before  # planned before anything was created
    with pytest.raises(Conflict):
        install(client, dry_run=True)


def test_a_field_of_another_type_in_our_set_is_a_conflict(client: GroupOfficeClient) -> None:
    fs = client.field_sets.create({"name": "Support", "entity": "Task"})
    client.fields.create({"fieldSetId": fs, "name": "Requester e-mail", "type": "Number",
                          "databaseName": layout.REQUESTER_EMAIL})

    with pytest.raises(Conflict) as exc:
        install(client)

    assert f'"{layout.REQUESTER_EMAIL}"' in str(exc.value)
    assert "is a Number field" in str(exc.value)


def test_two_private_labels_are_a_conflict(client: GroupOfficeClient) -> None:
    first = client.comment_labels.create({"name": "Private"})
    second = client.comment_labels.create({"name": "Private", "color": "00FF00"})

    with pytest.raises(Conflict) as exc:
        install(client)

    assert '2 comment labels named "Private"' in str(exc.value)
    assert f"ids {first}, {second}" in str(exc.value)
    assert read_state(client).field_sets == ()


def test_every_conflict_is_named_at_once(client: GroupOfficeClient) -> None:
    client.task_list_groupings.create({"name": "Support archive"})
    client.task_list_groupings.create({"name": "Support archive"})
    client.comment_labels.create({"name": "Private"})
    client.comment_labels.create({"name": "Private"})

    with pytest.raises(Conflict) as exc:
        install(client)

    assert len(exc.value.conflicts) == 2
    assert "task-list groupings" in exc.value.conflicts[0]
    assert "comment labels" in exc.value.conflicts[1]


def test_a_field_in_a_field_set_of_another_entity_is_no_conflict(
    client: GroupOfficeClient,
) -> None:
    contacts = client.field_sets.create({"name": "Support", "entity": "User"})
    client.fields.create({"fieldSetId": contacts, "name": "Mail", "type": "Number",
                          "databaseName": layout.REQUESTER_EMAIL})

    install(client)

    state = read_state(client)
    assert len([s for s in state.field_sets if s["name"] == "Support"]) == 2
    assert state.support_field_set is not None and state.support_field_set["id"] != contacts


# --- concurrency and rights ----------------------------------------------------------------


@pytest.mark.parametrize("installs", [2, 3])
def test_concurrent_installs_make_one_of_each(server: Server, installs: int) -> None:
    barrier = threading.Barrier(installs)
    reports: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with server.client() as c:
                c.session  # noqa: B018  (fetch the session before the race)
                barrier.wait()
                reports.append(install(c))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(installs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert len(reports) == installs
    with server.client() as c:
        assert_installed_once(c)
    # every step was applied by exactly one of them
    for index in range(len(STEPS)):
        statuses = [r.steps[index].status for r in reports]
        assert statuses.count("applied") == 1, statuses


def test_a_non_admin_key_gets_an_error_naming_the_right(
    server: Server, client: GroupOfficeClient
) -> None:
    before = states(client)
    with server.client(AGENT_KEY) as agent:
        report = install(agent, dry_run=True)
        assert report.missing_rights == ("mayChangeCustomFields",)
        with pytest.raises(MissingRight) as exc:
            install(agent)

    assert "mayChangeCustomFields" in str(exc.value)
    assert "user 40" in str(exc.value) and "administrator" in str(exc.value)
    assert states(client) == before


def test_a_non_admin_key_may_check_an_installed_server(
    server: Server, client: GroupOfficeClient
) -> None:
    install(client)
    with server.client(AGENT_KEY) as agent:
        assert install(agent).up_to_date
