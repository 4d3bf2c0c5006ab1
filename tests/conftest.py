"""Fixtures for every test folder (the plain helpers are in ``tests/_support.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._support import emulator_server


@pytest.fixture
def emulator() -> Iterator[tuple[str, str]]:
    """``(base_url, admin API key)`` of a fresh emulator, for commands run with ``--url``."""
    with emulator_server() as server:
        yield server
