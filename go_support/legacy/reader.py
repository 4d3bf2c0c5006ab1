"""Reading the legacy Tickets module's tables from MariaDB/MySQL, streamed.

Why streamed: a site may hold hundreds of thousands of messages. Tickets, their messages and
their files come from three server-side cursors (pymysql's ``SSCursor``, one connection
each) ordered by ticket id and merged here, so memory holds one ticket at a time whatever the
size of the database. Types, statuses, users and the type ACLs are small and read whole.

Why introspected: the tables differ between Group-Office 6.2, 6.3, databases upgraded to
6.4 and fresh 6.4/6.5 installs (nullable ``contact_id``/``company_id``, ``attachments`` as
``text``, ``ti_statuses.type_id`` only from 6.4, ``go_users`` before ``core_user``, columns
in another order). :class:`LegacySchema` reads ``information_schema.COLUMNS`` once and every
query names only columns that exist; an absent optional column reads as its default.

Text is decoded here, not by the driver: a subject or message stored in a binary or wrongly
declared column may hold bytes that are not UTF-8. Such text is decoded as Windows-1252 (what
old Group-Office installs wrote) or with replacement characters, and the record's
``problems`` says so instead of the whole migration stopping on a ``UnicodeDecodeError``.
"""

from __future__ import annotations

import contextlib
import enum
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pymysql.cursors  # type: ignore[import-untyped]

from go_support.errors import redact
from go_support.legacy.config import DatabaseSettings, GroupOfficeConfig
from go_support.legacy.errors import LegacyDatabaseError, LegacySchemaError

__all__ = [
    "ADMINS_GROUP_ID",
    "AGENT_LEVEL",
    "LegacyAttachment",
    "LegacyContact",
    "LegacyDatabase",
    "LegacyMessage",
    "LegacySchema",
    "LegacyStatus",
    "LegacyTicket",
    "LegacyType",
    "LegacyUser",
    "MessageKind",
    "decode_text",
]

AGENT_LEVEL = 50
"""``core_acl_group.level`` that makes a group's members agents of a ticket type (manage)."""
ADMINS_GROUP_ID = 1
"""Group-Office's fixed "Admins" group: its members have every right on every ACL."""
STATUS_OPEN = 0
STATUS_CLOSED = -1

_REQUIRED: dict[str, tuple[str, ...]] = {
    "ti_tickets": ("id", "type_id", "status_id", "user_id", "subject", "ctime", "mtime"),
    "ti_messages": ("id", "ticket_id", "content", "is_note", "user_id", "ctime"),
    "ti_types": ("id", "name", "acl_id"),
}


# --------------------------------------------------------------------------------------
# Records


class MessageKind(enum.Enum):
    """Who a legacy message is from, as the desk tells them apart."""

    NOTE = "note"
    """An internal note (``is_note = 1``): agents only."""
    REQUESTER = "requester"
    """Written by the requester: ``user_id`` 0 (anonymous, mail import), or the ticket's
    customer account when that user is not an agent of the type."""
    AGENT = "agent"
    """Any other message: an answer by an agent."""


@dataclass(frozen=True)
class LegacyUser:
    """A Group-Office user (``core_user``, ``go_users`` before 6.3)."""

    id: int
    username: str
    name: str
    email: str
    enabled: bool


@dataclass(frozen=True)
class LegacyType:
    """A ticket type (``ti_types``) with its ACL: ``{group id: level}``; ``agents`` are the
    users with level 50 (manage) through a group, plus the Admins."""

    id: int
    name: str | None
    description: str | None
    acl_id: int
    acl: Mapping[int, int] = field(default_factory=dict, hash=False)
    agents: frozenset[int] = frozenset()
    group_name: str | None = None


@dataclass(frozen=True)
class LegacyStatus:
    """A custom status (``ti_statuses``); ``type_id`` None: for every type."""

    id: int
    name: str | None
    type_id: int | None = None


@dataclass(frozen=True)
class LegacyContact:
    """The address-book person or organisation a ticket refers to."""

    id: int
    name: str
    email: str | None
    user_id: int | None = None


@dataclass(frozen=True)
class LegacyAttachment:
    """A file in a ticket's folder (``fs_files``), with its place on disk.

    ``exists`` is whether ``path`` was a readable file when the ticket was read.
    """

    file_id: int
    name: str
    size: int
    ctime: int
    mtime: int
    path: Path
    exists: bool


@dataclass(frozen=True)
class LegacyMessage:
    """A ``ti_messages`` row; ``kind`` tells notes, requesters' and agents' messages apart."""

    id: int
    ticket_id: int
    content: str
    kind: MessageKind
    user_id: int
    ctime: int
    mtime: int
    has_status: bool = False
    status_id: int = 0
    attachments_field: str = ""
    rate_hours: float = 0.0
    problems: tuple[str, ...] = ()

    @property
    def is_note(self) -> bool:
        return self.kind is MessageKind.NOTE


@dataclass(frozen=True)
class LegacyTicket:
    """A ``ti_tickets`` row with its messages (oldest first) and the files of its folder.

    ``problems`` lists what could not be read cleanly (undecodable text, a missing
    folder); the ticket is still complete otherwise.
    """

    id: int
    number: str | None
    subject: str
    priority: int
    status_id: int
    type_id: int
    user_id: int
    agent_id: int
    contact_id: int
    company_id: int
    company: str
    first_name: str
    middle_name: str
    last_name: str
    email: str
    phone: str
    cc_addresses: str
    ctime: int
    mtime: int
    cuser_id: int = 0
    due_date: int | None = None
    files_folder_id: int = 0
    contact: LegacyContact | None = None
    messages: tuple[LegacyMessage, ...] = ()
    files: tuple[LegacyAttachment, ...] = ()
    problems: tuple[str, ...] = ()
    #: read without its messages (``tickets(messages=False)``): the ids of its messages
    message_ids: tuple[int, ...] | None = None

    @property
    def snapshot_name(self) -> str:
        """The requester's name as typed on the ticket (first, middle, last)."""
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


# --------------------------------------------------------------------------------------
# Text


def decode_text(raw: Any, what: str, problems: list[str]) -> str:
    """``raw`` (bytes from the driver, or text) as ``str``; undecodable UTF-8 is decoded as
    Windows-1252 or with U+FFFD and reported in ``problems`` naming ``what``."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, (bytes, bytearray)):
        return str(raw)
    data = bytes(raw)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 1].hex()
        try:
            text = data.decode("cp1252")
            how = "read as Windows-1252"
        except UnicodeDecodeError:
            text = data.decode("utf-8", errors="replace")
            how = "undecodable bytes replaced by \ufffd"
        problems.append(f"{what} is not valid UTF-8 (byte 0x{bad} at offset {exc.start}); "
                        f"{how}: {text[:60]!r}")
        return text


# --------------------------------------------------------------------------------------
# Schema


@dataclass(frozen=True)
class _Column:
    name: str
    nullable: bool
    data_type: str


class LegacySchema:
    """The tables and columns of the legacy database, read from ``information_schema``."""

    def __init__(self, database: str, columns: Mapping[str, Sequence[_Column]]) -> None:
        self.database = database
        self._columns = {t: {c.name: c for c in cols} for t, cols in columns.items()}

    @classmethod
    def read(cls, conn: Any, database: str) -> LegacySchema:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT TABLE_NAME, COLUMN_NAME, IS_NULLABLE, DATA_TYPE "
                "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                "ORDER BY TABLE_NAME, ORDINAL_POSITION", (database,))
            rows = cur.fetchall()
        columns: dict[str, list[_Column]] = {}
        for table, column, nullable, data_type in rows:
            t, c = _s(table), _s(column)
            columns.setdefault(t, []).append(_Column(c, _s(nullable) == "YES", _s(data_type)))
        return cls(database, columns)

    def has(self, table: str, column: str | None = None) -> bool:
        cols = self._columns.get(table)
        if cols is None:
            return False
        return column is None or column in cols

    def columns(self, table: str) -> tuple[str, ...]:
        return tuple(self._columns.get(table, {}))

    def nullable(self, table: str, column: str) -> bool:
        col = self._columns.get(table, {}).get(column)
        return bool(col and col.nullable)

    def data_type(self, table: str, column: str) -> str | None:
        col = self._columns.get(table, {}).get(column)
        return col.data_type if col else None

    def check(self) -> None:
        """Raise :class:`LegacySchemaError` naming the first missing table or column."""
        for table, needed in _REQUIRED.items():
            if not self.has(table):
                raise LegacySchemaError(
                    f"table {table} is missing from database {self.database!r}: this is not "
                    f"a Group-Office database with the Tickets module installed (or "
                    f"$config['db_name'] names another database)")
            for column in needed:
                if not self.has(table, column):
                    raise LegacySchemaError(
                        f"column {table}.{column} is missing from database "
                        f"{self.database!r}; the migration cannot read its tickets")

    @property
    def variant(self) -> str:
        """Which schema generation this is: ``6.2``, ``6.3``, ``6.4-upgraded`` or ``6.4+``."""
        if self.has("go_users") and not self.has("core_user"):
            return "6.2"
        if self.has("cf_ti_tickets") or not self.has("ti_statuses", "type_id"):
            return "6.3"
        if self.nullable("ti_tickets", "contact_id"):
            return "6.4-upgraded"
        return "6.4+"


def _s(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def _i(value: Any, default: int = 0) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# --------------------------------------------------------------------------------------
# The database


class LegacyDatabase:
    """A read-only session on a legacy Group-Office database.

    Open it with :meth:`connect` (or as a context manager), then read :meth:`types`,
    :meth:`statuses`, :meth:`users` and stream :meth:`tickets`.
    """

    def __init__(self, settings: DatabaseSettings, *, file_storage_path: Path | str | None = None,
                 source: str | None = None, connect_timeout: float = 10.0) -> None:
        self.settings = settings
        self.file_storage_path = Path(file_storage_path) if file_storage_path else None
        self._source = source
        self._timeout = connect_timeout
        self._conn: Any = None
        self._schema: LegacySchema | None = None
        self._types: dict[int, LegacyType] | None = None
        self._users: dict[int, LegacyUser] | None = None
        self._folder_paths: dict[int, str | None] = {}
        self._any_agents: frozenset[int] | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_config(cls, config: GroupOfficeConfig) -> LegacyDatabase:
        """The database and file store a Group-Office ``config.php`` names (not connected)."""
        return cls(config.database, file_storage_path=config.file_storage_path,
                   source=" and ".join(str(p) for p in config.sources))

    # -- connections ---------------------------------------------------------------------

    def _open(self, streaming: bool = False) -> Any:
        s = self.settings
        options: dict[str, Any] = {
            "user": s.user, "password": s.password, "database": s.name,
            "charset": "utf8mb4", "use_unicode": False, "autocommit": True,
            "connect_timeout": self._timeout,
        }
        if streaming:
            options["cursorclass"] = pymysql.cursors.SSCursor
        if s.socket:
            options["unix_socket"] = s.socket
        else:
            options["host"] = s.host
            options["port"] = s.port
        try:
            conn = pymysql.connect(**options)
        except pymysql.err.OperationalError as exc:
            raise self._connect_error(exc) from None
        with conn.cursor() as cur:
            # An unbuffered stream pauses while the migration writes; without a long write
            # timeout the server drops a connection the client has not read from for 60 s.
            # (and message_ids' lists of ids must not be cut at the default 1,024 bytes)
            cur.execute("SET SESSION net_write_timeout = 86400, net_read_timeout = 86400, "
                        "time_zone = '+00:00', group_concat_max_len = 67108864")
        return conn

    def _connect_error(self, exc: Exception) -> LegacyDatabaseError:
        code = exc.args[0] if exc.args else None
        s = self.settings
        where = f" (from {self._source})" if self._source else ""
        if code == 1045:
            text = (f"the database refused the login of user {s.user!r} at {s.describe()}"
                    f"{where}: check $config['db_user'] and $config['db_pass']")
        elif code == 1049:
            text = (f"database {s.name!r} does not exist on {s.describe()}{where}: check "
                    f"$config['db_name']")
        elif code == 1044:
            text = (f"user {s.user!r} may not read database {s.name!r} on {s.describe()}"
                    f"{where}")
        else:
            detail = exc.args[1] if len(exc.args) > 1 else exc
            text = f"cannot connect to the database at {s.describe()}{where}: {detail}"
        return LegacyDatabaseError(redact(text, s.password))

    def connect(self) -> LegacyDatabase:
        """Log in and read the schema; raises :class:`LegacyDatabaseError` or
        :class:`LegacySchemaError` naming what is wrong."""
        if self._conn is None:
            self._conn = self._open()
            self._schema = LegacySchema.read(self._conn, self.settings.name)
            self._schema.check()
        return self

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> LegacyDatabase:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema(self) -> LegacySchema:
        self.connect()
        assert self._schema is not None
        return self._schema

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # one connection for the small queries: the migration reads ahead in a thread of
        # its own while the main thread may read the tickets an earlier run left unfinished
        with self._lock:
            self.connect()
            with self._conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())

    def _col(self, table: str, alias: str, column: str, default: str = "0") -> str:
        """``alias.column``, or the literal default when the column does not exist."""
        return f"{alias}.`{column}`" if self.schema.has(table, column) else default

    # -- small tables ----------------------------------------------------------------------

    def users(self) -> dict[int, LegacyUser]:
        """Every user by id (``core_user``, or ``go_users`` before 6.3)."""
        if self._users is None:
            problems: list[str] = []
            users: dict[int, LegacyUser] = {}
            if self.schema.has("core_user"):
                display = self._col("core_user", "u", "displayName", "''")
                enabled_col = self._col("core_user", "u", "enabled", "1")
                rows = self._query(f"SELECT u.id, u.username, {display}, u.email, "
                                   f"{enabled_col} FROM core_user u")
                for uid, username, name, email, enabled in rows:
                    users[int(uid)] = LegacyUser(
                        int(uid), decode_text(username, "username", problems),
                        decode_text(name, "user name", problems),
                        decode_text(email, "user e-mail", problems), bool(_i(enabled, 1)))
            elif self.schema.has("go_users"):
                def col(name: str, default: str = "''") -> str:
                    return self._col("go_users", "u", name, default)

                rows = self._query(
                    f"SELECT u.id, u.username, {col('first_name')}, {col('middle_name')}, "
                    f"{col('last_name')}, {col('email')}, {col('enabled', '1')} FROM go_users u")
                for uid, username, first, middle, last, email, enabled in rows:
                    parts = [decode_text(p, "user name", problems) for p in (first, middle, last)]
                    users[int(uid)] = LegacyUser(
                        int(uid), decode_text(username, "username", problems),
                        " ".join(p for p in parts if p), decode_text(email, "e-mail", problems),
                        bool(_i(enabled, 1)))
            self._users = users
        return self._users

    def _acl_rows(self, acl_ids: Iterable[int]) -> list[tuple[int, int, int]]:
        ids = sorted(set(acl_ids))
        if not ids:
            return []
        marks = ",".join(["%s"] * len(ids))
        if self.schema.has("core_acl_group"):
            rows = self._query(f"SELECT aclId, groupId, level FROM core_acl_group "
                               f"WHERE aclId IN ({marks})", ids)
        elif self.schema.has("go_acl"):
            rows = self._query(f"SELECT acl_id, group_id, level FROM go_acl "
                               f"WHERE acl_id IN ({marks}) AND group_id > 0", ids)
        else:
            return []
        return [(int(a), int(g), int(lv)) for a, g, lv in rows]

    def _group_members(self) -> dict[int, set[int]]:
        if self.schema.has("core_user_group"):
            rows = self._query("SELECT groupId, userId FROM core_user_group")
        elif self.schema.has("go_users_groups"):
            rows = self._query("SELECT group_id, user_id FROM go_users_groups")
        else:
            return {}
        members: dict[int, set[int]] = {}
        for gid, uid in rows:
            members.setdefault(int(gid), set()).add(int(uid))
        return members

    def types(self) -> dict[int, LegacyType]:
        """Every ticket type by id, with its ACL and agents."""
        if self._types is None:
            problems: list[str] = []
            has_groups = (self.schema.has("ti_types", "type_group_id")
                          and self.schema.has("ti_type_groups"))
            group_sql = ("(SELECT g.name FROM ti_type_groups g WHERE g.id = t.type_group_id)"
                         if has_groups else "NULL")
            rows = self._query(
                f"SELECT t.id, t.name, {self._col('ti_types', 't', 'description', 'NULL')}, "
                f"t.acl_id, {group_sql} FROM ti_types t ORDER BY t.id")
            acl_rows = self._acl_rows(_i(r[3]) for r in rows)
            members = self._group_members()
            admins = frozenset(members.get(ADMINS_GROUP_ID, set()))
            by_acl: dict[int, dict[int, int]] = {}
            for acl_id, group_id, level in acl_rows:
                by_acl.setdefault(acl_id, {})[group_id] = level
            types: dict[int, LegacyType] = {}
            for tid, name, description, acl_id, group_name in rows:
                acl = by_acl.get(_i(acl_id), {})
                agents = set(admins)
                for group_id, level in acl.items():
                    if level >= AGENT_LEVEL:
                        agents |= members.get(group_id, set())
                raw_name = None if name is None else decode_text(name, "type name", problems)
                types[int(tid)] = LegacyType(
                    id=int(tid), name=raw_name,
                    description=(None if description is None
                                 else decode_text(description, "type description", problems)),
                    acl_id=_i(acl_id), acl=dict(acl), agents=frozenset(agents),
                    group_name=None if group_name is None else decode_text(
                        group_name, "type group", problems))
            self._types = types
        return self._types

    def _all_agents(self) -> frozenset[int]:
        if self._any_agents is None:
            self._any_agents = frozenset().union(*(t.agents for t in self.types().values()))
        return self._any_agents

    def statuses(self) -> dict[int, LegacyStatus]:
        """The custom statuses by id (the pseudo statuses 0 open and -1 closed are not rows)."""
        if not self.schema.has("ti_statuses"):
            return {}
        problems: list[str] = []
        type_col = self._col("ti_statuses", "s", "type_id", "NULL")
        rows = self._query(f"SELECT s.id, s.name, {type_col} FROM ti_statuses s ORDER BY s.id")
        return {int(sid): LegacyStatus(int(sid),
                                       None if name is None else decode_text(name, "status",
                                                                             problems),
                                       None if not _i(type_id) else _i(type_id))
                for sid, name, type_id in rows}

    # -- counting --------------------------------------------------------------------------

    def _ticket_filter(self, type_ids: Sequence[int] | None, after_id: int,
                       upto_id: int | None, alias: str = "t",
                       ids: Sequence[int] | None = None) -> tuple[str, list[Any]]:
        where = [f"{alias}.id > %s"]
        args: list[Any] = [after_id]
        if ids is not None:
            where.append(f"{alias}.id IN ({','.join(['%s'] * len(ids))})" if ids else "FALSE")
            args.extend(int(i) for i in ids)
        if upto_id is not None:
            where.append(f"{alias}.id <= %s")
            args.append(upto_id)
        if type_ids is not None:
            if not type_ids:
                where.append("FALSE")
            else:
                where.append(f"{alias}.type_id IN ({','.join(['%s'] * len(type_ids))})")
                args.extend(int(t) for t in type_ids)
        return " AND ".join(where), args

    def count_tickets(self, type_ids: Sequence[int] | None = None, after_id: int = 0) -> int:
        """How many tickets :meth:`tickets` would yield (without ``limit``)."""
        where, args = self._ticket_filter(type_ids, after_id, None)
        return int(self._query(f"SELECT COUNT(*) FROM ti_tickets t WHERE {where}", args)[0][0])

    def count_tickets_per_type(self, type_ids: Sequence[int] | None = None,
                               after_id: int = 0) -> dict[int, int]:
        """``{legacy type id: tickets}`` (deleted types included), for progress and summaries."""
        where, args = self._ticket_filter(type_ids, after_id, None)
        rows = self._query(f"SELECT t.type_id, COUNT(*) FROM ti_tickets t WHERE {where} "
                           f"GROUP BY t.type_id ORDER BY t.type_id", args)
        return {int(t): int(n) for t, n in rows}

    def count_messages(self, type_ids: Sequence[int] | None = None) -> int:
        """How many messages belong to existing tickets (of ``type_ids``)."""
        where, args = self._ticket_filter(type_ids, 0, None)
        return int(self._query(
            f"SELECT COUNT(*) FROM ti_messages m JOIN ti_tickets t ON t.id = m.ticket_id "
            f"WHERE {where}", args)[0][0])

    def message_ids(self, ticket_ids: Sequence[int]) -> dict[int, list[int]]:
        """``{ticket id: its message ids}`` for these tickets: what a rerun compares with the
        Message-IDs already written, without reading the messages themselves."""
        if not ticket_ids:
            return {}
        found: dict[int, list[int]] = {int(t): [] for t in ticket_ids}
        rows = self._query(f"SELECT m.ticket_id, GROUP_CONCAT(m.id) FROM ti_messages m WHERE "
                           f"m.ticket_id IN ({','.join(['%s'] * len(ticket_ids))}) "
                           f"GROUP BY m.ticket_id", [int(t) for t in ticket_ids])
        for ticket_id, ids in rows:  # a row per ticket: far fewer to decode than per message
            text = ids.decode() if isinstance(ids, bytes) else str(ids)
            found[int(ticket_id)] = [int(i) for i in text.split(",")]
        return found

    def orphan_messages(self) -> list[tuple[int, int]]:
        """``(message id, ticket id)`` of messages whose ticket no longer exists."""
        rows = self._query("SELECT m.id, m.ticket_id FROM ti_messages m LEFT JOIN ti_tickets t "
                           "ON t.id = m.ticket_id WHERE t.id IS NULL ORDER BY m.id")
        return [(int(a), int(b)) for a, b in rows]

    # -- streaming -------------------------------------------------------------------------

    def _contact_sql(self) -> tuple[str, str]:
        """Select list and join for the ticket's address-book contact (6.4+ or ab_*)."""
        if self.schema.has("addressbook_contact"):
            email = ("(SELECT e.email FROM addressbook_email_address e WHERE e.contactId = c.id "
                     "ORDER BY e.type <> 'work', e.email LIMIT 1)"
                     if self.schema.has("addressbook_email_address") else "NULL")
            go_user = self._col("addressbook_contact", "c", "goUserId", "NULL")
            return (f"c.id, c.name, {email}, {go_user}",
                    "LEFT JOIN addressbook_contact c ON c.id = t.contact_id")
        if self.schema.has("ab_contacts"):
            def col(name: str) -> str:
                return self._col("ab_contacts", "c", name, "''")

            go_user = self._col("ab_contacts", "c", "go_user_id", "NULL")
            return (f"c.id, CONCAT_WS(' ', NULLIF({col('first_name')}, ''), "
                    f"NULLIF({col('middle_name')}, ''), NULLIF({col('last_name')}, '')), "
                    f"NULLIF({col('email')}, ''), {go_user}",
                    "LEFT JOIN ab_contacts c ON c.id = t.contact_id")
        return "NULL, NULL, NULL, NULL", ""

    _TICKET_COLUMNS: tuple[tuple[str, str], ...] = (
        ("id", "0"), ("ticket_number", "NULL"), ("subject", "''"), ("priority", "1"),
        ("status_id", "0"), ("type_id", "0"), ("user_id", "0"), ("agent_id", "0"),
        ("contact_id", "0"), ("company_id", "0"), ("company", "''"), ("first_name", "''"),
        ("middle_name", "''"), ("last_name", "''"), ("email", "''"), ("phone", "''"),
        ("cc_addresses", "''"), ("ctime", "0"), ("mtime", "0"), ("cuser_id", "0"),
        ("due_date", "NULL"), ("files_folder_id", "0"),
    )
    _MESSAGE_COLUMNS: tuple[tuple[str, str], ...] = (
        ("id", "0"), ("ticket_id", "0"), ("content", "''"), ("is_note", "0"),
        ("user_id", "0"), ("ctime", "0"), ("mtime", "0"), ("has_status", "0"),
        ("status_id", "0"), ("attachments", "''"), ("rate_hours", "0"),
    )

    def tickets(self, type_ids: Sequence[int] | None = None, *, after_id: int = 0,
                limit: int | None = None, ids: Sequence[int] | None = None,
                messages: bool = True) -> Iterator[LegacyTicket]:
        """Tickets by ascending id (of ``type_ids`` only, after ``after_id``, at most
        ``limit``, of ``ids`` only), each with its messages and folder files; constant memory.
        ``messages=False``: the ticket rows with the ids of their messages (no messages, no
        files), for a run that only needs them for tickets it has not migrated completely
        yet; the ids come in one stream sorted by ticket (``ti_messages`` has no index on
        ``ticket_id``: a query per chunk of tickets read the whole table each time)."""
        types = self.types()
        users = self.users()
        upto: int | None = None
        if limit is not None:
            where, args = self._ticket_filter(type_ids, after_id, None, ids=ids)
            rows = self._query(f"SELECT MAX(id) FROM (SELECT t.id FROM ti_tickets t WHERE "
                               f"{where} ORDER BY t.id LIMIT %s) x", [*args, int(limit)])
            upto = _i(rows[0][0], after_id)
            if upto <= after_id:
                return
        where, args = self._ticket_filter(type_ids, after_id, upto, ids=ids)
        tcols = ", ".join(self._col("ti_tickets", "t", c, d) for c, d in self._TICKET_COLUMNS)
        contact_cols, contact_join = self._contact_sql()
        ticket_sql = (f"SELECT {tcols}, {contact_cols} FROM ti_tickets t {contact_join} "
                      f"WHERE {where} ORDER BY t.id")
        mcols = ", ".join(self._col("ti_messages", "m", c, d) for c, d in self._MESSAGE_COLUMNS)
        message_sql = (f"SELECT {mcols} FROM ti_messages m JOIN ti_tickets t "
                       f"ON t.id = m.ticket_id WHERE {where} ORDER BY m.ticket_id, m.ctime, m.id")
        ids_sql = (f"SELECT m.ticket_id, GROUP_CONCAT(m.id) FROM ti_messages m JOIN ti_tickets t "
                   f"ON t.id = m.ticket_id WHERE {where} GROUP BY m.ticket_id "
                   f"ORDER BY m.ticket_id")
        has_files = (messages and self.schema.has("fs_files")
                     and self.schema.has("fs_folders"))
        file_sql = (f"SELECT t.id, f.id, f.name, f.size, f.ctime, f.mtime, d.id, d.name, "
                    f"d.parent_id FROM ti_tickets t JOIN fs_folders d ON d.id = t.files_folder_id "
                    f"JOIN fs_files f ON f.folder_id = d.id WHERE {where} "
                    f"AND t.files_folder_id > 0 ORDER BY t.id, f.id")
        conns = [self._open(streaming=True) for _ in range(2 + int(has_files))]
        cursors = [conn.cursor() for conn in conns]
        try:
            tcur = cursors[0]
            tcur.execute(ticket_sql, args)
            message_rows: _Peek | None = None
            id_rows: _Peek | None = None
            if messages:
                mcur = cursors[1]
                mcur.execute(message_sql, args)
                message_rows = _Peek(iter(mcur.fetchone, None))
            else:
                cursors[1].execute(ids_sql, args)
                id_rows = _Peek(iter(cursors[1].fetchone, None))
            files: _Peek | None = None
            if has_files:
                fcur = cursors[2]
                fcur.execute(file_sql, args)
                files = _Peek(iter(fcur.fetchone, None))
            for row in iter(tcur.fetchone, None):
                tid = int(row[0])
                problems: list[str] = []
                ticket_messages = []
                while (message_rows is not None and (m := message_rows.peek()) is not None
                       and int(m[1]) <= tid):
                    message_rows.next()
                    if int(m[1]) == tid:
                        ticket_messages.append(m)
                ticket_files = []
                while files is not None and (f := files.peek()) is not None and int(f[0]) <= tid:
                    files.next()
                    if int(f[0]) == tid:
                        ticket_files.append(f)
                message_ids: tuple[int, ...] | None = None
                if id_rows is not None:
                    message_ids = ()
                    while (i := id_rows.peek()) is not None and int(i[0]) <= tid:
                        id_rows.next()
                        if int(i[0]) == tid:
                            text = i[1].decode() if isinstance(i[1], bytes) else str(i[1])
                            message_ids = tuple(int(m) for m in text.split(","))
                yield self._ticket(row, ticket_messages, ticket_files, types, users, problems,
                                   message_ids)
        finally:
            _close_streams(conns, cursors)

    def _ticket(self, row: Sequence[Any], message_rows: Sequence[Sequence[Any]],
                file_rows: Sequence[Sequence[Any]], types: Mapping[int, LegacyType],
                users: Mapping[int, LegacyUser], problems: list[str],
                message_ids: tuple[int, ...] | None = None) -> LegacyTicket:
        names = [c for c, _ in self._TICKET_COLUMNS]
        raw = dict(zip(names, row[:len(names)], strict=True))
        cid, cname, cemail, cuser = row[len(names):]
        tid = int(raw["id"])

        def text(key: str, what: str) -> str:
            return decode_text(raw[key], f"ticket {tid}: the {what}", problems)

        contact = None
        if cid is not None and _i(raw["contact_id"]) > 0:
            contact = LegacyContact(
                id=int(cid), name=decode_text(cname, f"ticket {tid}: the contact's name",
                                              problems).strip(),
                email=(decode_text(cemail, f"ticket {tid}: the contact's e-mail", problems)
                       or None) if cemail is not None else None,
                user_id=_i(cuser) or None)
        elif _i(raw["contact_id"]) > 0:
            problems.append(f"ticket {tid}: contact {_i(raw['contact_id'])} no longer exists "
                            f"in the address book; the address typed on the ticket is used")
        ticket_type = types.get(_i(raw["type_id"]))
        user_id = _i(raw["user_id"])
        messages = tuple(self._message(m, user_id, ticket_type, users) for m in message_rows)
        number = text("ticket_number", "ticket number") if raw["ticket_number"] else None
        return LegacyTicket(
            id=tid, number=number or None, subject=text("subject", "subject"),
            priority=_i(raw["priority"], 1), status_id=_i(raw["status_id"]),
            type_id=_i(raw["type_id"]), user_id=user_id, agent_id=_i(raw["agent_id"]),
            contact_id=_i(raw["contact_id"]), company_id=_i(raw["company_id"]),
            company=text("company", "company"), first_name=text("first_name", "first name"),
            middle_name=text("middle_name", "middle name"),
            last_name=text("last_name", "last name"), email=text("email", "e-mail").strip(),
            phone=text("phone", "phone"), cc_addresses=text("cc_addresses", "CC addresses"),
            ctime=_i(raw["ctime"]), mtime=_i(raw["mtime"]), cuser_id=_i(raw["cuser_id"]),
            due_date=_i(raw["due_date"]) or None, files_folder_id=_i(raw["files_folder_id"]),
            contact=contact, messages=messages,
            files=tuple(self._file(f, problems) for f in file_rows),
            problems=tuple(problems), message_ids=message_ids,
        )

    def _message(self, row: Sequence[Any], requester_id: int, ticket_type: LegacyType | None,
                 users: Mapping[int, LegacyUser]) -> LegacyMessage:
        names = [c for c, _ in self._MESSAGE_COLUMNS]
        raw = dict(zip(names, row, strict=True))
        problems: list[str] = []
        mid = int(raw["id"])
        author = _i(raw["user_id"])
        # a ticket whose type was deleted: anyone who is an agent of some type counts
        agents = ticket_type.agents if ticket_type else self._all_agents()
        if _i(raw["is_note"]):
            kind = MessageKind.NOTE
        elif author == 0 or (author == requester_id and author not in agents):
            kind = MessageKind.REQUESTER
        else:
            kind = MessageKind.AGENT
        try:
            hours = float(raw["rate_hours"] or 0)
        except (TypeError, ValueError):
            hours = 0.0
        return LegacyMessage(
            id=mid, ticket_id=_i(raw["ticket_id"]),
            content=decode_text(raw["content"], f"message {mid}: the text", problems),
            kind=kind, user_id=author, ctime=_i(raw["ctime"]), mtime=_i(raw["mtime"]),
            has_status=bool(_i(raw["has_status"])), status_id=_i(raw["status_id"]),
            attachments_field=decode_text(raw["attachments"], f"message {mid}: attachments",
                                          problems),
            rate_hours=hours, problems=tuple(problems))

    def _folder_path(self, folder_id: int) -> str | None:
        """The folder's path below ``file_storage_path`` (names joined by ``/``), or None
        when a folder on the way is gone."""
        if folder_id in self._folder_paths:
            return self._folder_paths[folder_id]
        parts: list[str] = []
        current = folder_id
        seen: set[int] = set()
        path: str | None
        while True:
            if current in self._folder_paths:
                base = self._folder_paths[current]
                path = None if base is None else "/".join([base, *reversed(parts)]).strip("/")
                break
            if current == 0:
                path = "/".join(reversed(parts))
                break
            if current in seen:
                path = None
                break
            seen.add(current)
            rows = self._query("SELECT name, parent_id FROM fs_folders WHERE id = %s", [current])
            if not rows:
                path = None
                break
            parts.append(decode_text(rows[0][0], "folder name", []))
            current = _i(rows[0][1])
        self._folder_paths[folder_id] = path
        return path

    def _file(self, row: Sequence[Any], problems: list[str]) -> LegacyAttachment:
        tid, fid, name, size, ctime, mtime, _folder, folder_name, parent = row
        file_name = decode_text(name, f"ticket {tid}: a file name", problems)
        parent_path = self._folder_path(_i(parent))
        folder = decode_text(folder_name, "folder name", [])
        if parent_path is None:
            problems.append(f"ticket {tid}: a parent of its folder {folder!r} is gone; "
                            f"file {file_name!r} is looked for below the folder name alone")
            parent_path = ""
        relative = "/".join(p for p in (parent_path, folder, file_name) if p)
        root = self.file_storage_path
        path = (root / relative) if root is not None else Path(relative)
        exists = root is not None and os.path.isfile(path) and os.access(path, os.R_OK)
        return LegacyAttachment(file_id=int(fid), name=file_name, size=_i(size),
                                ctime=_i(ctime), mtime=_i(mtime), path=path, exists=exists)


def _close_streams(conns: Sequence[Any], cursors: Sequence[Any]) -> None:
    """Close the streaming connections. A stream left early (``limit`` reached, the caller
    stopped) is not drained row by row: pymysql would read the rest of a huge result, so
    the unread result is marked finished and its connection closed instead."""
    for cur in cursors:
        result = getattr(cur, "_result", None)
        if result is not None and getattr(result, "unbuffered_active", False):
            result.unbuffered_active = False
    for conn in conns:
        with contextlib.suppress(pymysql.err.Error):
            conn.close()


class _Peek:
    """An iterator with one row of look-ahead (for merging the sorted streams)."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self._rows = rows
        self._next: Any = next(rows, None)

    def peek(self) -> Any:
        return self._next

    def next(self) -> Any:
        current = self._next
        self._next = next(self._rows, None)
        return current
