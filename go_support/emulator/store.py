"""The emulator's data: records in memory, persisted to SQLite.

Every entity is a map of id -> record, a record being the entity's stored properties in wire form.
Reads are served from memory; each HTTP request ends with one SQLite transaction that writes the
records it touched, so a 1,000-object ``Task/set`` costs one commit. The data file survives
restarts (``go-support emulator --data FILE``); ``:memory:`` keeps nothing.

Besides records the store keeps what Group-Office keeps beside its tables: id counters (failed
inserts use up ids too, 16-labels-and-access.json), per-entity modification sequences and their
change log (for ``Foo/changes`` and state strings), the per-user change log, the global ACL
modseq, ``cacheClearedAt``, blobs and login tokens. The change logs only grow, so they live in
tables of their own that a commit appends to.

Nothing is O(n) per record: ``all`` caches its id order, ``next_id`` the highest id, and
``find_by`` answers from an index kept up to date by ``put``/``delete`` (e.g. a task's comments).
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
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
    #: Group-Office's per-user change log (``core_change_user``): entity -> user -> id -> the
    #: user modseq of the last change of that user's per-user row; one global sequence (08).
    user_modseq: int = 0
    user_changes: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)


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
            CREATE TABLE IF NOT EXISTS change (
                entity TEXT NOT NULL, modseq INTEGER NOT NULL, id TEXT NOT NULL,
                destroyed INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS user_change (
                entity TEXT NOT NULL, user TEXT NOT NULL, id TEXT NOT NULL,
                modseq INTEGER NOT NULL, PRIMARY KEY (entity, user, id));
            """
        )
        self._records: dict[str, dict[str, Record]] = {}
        self._blobs: dict[str, Blob] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._dirty_blobs: set[str] = set()
        # Derived data kept beside the records so that nothing is O(n) per record:
        # the id order ``all`` answers, the highest numeric id, and lazily built field indexes.
        self._order: dict[str, list[str]] = {}
        #: bumped on every put/delete of an entity: a cheap key for memoised derived data
        self._versions: dict[str, int] = {}
        #: derived data cached by callers, keyed by name (see :meth:`version`)
        self.memo: dict[str, Any] = {}
        #: puts and deletes so far, of every entity: what a cached query result depends on
        self.writes = 0
        self._max_id: dict[str, int] = {}
        self._indexes: dict[tuple[str, str], _Index] = {}
        # entity -> modseq allocated by the running method call (see begin_call)
        self._call_modseq: dict[str, int] | None = None
        # The change logs grow with every write, so commit appends to them instead of
        # rewriting them: entries of meta.changes already written, user rows to write, and
        # whether clear_cache emptied both; plus the meta JSON last written.
        self._changes_saved: dict[str, int] = {}
        self._dirty_user_changes: set[tuple[str, str, str]] = set()
        self._changes_reset = False
        self._last_meta: str | None = None
        self.meta = _Meta(cache_cleared_at=int(time.time()))
        self.is_new = not self._load()

    # -- loading and saving -------------------------------------------------------------------

    def _load(self) -> bool:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'meta'").fetchone()
        if row is None:
            return False
        raw = json.loads(row[0])
        changes: dict[str, list[Change]] = {}
        for entity, seq, id_, destroyed in self._db.execute(
            "SELECT entity, modseq, id, destroyed FROM change ORDER BY rowid"
        ):
            changes.setdefault(entity, []).append(Change(seq, id_, bool(destroyed)))
        self._changes_saved = {entity: len(items) for entity, items in changes.items()}
        user_changes: dict[str, dict[str, dict[str, int]]] = {}
        for entity, user, id_, seq in self._db.execute(
            "SELECT entity, user, id, modseq FROM user_change"
        ):
            user_changes.setdefault(entity, {}).setdefault(user, {})[id_] = seq
        if "changes" in raw:  # a data file written before the change log had its own table
            changes = {
                entity: [Change(c[0], c[1], c[2]) for c in items]
                for entity, items in raw["changes"].items()
            }
            user_changes = raw.get("user_changes", user_changes)
            self._changes_reset = True
        self.meta = _Meta(
            cache_cleared_at=raw["cache_cleared_at"],
            counters=raw["counters"],
            modseq=raw["modseq"],
            acl_modseq=raw["acl_modseq"],
            changes=changes,
            tokens=raw["tokens"],
            settings=raw["settings"],
            user_modseq=raw.get("user_modseq", 0),
            user_changes=user_changes,
        )
        for entity, id_, data in self._db.execute("SELECT entity, id, data FROM record"):
            self._records.setdefault(entity, {})[id_] = json.loads(data)
        for id_, data, meta in self._db.execute("SELECT id, data, meta FROM blob"):
            m = json.loads(meta)
            self._blobs[id_] = Blob(id_, bytes(data), m["type"], m["name"], m["c"], m["m"])
        return True

    def commit(self) -> None:
        """Write what changed since the last commit in one transaction (nothing for
        ``:memory:``: its database would only be read back when it is created, empty)."""
        if self.path == ":memory:":
            self._dirty.clear()
            self._dirty_blobs.clear()
            self._dirty_user_changes.clear()
            return
        with self._db:
            for entity, id_ in self._dirty:
                rec = self._records.get(entity, {}).get(id_)
                if rec is None:
                    self._db.execute(
                        "DELETE FROM record WHERE entity = ? AND id = ?", (entity, id_)
                    )
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
            self._commit_changes()
            raw = {
                "cache_cleared_at": m.cache_cleared_at,
                "counters": m.counters,
                "modseq": m.modseq,
                "acl_modseq": m.acl_modseq,
                "tokens": m.tokens,
                "settings": m.settings,
                "user_modseq": m.user_modseq,
            }
            text = json.dumps(raw)
            if text != self._last_meta:
                self._db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('meta', ?)", (text,)
                )
                self._last_meta = text
        self._dirty.clear()
        self._dirty_blobs.clear()

    def _commit_changes(self) -> None:
        """Append the new change-log entries (inside commit's transaction)."""
        m = self.meta
        if self._changes_reset:
            self._db.execute("DELETE FROM change")
            self._db.execute("DELETE FROM user_change")
            self._changes_saved = {}
            self._dirty_user_changes = {
                (entity, user, id_)
                for entity, users in m.user_changes.items()
                for user, rows in users.items()
                for id_ in rows
            }
            self._changes_reset = False
        for entity, items in m.changes.items():
            done = self._changes_saved.get(entity, 0)
            if len(items) > done:
                self._db.executemany(
                    "INSERT INTO change (entity, modseq, id, destroyed) VALUES (?, ?, ?, ?)",
                    [(entity, c.modseq, c.id, int(c.destroyed)) for c in items[done:]],
                )
                self._changes_saved[entity] = len(items)
        rows = []
        for entity, user, id_ in self._dirty_user_changes:
            seq = m.user_changes.get(entity, {}).get(user, {}).get(id_)
            if seq is not None:
                rows.append((entity, user, id_, seq))
        self._db.executemany(
            "INSERT OR REPLACE INTO user_change (entity, user, id, modseq) VALUES (?, ?, ?, ?)",
            rows,
        )
        self._dirty_user_changes.clear()

    def close(self) -> None:
        self._db.close()

    # -- records ------------------------------------------------------------------------------

    def get(self, entity: str, id_: str | int | None) -> Record | None:
        if id_ is None:
            return None
        return self._records.get(entity, {}).get(str(id_))

    def all(self, entity: str) -> Iterator[Record]:
        """Records in id order, as a database without ORDER BY usually answers.

        The order is cached until a record is added; records put or deleted while iterating
        do not disturb the iteration (a deleted one is skipped).
        """
        table = self._records.get(entity, {})
        order = self._order.get(entity)
        if order is None:
            order = sorted(table, key=_id_order)
            self._order[entity] = order
        for key in order:
            rec = table.get(key)
            if rec is not None:
                yield rec

    def find_by(self, entity: str, field_name: str, value: Any) -> list[Record]:
        """Records whose ``field_name`` equals ``value`` (compared as strings), in id order.

        Backed by an index built on first use and kept up to date by ``put`` and ``delete``, so
        records must be changed through ``put`` (as persisting them requires anyway).
        """
        index = self._indexes.get((entity, field_name))
        if index is None:
            index = _Index(field_name)
            for key, rec in self._records.get(entity, {}).items():
                index.add(key, rec)
            self._indexes[(entity, field_name)] = index
        table = self._records.get(entity, {})
        keys = sorted(index.by_value.get(_index_key(value), ()), key=_id_order)
        return [table[k] for k in keys if k in table]

    def find_by_any(self, entity: str, field_name: str, values: Iterable[Any]) -> list[Record]:
        """Records whose ``field_name`` equals one of ``values`` (as strings), in id order."""
        found = {str(r["id"]): r for value in set(_index_key(v) for v in values)
                 for r in self.find_by(entity, field_name, value)}
        return [found[k] for k in sorted(found, key=_id_order)]

    def count(self, entity: str) -> int:
        return len(self._records.get(entity, {}))

    def next_id(self, entity: str) -> str:
        """Allocate an id; like an auto-increment column it is never handed out twice."""
        value = max(self.meta.counters.get(entity, 1), self._highest_id(entity) + 1)
        self.meta.counters[entity] = value + 1
        return str(value)

    def _highest_id(self, entity: str) -> int:
        highest = self._max_id.get(entity)
        if highest is None:
            table = self._records.get(entity, {})
            highest = max((int(k) for k in table if k.isdigit()), default=0)
            self._max_id[entity] = highest
        return highest

    def version(self, entity: str) -> int:
        """Changes whenever a record of ``entity`` is stored or deleted (not persisted)."""
        return self._versions.get(entity, 0)

    def put(self, entity: str, record: Record) -> None:
        """Store a record as is (no change log); the caller logs the change."""
        key = str(record["id"])
        table = self._records.setdefault(entity, {})
        if key not in table:
            self._order.pop(entity, None)
            if key.isdigit() and entity in self._max_id and int(key) > self._max_id[entity]:
                self._max_id[entity] = int(key)
        table[key] = record
        self._dirty.add((entity, key))
        self._versions[entity] = self._versions.get(entity, 0) + 1
        self.writes += 1
        for (ent, _), index in self._indexes.items():
            if ent == entity:
                index.add(key, record)

    def delete(self, entity: str, id_: str) -> Record | None:
        self._versions[entity] = self._versions.get(entity, 0) + 1
        self.writes += 1
        rec = self._records.get(entity, {}).pop(str(id_), None)
        self._dirty.add((entity, str(id_)))
        for (ent, _), index in self._indexes.items():
            if ent == entity:
                index.remove(str(id_))
        return rec

    def snapshot(self, record: Record) -> Record:
        """A deep copy of a record (JSON values only: dicts and lists copied, the rest
        immutable), several times quicker than ``copy.deepcopy``."""
        copied: Record = _copy_json(record)
        return copied

    # -- modseqs, change log and state strings ------------------------------------------------

    def begin_call(self) -> None:
        """Start a method call: all its changes of one entity share one modseq.

        Group-Office moves an entity's modseq once per ``Foo/set`` call however many objects it
        saves (15 #1: three tasks, ``…:34:…`` -> ``…:35:…``; 05 #8: two lists), and once per call
        when several calls share a request (08 #9).
        """
        self._call_modseq = {}

    def end_call(self) -> None:
        self._call_modseq = None

    def log_change(self, entity: str, id_: str, destroyed: bool = False) -> None:
        batch = self._call_modseq
        if batch is not None and entity in batch:
            seq = batch[entity]
        else:
            seq = self.meta.modseq.get(entity, 0) + 1
            self.meta.modseq[entity] = seq
            if batch is not None:
                batch[entity] = seq
        self.meta.changes.setdefault(entity, []).append(Change(seq, str(id_), destroyed))

    def latest_changes_since(self, entity: str, modseq: int) -> list[Change]:
        """``core_change`` keeps one row per entity id, its last change; in id order (08 #18)."""
        latest: dict[str, Change] = {}
        for change in self.meta.changes.get(entity, []):
            latest[change.id] = change
        return sorted(
            (c for c in latest.values() if c.modseq > modseq), key=lambda c: _id_order(c.id)
        )

    def log_user_change(self, entity: str, id_: str, user_id: str) -> int:
        """A user's per-user row of a record changed (``core_change_user``); returns its modseq."""
        self.meta.user_modseq += 1
        rows = self.meta.user_changes.setdefault(entity, {}).setdefault(str(user_id), {})
        rows[str(id_)] = self.meta.user_modseq
        self._dirty_user_changes.add((entity, str(user_id), str(id_)))
        return self.meta.user_modseq

    def user_changes_since(self, entity: str, user_id: str | None, modseq: int) -> list[str]:
        """Ids whose per-user row of ``user_id`` changed after ``modseq``, in id order."""
        rows = self.meta.user_changes.get(entity, {}).get(str(user_id), {})
        return sorted((i for i, seq in rows.items() if seq > modseq), key=_id_order)

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
        self.meta.user_changes = {}
        self._changes_reset = True
        self.meta.acl_modseq = 0  # "1795650665:0:0:0" (07 #4)
        if self._call_modseq is not None:
            self._call_modseq = {}

    # -- blobs --------------------------------------------------------------------------------

    def put_blob(self, blob: Blob) -> None:
        self._blobs[blob.id] = blob
        self._dirty_blobs.add(blob.id)

    def get_blob(self, blob_id: str) -> Blob | None:
        return self._blobs.get(blob_id)


def _id_order(key: str) -> tuple[int, int | str]:
    return (0, int(key)) if key.isdigit() else (1, key)


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return copy.deepcopy(value)


def _index_key(value: Any) -> str | None:
    return None if value is None else str(value)


class _Index:
    """Ids of one entity by the value of one field (see ``Store.find_by``)."""

    def __init__(self, field_name: str) -> None:
        self.field = field_name
        self.by_value: dict[str | None, set[str]] = {}
        self.of_id: dict[str, str | None] = {}

    def add(self, key: str, record: Record) -> None:
        value = _index_key(record.get(self.field))
        if key in self.of_id:
            if self.of_id[key] == value:
                return
            self.remove(key)
        self.of_id[key] = value
        self.by_value.setdefault(value, set()).add(key)

    def remove(self, key: str) -> None:
        if key not in self.of_id:
            return
        value = self.of_id.pop(key)
        ids = self.by_value.get(value)
        if ids is not None:
            ids.discard(key)
            if not ids:
                del self.by_value[value]
