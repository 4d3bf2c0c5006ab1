"""What the desk reads from the settings: a small protocol, and a plain default.

:class:`go_support.settings.Settings` satisfies :class:`SettingsLike` as it is; tests and
embedders without a TOML file can pass a :class:`DeskConfig`. The desk reads only these
names, so this module is the whole seam between the two:

* ``desk.managers_group``: a group (name or id) whose members are managers (admins always are);
* ``customer_groups(type_name)``: the groups (names or ids) whose members are customers of a
  ticket type (its own entry, else the desk-wide list);
* ``desk.close.feedback`` (``"none"``, ``"private"``, ``"public"``) and
  ``desk.close.feedback_text``: what closing a ticket posts;
* ``desk.default_type``: the type of a new ticket when none is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "FEEDBACK_MODES",
    "CloseConfig",
    "CloseSettingsLike",
    "DeskConfig",
    "DeskSection",
    "DeskSectionLike",
    "SettingsLike",
]

FEEDBACK_MODES = ("none", "private", "public")


class CloseSettingsLike(Protocol):
    """``[desk.close]``."""

    @property
    def feedback(self) -> str: ...

    @property
    def feedback_text(self) -> str: ...


class DeskSectionLike(Protocol):
    """``[desk]``."""

    @property
    def managers_group(self) -> int | str | None: ...

    @property
    def default_type(self) -> str | None: ...

    @property
    def close(self) -> CloseSettingsLike: ...


class SettingsLike(Protocol):
    """What :class:`~go_support.desk.SupportDesk` needs from the settings (the whole
    settings, such as :class:`go_support.settings.Settings`; its ``[desk]`` section alone is
    :class:`go_support.settings.DeskSettings`)."""

    @property
    def desk(self) -> DeskSectionLike: ...

    def customer_groups(self, type_name: str) -> list[int | str]: ...


@dataclass(frozen=True)
class CloseConfig:
    feedback: str = "none"
    feedback_text: str = ""


@dataclass(frozen=True)
class DeskSection:
    managers_group: int | str | None = None
    default_type: str | None = None
    customer_groups: Sequence[int | str] = ()
    close: CloseConfig = field(default_factory=CloseConfig)


@dataclass(frozen=True)
class DeskConfig:
    """Settings without a file: ``DeskConfig(managers_group="Support managers", ...)``.

    ``all_customer_groups`` are customers of every type; ``type_customer_groups`` maps a type
    name (matched case-insensitively) to its own customer groups, which replace
    ``all_customer_groups`` for that type (as ``[types."<name>"]`` does in the TOML file).
    """

    managers_group: int | str | None = None
    all_customer_groups: Sequence[int | str] = ()
    type_customer_groups: Mapping[str, Sequence[int | str]] = field(default_factory=dict)
    feedback: str = "none"
    feedback_text: str = ""
    default_type: str | None = None

    def __post_init__(self) -> None:
        if self.feedback not in FEEDBACK_MODES:
            raise ValueError(
                f"feedback must be one of {', '.join(FEEDBACK_MODES)} (got {self.feedback!r})")

    @property
    def desk(self) -> DeskSection:
        return DeskSection(
            managers_group=self.managers_group,
            default_type=self.default_type,
            customer_groups=tuple(self.all_customer_groups),
            close=CloseConfig(self.feedback, self.feedback_text),
        )

    def customer_groups(self, type_name: str) -> list[int | str]:
        folded = type_name.casefold()
        for name, groups in self.type_customer_groups.items():
            if name.casefold() == folded:
                return list(groups)
        return list(self.all_customer_groups)
