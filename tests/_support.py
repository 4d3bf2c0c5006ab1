"""Helpers shared by the test folders (plain functions; the shared fixtures are in conftest.py).

* :func:`run_cli`: the ``go-support`` command in-process, with its exit code and output;
* :func:`isolate_from_machine`: no go-support variable, home or system configuration file of
  the machine running the tests leaks into a test;
* :func:`live_server` and :func:`emulator_server`: the Group-Office a test runs against;
* :func:`destroyed_afterwards`: what a test created on it, destroyed afterwards;
* :class:`RecordingTransport`: the real transport, logging what went over the wire;
* :func:`free_port` and :func:`stop_process`: for the throw-away services the tests start
  (MariaDB, Dovecot, the SMTP sink).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from go_support.jmap import GroupOfficeClient, HttpResponse, RequestsTransport

LIVE_URL_VAR = "GO_SUPPORT_TEST_URL"
LIVE_TOKEN_VAR = "GO_SUPPORT_TEST_TOKEN"
LIVE_SKIP_REASON = (
    "set GO_SUPPORT_TEST_URL and GO_SUPPORT_TEST_TOKEN (an admin API key of a test "
    "Group-Office) to run against a real server"
)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``go-support *argv`` in-process: ``(exit code, stdout, stderr)``."""
    from go_support.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exc.value.code
    return int(code if isinstance(code, int) else 1), out, err


def isolate_from_machine(monkeypatch: pytest.MonkeyPatch, *, home: Path, cwd: Path,
                         system_config: Path) -> None:
    """No go-support variable, and ``home``, ``cwd`` and ``system_config`` instead of the
    machine's home folder, working folder and ``/etc/go-support/config.toml``."""
    from go_support import settings

    for name in (settings.URL_ENV, settings.API_KEY_ENV, settings.CONFIG_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(settings, "SYSTEM_CONFIG", system_config)


def live_server() -> tuple[str, str]:
    """``(base_url, admin token)`` of the real Group-Office under test; skips the test (with
    the reason ``pytest -ra`` lists) when ``GO_SUPPORT_TEST_URL`` and
    ``GO_SUPPORT_TEST_TOKEN`` are not set."""
    url, token = os.environ.get(LIVE_URL_VAR), os.environ.get(LIVE_TOKEN_VAR)
    if not (url and token):
        pytest.skip(LIVE_SKIP_REASON)
    return url, token


@contextlib.contextmanager
def emulator_server(
    prepare: Callable[[GroupOfficeClient], object] | None = None,
) -> Iterator[tuple[str, str]]:
    """``(base_url, admin token)`` of a fresh emulator, stopped afterwards; ``prepare`` runs
    first with an admin client (``go_support.migrations.install``, for instance)."""
    from go_support.emulator import Emulator

    emu = Emulator()
    server = emu.start()
    try:
        if prepare is not None:
            with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as client:
                prepare(client)
        yield server.base_url, server.admin_api_key
    finally:
        emu.stop()


Cleanup = Callable[[str, str], str]


@contextlib.contextmanager
def destroyed_afterwards(client: GroupOfficeClient) -> Iterator[Cleanup]:
    """``cleanup("TaskList", id)`` inside the block: that object is destroyed with ``client``
    when the block ends, newest first, even when the test failed.

    Returns the id, so that ``cleanup("Key", client.keys.create(...))`` reads naturally.
    """
    created: list[tuple[str, str]] = []

    def register(entity: str, object_id: str) -> str:
        created.append((entity, str(object_id)))
        return str(object_id)

    yield register
    for entity, object_id in reversed(created):
        with contextlib.suppress(Exception):  # cleanup must not hide the test's own failure
            client.entity(entity).destroy([object_id])


@dataclass
class RecordingTransport:
    """The real transport, plus a log of what went over the wire (to count requests).

    ``sent`` holds ``(method, url, decoded JMAP body or None)`` per request, ``received``
    the answers; a request that failed below HTTP has no answer.
    """

    inner: RequestsTransport = field(default_factory=RequestsTransport)
    sent: list[tuple[str, str, Any]] = field(default_factory=list)
    received: list[HttpResponse] = field(default_factory=list)

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        decoded: Any = None
        if body and "jmap.php" in url:
            decoded = json.loads(body)
        self.sent.append((method, url, decoded))
        response = self.inner.send(method, url, headers=headers, body=body, timeout=timeout)
        self.received.append(response)
        return response

    def api_requests(self) -> list[list[Any]]:
        """The JMAP request bodies sent so far."""
        return [b for m, u, b in self.sent if m == "POST" and "jmap.php" in u]

    def clear(self) -> None:
        self.sent.clear()
        self.received.clear()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Terminate a service the tests started, kill it if it does not stop in ``timeout``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
