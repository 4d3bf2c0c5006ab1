"""Errors the emulator raises while handling a method call.

Group-Office reports a failed method call as ``["error", {"message", "type"}, callId]``. The
``type`` is the PHP exception's short class name with a lower-case first letter, so the emulator
keeps one exception class and takes the type as data (03-errors.json shows the zoo of types).
"""

from __future__ import annotations

from typing import Any

DB_EXCEPTION_MESSAGE = "Database exception. Check server logs for details."


class MethodError(Exception):
    """Fails one whole method call; the request goes on with the next call."""

    def __init__(self, type_: str | None, message: str) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message

    def to_wire(self) -> dict[str, Any]:
        if self.type is None:  # core/Settings/sendTestMessage answers without a type (11)
            return {"message": self.message}
        return {"message": self.message, "type": self.type}


def db_exception() -> MethodError:
    """Database errors are masked by the server with one generic text (03, 10, 14)."""
    return MethodError("dbException", DB_EXCEPTION_MESSAGE)


def invalid_arguments(message: str) -> MethodError:
    return MethodError("invalidArguments", message)


def unsupported_filter(name: str, entity: str) -> MethodError:
    # The server lower-cases the filter name in the message (03).
    return MethodError(
        "unsupportedFilter",
        f"The filter '{name.lower()}' is not supported for entity '{entity}' by the server.",
    )


class SetError(Exception):
    """Fails one object of a /set call (the call itself succeeds)."""

    def __init__(
        self,
        type_: str,
        description: str | None = None,
        validation_errors: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(description or type_)
        self.type = type_
        self.description = description
        self.validation_errors = validation_errors

    def to_wire(self) -> dict[str, Any]:
        # The four keys are always present, unused ones null (03, 04).
        return {
            "type": self.type,
            "description": self.description,
            "properties": list(self.validation_errors) if self.validation_errors else None,
            "validationErrors": self.validation_errors,
        }


def forbidden() -> SetError:
    return SetError("forbidden", "Permission denied")


def not_found() -> SetError:
    return SetError("notFound", "Item not found")


def invalid_properties(errors: dict[str, dict[str, Any]]) -> SetError:
    return SetError("invalidProperties", None, errors)


# Validation codes of go\core\validate\ErrorCode.
REQUIRED = 1
MALFORMED = 2
NOT_FOUND = 5
INVALID_INPUT = 10
UNIQUE = 11
FORBIDDEN = 12
GENERAL = 13
