"""Which entity and which controller answers a method name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Context
from .entity import EntityHandler

CoreMethod = Callable[[Context, dict[str, Any]], dict[str, Any]]


class Registry:
    def __init__(self) -> None:
        self._entities: dict[str, EntityHandler] = {}
        #: "core/<Controller>" (lower case) -> (PHP class, {method lower-case: fn})
        self._controllers: dict[str, tuple[str, dict[str, CoreMethod]]] = {}

    def add(self, handler: EntityHandler) -> None:
        self._entities[handler.name] = handler

    def add_controller(self, path: str, php_class: str, methods: dict[str, CoreMethod]) -> None:
        self._controllers[path.lower()] = (php_class, {k.lower(): v for k, v in methods.items()})

    def entity(self, name: str) -> EntityHandler:
        return self._entities[name]

    def find_entity(self, name: str) -> EntityHandler | None:
        """Entity names are case-sensitive: ``task/get`` is unknown (03)."""
        return self._entities.get(name)

    def find_long_form(self, package: str, module: str, controller: str) -> EntityHandler | None:
        for handler in self._entities.values():
            if (
                handler.module is not None
                and handler.module == (package, module)
                and handler.controller_class.rsplit("\\", 1)[-1].lower() == controller.lower()
            ):
                return handler
        return None

    def controller(self, path: str) -> tuple[str, dict[str, CoreMethod]] | None:
        return self._controllers.get(path.lower())

    def entities(self) -> list[EntityHandler]:
        return list(self._entities.values())
