"""Fixtures for every test folder (the plain helpers are in ``tests/_support.py``).

``pytest --live`` runs only the ``[live]`` variants (the tests parametrised with a real
Group-Office), and refuses to start when ``GO_SUPPORT_TEST_URL``/``GO_SUPPORT_TEST_TOKEN``
are not set, so that a developer who asked for a live run never gets a green run of skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests._support import LIVE_SKIP_REASON, LIVE_TOKEN_VAR, LIVE_URL_VAR, emulator_server


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live",
        action="store_true",
        help="run only the [live] variants, against GO_SUPPORT_TEST_URL/GO_SUPPORT_TEST_TOKEN",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--live") and not (
        os.environ.get(LIVE_URL_VAR) and os.environ.get(LIVE_TOKEN_VAR)
    ):
        raise pytest.UsageError(f"--live: {LIVE_SKIP_REASON}")


def _is_live_variant(item: pytest.Item) -> bool:
    """A ``[live]`` variant of a parametrised test, or a test of a module named ``*_live.py``
    (such modules only ever run against the real server)."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "live" in callspec.params.values():
        return True
    return item.path.stem.endswith("_live")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--live"):
        return
    keep = [item for item in items if _is_live_variant(item)]
    config.hook.pytest_deselected(items=[item for item in items if not _is_live_variant(item)])
    items[:] = keep


@pytest.fixture
def emulator() -> Iterator[tuple[str, str]]:
    """``(base_url, admin API key)`` of a fresh emulator, for commands run with ``--url``."""
    with emulator_server() as server:
        yield server
