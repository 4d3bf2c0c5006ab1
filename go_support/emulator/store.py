"""The emulator's data: records in memory, persisted to SQLite.

Every entity is a map of id -> record, a record being the entity's stored properties in wire form.
Reads are served from memory; each HTTP request ends with one SQLite transaction that writes the
records it touched, so a 1,000-object ``Task/set`` costs one commit. The data file survives
restarts (``go-support emulator --data FILE``); ``:memory:`` keeps nothing.

Besides records the store keeps what Group-Office keeps beside its tables: id counters (failed
inserts use up ids too, 16-labels-and-access.json), per-entity modification sequences and their
change log (for ``Foo/changes`` and state strings), the global ACL modseq, ``cacheClearedAt``,
blobs and login tokens.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass
class Blob:
    id: str
    data: bytes
    type: str
    name: str | bool
    created_at: float
    modified_at: float


@dataclass
class Change:
    modseq: int
    id: str
    destroyed: bool


@dataclass
class _Meta:
    cache_cleared_at: int
    counters: dict[str, int] = field(default_factory=dict)
    modseq: dict[str, int] = field(default_factory=dict)
    acl_modseq: int = 0
    changes: dict[str, list[Change]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


class Store:
    """In-memory records with write-through persistence; not thread-safe on its own.

    The server serialises requests with ``lock`` (Group-Office itself takes a lock per entity
    class during /set; one lock for everything is simpler and never observable over HTTP).
    """

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS record (
                entity TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
                PRIMARY KEY (entity, id));
            CREATE TABLE IF NOT EXISTS blob (
                id TEXT PRIMARY KEY, data BLOB NOT NULL, meta TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        )
        self._records: dict[str, dict[str, Record]] = {}
        self._blobs: dict[str, Blob] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._dirty_blobs: set[str] = set()
        self.meta = _Meta(cache_cleared_at=int(time.time()))
        self.is_new = not self._load()

    # -- loading and saving -------------------------------------------------------------------

    def _load(self) -> bool:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'meta'").fetchone()
        if row is None:
            return False
        raw = json.loads(row[0])
        self.meta = _Meta(
            cache_cleared_at=raw["cache_cleared_at"],
            counters=raw["counters"],
            modseq=raw["modseq"],
            acl_modseq=raw["acl_modseq"],
            changes={
                entity: [Change(c[0], c[1], c[2]) for c in items]
                for entity, items in raw["changes"].items()
            },
            tokens=raw["tokens"],
            settings=raw["settings"],
        )
        for entity, id_, data in self._db.execute("SELECT entity, id, data FROM record"):
            self._records.setdefault(entity, {})[id_] = json.loads(data)
        for id_, data, meta in self._db.execute("SELECT id, data, meta FROM blob"):
            m = json.loads(meta)
            self._blobs[id_] = Blob(id_, bytes(data), m["type"], m["name"], m["c"], m["m"])
        return True

    def commit(self) -> None:
        """Write what changed since the last commit in one transaction."""
        with self._db:
            for entity, id_ in self._dirty:
                rec = self._records.get(entity, {}).get(id_)
                if rec is None:
                    self._db.execute("DELETE FROM record WHERE entity = ? AND id = ?", (entity, id_))
                else:
                    self._db.execute(
                        "INSERT OR REPLACE INTO record (entity, id, data) VALUES (?, ?, ?)",
                        (entity, id_, json.dumps(rec)),
                    )
            for blob_id in self._dirty_blobs:
                b = self._blobs[blob_id]
                meta = {"type": b.type, "name": b.name, "c": b.created_at, "m": b.modified_at}
                self._db.execute(
                    "INSERT OR REPLACE INTO blob (id, data, meta) VALUES (?, ?, ?)",
                    (b.id, b.data, json.dumps(meta)),
                )
            m = self.meta
            raw = {
                "cache_cleared_at": m.cache_cleared_at,
                "counters": m.counters,
                "modseq": m.modseq,
                "acl_modseq": m.acl_modseq,
                "changes": {
                    e: [[c.modseq, c.id, c.destroyed] for c in items]
                    for e, items in m.changes.items()
                },
                "tokens": m.tokens,
                "settings": m.settings,
            }
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('meta', ?)", (json.dumps(raw),)
            )
        self._dirty.clear()
        self._dirty_blobs.clear()

    def close(self) -> None:
        self._db.close()

    # -- records ------------------------------------------------------------------------------

    def get(self, entity: str, id_: str | int | None) -> Record | None:
        if id_ is None:
            return None
        return self._records.get(entity, {}).get(str(id_))

    def all(self, entity: str) -> Iterator[Record]:
        """Records in id order, as a database without ORDER BY usually answers."""
        table = self._records.get(entity, {})
        for key in sorted(table, key=_id_order):
            yield table[key]

    def count(self, entity: str) -> int:
        return len(self._records.get(entity, {}))

    def next_id(self, entity: str) -> str:
        """Allocate an id; like an auto-increment column it is never handed out twice."""
        table = self._records.get(entity, {})
        start = max((int(k) for k in table if k.isdigit()), default=0) + 1
        value = max(self.meta.counters.get(entity, 1), start)
        self.meta.counters[entity] = value + 1
        return str(value)

    def put(self, entity: str, record: Record) -> None:
        """Store a record as is (no change log); the caller logs the change."""
        self._records.setdefault(entity, {})[str(record["id"])] = record
        self._dirty.add((entity, str(record["id"])))

    def delete(self, entity: str, id_: str) -> Record | None:
        rec = self._records.get(entity, {}).pop(str(id_), None)
        self._dirty.add((entity, str(id_)))
        return rec

    def snapshot(self, record: Record) -> Record:
        return copy.deepcopy(record)

    # -- modseqs, change log and state strings ------------------------------------------------

    def log_change(self, entity: str, id_: str, destroyed: bool = False) -> None:
        seq = self.meta.modseq.get(entity, 0) + 1
        self.meta.modseq[entity] = seq
        self.meta.changes.setdefault(entity, []).append(Change(seq, str(id_), destroyed))

    def bump_acl(self) -> None:
        self.meta.acl_modseq += 1

    def modseq(self, entity: str) -> int:
        return self.meta.modseq.get(entity, 0)

    def changes_since(self, entity: str, modseq: int) -> list[Change]:
        return [c for c in self.meta.changes.get(entity, []) if c.modseq > modseq]

    def clear_cache(self) -> None:
        """What creating or destroying a custom Field does to every state (07).

        ``cacheClearedAt`` moves and the modseqs restart, so every older state string fails in
        ``Foo/changes`` with "Resync required".
        """
        self.meta.cache_cleared_at = max(int(time.time()), self.meta.cache_cleared_at + 1)
        self.meta.modseq = {}
        self.meta.changes = {}
        self.meta.acl_modseq = 1

    # -- blobs --------------------------------------------------------------------------------

    def put_blob(self, blob: Blob) -> None:
        self._blobs[blob.id] = blob
        self._dirty_blobs.add(blob.id)

    def get_blob(self, blob_id: str) -> Blob | None:
        return self._blobs.get(blob_id)


def _id_order(key: str) -> tuple[int, int | str]:
    return (0, int(key)) if key.isdigit() else (1, key)
