"""jmap_schema against the recorded wire corpus (groupoffice-wire/*.json), the ground truth.

* every object in a ``*/get`` list or a ``*/set`` ``created`` result validates with the read
  model of its entity, and dumps back to the same JSON up to the documented normalisations;
* every object sent in a recorded ``*/set`` either passes the write models unchanged, or is one
  of the recorded bad requests, which the write models must refuse for the expected property.

The corpus is required: when it is missing, these tests fail (they never skip).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import jmap_schema as js
from tests.contract.corpus import corpus_dir, list_files

EXPECTED_FILES = 16


def corpus_files() -> list[Path]:
    files = list_files()  # CorpusMissing, with where to put it, when the corpus is missing
    assert len(files) >= EXPECTED_FILES, f"expected {EXPECTED_FILES} corpus files in {corpus_dir()}"
    return files


def corpus_steps() -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(file name, index, step) of every recorded step, read afresh."""
    for path in corpus_files():
        data = json.loads(path.read_text(encoding="utf-8"))
        for index, step in enumerate(data["steps"]):
            yield path.name, index, step


def calls(message: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(entity, verb, args) of every well-formed invocation in a request or response body."""
    if not isinstance(message, list):
        return
    for call in message:
        if (
            isinstance(call, list)
            and len(call) == 3
            and isinstance(call[0], str)
            and isinstance(call[1], dict)
            and "/" in call[0]
        ):
            entity, _, verb = call[0].rpartition("/")
            yield entity, verb, call[1]


def server_objects() -> list[tuple[str, str, dict[str, Any]]]:
    """(where, entity, object) for every get-list entry and every set-created entry."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for name, index, step in corpus_steps():
        for entity, verb, args in calls(step.get("response")):
            if verb == "get" and isinstance(args.get("list"), list):
                objects = list(args["list"])
            elif verb == "set":
                created = args.get("created")
                # numeric creation ids turn `created` into a JSON list (15-limits-paging.json)
                objects = list(created.values()) if isinstance(created, dict) else created or []
            else:
                continue
            for obj in objects:
                found.append((f"{name} steps[{index}] {entity}/{verb}", entity, obj))
    return found


# ---------------------------------------------------------------------------- read side

ID_KEYS = {"createdBy", "modifiedBy", "isUserGroupFor"}
ID_LIST_KEYS = {"categories", "labels", "groups", "users"}
EMPTY_OBJECT_KEYS = {"customFields", "options", "filter", "dataType"}


def _is_id_key(key: str) -> bool:
    return key == "id" or key.endswith("Id") or key in ID_KEYS


def differences(original: Any, dumped: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Differences between a corpus object and its dump that are NOT documented normalisations.

    Allowed: an integer id that became a string; an empty ``[]`` that became ``{}`` for
    object-valued properties.
    """
    key = next((part for part in reversed(path) if not part.isdigit()), "")
    if isinstance(original, dict) and isinstance(dumped, dict):
        problems = [f"{'/'.join(path)}: key {k!r} lost" for k in original if k not in dumped]
        problems += [f"{'/'.join(path)}: key {k!r} added" for k in dumped if k not in original]
        for k in original:
            if k in dumped:
                problems += differences(original[k], dumped[k], (*path, str(k)))
        return problems
    if isinstance(original, list) and isinstance(dumped, list) and len(original) == len(dumped):
        problems = []
        for i, (a, b) in enumerate(zip(original, dumped, strict=True)):
            problems += differences(a, b, (*path, str(i)))
        return problems
    if original == [] and dumped == {} and key in EMPTY_OBJECT_KEYS:
        return []
    if (
        isinstance(original, int)
        and not isinstance(original, bool)
        and dumped == str(original)
        and (_is_id_key(key) or key in ID_LIST_KEYS)
    ):
        return []
    if type(original) is type(dumped) and original == dumped:
        return []
    return [f"{'/'.join(path)}: {original!r} -> {dumped!r}"]


def test_corpus_is_present() -> None:
    assert len(corpus_files()) >= EXPECTED_FILES


def test_every_server_object_validates_and_round_trips() -> None:
    objects = server_objects()
    assert len(objects) > 200, "suspiciously few objects in the corpus"
    seen: Counter[str] = Counter()
    failures: list[str] = []
    for where, entity, obj in objects:
        model = js.ENTITY_MODELS.get(entity)
        if model is None:
            failures.append(f"{where}: no read model for entity {entity!r}")
            continue
        try:
            parsed = model.model_validate(obj)
        except ValidationError as exc:
            failures.append(f"{where}: {exc}")
            continue
        seen[entity] += 1
        assert isinstance(parsed.id, str)
        dumped = parsed.model_dump(mode="json", exclude_unset=True)
        failures += [f"{where}: {problem}" for problem in differences(obj, dumped)]
    assert not failures, "\n".join(failures)
    unused = set(js.ENTITY_MODELS) - set(seen)
    assert not unused, f"read models never exercised by the corpus: {unused}"


def test_only_user_keeps_undeclared_properties() -> None:
    """Every property the recorded server sends is declared, except User's display preferences."""
    undeclared: dict[str, set[str]] = {}
    for _where, entity, obj in server_objects():
        parsed = js.ENTITY_MODELS[entity].model_validate(obj)
        if parsed.model_extra:
            undeclared.setdefault(entity, set()).update(parsed.model_extra)
    assert set(undeclared) <= {"User"}, undeclared
    assert "password" in undeclared.get("User", set())  # always null, deliberately not modelled


def test_normalisations_seen_in_the_corpus() -> None:
    by_entity: dict[str, list[js.ServerObject]] = {}
    for _where, entity, obj in server_objects():
        by_entity.setdefault(entity, []).append(js.ENTITY_MODELS[entity].model_validate(obj))

    lists = [o for o in by_entity["TaskList"] if isinstance(o, js.TaskList)]
    assert any(o.createdBy == "1" for o in lists)  # a JSON integer on the wire (04)
    assert any(o.groupingId is not None for o in lists)  # integer too (05)
    keys = [o for o in by_entity["Key"] if isinstance(o, js.Key)]
    assert any(o.userId == "1" for o in keys)  # integer (13)
    comments = [o for o in by_entity["Comment"] if isinstance(o, js.Comment)]
    attachment_ids = [a.id for c in comments for a in c.attachments]
    assert attachment_ids and all(isinstance(i, str) for i in attachment_ids)  # integers (10)
    users = [o for o in by_entity["User"] if isinstance(o, js.User)]
    assert all(isinstance(g, str) for u in users for g in u.groups)  # ["3", 2, "36"] (11)
    assert any(u.customFields == {} and "customFields" in u.model_fields_set for u in users)
    modules = [o for o in by_entity["Module"] if isinstance(o, js.Module)]
    assert any("permissions" in m.model_fields_set and m.permissions is None for m in modules)
    tasks = [o for o in by_entity["Task"] if isinstance(o, js.Task)]
    assert any(t.createdAt is not None and t.createdAt.utcoffset() is not None for t in tasks)


# ---------------------------------------------------------------------------- write side

WRITE_MODELS: dict[tuple[str, str], type[js.WireInput]] = {
    ("Task", "create"): js.TaskCreate,
    ("Task", "update"): js.TaskPatch,
    ("TaskList", "create"): js.TaskListCreate,
    ("TaskList", "update"): js.TaskListPatch,
    ("TaskListGrouping", "create"): js.TaskListGroupingCreate,
    ("TaskListGrouping", "update"): js.TaskListGroupingPatch,
    ("TaskCategory", "create"): js.TaskCategoryCreate,
    ("TaskCategory", "update"): js.TaskCategoryPatch,
    ("Comment", "create"): js.CommentCreate,
    ("Comment", "update"): js.CommentPatch,
    ("CommentLabel", "create"): js.CommentLabelCreate,
    ("FieldSet", "create"): js.FieldSetCreate,
    ("Field", "create"): js.FieldCreate,
    ("User", "create"): js.UserCreate,
    ("Key", "create"): js.KeyCreate,
    ("Key", "update"): js.KeyPatch,
    ("Module", "update"): js.ModulePatch,
}

# Recorded requests that the write models refuse on purpose: (file prefix, entity, op) -> the
# property the ValidationError must name. Each one the server mishandled or rejected.
EXPECTED_REFUSALS: dict[tuple[str, str, str], set[str]] = {
    ("03", "Task", "create"): {"notAProperty", "tasklistId"},  # unknown property; missing list
    ("04", "TaskList", "create"): {"role"},  # "support" (tasks vanish), "nonsense" (ignored)
    ("04", "TaskList", "update"): {"acl/31"},  # pointer keys: send the object form (acl merges)
    ("06", "TaskCategory", "create"): {"color"},  # no such property: whole call fails
    ("07", "Task", "update"): {"customFields/supportLegacyTicketId"},  # pointer key
    ("08", "Task", "create"): {"progress"},  # "in-process" silently became needs-action
    ("08", "Task", "update"): {"progress"},  # "done" silently ignored
    ("09", "Comment", "create"): {"mailStatus", "validateXSS"},
    ("11", "User", "create"): {"email"},  # missing: PHP error for the whole call
    ("11", "Module", "update"): {"settings/allowRegistration"},  # pointer form: typeError
    ("12", "Module", "update"): {"permissions.41"},  # null wipes the whole map
    ("13", "Key", "create"): {"name"},  # required
    ("16", "Comment", "create"): {"createdBy"},  # silently ignored by the server
    ("17", "Task", "create"): {"title"},  # missing (an empty one is accepted)
    ("18", "Task", "create"): {"createdAt"},  # silently ignored: the task is created now
}

# Entities whose /set objects are sent as given (go_support/jmap/validation.py): no model.
WITHOUT_WRITE_MODEL = {"Group"}  # 17 #9


def recorded_set_objects() -> Iterator[tuple[str, str, str, str, dict[str, Any]]]:
    for name, index, step in corpus_steps():
        for entity, verb, args in calls(step["http"].get("body")):
            if verb != "set":
                continue
            for op in ("create", "update"):
                objects = args.get(op)
                if isinstance(objects, dict):
                    for key, obj in objects.items():
                        where = f"{name} steps[{index}] {entity}/set {op} {key}"
                        yield where, name[:2], entity, op, obj


def test_recorded_requests_pass_the_write_models_or_are_refused_as_expected() -> None:
    failures: list[str] = []
    refused: set[tuple[str, str, str, str]] = set()
    accepted = 0
    for where, prefix, entity, op, obj in recorded_set_objects():
        model = WRITE_MODELS.get((entity, op))
        if model is None and entity in WITHOUT_WRITE_MODEL:
            continue
        if model is None:
            failures.append(f"{where}: no write model")
            continue
        try:
            parsed = model.from_wire(obj)
        except ValidationError as exc:
            fields = {".".join(str(p) for p in err["loc"]) for err in exc.errors()}
            allowed = EXPECTED_REFUSALS.get((prefix, entity, op), set())
            if not fields <= allowed:
                failures.append(f"{where}: unexpected refusal of {sorted(fields)}: {exc}")
            refused.update((prefix, entity, op, f) for f in fields)
            continue
        accepted += 1
        wire = parsed.to_wire()
        failures += [f"{where}: {problem}" for problem in differences(obj, wire)]
    assert not failures, "\n".join(failures)
    assert accepted > 30
    expected = {(p, e, o, f) for (p, e, o), fs in EXPECTED_REFUSALS.items() for f in fs}
    assert refused == expected, f"expected refusals not seen: {expected - refused}"


@pytest.mark.parametrize("entity", sorted(js.ENTITY_MODELS))
def test_entity_name_matches_registry(entity: str) -> None:
    assert js.ENTITY_MODELS[entity].entity_name == entity
