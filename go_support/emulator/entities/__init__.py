"""One module per area of Group-Office; ``build_registry`` wires them to method names."""

from __future__ import annotations

from ..registry import Registry
from . import comments, customfields, modules, tasks, users


def build_registry() -> Registry:
    registry = Registry()
    for area in (tasks, comments, customfields, users, modules):
        area.register(registry)
    return registry
