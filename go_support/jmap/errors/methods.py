"""Calls and objects refused: before sending (:class:`InvalidObjectError`), by the server as
a whole call (:class:`MethodError` and one subclass per Group-Office error type), or object
by object in a ``*/set`` (:class:`SetError`, :class:`SetFailed`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from go_support.errors import redact
from go_support.jmap.errors.base import MAX_LISTED, JMAPError, shorten
from go_support.jmap.errors.http import AuthenticationError

if TYPE_CHECKING:
    from go_support.jmap.results import ChangesResult, SetResult


@dataclass(frozen=True)
class InvalidProperty:
    """One reason why an object was refused.

    ``path`` names the property as it was given: ``"progress"``, ``"#tasklistId"``,
    ``"acl/31"`` (a JSON-pointer patch key), ``"attachments.0.blobId"`` for a nested
    value, or ``""`` for a rule about the whole object (``start`` after ``due``).
    ``message`` never quotes the value (it may be a password). ``kind`` is the pydantic
    error type (``"enum"``, ``"missing"``, ``"extra_forbidden"``...).
    """

    path: str
    message: str
    kind: str = "value_error"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True)
class InvalidObject:
    """An object of a ``Foo/set`` that failed client-side validation.

    ``id`` is the creation id (``operation == "create"``) or the object id (``"update"``);
    ``model`` the name of the write model it was checked against (``"TaskPatch"``).
    """

    operation: Literal["create", "update"]
    id: str
    model: str
    problems: tuple[InvalidProperty, ...]

    @property
    def properties(self) -> dict[str, str]:
        """``{path: message}``; several messages for one path are joined with ``"; "``."""
        found: dict[str, list[str]] = {}
        for problem in self.problems:
            found.setdefault(problem.path, []).append(problem.message)
        return {path: "; ".join(messages) for path, messages in found.items()}

    def __str__(self) -> str:
        details = "; ".join(str(p) for p in self.problems)
        return f"{self.operation} {self.id} ({self.model}): {details}"


class InvalidObjectError(JMAPError):
    """Objects of a ``Foo/set`` broke the strict write model of ``jmap_schema``.

    Raised **before anything is sent**: Group-Office would silently drop such values
    (Task ``progress: "done"``, TaskList ``role: "nonsense"``) or fail the whole call,
    sometimes with raw SQL. ``entity`` is the entity (``"Task"``), ``objects`` lists every
    refused object with its creation or object id and each bad property. The message
    never contains a value, so a password cannot leak through it. Pass
    ``validate=False`` to the manager method to send such objects anyway.
    """

    def __init__(self, entity: str, objects: Iterable[InvalidObject]) -> None:
        self.entity = entity
        self.objects = tuple(objects)
        listed = "; ".join(str(o) for o in self.objects[:MAX_LISTED])
        extra = len(self.objects) - MAX_LISTED
        more = f"; and {extra} more" if extra > 0 else ""
        super().__init__(
            f"{entity}/set was not sent: {len(self.objects)} invalid object(s): {listed}{more}. "
            "Group-Office would silently ignore such values or fail the whole call; fix "
            "the object (or pass validate=False to send it unchecked)"
        )

    @property
    def method(self) -> str:
        """The ``Foo/set`` method that was not sent."""
        return f"{self.entity}/set"

    @property
    def ids(self) -> list[str]:
        """Creation ids and object ids of the refused objects, in order."""
        return [o.id for o in self.objects]

    def scrub(self, *secrets: str | None) -> None:
        """Also redact the per-property messages."""
        self.objects = tuple(
            InvalidObject(
                operation=o.operation, id=o.id, model=o.model,
                problems=tuple(
                    InvalidProperty(p.path, redact(p.message, *secrets), p.kind)
                    for p in o.problems
                ),
            )
            for o in self.objects
        )
        super().scrub(*secrets)


# --- method errors --------------------------------------------------------------------

_REGISTRY: dict[str, type[MethodError]] = {}


class UnknownPropertiesError(JMAPError):
    """A ``Foo/get`` asked for properties the entity does not have; nothing was sent.

    Group-Office answers such a get with every id under ``notFound`` and no error
    (groupoffice-wire 18), so one typo would make a ticket look deleted. ``unknown`` lists
    the names in the order given. Pass ``validate=False`` to send the call anyway.
    """

    def __init__(self, entity: str, unknown: Iterable[str]) -> None:
        self.entity = entity
        self.unknown = tuple(unknown)
        names = ", ".join(repr(n) for n in self.unknown)
        super().__init__(
            f"{entity}/get was not sent: {names} not a property of {entity}; Group-Office "
            "would answer every id as notFound (pass validate=False to send it unchecked)"
        )

    @property
    def method(self) -> str:
        """The ``Foo/get`` method that was not sent."""
        return f"{self.entity}/get"


class MethodError(JMAPError):
    """A method call came back as ``["error", {"type", "message"}, callId]``.

    Also the fallback for error types go-support does not know, and for errors that
    arrive without any ``type`` (Group-Office sends such errors too).
    """

    error_type: ClassVar[str | None] = None
    hint: ClassVar[str] = ""

    def __init__(
        self,
        *,
        method: str,
        call_id: str,
        type: str | None,
        server_message: str,
        object_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.method = method
        self.call_id = call_id
        self.type = type
        self.server_message = server_message
        self.object_id = object_id
        self.details: dict[str, Any] = dict(details or {})
        self.partial_result: SetResult | None = None
        super().__init__(self._compose())

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.error_type is not None:
            _REGISTRY[cls.error_type] = cls

    def _compose(self) -> str:
        entity = self.method.split("/")[0] if "/" in self.method else self.method
        target = f" on {entity} {self.object_id}" if self.object_id is not None else ""
        message = shorten(self.server_message, 1000) or "(no message)"
        kind = self.type or "untyped error"
        text = f"{self.method}{target} failed: {message} [{kind}, call {self.call_id}]"
        return f"{text}. {self.hint}" if self.hint else text

    def scrub(self, *secrets: str | None) -> None:
        """Redact secrets from the server's message too (it may quote SQL or input)."""
        self.server_message = redact(self.server_message, *secrets)
        self.message = self._compose()
        super().scrub(*secrets)


def method_error(
    *,
    method: str,
    call_id: str,
    payload: Mapping[str, Any] | Any,
    object_id: str | None = None,
) -> MethodError:
    """Build the typed :class:`MethodError` for an ``["error", payload, call_id]`` answer."""
    data: Mapping[str, Any] = payload if isinstance(payload, Mapping) else {}
    raw_type = data.get("type")
    err_type = raw_type if isinstance(raw_type, str) and raw_type else None
    message = data.get("message", data.get("description"))
    text = message if isinstance(message, str) else ("" if message is None else str(message))
    details = {k: v for k, v in data.items() if k not in ("type", "message", "description")}
    cls = _REGISTRY.get(err_type, MethodError) if err_type else MethodError
    return cls(
        method=method,
        call_id=call_id,
        type=err_type,
        server_message=text,
        object_id=object_id,
        details=details,
    )


class Unauthorized(MethodError, AuthenticationError):
    """No valid token: Group-Office answers HTTP 200 and fails every call this way."""

    error_type = "unauthorized"
    hint = "Check the API key or the login token (it may have been deleted or expired)"


class Forbidden(MethodError):
    """The user lacks a module permission or an ACL level for this call."""

    error_type = "forbidden"


class NotFound(MethodError):
    """The item was not found (also: a Task created in a ``support`` list)."""

    error_type = "notFound"


class InvalidArguments(MethodError):
    """An argument failed validation (negative limit, missing sinceState, >1000 objects)."""

    error_type = "invalidArguments"


class InvalidArgumentException(MethodError):
    """PHP ``InvalidArgumentException``: e.g. an unknown property fails the whole call."""

    error_type = "invalidArgumentException"


class UnsupportedFilter(MethodError):
    """The query used a filter the entity does not have."""

    error_type = "unsupportedFilter"
    hint = "Filter names are case-insensitive; custom-field filters use the field's databaseName"


class UnsupportedSort(MethodError):
    """A sort the server refuses (Group-Office usually answers ``dbException`` instead)."""

    error_type = "unsupportedSort"


class StateMismatch(MethodError):
    """``ifInState`` did not match the current state: re-read and try again."""

    error_type = "stateMismatch"


class CannotCalculateChanges(MethodError):
    """The ``sinceState`` is unknown or stale: the caller must resync with query + get."""

    error_type: ClassVar[str | None] = "cannotCalculateChanges"
    hint = "Resync: query and get everything again, then continue from the new state"


class ChangesTruncated(CannotCalculateChanges):
    """``Foo/changes`` answered ``hasMoreChanges: true``: its ``newState`` is unusable.

    Group-Office's intermediate states lack the cacheClearedAt prefix and every
    ``Foo/changes`` from one fails with "Resync required" (groupoffice-wire 17). It pages
    after ``maxChanges`` changes, ACL changes included, so a busy server pages without being
    asked. Raised by the client instead of handing out that state; ``partial`` holds the
    page that came back (for logging: it is not the whole story). Resync: query and get,
    then continue from a state taken by ``Foo/get`` (``EntityManager.sync`` does it).
    """

    error_type: ClassVar[str | None] = None  # not a server type: keeps the registry as is
    hint = (
        "Group-Office paged the changes and refuses its own intermediate state: query and "
        "get everything again, then continue from the state of that get"
    )

    def __init__(self, *, method: str, call_id: str, partial: ChangesResult) -> None:
        self.partial = partial
        super().__init__(
            method=method,
            call_id=call_id,
            type="hasMoreChanges",
            server_message=(
                f"hasMoreChanges after {len(partial.changed) + len(partial.removed)} "
                "change(s)"
            ),
        )


class ServerFail(MethodError):
    """Unknown method or controller, or another HTTP-level exception inside the server."""

    error_type = "serverFail"


class InvalidResultReference(MethodError):
    """A ``#`` result reference could not be resolved."""

    error_type = "invalidResultReference"


class DbException(MethodError):
    """A database error failed the whole call (unknown sort column, unknown blob id...)."""

    error_type = "dbException"


class ServerException(MethodError):
    """A plain PHP ``Exception`` (unknown entity name, lock timeout, SQL errors)."""

    error_type = "exception"


class JsonPointerException(MethodError):
    """A patch path in ``update`` points to something that does not exist."""

    error_type = "jsonPointerException"


class ServerTypeError(MethodError):
    """A PHP ``TypeError`` (for example a reference to a call id that has no response)."""

    error_type = "typeError"


class LogicException(MethodError):
    """A PHP ``LogicException`` (for example an unknown key in ``customFields``)."""

    error_type = "logicException"


# --- per-object errors of Foo/set -----------------------------------------------------


@dataclass(frozen=True)
class SetError:
    """Why one object of a ``Foo/set`` was not created, updated or destroyed."""

    id: str
    operation: Literal["create", "update", "destroy"]
    type: str
    description: str | None = None
    properties: tuple[str, ...] = ()
    validation_errors: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_json(
        cls, id: str, operation: Literal["create", "update", "destroy"], data: Any
    ) -> SetError:
        """Parse Group-Office's SetError object leniently (any key may be null)."""
        obj: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        props = obj.get("properties")
        verrors = obj.get("validationErrors")
        description = obj.get("description")
        return cls(
            id=str(id),
            operation=operation,
            type=str(obj.get("type") or "unknown"),
            description=description if isinstance(description, str) else None,
            properties=tuple(str(p) for p in props) if isinstance(props, list) else (),
            validation_errors=(
                {str(k): dict(v) if isinstance(v, Mapping) else {"description": str(v)}
                 for k, v in verrors.items()}
                if isinstance(verrors, Mapping)
                else {}
            ),
        )

    def __str__(self) -> str:
        text = f"{self.operation} {self.id}: {self.type}"
        details = [
            f"{name}: {err.get('description', '?')} [code {err.get('code', '?')}]"
            for name, err in self.validation_errors.items()
        ]
        if details:
            text += f" ({'; '.join(details)})"
        elif self.description:
            text += f" ({self.description})"
        elif self.properties:
            text += f" ({', '.join(self.properties)})"
        return text


class SetFailed(JMAPError):
    """Some objects of a ``Foo/set`` failed; raised by the convenience helpers.

    ``errors`` holds every per-object :class:`SetError`; ``result`` the whole result,
    so that the objects that did succeed are not lost.
    """

    def __init__(
        self, *, method: str, errors: Iterable[SetError], result: SetResult | None = None
    ) -> None:
        self.method = method
        self.errors = tuple(errors)
        self.result = result
        listed = "; ".join(str(e) for e in self.errors[:MAX_LISTED])
        extra = len(self.errors) - MAX_LISTED
        more = f"; and {extra} more" if extra > 0 else ""
        super().__init__(f"{method}: {len(self.errors)} object(s) failed: {listed}{more}")

    @property
    def ids(self) -> list[str]:
        """Creation ids and object ids of the failed objects, in order."""
        return [e.id for e in self.errors]

    def scrub(self, *secrets: str | None) -> None:
        """Also redact the server's per-object descriptions."""
        self.errors = tuple(
            SetError(
                id=e.id,
                operation=e.operation,
                type=e.type,
                description=redact(e.description, *secrets) if e.description else e.description,
                properties=e.properties,
                validation_errors={
                    k: {kk: redact(vv, *secrets) if isinstance(vv, str) else vv
                        for kk, vv in v.items()}
                    for k, v in e.validation_errors.items()
                },
            )
            for e in self.errors
        )
        super().scrub(*secrets)
