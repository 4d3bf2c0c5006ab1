"""Checking objects against the strict write models of ``jmap_schema`` before sending.

Why: Group-Office does not reject many bad values. A Task ``progress: "done"`` is
"successfully" ignored, a TaskList ``role: "nonsense"`` becomes ``list``, an unknown
property or a bad custom-field key fails the whole call (groupoffice-wire README,
"Validation that silently does nothing"). So every :class:`~go_support.jmap.EntityManager`
write (``create``, ``create_many``, ``update``, ``set``) runs each object through
:func:`validate_set` first and raises :class:`~go_support.jmap.errors.InvalidObjectError`
before any HTTP request goes out. :meth:`go_support.jmap.Batch.set` does the same for
hand-built batches; plain :meth:`Batch.call` and :meth:`GroupOfficeClient.call` send what
they are given.

Rules:

* ``create`` objects are checked against the entity's ``*Create`` model, ``update``
  patches against its ``*Patch`` model (see :data:`WRITE_MODELS`). An entity or an
  operation without a model (``Group``, ``User`` updates, ``Module`` creates, any entity
  reached through ``client.entity("Note")``) is sent as given.
* Objects may be dicts in wire form or instances of the write models (``TaskCreate``...);
  a model is turned into its wire form with ``to_wire()`` and then checked like a dict, so
  a ``TaskPatch`` given to ``create`` or a ``TaskCreate`` given to ``task_lists.create``
  is refused. What is sent is the model's normalised wire form: ids as strings,
  datetimes in UTC with ``+00:00``, dates ``YYYY-MM-DD``.
* ``"#prop"`` keys hold result references (``{"resultOf", "path", "name"}``). The
  reference's shape is checked and ``prop`` must be a property of the model. Where the
  model can hold a reference (``Task.tasklistId``, ``Comment.entityId``...) the rest is
  checked as usual; where it cannot (``#responsibleUserId``, ``#categories``), that one
  property's value is left to the server, since only the server knows it. If a
  model-wide rule would have to compare such a value (``start`` before ``due``), the
  object is refused: pass ``validate=False`` for it.
* JSON-pointer keys in a patch (``"acl/31": 30``, ``"customFields/ticketRef": "X"``):
  the first segment must be a property of the patch model. With exactly two segments
  into a map-valued property (``acl``, ``customFields``, ``permissions``, ``settings``)
  the key and the value are checked as if ``{"acl": {"31": 30}}`` had been sent. Deeper
  pointers, and pointers into lists, are sent unchecked beyond their first segment.
  ``Module`` ``settings/...`` pointers are refused: Group-Office fails them with a PHP
  ``typeError`` (groupoffice-wire/11); send ``{"settings": {...}}``, which merges.
* Values are never quoted in messages (they may be passwords).

What validation cannot know: values of custom fields depend on the server's ``Field``
definitions (a Number field given ``"abc"``, a Text value longer than ``maxLength``), so
only their keys are checked here.

Reads are checked too: the ``properties`` of a ``Foo/get`` (the managers' ``get``,
``get_one``, ``query_get``, ``query_all_objects``, ``sync`` and :meth:`Batch.get`) must be
properties of the entity's read model in ``jmap_schema`` (:func:`check_properties`), because
Group-Office answers a get with an unknown property by putting every id under ``notFound``
(groupoffice-wire 18): a typo would make a ticket look deleted. Entities without a read model
and those whose model declares only part of the server's properties (:data:`PARTIAL_READ_MODELS`:
``User``) are sent as given. :class:`~go_support.jmap.errors.UnknownPropertiesError` names the
unknown ones.

The escape hatch: ``validate=False`` on any of these methods sends the objects as given
(models still go through ``to_wire()``). Use it when you know better than the schema,
for example to reproduce a server quirk in a test.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Union

import pydantic
from pydantic import BaseModel, ValidationError

from go_support.errors import redact
from go_support.jmap.errors import (
    InvalidObject,
    InvalidObjectError,
    InvalidProperty,
    UnknownPropertiesError,
)
from jmap_schema import (
    ENTITY_MODELS,
    CommentCreate,
    CommentLabelCreate,
    CommentPatch,
    FieldCreate,
    FieldSetCreate,
    KeyCreate,
    KeyPatch,
    ModulePatch,
    ResultReference,
    TaskCategoryCreate,
    TaskCategoryPatch,
    TaskCreate,
    TaskListCreate,
    TaskListGroupingCreate,
    TaskListGroupingPatch,
    TaskListPatch,
    TaskPatch,
    UserCreate,
    WireInput,
)

__all__ = [
    "PARTIAL_READ_MODELS",
    "WRITE_MODELS",
    "WriteObject",
    "check_properties",
    "known_properties",
    "prepare_object",
    "validate_set",
    "write_model",
]

Operation = Literal["create", "update"]
WriteObject = Mapping[str, Any] | WireInput
"""What the managers accept per object: a dict in wire form, or a write model."""

WRITE_MODELS: Mapping[str, tuple[type[WireInput] | None, type[WireInput] | None]] = (
    types.MappingProxyType({
        "Task": (TaskCreate, TaskPatch),
        "TaskList": (TaskListCreate, TaskListPatch),
        "TaskListGrouping": (TaskListGroupingCreate, TaskListGroupingPatch),
        "TaskCategory": (TaskCategoryCreate, TaskCategoryPatch),
        "Comment": (CommentCreate, CommentPatch),
        "CommentLabel": (CommentLabelCreate, None),
        "FieldSet": (FieldSetCreate, None),
        "Field": (FieldCreate, None),
        "User": (UserCreate, None),
        "Key": (KeyCreate, KeyPatch),
        "Module": (None, ModulePatch),
    })
)
"""``entity -> (create model, patch model)``; ``None`` where ``jmap_schema`` has none."""

_REFUSED_POINTERS: Mapping[tuple[str, str], str] = {
    ("Module", "settings"): (
        "Group-Office fails a JSON-pointer patch of settings with a PHP typeError "
        "(groupoffice-wire/11); send {'settings': {...}} instead, it merges"
    ),
}

_SECRET_WORDS = ("password", "token", "secret")
_MIN_SECRET = 4  # messages never quote values; redacting "a" would only garble them


def write_model(entity: str, operation: Operation) -> type[WireInput] | None:
    """The write model that checks ``operation`` objects of ``entity``, if there is one."""
    create, patch = WRITE_MODELS.get(entity, (None, None))
    return create if operation == "create" else patch


PARTIAL_READ_MODELS = frozenset({"User"})
"""Read models that declare only the properties the help desk uses (``jmap_schema.User``):
their ``properties`` are sent unchecked."""


def known_properties(entity: str) -> frozenset[str] | None:
    """The properties ``entity`` has on Group-Office; ``None`` if the client cannot tell."""
    model = ENTITY_MODELS.get(entity)
    if model is None or entity in PARTIAL_READ_MODELS:
        return None
    return frozenset(model.model_fields)


def check_properties(
    entity: str, properties: Iterable[str] | None, *, validate: bool = True
) -> list[str] | None:
    """``properties`` of a ``Foo/get`` as a list, checked against the read model.

    Raises :class:`UnknownPropertiesError` (nothing is sent) for a name the entity does not
    have: Group-Office would answer every id as ``notFound`` (groupoffice-wire 18).
    """
    if properties is None:
        return None
    if isinstance(properties, str):
        raise TypeError(f"{entity}/get: properties must be a list of names, not a string")
    names = list(properties)
    known = known_properties(entity) if validate else None
    if known is not None:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UnknownPropertiesError(entity, unknown)
    return names


# --- helpers ----------------------------------------------------------------------------


def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of an annotation, with ``Annotated`` and ``Optional`` removed."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return [alt for arg in typing.get_args(annotation) for alt in _unwrap(arg)]
    return [annotation]


def _field_annotation(model: type[BaseModel], name: str) -> Any:
    info = model.model_fields[name]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = typing.Annotated[(annotation, *info.metadata)]
    return annotation


def _takes_reference(model: type[BaseModel], name: str) -> bool:
    return ResultReference in _unwrap(_field_annotation(model, name))


def _is_map(model: type[BaseModel], name: str) -> bool:
    return any(
        alt is dict or typing.get_origin(alt) is dict
        for alt in _unwrap(_field_annotation(model, name))
    )


@functools.cache
def _with_references(model: type[WireInput], names: frozenset[str]) -> type[WireInput]:
    """``model`` with the properties ``names`` relaxed to any value.

    They hold result references that only the server can resolve; everything else is
    checked as strictly as before.
    """
    fields: dict[str, Any] = {name: (Any, None) for name in sorted(names)}
    relaxed: type[WireInput] = pydantic.create_model(
        f"{model.__name__}WithReferences", __base__=model, **fields
    )
    return relaxed


def _secret_values(value: Any, key: str = "") -> list[str]:
    """String values stored under password-like keys, to redact from messages."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            found += _secret_values(v, str(k))
    elif isinstance(value, list | tuple):
        for item in value:
            found += _secret_values(item, key)
    elif (
        isinstance(value, str) and len(value) >= _MIN_SECRET
        and any(w in key.lower() for w in _SECRET_WORDS)
    ):
        found.append(value)
    return found


def _has_child(value: Any, part: int | str) -> bool:
    if isinstance(value, Mapping):
        return part in value
    return isinstance(value, list | tuple) and isinstance(part, int) and 0 <= part < len(value)


def _path(loc: tuple[int | str, ...], data: Any, kind: str) -> tuple[str, bool]:
    """A readable path for a pydantic ``loc``, following the data that was validated.

    Parts that are not in the data are union member tags (``function-after[...]``,
    ``ResultReference``) and are dropped, except the last part of a ``missing`` error,
    which names the absent property. ``[key]`` marks an error about a map key.
    """
    parts: list[str] = []
    about_key = False
    current = data
    for index, part in enumerate(loc):
        if part == "[key]":
            about_key = True
        elif _has_child(current, part):
            parts.append(str(part))
            current = current[part]
        elif index == len(loc) - 1 and kind == "missing":
            parts.append(str(part))
    return ".".join(parts), about_key


def _message(error: Mapping[str, Any], owner: str, about_key: bool) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return (
            f"not a property of {owner} (Group-Office would fail the whole call with "
            "invalidArgumentException)"
        )
    if kind == "missing":
        return "required"
    text = str(error.get("msg", "invalid"))
    text = text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"invalid key: {text}" if about_key else text


def _problems(
    exc: ValidationError,
    data: Any,
    entity: str,
    *,
    prefix: str = "",
) -> list[InvalidProperty]:
    problems: list[InvalidProperty] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = tuple(error["loc"])
        kind = str(error.get("type", "value_error"))
        path, about_key = _path(loc, data, kind)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        message = _message(error, entity if "." not in path else "this object", about_key)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        problems.append(InvalidProperty(path, message, kind))
    return problems


# --- one object -------------------------------------------------------------------------


def _check_dict(
    entity: str, model: type[WireInput], operation: Operation, obj: Mapping[str, Any]
) -> tuple[dict[str, Any], list[InvalidProperty]]:
    """Validate one wire-form object; returns its normalised wire form and the problems."""
    problems: list[InvalidProperty] = []
    plain: dict[str, Any] = {}
    references: dict[str, ResultReference] = {}
    referenced: set[str] = set()  # every "#name" given, also those whose reference is bad
    pointers: dict[str, Any] = {}
    fields = model.model_fields
    for key, value in obj.items():
        if not isinstance(key, str):
            problems.append(InvalidProperty(str(key), "property names must be strings",
                                            "key_type"))
        elif key.startswith("#"):
            name = key[1:]
            if name not in fields:
                problems.append(InvalidProperty(
                    key, f"{name!r} is not a property of {entity}, so it cannot take a "
                    "result reference", "extra_forbidden"))
            elif name in obj:
                problems.append(InvalidProperty(key, f"both {name!r} and {key!r} given",
                                                "duplicate"))
            else:
                referenced.add(name)
                try:
                    references[name] = ResultReference.model_validate(value)
                except ValidationError as exc:
                    problems += _problems(exc, value, entity, prefix=key)
        elif "/" in key and operation == "update":
            pointers[key] = value
        else:
            plain[key] = value

    unresolved = frozenset(n for n in references if not _takes_reference(model, n))
    checked = _with_references(model, unresolved) if unresolved else model
    data = {**plain, **references}
    wire: dict[str, Any] = {}
    try:
        instance = checked.model_validate(data)
    except ValidationError as exc:
        # a bad "#name" was reported above: don't also call "name" missing
        problems += [
            p for p in _problems(exc, data, entity)
            if not (p.kind == "missing" and p.path in referenced)
        ]
    except TypeError:
        names = ", ".join("#" + n for n in sorted(unresolved))
        problems.append(InvalidProperty(
            "", f"cannot check the object-wide rules of {model.__name__} (such as start "
            f"before due) when {names} will only be known on the server; pass "
            "validate=False for this object", "reference"))
    else:
        wire = instance.to_wire()
        for name in unresolved:
            wire.pop(name, None)
            wire["#" + name] = references[name].model_dump(exclude_none=True)

    for key, value in pointers.items():
        normalised, found = _check_pointer(entity, model, key, value)
        problems += found
        if not found:
            wire[key] = normalised
    return wire, problems


def _check_pointer(
    entity: str, model: type[WireInput], key: str, value: Any
) -> tuple[Any, list[InvalidProperty]]:
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in key.lstrip("/").split("/")]
    top = tokens[0]
    if top not in model.model_fields:
        return value, [InvalidProperty(
            key, f"{top!r} is not a property of {entity} (Group-Office would fail the whole "
            "call)", "extra_forbidden")]
    refused = _REFUSED_POINTERS.get((entity, top))
    if refused:
        return value, [InvalidProperty(key, refused, "pointer")]
    if len(tokens) != 2 or not _is_map(model, top):
        return value, []  # deeper pointers and list items: sent as given (module docstring)
    data = {top: {tokens[1]: value}}
    try:
        instance = model.model_validate(data)
    except ValidationError as exc:
        inner = f"{top}.{tokens[1]}"
        return value, [
            InvalidProperty(key + p.path[len(inner):] if p.path.startswith(inner) else key,
                            p.message, p.kind)
            for p in _problems(exc, data, entity)
        ]
    dumped = instance.to_wire().get(top)
    if isinstance(dumped, Mapping) and len(dumped) == 1:
        return next(iter(dumped.values())), []
    return value, []


def _prepare(
    entity: str, operation: Operation, obj: WriteObject, validate: bool
) -> tuple[dict[str, Any], list[InvalidProperty], str]:
    expected = write_model(entity, operation)
    model_name = expected.__name__ if expected is not None else "-"
    if isinstance(obj, WireInput):
        wire = obj.to_wire()
        if validate and (expected is None or not isinstance(obj, expected)):
            given = type(obj).__name__
            hint = f"use {expected.__name__}" if expected is not None else "pass a dict"
            return wire, [InvalidProperty(
                "", f"a {given} cannot be used to {operation} a {entity}; {hint}",
                "model_type")], model_name
    elif isinstance(obj, Mapping):
        wire = dict(obj)
    else:
        raise TypeError(
            f"{entity}/set: each object must be a dict or a jmap_schema write model "
            f"(TaskCreate...), not {type(obj).__name__}"
        )
    if not validate or expected is None:
        return wire, [], model_name
    checked, problems = _check_dict(entity, expected, operation, wire)
    if problems:
        secrets = _secret_values(wire)
        if secrets:
            problems = [
                InvalidProperty(p.path, redact(p.message, *secrets), p.kind) for p in problems
            ]
    return checked, problems, model_name


def prepare_object(
    entity: str,
    operation: Operation,
    obj: WriteObject,
    *,
    object_id: str = "",
    validate: bool = True,
) -> dict[str, Any]:
    """One object in wire form, checked; raises :class:`InvalidObjectError` if refused."""
    wire, problems, model_name = _prepare(entity, operation, obj, validate)
    if problems:
        raise InvalidObjectError(
            entity, [InvalidObject(operation, object_id, model_name, tuple(problems))]
        )
    return wire


def validate_set(
    entity: str,
    *,
    create: Mapping[str, WriteObject] | None = None,
    update: Mapping[str, WriteObject] | None = None,
    validate: bool = True,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The ``create`` and ``update`` maps of a ``Foo/set`` in wire form, checked.

    Every object is checked before anything is raised, so that one
    :class:`InvalidObjectError` names all refused objects. Ids become strings.
    """
    invalid: list[InvalidObject] = []
    result: dict[Operation, dict[str, dict[str, Any]]] = {"create": {}, "update": {}}
    sections: Iterable[tuple[Operation, Mapping[str, WriteObject] | None]] = (
        ("create", create), ("update", update))
    for operation, objects in sections:
        for oid, obj in (objects or {}).items():
            wire, problems, model_name = _prepare(entity, operation, obj, validate)
            if problems:
                invalid.append(InvalidObject(operation, str(oid), model_name, tuple(problems)))
            result[operation][str(oid)] = wire
    if invalid:
        raise InvalidObjectError(entity, invalid)
    return result["create"], result["update"]
