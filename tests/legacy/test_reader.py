"""The ti_* reader against a real MariaDB: the go65 demo dump, every schema variant, bad input."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import pytest

from go_support.legacy.config import DatabaseSettings
from go_support.legacy.errors import LegacyDatabaseError, LegacySchemaError
from go_support.legacy.reader import LegacyDatabase, MessageKind, decode_text
from go_support.legacy.synthetic import (
    VARIANTS,
    SyntheticCounts,
    SyntheticSpec,
    create_schema,
    generate,
)
from tests.legacy.conftest import go65_sql, settings_for
from tests.mariadb import MariaDBServer


def sql_rows(table: str) -> list[str]:
    """The value tuples of ``INSERT INTO `table` VALUES (...),(...);`` in the dump."""
    text = go65_sql().read_text(encoding="utf-8")
    match = re.search(rf"^INSERT INTO `{table}` VALUES (.*);$", text, re.MULTILINE)
    if match is None:
        return []
    # split at "),(" outside quotes
    rows, depth, quote, current = [], 0, "", []
    body = match.group(1)
    i = 0
    while i < len(body):
        c = body[i]
        if quote:
            if c == "\\":
                current.append(body[i:i + 2])
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
            if depth == 1:
                current = []
                i += 1
                continue
        elif c == ")":
            depth -= 1
            if depth == 0:
                rows.append("".join(current))
                i += 1
                continue
        current.append(c)
        i += 1
    return rows


def open_db(server: MariaDBServer, database: str, storage: Path | None = None) -> LegacyDatabase:
    return LegacyDatabase(settings_for(server, database), file_storage_path=storage).connect()


# --------------------------------------------------------------------------------------
# The Group-Office 6.5 demo database


def test_go65_demo_is_read_completely(mariadb: MariaDBServer, go65_db: str) -> None:
    ticket_rows = sql_rows("ti_tickets")
    message_rows = sql_rows("ti_messages")
    assert len(ticket_rows) == 2 and len(message_rows) == 5  # the dump as shipped
    with open_db(mariadb, go65_db) as db:
        assert db.schema.variant == "6.4+"
        types = db.types()
        assert len(types) == len(sql_rows("ti_types"))
        assert {t.name for t in types.values()} == {"IT", "Sales"}
        statuses = db.statuses()
        assert len(statuses) == len(sql_rows("ti_statuses"))
        assert [s.name for s in statuses.values()] == ["In progress", "Not resolved"]
        assert len(db.users()) == len(sql_rows("core_user"))
        assert db.count_tickets() == len(ticket_rows)
        assert db.count_messages() == len(message_rows)
        tickets = list(db.tickets())
        assert db.orphan_messages() == []
    assert [t.id for t in tickets] == [1, 2]
    assert sum(len(t.messages) for t in tickets) == len(message_rows)
    first, second = tickets
    assert first.subject == "Malfunctioning rockets" and first.number == "202200001"
    assert (first.status_id, first.type_id, first.priority) == (-1, 1, 1)
    assert first.contact is not None and first.contact.name == "Wile E. Coyote"
    assert first.contact.email == "wile@smith.demo" and first.company == "ACME Corporation"
    assert first.snapshot_name == "Wile E. Coyote"
    assert [(m.id, m.kind) for m in first.messages] == [
        (1, MessageKind.REQUESTER), (2, MessageKind.NOTE), (3, MessageKind.AGENT)]
    assert first.messages[2].has_status and first.messages[2].status_id == -1
    assert first.messages[1].content.startswith("Haha, good thing he doesn't know")
    assert [(m.id, m.kind) for m in second.messages] == [
        (4, MessageKind.REQUESTER), (5, MessageKind.REQUESTER)]
    assert second.ctime == 1641032814 and second.mtime == 1641205614
    assert all(not t.problems for t in tickets)


def test_go65_type_acl_and_agents(mariadb: MariaDBServer, go65_db: str) -> None:
    with open_db(mariadb, go65_db) as db:
        it, sales = db.types()[1], db.types()[2]
    # IT: Everyone (2) may create, the personal groups of elmer (5) and demo (6) manage
    assert it.acl == {2: 30, 5: 50, 6: 50}
    assert it.agents == {1, 2, 3}  # admin (Admins group), elmer, demo
    assert sales.acl == {2: 30} and sales.agents == {1}


def test_go65_filters_limit_and_resume(mariadb: MariaDBServer, go65_db: str) -> None:
    with open_db(mariadb, go65_db) as db:
        assert [t.id for t in db.tickets(limit=1)] == [1]
        assert [t.id for t in db.tickets(after_id=1)] == [2]
        assert [t.id for t in db.tickets(after_id=2)] == []
        assert [t.id for t in db.tickets(type_ids=[2])] == []
        assert [t.id for t in db.tickets(type_ids=[1, 2], limit=5)] == [1, 2]
        assert db.count_tickets(type_ids=[2]) == 0 and db.count_tickets(after_id=1) == 1
        assert db.count_messages(type_ids=[1]) == 5


def test_tickets_by_id_without_messages_and_their_message_ids(
        mariadb: MariaDBServer, go65_copy: str) -> None:
    """What a rerun reads of tickets an earlier run migrated: the rows alone, and the ids of
    their messages (all of them, also past MariaDB's default GROUP_CONCAT length)."""
    with mariadb.connect(go65_copy) as conn, conn.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM ti_messages")
        first = int(cur.fetchone()[0]) + 1_000_000
        cur.executemany("INSERT INTO ti_messages (id, ticket_id, content, user_id, ctime, "
                        "mtime) VALUES (%s, 2, 'more', 0, 1, 1)",
                        [(first + k,) for k in range(300)])  # 2,400 bytes of ids
    with open_db(mariadb, go65_copy) as db:
        whole = {t.id: t for t in db.tickets()}
        light = list(db.tickets(messages=False))
        assert [t.id for t in light] == [1, 2] and all(not t.messages for t in light)
        assert [sorted(t.message_ids or ()) for t in light] == [
            sorted(m.id for m in whole[t].messages) for t in (1, 2)]
        assert all(t.message_ids is None for t in whole.values())
        assert [t.subject for t in light] == [whole[1].subject, whole[2].subject]
        assert [t.id for t in db.tickets(ids=[2])] == [2]
        assert list(db.tickets(ids=[])) == []
        ids = db.message_ids([1, 2, 99])
        assert sorted(ids[1]) == sorted(m.id for m in whole[1].messages)
        assert sorted(ids[2]) == sorted(m.id for m in whole[2].messages)
        assert len(ids[2]) >= 300 and ids[99] == []


def test_stopping_early_releases_the_streams(mariadb: MariaDBServer, go65_db: str) -> None:
    with open_db(mariadb, go65_db) as db:
        stream = db.tickets()
        assert next(stream).id == 1
        stream.close()
        assert [t.id for t in db.tickets()] == [1, 2]  # the session is still usable


# --------------------------------------------------------------------------------------
# Schema variants (synthetic data in each version's layout)


def make_variant(server: MariaDBServer, variant: str, spec: SyntheticSpec | None = None,
                 name: str | None = None) -> tuple[str, SyntheticCounts]:
    database = server.create_database(name or "v_" + re.sub(r"\W", "_", variant))
    spec = spec or SyntheticSpec(variant=variant)
    with server.connect(database) as conn:
        create_schema(conn, variant)
        counts = generate(conn, spec)
    return database, counts


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_schema_variant_is_read_completely(mariadb: MariaDBServer, variant: str,
                                                tmp_path: Path) -> None:
    spec = SyntheticSpec(tickets=60, messages_per_ticket=5, variant=variant, seed=7,
                         attachment_every=5, missing_file_every=12, deleted_type_every=10,
                         orphan_messages=2, storage=tmp_path)
    database, counts = make_variant(mariadb, variant, spec)
    with open_db(mariadb, database, tmp_path) as db:
        expected = {"6.5": "6.4+", "6.4-upgraded": "6.4-upgraded", "6.3": "6.3", "6.2": "6.2"}
        assert db.schema.variant == expected[variant]
        tickets = list(db.tickets())
        orphans = db.orphan_messages()
        assert len(db.users()) == 1 + spec.agents + spec.customers
        statuses = db.statuses()
    assert len(tickets) == counts.tickets == 60
    messages = [m for t in tickets for m in t.messages]
    kinds = [m.kind for m in messages]
    assert len(messages) == counts.messages
    assert kinds.count(MessageKind.NOTE) == counts.notes
    assert kinds.count(MessageKind.REQUESTER) == counts.requester_messages
    assert kinds.count(MessageKind.AGENT) == counts.agent_messages
    assert len(orphans) == counts.orphan_messages == 2
    files = [f for t in tickets for f in t.files]
    assert sum(f.exists for f in files) == counts.attachments
    assert sum(not f.exists for f in files) == counts.missing_files
    for f in files:
        if f.exists:
            assert f.path.read_bytes().startswith(b"attachment of ticket")
            assert f.path.is_relative_to(tmp_path / "tickets")
    # every message is in ticket order and belongs to its ticket
    for t in tickets:
        assert all(m.ticket_id == t.id for m in t.messages)
        assert [m.ctime for m in t.messages] == sorted(m.ctime for m in t.messages)
    # contacts resolve in every address-book generation; NULL ids read as 0
    with_contact = [t for t in tickets if t.contact_id]
    assert with_contact and all(t.contact is not None for t in with_contact)
    assert all(t.contact.email.endswith("@contacts.test")  # type: ignore[union-attr]
               for t in with_contact)
    assert all(t.company_id == 0 for t in tickets)
    # ti_statuses.type_id only exists from 6.4 on
    assert statuses[2].type_id == (None if variant in ("6.3", "6.2") else 1)
    assert all(not t.problems for t in tickets)
    assert all(not t.subject.startswith(" ") and "Ticket" in t.subject for t in tickets)


def test_upgraded_variant_really_has_nulls_and_text_attachments(mariadb: MariaDBServer) -> None:
    database, _ = make_variant(mariadb, "6.4-upgraded", name="v_upgraded_check")
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM ti_tickets WHERE contact_id IS NULL")
        assert cur.fetchone()[0] > 0
        cur.execute("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                    "AND TABLE_NAME = 'ti_messages' AND COLUMN_NAME = 'attachments'", (database,))
        assert cur.fetchone()[0] == "text"
        cur.execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                    "AND TABLE_NAME = 'ti_tickets' ORDER BY ORDINAL_POSITION DESC LIMIT 1",
                    (database,))
        assert cur.fetchone()[0] == "due_reminder_sent"


def test_streaming_memory_does_not_grow_with_the_database(mariadb: MariaDBServer) -> None:
    def peak(tickets: int) -> tuple[int, int]:
        database, _ = make_variant(mariadb, "6.5", SyntheticSpec(tickets=tickets, seed=3),
                                   name=f"mem_{tickets}")
        with open_db(mariadb, database) as db:
            db.users()
            db.types()
            tracemalloc.start()
            try:
                seen = sum(1 for _ in db.tickets())
                return seen, tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    small_count, small = peak(300)
    large_count, large = peak(3000)
    assert (small_count, large_count) == (300, 3000)
    # ten times the tickets, about the same memory (a buffered cursor would hold them all)
    assert large < small * 2 + 200_000, (small, large)


# --------------------------------------------------------------------------------------
# Bad input


def test_login_refused_names_user_and_host_but_not_the_password(
        mariadb: MariaDBServer, go65_db: str) -> None:
    wrong = "Wrong-Secret-99"
    settings = settings_for(mariadb, go65_db, password=wrong)
    with pytest.raises(LegacyDatabaseError) as exc:
        LegacyDatabase(settings, source="/etc/groupoffice/config.php").connect()
    message = str(exc.value)
    assert "refused the login of user 'gotest'" in message
    assert f"127.0.0.1:{mariadb.port}" in message and "/etc/groupoffice/config.php" in message
    assert wrong not in message and mariadb.password not in message


def test_unknown_database(mariadb: MariaDBServer) -> None:
    with pytest.raises(LegacyDatabaseError, match="database 'no_such_db' does not exist"):
        LegacyDatabase(settings_for(mariadb, "no_such_db")).connect()


def test_nothing_listening() -> None:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = DatabaseSettings("127.0.0.1", port, "x", "u", "pw")
    with pytest.raises(LegacyDatabaseError, match=f"cannot connect to the database at "
                                                  f"u@127.0.0.1:{port}/x"):
        LegacyDatabase(settings, connect_timeout=2).connect()


@pytest.mark.parametrize("table", ["ti_messages", "ti_tickets", "ti_types"])
def test_missing_table(mariadb: MariaDBServer, table: str) -> None:
    database, _ = make_variant(mariadb, "6.5", SyntheticSpec(tickets=3), name=f"miss_{table}")
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE {table}")
    with pytest.raises(LegacySchemaError, match=f"table {table} is missing from database "
                                                f"'{database}'"):
        open_db(mariadb, database)


def test_missing_column(mariadb: MariaDBServer) -> None:
    database, _ = make_variant(mariadb, "6.5", SyntheticSpec(tickets=3), name="miss_col")
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE ti_messages DROP COLUMN ticket_id")
    with pytest.raises(LegacySchemaError, match=r"column ti_messages\.ticket_id is missing"):
        open_db(mariadb, database)


def test_optional_tables_and_columns_may_be_absent(mariadb: MariaDBServer) -> None:
    database, counts = make_variant(mariadb, "6.5", SyntheticSpec(tickets=8),
                                    name="optional_gone")
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        for statement in ("DROP TABLE ti_statuses", "DROP TABLE fs_files",
                          "DROP TABLE addressbook_email_address",
                          "ALTER TABLE ti_tickets DROP COLUMN cc_addresses, DROP COLUMN due_date",
                          "ALTER TABLE ti_messages DROP COLUMN rate_hours"):
            cur.execute(statement)
    with open_db(mariadb, database) as db:
        tickets = list(db.tickets())
        assert db.statuses() == {}
    assert len(tickets) == 8 and sum(len(t.messages) for t in tickets) == counts.messages
    assert all(t.cc_addresses == "" and t.files == () for t in tickets)


def test_invalid_utf8_is_reported_not_a_crash(mariadb: MariaDBServer) -> None:
    database, _ = make_variant(mariadb, "6.5", SyntheticSpec(tickets=3), name="bad_utf8")
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        # a column declared binary (as old MyISAM installs had) holding Latin-1 and garbage
        cur.execute("ALTER TABLE ti_tickets MODIFY subject VARBINARY(255) NOT NULL")
        cur.execute("ALTER TABLE ti_messages MODIFY content BLOB")
        cur.execute("UPDATE ti_tickets SET subject = X'43616Ff6206d6569' WHERE id = 1")
        cur.execute("UPDATE ti_tickets SET subject = X'4F6B81' WHERE id = 2")
        cur.execute("UPDATE ti_messages SET content = X'48E4' WHERE ticket_id = 3 LIMIT 1")
    with open_db(mariadb, database) as db:
        one, two, three = db.tickets()
    assert one.subject == "Caoö mei"
    assert one.problems and "ticket 1: the subject is not valid UTF-8 (byte 0xf6" in one.problems[0]
    assert "read as Windows-1252" in one.problems[0]
    # 0x81 is undefined in Windows-1252: replacement character
    assert two.subject == "Ok\ufffd" and "replaced" in two.problems[0]
    bad = [m for m in three.messages if m.problems]
    assert len(bad) == 1 and bad[0].content == "Hä"
    assert "the text is not valid UTF-8" in bad[0].problems[0]


def test_messages_whose_ticket_is_gone_are_listed(mariadb: MariaDBServer) -> None:
    database, counts = make_variant(mariadb, "6.5", SyntheticSpec(tickets=4, orphan_messages=3),
                                    name="orphans")
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM ti_tickets WHERE id = 2")
        cur.execute("SELECT COUNT(*) FROM ti_messages WHERE ticket_id = 2")
        lost = cur.fetchone()[0]
    with open_db(mariadb, database) as db:
        orphans = db.orphan_messages()
        tickets = list(db.tickets())
        assert db.count_messages() == counts.messages - lost
    assert len(orphans) == 3 + lost and sum(1 for _, t in orphans if t == 2) == lost
    assert [t.id for t in tickets] == [1, 3, 4]


def test_attachment_missing_on_disk(mariadb: MariaDBServer, tmp_path: Path) -> None:
    spec = SyntheticSpec(tickets=4, attachment_every=1, storage=tmp_path)
    database, _ = make_variant(mariadb, "6.5", spec, name="att_missing")
    with open_db(mariadb, database, tmp_path) as db:
        before = [f for t in db.tickets() for f in t.files]
        assert len(before) == 4 and all(f.exists for f in before)
        before[1].path.unlink()
        after = [f for t in db.tickets() for f in t.files]
    assert [f.exists for f in after] == [True, False, True, True]
    assert after[1].path == before[1].path


def test_decode_text_passes_text_and_none() -> None:
    problems: list[str] = []
    assert decode_text(None, "x", problems) == "" and decode_text("é", "x", problems) == "é"
    assert decode_text("é".encode(), "x", problems) == "é" and problems == []


def test_go65_turned_into_an_upgraded_database(mariadb: MariaDBServer, go65_copy: str) -> None:
    """The real dump with the changes the 6.4 update list made (reference 1.12)."""
    with mariadb.connect(go65_copy) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE ti_tickets MODIFY contact_id int(11) NULL DEFAULT NULL, "
                    "MODIFY company_id int(11) NULL DEFAULT NULL, "
                    "MODIFY due_date int(11) NULL DEFAULT NULL AFTER last_contact_response_time, "
                    "MODIFY due_reminder_sent tinyint(1) NOT NULL DEFAULT 0 AFTER due_date")
        cur.execute("ALTER TABLE ti_messages MODIFY attachments text "
                    "COLLATE utf8mb4_general_ci NULL")
        cur.execute("UPDATE ti_tickets SET contact_id = NULL, company_id = NULL WHERE id = 2")
        cur.execute("UPDATE ti_messages SET attachments = NULL WHERE id = 5")
        cur.execute("CREATE TABLE go_links_ti_tickets (id int NOT NULL, model_id int NOT NULL, "
                    "PRIMARY KEY (id, model_id))")
    with open_db(mariadb, go65_copy) as db:
        assert db.schema.variant == "6.4-upgraded"
        first, second = db.tickets()
    assert first.contact is not None and first.contact_id == 4
    assert (second.contact, second.contact_id, second.company_id) == (None, 0, 0)
    assert second.messages[1].attachments_field == ""
    assert [m.id for m in first.messages + second.messages] == [1, 2, 3, 4, 5]


def test_go65_turned_into_a_63_database(mariadb: MariaDBServer, go65_copy: str) -> None:
    with mariadb.connect(go65_copy) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE ti_statuses DROP COLUMN type_id")
        cur.execute("RENAME TABLE ti_tickets_custom_fields TO cf_ti_tickets")
    with open_db(mariadb, go65_copy) as db:
        assert db.schema.variant == "6.3"
        assert [s.type_id for s in db.statuses().values()] == [None, None]
        assert [len(t.messages) for t in db.tickets()] == [3, 2]


def test_from_config_php(mariadb: MariaDBServer, go65_db: str, tmp_path: Path) -> None:
    """config.php -> database, as `go-support migrate -c=...` will do it."""
    from go_support.legacy.config import load_config

    def config(password: str) -> Path:
        path = tmp_path / "config.php"
        path.write_text(
            "<?php\n$config['db_host'] = '127.0.0.1';\n"
            f"$config['db_port'] = {mariadb.port};\n$config['db_name'] = '{go65_db}';\n"
            f"$config['db_user'] = '{mariadb.user}';\n$config['db_pass'] = '{password}';\n"
            f"$config['file_storage_path'] = '{tmp_path}/files/';\n")
        return path

    cfg = load_config(config(mariadb.password), global_path=None)
    with LegacyDatabase.from_config(cfg) as db:
        assert db.file_storage_path == tmp_path / "files"
        assert [t.id for t in db.tickets()] == [1, 2]
    cfg = load_config(config("wrong-one"), global_path=None)
    with pytest.raises(LegacyDatabaseError) as exc:
        LegacyDatabase.from_config(cfg).connect()
    assert f"(from {tmp_path / 'config.php'})" in str(exc.value)
    assert "wrong-one" not in str(exc.value)


def test_db_socket_is_used_instead_of_host_and_port(mariadb: MariaDBServer,
                                                    go65_db: str) -> None:
    settings = DatabaseSettings("no-such-host.invalid", 1, go65_db, mariadb.user,
                                mariadb.password, socket=str(mariadb.socket_path))
    with LegacyDatabase(settings) as db:
        assert db.count_tickets() == 2
