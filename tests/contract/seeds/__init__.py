"""One seed module per corpus file: ``NN_name.py`` for ``NN-name.json``.

A seed module defines:

- ``SEED``: the hand-written part of the ``Emulator.seed()`` dict. The runner merges it over what
  ``derive.py`` derives from the corpus file (``cacheClearedAt``, id counters); hand-written
  values win. Keys of a seed user that the emulator does not know (``as``) are removed first.
- ``PASSWORDS`` (optional): step index -> the password the runner puts where that step's request
  body says ``"<redacted>"``.
- ``CAPTURE`` (optional): step index -> (token name, JSON path in that step's *replayed* answer)
  of a token that later steps use as ``"as": name``.
- ``ADMIN_PASSWORD`` (optional): passed as ``Emulator(admin_password=...)``.
- ``UNRECORDED`` (optional): step index -> JMAP method calls the recorder made without recording
  them (the state strings around that step show that something changed); the runner sends them
  as the admin right before that step, checks that none failed and compares nothing.
- ``CLOCK`` (optional): step index -> seconds after the replay's first second at which the
  frozen clock (R7) stands from that step on, for a file whose recorder waited between steps.

Seed users with an ``as`` name get a deterministic API key (``_common.token_for``), which the
runner uses for steps with that ``as``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass
class SeedSpec:
    module: ModuleType | None
    seed: dict[str, Any] = field(default_factory=dict)
    passwords: dict[int, str] = field(default_factory=dict)
    capture: dict[int, tuple[str, list[Any]]] = field(default_factory=dict)
    admin_password: str | None = None
    unrecorded: dict[int, list[list[Any]]] = field(default_factory=dict)
    clock: dict[int, int] = field(default_factory=dict)


def module_path(stem: str) -> Path:
    return HERE / (stem.replace("-", "_") + ".py")


def load_spec(stem: str) -> SeedSpec:
    """The seed module of corpus file ``stem`` ("08-task-lifecycle"); an error if it is missing."""
    path = module_path(stem)
    if not path.exists():
        raise FileNotFoundError(f"no seed module {path.name} for corpus file {stem}.json")
    name = f"{__name__}.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return SeedSpec(
        module=module,
        seed=dict(getattr(module, "SEED", {})),
        passwords=dict(getattr(module, "PASSWORDS", {})),
        capture=dict(getattr(module, "CAPTURE", {})),
        admin_password=getattr(module, "ADMIN_PASSWORD", None),
        unrecorded=dict(getattr(module, "UNRECORDED", {})),
        clock=dict(getattr(module, "CLOCK", {})),
    )
