"""Building JMAP requests with result references, and reading the answers.

::

    batch = Batch()
    q = batch.call("Task/query", {"filter": {"tasklistId": "12"}})
    batch.call("Task/get", {"#ids": q.ref("/ids"), "properties": ["title"]})

Group-Office rules this module enforces, because breaking them gives confusing answers:

* Creation ids must not be numeric: ``"0"``, ``"1"`` make ``created`` a JSON list.
* Creation-id back-references (``"#t1"`` as a *value*) are not supported by the
  server (they end in ``dbException``); use ``created_ref(handle, "t1")``, a result
  reference to ``/created/t1/id``, under a ``#``-prefixed key.
* A reference may only point to an earlier call of the same batch (a forward or unknown
  reference fails on the server with a PHP ``typeError``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from go_support.jmap.errors import MethodError, PendingWrite, ProtocolError, method_error
from go_support.jmap.validation import WriteObject, check_properties, validate_set

__all__ = [
    "Batch",
    "Call",
    "Invocation",
    "Responses",
    "created_ref",
    "is_read_only_method",
    "plan_chunks",
]

READ_ONLY_VERBS = frozenset({"get", "query", "changes"})
_NUMERIC = re.compile(r"-?\d+")


def is_read_only_method(method: str) -> bool:
    """Whether a call only reads, so that repeating it can do no harm."""
    if method == "Core/echo":
        return True
    verb = method.rsplit("/", 1)[-1]
    return verb in READ_ONLY_VERBS


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _iter_references(value: Any) -> Iterator[tuple[str, Any]]:
    """Yield ``(key, reference)`` for every ``#key`` anywhere in ``value``."""
    found: list[tuple[str, Any]] = []
    _collect_references(value, found)
    return iter(found)


def _collect_references(value: Any, found: list[tuple[str, Any]]) -> None:
    # Plain recursion without generators, scalars skipped before any ABC check: the bulk
    # writers' requests hold hundreds of comments, walked once per call and once per send.
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("#"):
                found.append((key, item))
            elif not isinstance(item, _SCALARS):
                _collect_references(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            if not isinstance(item, _SCALARS):
                _collect_references(item, found)


_SCALARS = (str, int, float, type(None))


@dataclass(eq=False, frozen=True)
class Call:
    """One method call of a :class:`Batch`; also the handle to refer to its result."""

    method: str
    args: dict[str, Any]
    call_id: str

    def ref(self, path: str) -> dict[str, str]:
        """A result reference to ``path`` (a JSON pointer) in this call's response."""
        pointer = path if path.startswith("/") else f"/{path}"
        return {"resultOf": self.call_id, "name": self.method, "path": pointer}

    def created_ref(self, creation_id: str) -> dict[str, str]:
        """A reference to the server id of the object created as ``creation_id``."""
        return self.ref(f"/created/{_pointer_escape(creation_id)}/id")

    @property
    def is_read_only(self) -> bool:
        """See :func:`is_read_only_method`."""
        return is_read_only_method(self.method)

    def referenced_call_ids(self) -> set[str]:
        """Call ids this call takes results from."""
        ids: set[str] = set()
        for _key, ref in _iter_references(self.args):
            if isinstance(ref, Mapping) and isinstance(ref.get("resultOf"), str):
                ids.add(ref["resultOf"])
        return ids

    def pending_write(self) -> PendingWrite:
        """The objects this call would change (for :class:`OutcomeUnknownError`)."""
        create = self.args.get("create")
        update = self.args.get("update")
        destroy = self.args.get("destroy")
        return PendingWrite(
            call_id=self.call_id,
            method=self.method,
            create=tuple(str(k) for k in create) if isinstance(create, Mapping) else (),
            update=tuple(str(k) for k in update) if isinstance(update, Mapping) else (),
            destroy=tuple(str(i) for i in destroy) if isinstance(destroy, list) else (),
        )

    def object_id(self) -> str | None:
        """The one object this call is about, when there is exactly one (for messages)."""
        ids = self.args.get("ids")
        if isinstance(ids, list) and len(ids) == 1:
            return str(ids[0])
        if self.method.endswith("/set"):
            write = self.pending_write()
            targets = [*write.update, *write.destroy]
            if len(targets) == 1 and not write.create:
                return targets[0]
        return None


def created_ref(handle: Call, creation_id: str) -> dict[str, str]:
    """``handle.created_ref(creation_id)``: reference to ``/created/<cid>/id``."""
    return handle.created_ref(creation_id)


class Batch:
    """An ordered list of method calls sent together (one or a few HTTP requests).

    Call ids are generated (``c0``, ``c1``, …) unless given, and are unique per batch.
    """

    def __init__(self, *, prefix: str = "c") -> None:
        if not prefix or prefix[0].isdigit():
            raise ValueError("the call-id prefix must start with a letter")
        self._prefix = prefix
        self._calls: list[Call] = []
        self._by_id: dict[str, Call] = {}
        self._counter = itertools.count()
        self._creation_ids: set[str] = set()
        self._cid_counter = itertools.count(1)

    def call(
        self, method: str, args: Mapping[str, Any] | None = None, *, call_id: str | None = None
    ) -> Call:
        """Append a call; returns the handle for :meth:`Call.ref`."""
        if not isinstance(method, str) or "/" not in method:
            raise ValueError(f"not a JMAP method name: {method!r} (expected e.g. 'Task/get')")
        arguments = dict(args or {})
        if call_id is None:
            call_id = f"{self._prefix}{next(self._counter)}"
            while call_id in self._by_id:
                call_id = f"{self._prefix}{next(self._counter)}"
        elif call_id in self._by_id:
            raise ValueError(f"duplicate call id {call_id!r}")
        handle = Call(method=method, args=arguments, call_id=str(call_id))
        for key, ref in _iter_references(arguments):
            if not isinstance(ref, Mapping) or not isinstance(ref.get("resultOf"), str):
                raise ValueError(
                    f"{method}: {key!r} must be a result reference (use handle.ref(path))"
                )
            if ref["resultOf"] not in self._by_id:
                raise ValueError(
                    f"{method}: {key!r} refers to call {ref['resultOf']!r}, which is not an "
                    "earlier call of this batch"
                )
        if method.endswith("/set"):
            self._check_set(method, arguments)
        self._calls.append(handle)
        self._by_id[handle.call_id] = handle
        return handle

    def get(
        self,
        entity: str,
        ids: Iterable[str | int] | None = None,
        *,
        ids_ref: Mapping[str, str] | None = None,
        properties: Iterable[str] | None = None,
        validate: bool = True,
        call_id: str | None = None,
    ) -> Call:
        """Append an ``<entity>/get`` call whose ``properties`` are checked first.

        ``ids`` (``None``: every object) or ``ids_ref`` (a result reference, sent as
        ``#ids``). A property the entity does not have raises
        :class:`~go_support.jmap.errors.UnknownPropertiesError` before the call is added:
        Group-Office would answer every id as ``notFound`` (groupoffice-wire 18).
        ``validate=False`` skips the check.
        """
        args: dict[str, Any] = {}
        if ids_ref is not None:
            if ids is not None:
                raise ValueError(f"{entity}/get: give ids or ids_ref, not both")
            args["#ids"] = dict(ids_ref)
        else:
            args["ids"] = None if ids is None else [str(i) for i in ids]
        names = check_properties(entity, properties, validate=validate)
        if names is not None:
            args["properties"] = names
        return self.call(f"{entity}/get", args, call_id=call_id)

    def set(
        self,
        entity: str,
        *,
        create: Mapping[str, WriteObject] | None = None,
        update: Mapping[str | int, WriteObject] | None = None,
        destroy: Iterable[str | int] | None = None,
        if_in_state: str | None = None,
        validate: bool = True,
        call_id: str | None = None,
    ) -> Call:
        """Append an ``<entity>/set`` call whose objects are checked first.

        Like the managers' ``set``: each object (a dict in wire form, with ``#prop``
        result references allowed, or a ``jmap_schema`` write model) is validated
        against the entity's write model, and :class:`InvalidObjectError` is raised
        before the call is added (``validate=False`` skips the check). Unlike
        :meth:`EntityManager.set` it does not split by ``maxObjectsInSet``.
        """
        creates, updates = validate_set(
            entity,
            create=create,
            update={str(oid): patch for oid, patch in (update or {}).items()},
            validate=validate,
        )
        args: dict[str, Any] = {}
        if creates:
            args["create"] = creates
        if updates:
            args["update"] = updates
        if destroy is not None:
            args["destroy"] = [str(oid) for oid in destroy]
        if if_in_state is not None:
            args["ifInState"] = if_in_state
        if not args.keys() & {"create", "update", "destroy"}:
            raise ValueError(f"{entity}/set needs something to create, update or destroy")
        return self.call(f"{entity}/set", args, call_id=call_id)

    def _check_set(self, method: str, args: Mapping[str, Any]) -> None:
        create = args.get("create")
        known = set(self._creation_ids)
        if isinstance(create, Mapping):
            known.update(str(cid) for cid in create)
            for cid in create:
                if _NUMERIC.fullmatch(str(cid)):
                    raise ValueError(
                        f"{method}: numeric creation id {cid!r}: Group-Office then answers "
                        "'created' as a list; use ids such as 't1' (Batch.creation_id())"
                    )
        for section in ("create", "update"):
            objects = args.get(section)
            if not isinstance(objects, Mapping):
                continue
            for obj in objects.values():
                if not isinstance(obj, Mapping):
                    continue
                for prop, value in obj.items():
                    if (
                        isinstance(value, str)
                        and value.startswith("#")
                        and value[1:] in known
                    ):
                        raise ValueError(
                            f"{method}: {prop}={value!r} is a creation-id reference, which "
                            "Group-Office does not support; use "
                            f"{{'#{prop}': handle.created_ref({value[1:]!r})}}"
                        )
        self._creation_ids = known

    def creation_id(self, prefix: str = "n") -> str:
        """A fresh creation id, unique in this batch and never numeric."""
        if not prefix or prefix[0].isdigit():
            raise ValueError("the creation-id prefix must start with a letter")
        while True:
            cid = f"{prefix}{next(self._cid_counter)}"
            if cid not in self._creation_ids:
                self._creation_ids.add(cid)
                return cid

    @property
    def calls(self) -> tuple[Call, ...]:
        """The calls in order."""
        return tuple(self._calls)

    @property
    def is_read_only(self) -> bool:
        """Whether every call only reads (so the request may be retried)."""
        return all(c.is_read_only for c in self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self._calls)

    def to_json(self) -> list[list[Any]]:
        """The bare JSON array Group-Office expects (no RFC ``using`` envelope)."""
        return [[c.method, c.args, c.call_id] for c in self._calls]


def plan_chunks(calls: Sequence[Call], max_calls: int) -> list[list[Call]]:
    """Split calls into HTTP requests of at most ``max_calls`` calls.

    A cut is only made where no later call refers to an earlier one across it: result
    references cannot cross HTTP requests. If a chain of references is longer than
    ``max_calls`` it stays in one oversized request, which Group-Office accepts (it
    advertises ``maxCallInRequest`` but does not enforce it, corpus README surprise 5).
    """
    n = len(calls)
    if max_calls < 1:
        raise ValueError("max_calls must be at least 1")
    if n <= max_calls:
        return [list(calls)] if calls else []
    index = {c.call_id: i for i, c in enumerate(calls)}
    earliest = [
        min([index[r] for r in c.referenced_call_ids() if r in index], default=i)
        for i, c in enumerate(calls)
    ]
    # cut_ok[k]: a cut between calls k-1 and k leaves no reference crossing it.
    cut_ok = [False] * (n + 1)
    suffix_min = n
    for k in range(n - 1, -1, -1):
        suffix_min = min(suffix_min, earliest[k])
        cut_ok[k] = suffix_min >= k
    cut_ok[n] = True
    chunks: list[list[Call]] = []
    start = 0
    while start < n:
        end = min(start + max_calls, n)
        cut = next((k for k in range(end, start, -1) if cut_ok[k]), None)
        if cut is None:
            cut = next(k for k in range(end + 1, n + 1) if cut_ok[k])
        chunks.append(list(calls[start:cut]))
        start = cut
    return chunks


@dataclass(frozen=True)
class Invocation:
    """One ``[name, arguments, callId]`` triple of a response."""

    name: str
    arguments: dict[str, Any]
    call_id: str

    @property
    def is_error(self) -> bool:
        """Whether this is an ``["error", ...]`` response."""
        return self.name == "error"


class Responses:
    """The answers to a batch, matched to its calls by call id."""

    def __init__(
        self,
        calls: Iterable[Call] = (),
        invocations: Iterable[Invocation] = (),
        *,
        url: str = "",
        secrets: Sequence[str | None] = (),
    ) -> None:
        self._calls: dict[str, Call] = {c.call_id: c for c in calls}
        self._invocations: list[Invocation] = []
        self._by_id: dict[str, list[Invocation]] = {}
        self._url = url
        self._secrets = tuple(secrets)
        self.extend(invocations)

    def extend(self, invocations: Iterable[Invocation], calls: Iterable[Call] = ()) -> None:
        """Add the answers of one more HTTP request."""
        for call in calls:
            self._calls[call.call_id] = call
        for inv in invocations:
            self._invocations.append(inv)
            self._by_id.setdefault(inv.call_id, []).append(inv)

    @property
    def invocations(self) -> tuple[Invocation, ...]:
        """Every response, in the order the server sent them."""
        return tuple(self._invocations)

    def __iter__(self) -> Iterator[Invocation]:
        return iter(self._invocations)

    def __len__(self) -> int:
        return len(self._invocations)

    @staticmethod
    def _key(call: Call | str) -> str:
        return call.call_id if isinstance(call, Call) else str(call)

    def all_for(self, call: Call | str) -> list[Invocation]:
        """Every response for a call (a few GO methods answer more than once)."""
        return list(self._by_id.get(self._key(call), []))

    def error(self, call: Call | str) -> MethodError | None:
        """The typed error of a call, or ``None`` if it succeeded."""
        key = self._key(call)
        for inv in self._by_id.get(key, []):
            if inv.is_error:
                handle = self._calls.get(key)
                err = method_error(
                    method=handle.method if handle else "?",
                    call_id=key,
                    payload=inv.arguments,
                    object_id=handle.object_id() if handle else None,
                )
                err.scrub(*self._secrets)
                return err
        return None

    def errors(self) -> list[MethodError]:
        """The errors of all calls, in call order."""
        found = []
        for key in self._by_id:
            err = self.error(key)
            if err is not None:
                found.append(err)
        return found

    def raise_for_errors(self) -> None:
        """Raise the first method error, if any."""
        errors = self.errors()
        if errors:
            raise errors[0]

    def get(self, call: Call | str) -> dict[str, Any]:
        """The arguments of a call's response; raises its typed :class:`MethodError`."""
        key = self._key(call)
        err = self.error(key)
        if err is not None:
            raise err
        found = self._by_id.get(key)
        if not found:
            handle = self._calls.get(key)
            what = f"{handle.method} " if handle else ""
            raise ProtocolError(
                f"Group-Office sent no response for call {what}{key!r} to {self._url}; the "
                "server may have stopped half-way (check its error log)",
                url=self._url,
            )
        return found[0].arguments

    __getitem__ = get
