"""What the migration tests share: a legacy site (MariaDB database, config.php, file store)
and a Group-Office emulator holding the same users and groups, as on a real installation
(the legacy tables live in the Group-Office database being migrated)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from go_support.emulator import Emulator
from go_support.jmap import GroupOfficeClient
from go_support.legacy.synthetic import SyntheticCounts, SyntheticSpec, create_schema, generate
from tests.mariadb import MariaDBServer


@dataclass(frozen=True)
class LegacySite:
    """A legacy database and the config.php that names it."""

    database: str
    config: Path
    storage: Path
    counts: SyntheticCounts | None = None


def write_config(path: Path, server: MariaDBServer, database: str, storage: Path,
                 password: str | None = None) -> Path:
    """A config.php as Group-Office's installer writes it."""
    pw = server.password if password is None else password
    path.write_text(
        "<?php\n$config['db_host'] = '" + server.host + "';\n"
        f"$config['db_port'] = {server.port};\n"
        f"$config['db_name'] = '{database}';\n"
        f"$config['db_user'] = '{server.user}';\n"
        f"$config['db_pass'] = '{pw}';\n"
        f"$config['file_storage_path'] = '{storage}/';\n", encoding="utf-8")
    return path


def synthetic_site(server: MariaDBServer, tmp: Path, name: str,
                   spec: SyntheticSpec) -> LegacySite:
    """A database of generated legacy tickets (files in ``tmp/storage``)."""
    storage = tmp / "storage"
    storage.mkdir(exist_ok=True)
    database = server.create_database(name)
    conn = server.connect(database)
    try:
        create_schema(conn, spec.variant)
        counts = generate(conn, SyntheticSpec(**{**spec.__dict__, "storage": storage}))
    finally:
        conn.close()
    return LegacySite(database, write_config(tmp / "config.php", server, database, storage),
                      storage, counts)


def seed_for(spec: SyntheticSpec) -> dict[str, Any]:
    """The users and groups of :func:`~go_support.legacy.synthetic.generate` as an emulator
    seed: agents in group 3, every user with personal group 100 + id."""
    agents = list(range(2, 2 + spec.agents))
    customers = list(range(2 + spec.agents, 2 + spec.agents + spec.customers))
    users = [{"id": u, "username": f"agent{u}", "displayName": f"Agent Nummer {u}",
              "email": f"agent{u}@example.test", "groups": [3], "personalGroupId": 100 + u}
             for u in agents]
    users += [{"id": u, "username": f"customer{u}", "displayName": f"Customer Ünal {u}",
               "email": f"customer{u}@customer.test", "groups": [],
               "personalGroupId": 100 + u, "enabled": u != customers[-1]}
              for u in customers]
    return {"users": users, "counters": {"User": 200, "Group": 300}}


@contextlib.contextmanager
def desk_emulator(seed: dict[str, Any] | None = None,
                  fail_writes: float = 0.0) -> Iterator[tuple[str, str, Emulator]]:
    """``(url, admin key, emulator)`` with the desk installed and ``seed`` loaded."""
    from go_support.migrations import install

    emu = Emulator(fail_writes=fail_writes, fail_seed=7) if fail_writes else Emulator()
    if seed:
        emu.seed(seed)
    server = emu.start()
    try:
        if fail_writes:
            emu.faults.fraction = 0.0
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as client:
            install(client)
        if fail_writes:
            emu.faults.fraction = fail_writes
        yield server.base_url, server.admin_api_key, emu
    finally:
        emu.stop()


def expected_states(config: Path) -> dict[str, tuple[str, str | None]]:
    """``{legacy id: (progress, agent id)}`` of every ticket as the mapping says (before the
    migration drops an agent who is no enabled Group-Office user)."""
    from go_support.legacy.config import load_config
    from go_support.legacy.mapping import map_ticket, map_types
    from go_support.legacy.reader import LegacyDatabase

    with LegacyDatabase.from_config(load_config(config)) as db:
        types, statuses, users = db.types(), db.statuses(), db.users()
        mapped_types = map_types(types.values())
        return {str(t.id): (m.status.value, m.agent.id if m.agent else None)
                for t in db.tickets()
                for m in [map_ticket(t, mapped_types, types, statuses, users)]}


def tickets_and_messages(url: str, token: str) -> tuple[dict[str, int], dict[str, int]]:
    """``({legacy id: tasks carrying it}, {Message-ID: comments carrying it})`` over the
    whole emulator: duplicates show as counts above 1."""
    with GroupOfficeClient(url, api_key=token) as client:
        tasks = client.call("Task/query", {"filter": {"tasklistId": "any"}})["ids"]
        got = client.call("Task/get", {"ids": tasks, "properties": ["id", "customFields"]})
        legacy: dict[str, int] = {}
        for task in got["list"]:
            value = (task.get("customFields") or {}).get("supportLegacyTicketId")
            if value:
                legacy[str(value)] = legacy.get(str(value), 0) + 1
        ids = client.call("Comment/query", {"filter": {"entity": "Task"}})["ids"]
        comments = client.call("Comment/get", {"ids": ids,
                                               "properties": ["id", "mimeMessageId"]})
        messages: dict[str, int] = {}
        for comment in comments["list"]:
            key = str(comment.get("mimeMessageId") or "")
            messages[key] = messages.get(key, 0) + 1
    return legacy, messages
