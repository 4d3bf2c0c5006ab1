"""The ``[expiry]`` settings: when inactive tickets are warned and closed, and what they get.

::

    [expiry]
    days = 14                      # 0 (the default) turns auto-close off
    warning_days = 3               # warn this many days before closing; 0: no warning
    feedback = "public"            # "none", "private" (a note) or "public" (a reply)
    feedback_template = "Ticket {ticket} was closed after {days} days without an answer."
    warning_template = "Ticket {ticket} will close on {close_date} unless you answer."
    excluded_types = ["Sales"]
    excluded_categories = ["Waiting for parts"]
    [expiry.types."Hardware"]
    feedback_template = "..."

Templates are plain text; ``{name}`` placeholders are filled in (:data:`PLACEHOLDERS`) and
``{{``/``}}`` stand for braces. An unknown placeholder is an error that names the key. Names of
types and categories are checked against Group-Office when ``go-support expire`` runs.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = [
    "DEFAULT_CLOSE_TEMPLATE",
    "DEFAULT_WARNING_TEMPLATE",
    "PLACEHOLDERS",
    "ExpirySettings",
    "ExpiryTypeSettings",
    "check_template",
]

#: What a template may name, and what each stands for.
PLACEHOLDERS = {
    "ticket": "the ticket number",
    "subject": "the ticket's subject",
    "requester": "the requester's name (else their address)",
    "agent": "the ticket's agent's name (else 'our team')",
    "days": "days since the agent's last message",
    "close_date": "the date the ticket closes (warnings), or closed (feedback)",
}

DEFAULT_CLOSE_TEMPLATE = (
    "Dear {requester},\n\n"
    "We closed ticket {ticket} ({subject}) because we have not heard from you for {days} days. "
    "Reply to this message if you still need help.\n\n{agent}"
)
DEFAULT_WARNING_TEMPLATE = (
    "Dear {requester},\n\n"
    "We are waiting for your answer on ticket {ticket} ({subject}). Unless you reply, we will "
    "close it on {close_date}.\n\n{agent}"
)


def check_template(text: str) -> str:
    """``text`` if every placeholder in it is known; else ``ValueError`` naming the first
    unknown one (the settings loader adds the key and the file)."""
    if not text.strip():
        raise ValueError("must not be empty (leave the key out for the default text)")
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ValueError(f"is not a valid template ({exc}); write {{{{ and }}}} for braces") \
            from None
    for name in fields:
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{name}}}; the placeholders are {known}")
    return text


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ExpiryTypeSettings(_Section):
    """``[expiry.types."<type name>"]``: one type's own templates."""

    feedback_template: str | None = None
    warning_template: str | None = None

    @field_validator("feedback_template", "warning_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return None if value is None else check_template(value)


class ExpirySettings(_Section):
    """``[expiry]``: Group-Office's auto-close rule, the warning, and the feedback."""

    days: Annotated[int, Field(ge=0)] = 0
    """Close a ticket in progress whose last message (by an agent) is older than this; 0: off."""
    warning_days: Annotated[int, Field(ge=0)] = 0
    """Warn the requester this many days before closing; 0: no warning."""
    feedback: Literal["none", "private", "public"] = "none"
    """What a closed ticket gets: nothing, a private note, or a reply to the requester."""
    feedback_template: str = DEFAULT_CLOSE_TEMPLATE
    warning_template: str = DEFAULT_WARNING_TEMPLATE
    excluded_types: list[str] = []
    """Ticket types (names) whose tickets are never closed."""
    excluded_categories: list[str] = []
    """Categories (names) whose tickets are never closed."""
    types: dict[str, ExpiryTypeSettings] = {}
    """Per ticket type (its name): templates of its own."""

    @field_validator("feedback_template", "warning_template")
    @classmethod
    def _template(cls, value: str) -> str:
        return check_template(value)

    @field_validator("excluded_types", "excluded_categories")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.strip():
                raise ValueError("a name must not be empty")
        return [name.strip() for name in value]

    @field_validator("warning_days")
    @classmethod
    def _warning_before_close(cls, value: int, info: ValidationInfo) -> int:
        days = info.data.get("days")
        if isinstance(days, int) and days and value >= days:
            raise ValueError(f"must be less than days ({days}): the warning comes before "
                             "the close")
        return value

    def template_for(self, type_name: str, kind: Literal["feedback", "warning"]) -> str:
        """The type's own template (its name matched exactly, then case-insensitively), else
        the section's."""
        entry = self.types.get(type_name) or next(
            (t for n, t in self.types.items() if n.casefold() == type_name.casefold()), None)
        own = None if entry is None else getattr(entry, f"{kind}_template")
        return str(own or getattr(self, f"{kind}_template"))
