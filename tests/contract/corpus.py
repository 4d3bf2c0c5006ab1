"""Where the wire corpus lives and how a corpus file is read.

The corpus is ``<repo>/../shared/groupoffice-wire`` (the repository root is the parent of
``tests/``), or ``$GO_SUPPORT_SHARED/groupoffice-wire`` when that variable is set. A missing
corpus is an error, never a reason to skip: the contract test must not pass vacuously.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "GO_SUPPORT_SHARED"


class CorpusMissing(RuntimeError):
    """The wire corpus could not be found."""


def corpus_dir() -> Path:
    """The ``groupoffice-wire`` folder; raises CorpusMissing with a clear message."""
    env = os.environ.get(ENV_VAR)
    shared = Path(env) if env else REPO_ROOT.parent / "shared"
    path = shared / "groupoffice-wire"
    if not path.is_dir() or not any(path.glob("[0-9][0-9]-*.json")):
        how = f"${ENV_VAR}={env!r}" if env else f"default location (set ${ENV_VAR} to override)"
        raise CorpusMissing(
            f"Group-Office wire corpus not found at {path} ({how}). The contract test replays "
            f"every recorded exchange of shared/groupoffice-wire/NN-*.json against the emulator; "
            f"without the corpus it cannot run. Point ${ENV_VAR} at the folder that contains "
            f"'groupoffice-wire'."
        )
    return path


@dataclass
class Step:
    index: int
    note: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    reason: str
    response: Any
    response_headers: dict[str, str] | None
    as_user: str | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass
class CorpusFile:
    stem: str  # "08-task-lifecycle"
    path: Path
    scenario: str
    steps: list[Step]

    @property
    def number(self) -> str:
        return self.stem[:2]


def list_files() -> list[Path]:
    return sorted(corpus_dir().glob("[0-9][0-9]-*.json"))


@cache
def load(path: Path) -> CorpusFile:
    data = json.loads(path.read_text(encoding="utf-8"))
    steps = []
    for i, raw in enumerate(data["steps"]):
        http = raw["http"]
        steps.append(
            Step(
                index=i,
                note=raw.get("note", ""),
                method=http["method"],
                path=http["path"],
                headers=dict(http.get("headers") or {}),
                body=http.get("body"),
                status=raw["status"],
                reason=raw.get("reason", ""),
                response=raw.get("response"),
                response_headers=raw.get("responseHeaders"),
                as_user=raw.get("as"),
                raw=raw,
            )
        )
    return CorpusFile(stem=path.stem, path=path, scenario=data.get("scenario", ""), steps=steps)


def find(selector: str) -> CorpusFile:
    """A corpus file by number ("08"), stem ("08-task-lifecycle") or file name."""
    selector = selector.removesuffix(".json")
    for path in list_files():
        if path.stem == selector or path.stem.split("-", 1)[0] == selector.zfill(2):
            return load(path)
    raise SystemExit(f"no corpus file matches {selector!r} in {corpus_dir()}")
