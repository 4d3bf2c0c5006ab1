"""The JMAP envelope: a bare array of ``[method, args, callId]`` in, a bare array out.

Calls run in order; a failing call adds one ``["error", {...}, callId]`` and the next call runs
(03). Routing errors come before the authentication check, and ``Core/echo`` needs no token.
Result references are resolved at any depth, ``#key`` becoming ``key`` (14).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from .context import Context
from .errors import MethodError

log = logging.getLogger("go_support.emulator")

Response = list[Any]


class BadRequest(Exception):
    """A request Group-Office answers with HTTP 500 (reason phrase = message, empty body)."""


GET_DATA_TYPE_ERROR = (
    "go\\core\\jmap\\Response::getData(): Return value must be of type array, null returned"
)


def run(ctx: Context, calls: Any) -> list[Response]:
    if isinstance(calls, dict):
        # PHP iterates an object's values: an RFC 8620 envelope fails on its first value (03).
        calls = list(calls.values())
    responses: list[Response] = []
    for call in calls:
        if not isinstance(call, list) or len(call) != 3:
            raise BadRequest("Bad request. Supply 3 arguments, method, params and call id")
        method, args, call_id = call
        call_id = _php_string(call_id)
        ctx.store.begin_call()  # one modseq per entity per call (store.begin_call)
        try:
            responses.extend(_dispatch(ctx, str(method), args, call_id, responses))
        except MethodError as e:
            responses.append(["error", e.to_wire(), call_id])
        except Exception as e:  # a bug in the emulator: report it like PHP would, keep going
            log.error("emulator error in %s:\n%s", method, traceback.format_exc())
            responses.append(["error", {"message": str(e), "type": "exception"}, call_id])
        finally:
            ctx.store.end_call()
    for hook in ctx.request.at_end:  # e.g. a new cacheClearedAt after a Field/set (07 #4)
        hook()
    ctx.request.at_end.clear()
    return responses


def _php_string(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    return str(value)


def _dispatch(
    ctx: Context, method: str, args: Any, call_id: str, responses: list[Response]
) -> list[Response]:
    if method == "Core/echo":
        return [[method, args if args else [], call_id]]
    target = _route(ctx, method)
    if not isinstance(args, dict):
        if args is None or args == []:
            args = {}
        else:
            raise MethodError("typeError", "Argument #1 ($params) must be of type array")
    resolved = resolve_references(args, responses)
    if not ctx.authenticated:
        raise MethodError("unauthorized", "Unauthorized")
    handler, verb, core_fn = target
    if handler is not None:
        if handler.module is not None:
            package, name = handler.module
            if not ctx.has_right(package, name, "mayRead"):
                raise MethodError(
                    "forbidden",
                    f"Forbidden, you don't have access to module '{package}/{name}'.",
                )
        deadlock = ctx.faults.strike(verb) if ctx.faults is not None else None
        if deadlock is not None:  # an injected deadlock: the call's work is rolled back
            raise deadlock
        result = getattr(handler, verb)(ctx, resolved)
    else:
        assert core_fn is not None
        result = core_fn(ctx, resolved)
    return [[method, result, call_id]]


def _route(ctx: Context, method: str) -> tuple[Any, str, Any]:
    parts = method.split("/")
    registry = ctx.registry
    if len(parts) == 2:
        entity, verb = parts
        handler = registry.find_entity(entity)
        if handler is None:
            raise MethodError("exception", f"Entity type with name {entity} not found")
        return _entity_method(handler, verb)
    if len(parts) == 3 and parts[0].lower() == "core":
        found = registry.controller(f"core/{parts[1]}")
        if found is None:
            raise MethodError(
                "serverFail",
                f'Bad request. Controller "go\\core\\controller\\{parts[1]}" not found',
            )
        php_class, methods = found
        fn = methods.get(parts[2].lower())
        if fn is None:
            raise MethodError(
                "serverFail",
                f'Bad request. Method "{parts[2]}" not found in controller "{php_class}".',
            )
        return None, parts[2], fn
    if len(parts) == 4:
        handler = registry.find_long_form(parts[0], parts[1], parts[2])
        if handler is None:
            raise MethodError(
                "serverFail",
                f'Bad request. Controller "go\\modules\\{parts[0]}\\{parts[1]}\\controller\\'
                f'{parts[2]}" not found',
            )
        return _entity_method(handler, parts[3])
    raise MethodError("serverFail", f'Bad request. Method "{method}" not found')


def _entity_method(handler: Any, verb: str) -> tuple[Any, str, Any]:
    lowered = {m.lower(): m for m in handler.methods}
    if verb.lower() not in lowered:
        raise MethodError(
            "serverFail",
            f'Bad request. Method "{verb}" not found in controller "{handler.controller_class}".',
        )
    return handler, lowered[verb.lower()], None


def resolve_references(value: Any, responses: list[Response]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("#"):
                out[key[1:]] = _resolve_one(item, responses)
            else:
                out[key] = resolve_references(item, responses)
        return out
    if isinstance(value, list):
        return [resolve_references(v, responses) for v in value]
    return value


def _resolve_one(ref: Any, responses: list[Response]) -> Any:
    if isinstance(ref, str):
        raise MethodError("typeError", "Cannot access offset of type string on string")
    if not isinstance(ref, dict):
        raise MethodError("typeError", f"Cannot access offset of type string on {_php_type(ref)}")
    if "resultOf" not in ref:
        raise MethodError("errorException", 'Undefined array key "resultOf"')
    if "path" not in ref:
        raise MethodError("errorException", 'Undefined array key "path"')
    if not responses:
        raise MethodError("typeError", GET_DATA_TYPE_ERROR)
    source = next((r for r in responses if r[2] == ref["resultOf"]), None)
    if source is None:
        raise MethodError(
            "invalidResultReference", f"Client call id {ref['resultOf']} does not exist."
        )
    parts = [p for p in str(ref["path"]).split("/") if p != ""]
    return _walk(source[1], parts)


def _walk(node: Any, parts: list[str]) -> Any:
    if not parts:
        return node
    part = parts[0].replace("~1", "/").replace("~0", "~")
    rest = parts[1:]
    if part == "*" and isinstance(node, list | dict):
        # PHP's foreach walks objects too: "/created/*/id" works (09 step 1, 16 step 24).
        out: list[Any] = []
        for item in node.values() if isinstance(node, dict) else node:
            value = _walk(item, rest)
            if isinstance(value, list):
                out.extend(value)
            else:
                out.append(value)
        return out
    if isinstance(node, dict) and part in node:
        return _walk(node[part], rest)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return _walk(node[int(part)], rest)
    raise MethodError("invalidResultReference", f"Could not resolve path part {part}")


def _php_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if value is None:
        return "null"
    return "array"
