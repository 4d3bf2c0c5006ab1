"""Synthetic legacy Tickets data, written in the legacy schema of a chosen version.

Why: the one real dump (Group-Office 6.5 demo data) holds two tickets. Tests of the column
variants and the 20,000-ticket benchmark need databases shaped like each generation of the
module, with many tickets, notes, agents' and requesters' messages, custom statuses,
deleted types, missing attachment files and so on. :func:`create_schema` creates the tables
(only the ti_* and core tables the migration reads, with the columns of that version, in the
order the version has them; ``reference/legacy-tickets.md`` sections 1 and 2), and
:func:`generate` fills them deterministically from a seed and returns what it wrote, so that
a test can compare the migration's counts with the truth.

Variants (``VARIANTS``):

* ``6.5``: a fresh 6.4/6.5 install (``contact_id``/``company_id`` NOT NULL DEFAULT 0,
  ``attachments`` varchar(500), ``due_*`` before the ``last_*_response_time`` columns);
* ``6.4-upgraded``: a database brought to 6.4 through the update list (nullable
  ``contact_id``/``company_id`` holding NULL, ``attachments`` text NULL, ``due_*`` columns
  last, a lingering ``go_links_ti_tickets``);
* ``6.3``: no ``ti_statuses.type_id``, ``cf_ti_tickets``, the old ``ab_contacts`` address
  book;
* ``6.2``: as 6.3, with ``go_users``/``go_users_groups``/``go_acl`` instead of the core
  tables and no ``last_*_response_time``/``due_*`` columns.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["VARIANTS", "SyntheticCounts", "SyntheticSpec", "create_schema", "generate"]

VARIANTS = ("6.5", "6.4-upgraded", "6.3", "6.2")

_TS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"


def _ddl(variant: str) -> list[str]:
    if variant not in VARIANTS:
        raise ValueError(f"unknown legacy schema variant {variant!r}; one of {VARIANTS}")
    upgraded = variant != "6.5"
    old = variant in ("6.3", "6.2")
    contact_null = "int(11) DEFAULT NULL" if upgraded else "int(11) NOT NULL DEFAULT 0"
    due = ["`due_date` int(11) DEFAULT NULL", "`due_reminder_sent` tinyint(1) NOT NULL DEFAULT 0"]
    last = ["`last_agent_response_time` int(11) NOT NULL DEFAULT 0",
            "`last_contact_response_time` int(11) NOT NULL DEFAULT 0"]
    if variant == "6.2":
        tail: list[str] = []
    elif upgraded:
        tail = last + due
    else:
        tail = due + last
    tickets = [
        "`id` int(11) NOT NULL AUTO_INCREMENT", "`ticket_number` varchar(16) DEFAULT NULL",
        "`ticket_verifier` int(11) NOT NULL DEFAULT 0", "`priority` int(11) NOT NULL DEFAULT 1",
        "`status_id` int(11) NOT NULL DEFAULT 0", "`type_id` int(11) NOT NULL DEFAULT 0",
        "`user_id` int(11) NOT NULL DEFAULT 0", "`agent_id` int(11) NOT NULL DEFAULT 0",
        f"`contact_id` {contact_null}", "`company` varchar(100) NOT NULL DEFAULT ''",
        f"`company_id` {contact_null}", "`first_name` varchar(50) NOT NULL DEFAULT ''",
        "`middle_name` varchar(100) NOT NULL DEFAULT ''",
        "`last_name` varchar(50) NOT NULL DEFAULT ''", "`email` varchar(100) NOT NULL DEFAULT ''",
        "`phone` varchar(50) NOT NULL DEFAULT ''", "`subject` varchar(100) NOT NULL",
        "`ctime` int(11) NOT NULL DEFAULT 0", "`mtime` int(11) NOT NULL DEFAULT 0",
        "`muser_id` int(11) NOT NULL DEFAULT 0", "`files_folder_id` int(11) NOT NULL DEFAULT 0",
        "`unseen` int(1) NOT NULL DEFAULT 1", "`group_id` int(11) NOT NULL DEFAULT 0",
        "`order_id` int(11) NOT NULL DEFAULT 0",
        "`last_response_time` int(11) NOT NULL DEFAULT 0",
        "`cc_addresses` varchar(1024) NOT NULL DEFAULT ''",
        "`cuser_id` int(11) NOT NULL DEFAULT 0", *tail,
        "PRIMARY KEY (`id`)", "KEY `type_id` (`type_id`)", "KEY `user_id` (`user_id`)",
    ]
    attachments = ("`attachments` text COLLATE utf8mb4_general_ci DEFAULT NULL" if upgraded
                   else "`attachments` varchar(500) NOT NULL DEFAULT ''")
    messages = [
        "`id` int(11) NOT NULL AUTO_INCREMENT", "`ticket_id` int(11) NOT NULL",
        "`status_id` int(11) NOT NULL DEFAULT 0", "`type_id` int(11) NOT NULL DEFAULT 0",
        "`has_status` tinyint(1) NOT NULL DEFAULT 0", "`has_type` tinyint(1) NOT NULL DEFAULT 0",
        "`content` text DEFAULT NULL", attachments, "`is_note` tinyint(1) NOT NULL DEFAULT 0",
        "`user_id` int(11) NOT NULL DEFAULT 0", "`ctime` int(11) NOT NULL",
        "`mtime` int(11) NOT NULL", "`rate_id` int(11) NOT NULL DEFAULT 0",
        "`rate_amount` double NOT NULL DEFAULT 0", "`rate_hours` double NOT NULL DEFAULT 0",
        "`rate_name` varchar(50) NOT NULL DEFAULT ''",
        "`rate_cost_code` varchar(50) DEFAULT NULL", "`template_id` int(11) DEFAULT NULL",
        "PRIMARY KEY (`id`)",
    ]
    description = ("`description` varchar(255) NOT NULL" if upgraded
                   else "`description` varchar(255) DEFAULT NULL")
    types = [
        "`id` int(11) NOT NULL AUTO_INCREMENT", "`name` varchar(100) DEFAULT NULL", description,
        "`user_id` int(11) NOT NULL", "`acl_id` int(11) NOT NULL",
        "`show_statuses` varchar(100) DEFAULT NULL",
        "`show_from_others` tinyint(1) NOT NULL DEFAULT 0",
        "`files_folder_id` int(11) NOT NULL DEFAULT 0", "`type_group_id` int(11) DEFAULT NULL",
        "`email_account_id` int(11) NOT NULL DEFAULT 0", "PRIMARY KEY (`id`)",
    ]
    statuses = ["`id` int(11) NOT NULL AUTO_INCREMENT", "`name` varchar(100) DEFAULT NULL",
                "`user_id` int(11) NOT NULL"]
    if not old:
        statuses.append("`type_id` int(11) DEFAULT NULL")
    statuses.append("PRIMARY KEY (`id`)")
    tables: dict[str, list[str]] = {
        "ti_tickets": tickets, "ti_messages": messages, "ti_types": types,
        "ti_statuses": statuses,
        "ti_type_groups": ["`id` int(11) NOT NULL AUTO_INCREMENT",
                           "`name` varchar(50) DEFAULT NULL",
                           "`sort_index` int(11) NOT NULL DEFAULT 0", "PRIMARY KEY (`id`)"],
        "fs_folders": ["`user_id` int(11) NOT NULL DEFAULT 0",
                       "`id` int(11) NOT NULL AUTO_INCREMENT", "`parent_id` int(11) NOT NULL",
                       "`name` varchar(260) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
                       "`acl_id` int(11) NOT NULL DEFAULT 0", "`ctime` int(11) NOT NULL",
                       "`mtime` int(11) NOT NULL", "PRIMARY KEY (`id`)",
                       "KEY `parent_id` (`parent_id`)"],
        "fs_files": ["`id` int(11) NOT NULL AUTO_INCREMENT", "`folder_id` int(11) NOT NULL",
                     "`name` varchar(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
                     "`ctime` int(11) NOT NULL DEFAULT 0", "`mtime` int(11) NOT NULL DEFAULT 0",
                     "`size` bigint(20) NOT NULL", "`user_id` int(11) NOT NULL",
                     "`extension` varchar(20) NOT NULL", "PRIMARY KEY (`id`)",
                     "KEY `folder_id` (`folder_id`)"],
    }
    if old:
        tables["cf_ti_tickets"] = ["`model_id` int(11) NOT NULL DEFAULT 0",
                                   "PRIMARY KEY (`model_id`)"]
        tables["ab_contacts"] = [
            "`id` int(11) NOT NULL AUTO_INCREMENT", "`first_name` varchar(50) NOT NULL DEFAULT ''",
            "`middle_name` varchar(100) NOT NULL DEFAULT ''",
            "`last_name` varchar(50) NOT NULL DEFAULT ''",
            "`email` varchar(100) NOT NULL DEFAULT ''",
            "`go_user_id` int(11) NOT NULL DEFAULT 0", "PRIMARY KEY (`id`)"]
    else:
        tables["ti_tickets_custom_fields"] = ["`id` int(11) NOT NULL", "PRIMARY KEY (`id`)"]
        tables["addressbook_contact"] = [
            "`id` int(11) NOT NULL AUTO_INCREMENT", "`addressBookId` int(11) NOT NULL DEFAULT 1",
            "`goUserId` int(11) DEFAULT NULL", "`firstName` varchar(100) DEFAULT NULL",
            "`middleName` varchar(55) DEFAULT NULL", "`lastName` varchar(100) DEFAULT NULL",
            "`isOrganization` tinyint(1) NOT NULL DEFAULT 0",
            "`name` varchar(191) NOT NULL DEFAULT ''", "PRIMARY KEY (`id`)"]
        tables["addressbook_email_address"] = [
            "`contactId` int(11) NOT NULL", "`type` varchar(100) NOT NULL DEFAULT 'work'",
            "`email` varchar(255) NOT NULL DEFAULT ''", "KEY `contactId` (`contactId`)"]
    if upgraded:
        tables["go_links_ti_tickets"] = [
            "`id` int(11) NOT NULL", "`folder_id` int(11) NOT NULL",
            "`model_id` int(11) NOT NULL", "`model_type_id` int(11) NOT NULL",
            "`description` varchar(100) DEFAULT NULL", "`ctime` int(11) NOT NULL",
            "PRIMARY KEY (`id`,`model_id`,`model_type_id`)"]
    if variant == "6.2":
        tables["go_users"] = [
            "`id` int(11) NOT NULL AUTO_INCREMENT", "`username` varchar(50) NOT NULL",
            "`enabled` tinyint(1) NOT NULL DEFAULT 1", "`first_name` varchar(50) NOT NULL",
            "`middle_name` varchar(50) NOT NULL DEFAULT ''", "`last_name` varchar(50) NOT NULL",
            "`email` varchar(100) NOT NULL", "PRIMARY KEY (`id`)"]
        tables["go_groups"] = ["`id` int(11) NOT NULL AUTO_INCREMENT",
                               "`name` varchar(50) NOT NULL", "PRIMARY KEY (`id`)"]
        tables["go_users_groups"] = ["`group_id` int(11) NOT NULL", "`user_id` int(11) NOT NULL",
                                     "PRIMARY KEY (`group_id`,`user_id`)"]
        tables["go_acl"] = ["`acl_id` int(11) NOT NULL", "`user_id` int(11) NOT NULL DEFAULT 0",
                            "`group_id` int(11) NOT NULL DEFAULT 0",
                            "`level` tinyint(4) NOT NULL DEFAULT 10",
                            "PRIMARY KEY (`acl_id`,`user_id`,`group_id`)"]
    else:
        tables["core_user"] = [
            "`id` int(11) NOT NULL AUTO_INCREMENT", "`username` varchar(190) NOT NULL",
            "`displayName` varchar(190) NOT NULL", "`enabled` tinyint(1) NOT NULL DEFAULT 1",
            "`email` varchar(100) NOT NULL", "PRIMARY KEY (`id`)"]
        tables["core_group"] = ["`id` int(11) NOT NULL AUTO_INCREMENT",
                                "`name` varchar(190) NOT NULL",
                                "`isUserGroupFor` int(11) DEFAULT NULL", "PRIMARY KEY (`id`)"]
        tables["core_user_group"] = ["`groupId` int(11) NOT NULL", "`userId` int(11) NOT NULL",
                                     "PRIMARY KEY (`groupId`,`userId`)"]
        tables["core_acl_group"] = ["`aclId` int(11) NOT NULL",
                                    "`groupId` int(11) NOT NULL DEFAULT 0",
                                    "`level` tinyint(4) NOT NULL DEFAULT 10",
                                    "PRIMARY KEY (`aclId`,`groupId`)"]
    return [f"CREATE TABLE `{name}` (\n  " + ",\n  ".join(cols) + f"\n) {_TS}"
            for name, cols in tables.items()]


def create_schema(conn: Any, variant: str = "6.5") -> None:
    """Create the legacy tables of ``variant`` in the connection's (empty) database."""
    with conn.cursor() as cur:
        for statement in _ddl(variant):
            cur.execute(statement)
    conn.commit()


@dataclass(frozen=True)
class SyntheticSpec:
    """What :func:`generate` writes. Every ``*_every`` makes one ticket in that many special
    (0: none): ``deleted_type_every`` a ticket whose type no longer exists,
    ``attachment_every`` a ticket with a file on its first message, ``missing_file_every``
    one whose file is not on disk, ``orphan_messages`` messages whose ticket is gone."""

    tickets: int = 100
    messages_per_ticket: int = 5
    types: int = 3
    agents: int = 4
    customers: int = 6
    seed: int = 1
    variant: str = "6.5"
    start_time: int = 1_600_000_000
    attachment_every: int = 0
    missing_file_every: int = 0
    deleted_type_every: int = 0
    orphan_messages: int = 0
    storage: Path | None = None


@dataclass
class SyntheticCounts:
    """What was written, for comparing with what the migration reads."""

    tickets: int = 0
    messages: int = 0
    notes: int = 0
    requester_messages: int = 0
    agent_messages: int = 0
    attachments: int = 0
    missing_files: int = 0
    orphan_messages: int = 0
    per_type: Counter[int] = field(default_factory=Counter)
    per_status: Counter[int] = field(default_factory=Counter)


_WORDS = ("printer", "login", "invoice", "mailbox", "VPN", "Rechnung", "café", "größe",
          "réseau", "パスワード", "backup", "calendar", "quota", "server", "laptop", "screen")


def _insert(cur: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    cols = ", ".join(f"`{c}`" for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    for start in range(0, len(rows), 2000):
        cur.executemany(f"INSERT INTO `{table}` ({cols}) VALUES ({marks})",
                        rows[start:start + 2000])


def generate(conn: Any, spec: SyntheticSpec) -> SyntheticCounts:
    """Fill the tables :func:`create_schema` made; deterministic for ``spec.seed``."""
    rnd = random.Random(spec.seed)
    counts = SyntheticCounts()
    v = spec.variant
    core = v != "6.2"
    old_ab = v in ("6.3", "6.2")
    upgraded = v != "6.5"
    cur = conn.cursor()
    # users: 1 admin, agents 2.., customers after them; groups: 1 Admins, 2 Everyone,
    # 3 Agents, then one personal group per user (id 100 + user id)
    agents = list(range(2, 2 + spec.agents))
    customers = list(range(2 + spec.agents, 2 + spec.agents + spec.customers))
    users = [(1, "admin", "System Administrator", "admin@example.test", 1)]
    users += [(u, f"agent{u}", f"Agent Nummer {u}", f"agent{u}@example.test", 1) for u in agents]
    users += [(u, f"customer{u}", f"Customer Ünal {u}", f"customer{u}@customer.test",
               0 if u == customers[-1] else 1) for u in customers]
    memberships = [(1, 1)] + [(2, u[0]) for u in users] + [(3, a) for a in agents]
    memberships += [(100 + u[0], u[0]) for u in users]
    if core:
        _insert(cur, "core_user", ("id", "username", "displayName", "email", "enabled"),
                [(u, n, d, e, en) for u, n, d, e, en in users])
        _insert(cur, "core_group", ("id", "name", "isUserGroupFor"),
                [(1, "Admins", None), (2, "Everyone", None), (3, "Agents", None)]
                + [(100 + u[0], u[1], u[0]) for u in users])
        _insert(cur, "core_user_group", ("groupId", "userId"), memberships)
    else:
        _insert(cur, "go_users", ("id", "username", "first_name", "last_name", "email",
                                  "enabled"),
                [(u, n, d.split(" ", 1)[0], d.split(" ", 1)[1], e, en)
                 for u, n, d, e, en in users])
        _insert(cur, "go_groups", ("id", "name"),
                [(1, "Admins"), (2, "Everyone"), (3, "Agents")])
        _insert(cur, "go_users_groups", ("group_id", "user_id"), memberships)
    # types: acl 1000 + id; agents group 3 manage (50), Everyone create (30); type 1 also
    # gives the first agent's personal group manage
    acl_rows = []
    type_rows = []
    folder_rows = [(1, 1, 0, "tickets", 0, spec.start_time, spec.start_time)]
    for t in range(1, spec.types + 1):
        acl_rows += [(1000 + t, 3, 50), (1000 + t, 2, 30)]
        if t == 1 and agents:
            acl_rows.append((1000 + t, 100 + agents[0], 50))
        type_rows.append((t, f"Typ {t}: Störung", f"Synthetic type {t}", 1, 1000 + t, 1 + t,
                          None))
        folder_rows.append((1, 1 + t, 1, f"0-Typ {t}: Störung", 1000 + t, spec.start_time,
                            spec.start_time))
    if core:
        _insert(cur, "core_acl_group", ("aclId", "groupId", "level"), acl_rows)
    else:
        _insert(cur, "go_acl", ("acl_id", "group_id", "level"), acl_rows)
    _insert(cur, "ti_types", ("id", "name", "description", "user_id", "acl_id",
                              "files_folder_id", "type_group_id"), type_rows)
    status_cols: tuple[str, ...] = ("id", "name", "user_id")
    status_rows: list[tuple[Any, ...]] = [(1, "In progress", 1), (2, "Waiting for customer", 1)]
    if not old_ab:
        status_cols += ("type_id",)
        status_rows = [(1, "In progress", 1, None), (2, "Waiting for customer", 1, 1)]
    _insert(cur, "ti_statuses", status_cols, status_rows)
    # contacts: one per customer plus some without an account
    contact_rows: list[tuple[Any, ...]] = []
    email_rows: list[tuple[Any, ...]] = []
    for c in range(1, spec.customers + 5):
        first, last = f"Kontakt{c}", f"Müller-{c}"
        if old_ab:
            contact_rows.append((c, first, last, f"contact{c}@contacts.test", 0))
        else:
            contact_rows.append((c, None, first, last, f"{first} {last}"))
            email_rows.append((c, "work", f"contact{c}@contacts.test"))
    if old_ab:
        _insert(cur, "ab_contacts", ("id", "first_name", "last_name", "email", "go_user_id"),
                contact_rows)
    else:
        _insert(cur, "addressbook_contact", ("id", "goUserId", "firstName", "lastName", "name"),
                contact_rows)
        _insert(cur, "addressbook_email_address", ("contactId", "type", "email"), email_rows)

    has_last = v != "6.2"
    tcols = ["id", "ticket_number", "ticket_verifier", "priority", "status_id", "type_id",
             "user_id", "agent_id", "contact_id", "company", "company_id", "first_name",
             "last_name", "email", "phone", "subject", "ctime", "mtime", "muser_id",
             "files_folder_id", "cc_addresses", "cuser_id"]
    if has_last:
        tcols += ["due_date", "last_agent_response_time", "last_contact_response_time"]
    mcols = ("id", "ticket_id", "status_id", "type_id", "has_status", "content", "attachments",
             "is_note", "user_id", "ctime", "mtime", "rate_hours")
    tickets: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    files: list[tuple[Any, ...]] = []
    message_id = 0
    folder_id = 1 + spec.types
    file_id = 0
    for n in range(1, spec.tickets + 1):
        ctime = spec.start_time + n * 600 + rnd.randrange(300)
        deleted = bool(spec.deleted_type_every) and n % spec.deleted_type_every == 0
        type_id = spec.types + 50 if deleted else 1 + (n - 1) % spec.types
        status = rnd.choice((0, 0, -1, -1, 1, 2))
        by_account = n % 2 == 0
        requester = customers[n % len(customers)] if by_account else 0
        contact = 0 if by_account else 1 + n % (spec.customers + 4)
        agent = rnd.choice([0, *agents])
        priority = rnd.choice((0, 1, 1, 2))
        subject = f"Ticket {n}: {rnd.choice(_WORDS)} {rnd.choice(_WORDS)}"
        if by_account:
            first, last, email = "", "", f"customer{requester}@customer.test"
        else:
            first, last, email = f"Kontakt{contact}", f"Müller-{contact}", \
                f"contact{contact}@contacts.test"
        creator = requester if by_account else rnd.choice(agents or [1])
        attach = bool(spec.attachment_every) and n % spec.attachment_every == 0
        missing = bool(spec.missing_file_every) and n % spec.missing_file_every == 0
        ticket_folder = 0
        attachment_names = ""
        if attach or missing:
            folder_id += 1
            ticket_folder = folder_id
            type_folder = 1 + type_id if not deleted else 1
            number_folder = f"{1970 + ctime // 31_557_600}{n:05d}"
            folder_rows.append((1, folder_id, type_folder, number_folder, 0, ctime, ctime))
            file_id += 1
            name = f"screenshot {n} é.txt"
            body = f"attachment of ticket {n}\n".encode()
            files.append((file_id, folder_id, name, ctime, ctime, len(body), creator, "txt"))
            attachment_names = name
            if spec.storage is not None and not missing:
                parent = f"0-Typ {type_id}: Störung" if not deleted else ""
                where = spec.storage / "tickets" / parent / number_folder
                where.mkdir(parents=True, exist_ok=True)
                (where / name).write_bytes(body)
            if missing:
                counts.missing_files += 1
            else:
                counts.attachments += 1
        count = max(1, spec.messages_per_ticket + rnd.choice((-1, 0, 0, 1)))
        when = ctime
        last_agent = last_contact = 0
        for k in range(count):
            message_id += 1
            when += rnd.randrange(60, 7200) if k else 0
            closing = status == -1 and k == count - 1 and k > 0
            if k == 0:
                kind = "requester"
            elif closing:
                kind = "agent"
            elif k % 4 == 3:
                kind = "note"
            else:
                kind = "agent" if k % 2 == 1 else "requester"
            author = (requester if kind == "requester"
                      else (agent or (agents[0] if agents else 1)))
            counts.messages += 1
            if kind == "note":
                counts.notes += 1
            elif kind == "requester":
                counts.requester_messages += 1
                last_contact = when
            else:
                counts.agent_messages += 1
                last_agent = when
            content = (f"Message {k + 1} of ticket {n} ({kind}).\nLine two with <b>markup</b> "
                       f"& an ampersand, {rnd.choice(_WORDS)}.")
            att: str | None = attachment_names if k == 0 else ""
            if upgraded and not att:
                att = None
            messages.append((message_id, n, -1 if closing else 0, type_id, int(closing),
                             content, att, int(kind == "note"), author, when, when,
                             1.5 if kind == "agent" and k == 1 else 0))
        row: list[Any] = [n, f"{1970 + ctime // 31_557_600}{n:05d}", rnd.randrange(10**7, 10**8),
                          priority, status, type_id, requester or creator, agent,
                          (None if upgraded and not contact else contact),
                          "ACME" if not by_account else "",
                          None if upgraded else 0, first, last, email, "+49 30 1234",
                          subject, ctime, when, creator, ticket_folder,
                          "cc@example.test" if n % 7 == 0 else "", creator]
        if has_last:
            row += [None, last_agent, last_contact]
        tickets.append(tuple(row))
        counts.tickets += 1
        counts.per_type[type_id] += 1
        counts.per_status[status] += 1
        if len(messages) >= 5000:
            _insert(cur, "ti_tickets", tcols, tickets)
            _insert(cur, "ti_messages", mcols, messages)
            tickets, messages = [], []
    _insert(cur, "ti_tickets", tcols, tickets)
    _insert(cur, "ti_messages", mcols, messages)
    for k in range(spec.orphan_messages):
        message_id += 1
        _insert(cur, "ti_messages", mcols, [(message_id, spec.tickets + 1000 + k, 0, 1, 0,
                                             "left behind", "" if not upgraded else None, 0, 0,
                                             spec.start_time, spec.start_time, 0)])
        counts.orphan_messages += 1
    _insert(cur, "fs_folders", ("user_id", "id", "parent_id", "name", "acl_id", "ctime",
                                "mtime"), folder_rows)
    _insert(cur, "fs_files", ("id", "folder_id", "name", "ctime", "mtime", "size", "user_id",
                              "extension"), files)
    conn.commit()
    cur.close()
    return counts
