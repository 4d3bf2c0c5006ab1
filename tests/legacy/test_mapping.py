"""Mapping legacy records to desk values: pure unit tests, and the go65 demo end to end."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from go_support.desk.models import Person, Status
from go_support.legacy.mapping import (
    DELETED_TYPE_NAME,
    MappedTicket,
    UnknownLegacyType,
    assign_files,
    attributed_html,
    map_priority,
    map_status,
    map_ticket,
    map_types,
    select_types,
    text_to_html,
)
from go_support.legacy.reader import (
    LegacyAttachment,
    LegacyContact,
    LegacyDatabase,
    LegacyMessage,
    LegacyStatus,
    LegacyTicket,
    LegacyType,
    LegacyUser,
    MessageKind,
)
from tests.legacy.conftest import settings_for
from tests.mariadb import MariaDBServer

T0 = 1_641_205_614  # 2022-01-03 10:26:54 UTC

USERS = {
    1: LegacyUser(1, "admin", "System Administrator", "admin@example.test", True),
    2: LegacyUser(2, "elmer", "Elmer Fudd", "elmer@example.test", True),
    3: LegacyUser(3, "demo", "Demo User", "demo@example.test", True),
    4: LegacyUser(4, "linda", "Linda Smith", "linda@customer.test", True),
    5: LegacyUser(5, "gone", "Old Agent", "old@example.test", False),
}
IT = LegacyType(1, "IT", "Hardware and software", 79, {2: 30, 5: 50, 6: 50, 9: 10},
                frozenset({1, 2, 3, 5}))
SALES = LegacyType(2, "Sales", None, 81, {2: 30}, frozenset({1}))
TYPES = {1: IT, 2: SALES}
STATUSES = {1: LegacyStatus(1, "In progress"), 2: LegacyStatus(2, "Not resolved", 1)}


def message(id: int, kind: MessageKind = MessageKind.REQUESTER, user_id: int = 0,
            content: str = "Hello", ctime: int = T0, **kw: object) -> LegacyMessage:
    return LegacyMessage(id=id, ticket_id=1, content=content, kind=kind, user_id=user_id,
                         ctime=ctime, mtime=ctime, **kw)  # type: ignore[arg-type]


def ticket(**kw: object) -> LegacyTicket:
    base = LegacyTicket(
        id=1, number="202200001", subject="Malfunctioning rockets", priority=1, status_id=0,
        type_id=1, user_id=1, agent_id=0, contact_id=4, company_id=3,
        company="ACME Corporation", first_name="Wile", middle_name="E.", last_name="Coyote",
        email="wile@smith.demo", phone="+31 10 1234567", cc_addresses="", ctime=T0,
        mtime=T0 + 3600, cuser_id=1,
        contact=LegacyContact(4, "Wile E. Coyote", "wile@smith.demo"),
        messages=(message(1),))
    return replace(base, **kw)  # type: ignore[arg-type]


def mapped(t: LegacyTicket) -> MappedTicket:
    return map_ticket(t, map_types(TYPES.values()), TYPES, STATUSES, USERS)


# --------------------------------------------------------------------------------------
# Types


def test_types_keep_agents_as_acl_and_creators_as_customers() -> None:
    types = map_types(TYPES.values())
    it = types[1]
    assert it.name == "IT" and it.description == "Hardware and software"
    assert dict(it.acl) == {"5": 50, "6": 50}
    assert it.customer_groups == ("2", "9")
    assert types[2].acl == {} and types[2].customer_groups == ("2",)
    assert types[None].name == DELETED_TYPE_NAME and types[None].acl == {}


def test_type_names_are_unique_and_never_empty() -> None:
    types = map_types([LegacyType(1, "Support", None, 1), LegacyType(2, " support ", None, 2),
                       LegacyType(3, None, None, 3), LegacyType(4, "  ", None, 4),
                       LegacyType(5, DELETED_TYPE_NAME, None, 5)])
    assert [types[i].name for i in range(1, 6)] == [
        "Support", "support (legacy type 2)", "Ticket type 3", "Ticket type 4",
        f"{DELETED_TYPE_NAME} (legacy type 5)"]


def test_select_types_by_id_or_name() -> None:
    assert select_types(TYPES, ["it", "2", "IT"]) == [1, 2]
    with pytest.raises(UnknownLegacyType, match=r"no legacy ticket type 'Billing'.*1 'IT'"):
        select_types(TYPES, ["Billing"])
    with pytest.raises(UnknownLegacyType):
        select_types(TYPES, ["7"])


# --------------------------------------------------------------------------------------
# Statuses, priorities, text


@pytest.mark.parametrize(("status_id", "status", "category"), [
    (0, Status.NEEDS_ACTION, None),
    (-1, Status.COMPLETED, None),
    (-5, Status.COMPLETED, None),
    (1, Status.IN_PROGRESS, "In progress"),
    (2, Status.IN_PROGRESS, "Not resolved"),
    (9, Status.IN_PROGRESS, "Status 9"),
])
def test_status(status_id: int, status: Status, category: str | None) -> None:
    got = map_status(status_id, STATUSES)
    assert (got.status, got.category) == (status, category)


def test_priority() -> None:
    assert [map_priority(p) for p in (0, 1, 2, 7)] == [9, 0, 1, 0]


def test_text_to_html() -> None:
    assert text_to_html("a <b> & c\r\nnext\n\n\nnew para ") == (
        "<p>a &lt;b&gt; &amp; c<br>next</p><p>new para</p>")
    assert text_to_html(" \n ") == ""


# --------------------------------------------------------------------------------------
# Tickets


def test_go65_like_ticket() -> None:
    t = mapped(ticket(status_id=2, priority=2))
    assert t.legacy_id == "1" and t.number == "202200001"
    assert t.type.name == "IT" and t.subject == "Malfunctioning rockets"
    assert t.status is Status.IN_PROGRESS and t.categories == ("Not resolved",)
    assert t.priority == 1 and t.agent is None
    # the account (admin) is an agent of IT, so it opened the ticket for the contact
    assert t.requester.kind == "contact" and t.requester.contact_id == 4
    assert t.requester.person == Person(None, "wile@smith.demo", "Wile E. Coyote")
    assert t.created_at == datetime(2022, 1, 3, 10, 26, 54, tzinfo=UTC)
    assert t.modified_at == datetime(2022, 1, 3, 11, 26, 54, tzinfo=UTC)
    assert t.start == date(2022, 1, 3) and t.due is None
    note = t.origin_note
    assert "ticket #202200001 (legacy id 1)" in note
    assert "Created: 2022-01-03 10:26 UTC" in note and "Last modified: 2022-01-03 11:26 UTC" in note
    assert "Status: Not resolved" in note and "Company: ACME Corporation" in note
    assert "Wile E. Coyote &lt;wile@smith.demo&gt;" in note
    assert t.problems == ()


def test_requester_is_the_customer_account_when_it_is_no_agent() -> None:
    t = mapped(ticket(user_id=4, contact_id=0, contact=None, first_name="", middle_name="",
                      last_name="", email=""))
    assert t.requester.kind == "user"
    assert t.requester.person == Person("4", "linda@customer.test", "Linda Smith")


def test_requester_contact_with_an_account_is_that_user() -> None:
    t = mapped(ticket(contact=LegacyContact(4, "Linda S.", "l@x.test", user_id=4)))
    assert t.requester.kind == "user" and t.requester.person.id == "4"
    assert t.requester.contact_id == 4


def test_requester_address_typed_on_the_ticket() -> None:
    t = mapped(ticket(contact_id=0, contact=None, email="anon@example.org", first_name="Ann",
                      middle_name="", last_name="Onym"))
    assert t.requester.kind == "address"
    assert t.requester.person == Person(None, "anon@example.org", "Ann Onym")


def test_no_requester_at_all_falls_back_to_the_account_with_a_problem() -> None:
    t = mapped(ticket(contact_id=0, contact=None, email="", first_name="", middle_name="",
                      last_name=""))
    assert t.requester.person.id == "1"
    assert "no requester address" in t.problems[0]


@pytest.mark.parametrize(("agent_id", "expected", "problem"), [
    (2, Person("2", "elmer@example.test", "Elmer Fudd"), None),
    (5, None, "its agent 'gone' is disabled"),
    (42, None, "its agent (user 42) no longer exists"),
    (4, None, "'linda' is no longer an agent of type 'IT'"),
])
def test_agent(agent_id: int, expected: Person | None, problem: str | None) -> None:
    t = mapped(ticket(agent_id=agent_id))
    assert t.agent == expected
    problems = t.problems
    assert (problem is None and problems == ()) or (problem is not None and problem in problems[0])


def test_deleted_type_goes_to_the_fallback_type() -> None:
    t = mapped(ticket(type_id=77, agent_id=2))
    assert t.type.name == DELETED_TYPE_NAME and t.type.legacy_id is None
    assert "its type 77 was deleted" in t.problems[0]
    assert t.agent is None and "it is migrated unassigned" in t.problems[1]


def test_deleted_custom_status_is_kept_as_a_category() -> None:
    t = mapped(ticket(status_id=9))
    assert t.categories == ("Status 9",) and "its status 9 was deleted" in t.problems[0]


def test_subject_blank_or_too_long() -> None:
    assert mapped(ticket(subject="  ")).subject == "(no subject) #202200001"
    assert mapped(ticket(subject="", number=None)).subject == "(no subject)"
    long = mapped(ticket(subject="x" * 300))
    assert len(long.subject) == 255 and long.subject.endswith("…")
    assert "cut to 255" in long.problems[0]
    assert mapped(ticket(subject=" a \t b\n")).subject == "a b"


def test_reader_problems_are_carried() -> None:
    t = mapped(ticket(problems=("ticket 1: the subject is not valid UTF-8",)))
    assert t.problems == ("ticket 1: the subject is not valid UTF-8",)


def test_cc_due_and_time_booked() -> None:
    t = mapped(ticket(cc_addresses="a@x.test, b@y.test;c@z.test", due_date=T0 + 86400,
                      messages=(message(1), message(2, MessageKind.AGENT, 2, rate_hours=1.5),
                                message(3, MessageKind.AGENT, 2, rate_hours=0.25))))
    assert t.cc == ("a@x.test", "b@y.test", "c@z.test") and t.due == date(2022, 1, 4)
    assert "Time booked: 1.75 h" in t.origin_note and "CC: a@x.test" in t.origin_note


# --------------------------------------------------------------------------------------
# Messages


def test_message_kinds() -> None:
    t = mapped(ticket(messages=(
        message(1, content="Help"),
        message(2, MessageKind.NOTE, 2, "internal <secret>", T0 + 60),
        message(3, MessageKind.AGENT, 2, "Fixed.", T0 + 120, has_status=True, status_id=-1),
    )))
    first, note, answer = t.messages
    assert (first.private, first.from_requester, first.mail_status) == (False, True, "received")
    assert first.author == Person(None, "wile@smith.demo", "Wile E. Coyote")
    assert first.html == "<p>Help</p>" and first.date == datetime.fromtimestamp(T0, UTC)
    assert (note.private, note.from_requester, note.mail_status) == (True, False, None)
    assert note.html == "<p>internal &lt;secret&gt;</p>"
    assert note.author == Person("2", "elmer@example.test", "Elmer Fudd")
    assert (answer.private, answer.from_requester, answer.mail_status) == (False, False, "sent")
    assert answer.html == "<p>Fixed.</p><p><em>Status set to Closed.</em></p>"
    assert answer.status_change is Status.COMPLETED
    assert answer.date == datetime.fromtimestamp(T0 + 120, UTC)
    assert len({m.message_id for m in t.messages}) == 3
    assert first.message_id == "<legacy-ticket-1-message-1@tickets.migrated>"


def test_bare_status_change_and_empty_message_become_private_notes() -> None:
    t = mapped(ticket(messages=(
        message(1),
        message(2, MessageKind.AGENT, 2, "", has_status=True, status_id=1),
        message(3, MessageKind.REQUESTER, 0, "   "),
    )))
    _, change, empty = t.messages
    assert change.private and change.html == "<p><em>Status set to In progress.</em></p>"
    assert empty.private and "empty message" in empty.html and not empty.from_requester


def test_message_without_date_takes_the_tickets() -> None:
    t = mapped(ticket(messages=(message(1, ctime=0),)))
    assert t.messages[0].date == datetime.fromtimestamp(T0, UTC)


def test_deleted_author_is_named() -> None:
    t = mapped(ticket(messages=(message(1), message(2, MessageKind.AGENT, 99, "Hi"))))
    answer = t.messages[1]
    assert answer.author == Person("99", None, "user 99 (deleted)")
    assert attributed_html(answer).startswith(
        "<p><em>Written by user 99 (deleted) in the Tickets module.</em></p>")
    assert attributed_html(t.messages[0]) == t.messages[0].html


def file(fid: int, name: str, ctime: int = T0, exists: bool = True) -> LegacyAttachment:
    return LegacyAttachment(fid, name, 10, ctime, ctime, Path("/data/tickets") / name, exists)


def test_files_go_to_the_message_that_names_them_else_by_time() -> None:
    messages = (message(1, ctime=T0), message(2, MessageKind.AGENT, 2, ctime=T0 + 100,
                                              attachments_field="report.pdf,log.txt"),
                message(3, ctime=T0 + 200, attachments_field="[17]"),
                message(4, ctime=T0 + 300))
    files = [file(5, "log.txt", T0 + 999), file(17, "photo.jpg"), file(8, "late.png", T0 + 250),
             file(9, "early.png", T0 - 50)]
    got = assign_files(messages, files)
    assert {m: [f.name for f in fs] for m, fs in got.items()} == {
        2: ["log.txt"], 3: ["photo.jpg", "late.png"], 1: ["early.png"]}
    assert assign_files((), files) == {}


def test_missing_attachment_is_reported_on_its_message() -> None:
    t = mapped(ticket(messages=(message(1, attachments_field="a.txt b.txt"),),
                      files=(file(1, "a.txt"), file(2, "b.txt", exists=False))))
    first = t.messages[0]
    assert [a.name for a in first.attachments] == ["a.txt"]
    assert first.attachments[0].path == Path("/data/tickets/a.txt")
    assert "[Attachment b.txt was missing when this ticket was migrated.]" in first.html
    assert any("attachment 'b.txt' (file 2) is missing on disk at /data/tickets/b.txt" in p
               for p in t.problems)


def test_files_without_messages_are_reported() -> None:
    t = mapped(ticket(messages=(), files=(file(1, "a.txt"),)))
    assert "no message to attach them to" in t.problems[0]


# --------------------------------------------------------------------------------------
# The real demo data


def test_go65_demo_maps(mariadb: MariaDBServer, go65_db: str) -> None:
    with LegacyDatabase(settings_for(mariadb, go65_db)) as db:
        legacy_types, statuses, users = db.types(), db.statuses(), db.users()
        types = map_types(legacy_types.values())
        tickets = [map_ticket(t, types, legacy_types, statuses, users) for t in db.tickets()]
    closed, open_ = tickets
    assert (closed.status, open_.status) == (Status.COMPLETED, Status.NEEDS_ACTION)
    assert closed.type.name == "IT" and dict(closed.type.acl) == {"5": 50, "6": 50}
    assert closed.requester.kind == "contact"
    assert [(m.private, m.mail_status) for m in closed.messages] == [
        (False, "received"), (True, None), (False, "sent")]
    assert closed.messages[2].author == Person("2", "elmer@acmerpp.demo", "Elmer Fudd")
    assert [m.mail_status for m in open_.messages] == ["received", "received"]
    assert open_.created_at == datetime.fromtimestamp(1641032814, UTC)
    assert all(not t.problems for t in tickets)


@pytest.mark.parametrize("variant", ["6.5", "6.2"])
def test_generated_database_maps_with_every_count_accounted_for(
        mariadb: MariaDBServer, tmp_path: Path, variant: str) -> None:
    from go_support.legacy.synthetic import SyntheticSpec, create_schema, generate

    spec = SyntheticSpec(tickets=80, variant=variant, seed=11, attachment_every=4,
                         missing_file_every=9, deleted_type_every=10, storage=tmp_path)
    database = mariadb.create_database(f"map_{variant.replace('.', '_')}")
    with mariadb.connect(database) as conn:
        create_schema(conn, variant)
        counts = generate(conn, spec)
    with LegacyDatabase(settings_for(mariadb, database), file_storage_path=tmp_path) as db:
        legacy_types, statuses, users = db.types(), db.statuses(), db.users()
        per_type = db.count_tickets_per_type()
        types = map_types(legacy_types.values())
        tickets = [map_ticket(t, types, legacy_types, statuses, users) for t in db.tickets()]
    assert per_type == dict(counts.per_type)
    messages = [m for t in tickets for m in t.messages]
    assert len(tickets) == counts.tickets and len(messages) == counts.messages
    assert sum(m.private for m in messages) == counts.notes
    assert sum(m.mail_status == "received" for m in messages) == counts.requester_messages
    assert sum(m.mail_status == "sent" for m in messages) == counts.agent_messages
    assert sum(len(m.attachments) for m in messages) == counts.attachments
    assert all(a.path.is_file() for m in messages for a in m.attachments)
    missing = [p for t in tickets for p in t.problems if "is missing on disk" in p]
    assert len(missing) == counts.missing_files
    deleted = [t for t in tickets if t.type.legacy_id is None]
    assert len(deleted) == spec.tickets // spec.deleted_type_every
    assert all(t.type.name == DELETED_TYPE_NAME for t in deleted)
    assert {t.status for t in tickets} == set(Status) - {Status.FAILED, Status.CANCELLED}
    assert {c for t in tickets for c in t.categories} == {"In progress", "Waiting for customer"}
    # customers with an account are users; tickets opened by agents keep the contact
    assert {t.requester.kind for t in tickets} == {"user", "contact"}
    assert all(t.requester.person.email for t in tickets)
