"""A Group-Office-compatible JMAP server on SQLite: the embedded default of go-support.

It behaves like the recorded Group-Office 26.0.42 (``shared/groupoffice-wire``), quirks
included, so that go-support can be developed, demonstrated and tested without a Group-Office.
It has no web UI. Start it in-process::

    emu = Emulator()                  # in memory; Emulator("desk.sqlite") keeps its data
    emu = Emulator(admin_password="s3cret")   # the admin can also log in through auth.php
    emu = Emulator(fail_writes=0.1, fail_seed=7)  # 1 /set in 10 fails as if deadlocked
    server = emu.start()              # loopback, free port
    print(server.base_url, server.admin_api_key)
    emu.stop()

or from the command line: ``go-support emulator --port 8080 --data desk.sqlite``.

``fail_writes`` makes that fraction of ``/set`` calls fail as Group-Office fails them under
concurrent writers (``dbException``, nothing of the call kept; see :mod:`.faults`), chosen by
``fail_seed`` so that a run can be repeated; ``emu.faults.injected`` counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import defaults
from .entities import build_registry
from .faults import WriteFaults
from .seed import apply_seed
from .server import App, HttpServer
from .store import Store

__all__ = ["Emulator", "RunningServer", "WriteFaults"]


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    admin_api_key: str


class Emulator:
    def __init__(
        self,
        data_path: str = ":memory:",
        admin_password: str | None = None,
        *,
        fail_writes: float = 0.0,
        fail_seed: int | None = None,
    ) -> None:
        self.faults = WriteFaults(fail_writes, fail_seed)  # checked before anything is opened
        self.store = Store(data_path)
        self.registry = build_registry()
        if self.store.is_new:
            self._admin_key = defaults.install(self.store, admin_password)
            self.store.commit()
        else:
            key = self.store.get("Key", "1")
            self._admin_key = str(key["accessToken"]) if key else ""
            if admin_password is not None:
                defaults.set_admin_password(self.store, admin_password)
                self.store.commit()
        self.app = App(self.store, self.registry, self.faults)
        self._server: HttpServer | None = None

    @property
    def admin_api_key(self) -> str:
        return self._admin_key

    def seed(self, seed: dict[str, Any]) -> None:
        """Load pre-existing state (users, records, id counters); see seed.py."""
        with self.store.lock:
            apply_seed(self.store, seed)
            self.store.commit()

    def start(self, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
        self._server = HttpServer(self.app, host, port)
        self._server.start()
        return RunningServer(self._server.base_url, self._admin_key)

    def serve_forever(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        self._server = HttpServer(self.app, host, port)
        self._server.serve_forever()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.store.close()
