"""Contract test: every recorded step of shared/groupoffice-wire replayed against the emulator.

One test per (file, step), e.g. ``08-task-lifecycle#13``. Each corpus file is replayed once,
against its own fresh emulator, the first time one of its steps is asked for (the steps of a
file depend on each other, so a file is always replayed from its first step). A missing corpus
is a failure, not a skip. Rules: README.md in this folder.
"""

from __future__ import annotations

import pytest

from . import corpus
from .replay import StepResult, replay_file


def _cases() -> list[tuple[str, int]]:
    try:
        return [(p.stem, s.index) for p in corpus.list_files() for s in corpus.load(p).steps]
    except corpus.CorpusMissing:
        return [("corpus-missing", -1)]


CASES = _cases()


class _Replays:
    """Session-wide cache: corpus file stem -> results of its replay."""

    def __init__(self) -> None:
        self._results: dict[str, list[StepResult]] = {}

    def get(self, stem: str) -> list[StepResult]:
        if stem not in self._results:
            path = next(p for p in corpus.list_files() if p.stem == stem)
            self._results[stem] = replay_file(corpus.load(path))
        return self._results[stem]


@pytest.fixture(scope="session")
def replays() -> _Replays:
    return _Replays()


CASE_IDS = [f"{stem}#{index}" if index >= 0 else stem for stem, index in CASES]


@pytest.mark.parametrize(("stem", "index"), CASES, ids=CASE_IDS)
def test_wire_step(stem: str, index: int, replays: _Replays) -> None:
    if index < 0:
        message = "the corpus appeared after collection; run the tests again"
        try:
            corpus.corpus_dir()
        except corpus.CorpusMissing as exc:
            message = str(exc)
        pytest.fail(message, pytrace=False)
    result = replays.get(stem)[index]
    if not result.ok:
        pytest.fail(result.report(), pytrace=False)
