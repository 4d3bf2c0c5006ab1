"""Every desk write survives Group-Office's transient write failures, and never doubles.

Two kinds of injected failure, both over real HTTP against the emulator:

* the emulator's deadlock injection (``Emulator(fail_writes=...)``): a ``/set`` call answers
  ``dbException`` and keeps nothing, calls referring to it fail;
* :class:`PartialDeadlock`, a transport between client and emulator that reproduces what a real
  Group-Office does when a call of many objects deadlocks part-way: each object is saved in its
  own transaction, so the objects before the one that lost stay created while the call
  answers ``dbException`` (the Comment/set finding of the load test on Group-Office 26.0.42).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from go_support.desk import (
    DeskConfig,
    RolledBack,
    Status,
    SupportDesk,
    TicketDraft,
    TicketType,
    WriteRetry,
)
from go_support.desk.attribution import without_attribution
from go_support.desk.ticket_creation import CreatedTicket
from go_support.emulator import Emulator
from go_support.jmap import Batch, DbException, GroupOfficeClient
from go_support.jmap.transport import HttpResponse, RequestsTransport
from tests.desk.conftest import install_layout
from tests.jmap.conftest import FAST_RETRY

REQUESTER = "Ann Example <ann.transient@example.com>"


def no_sleep(seconds: float) -> None:
    """Backoffs are not waited for in tests (their bounds: test_backoff_is_bounded_jitter)."""


PATIENT = WriteRetry(max_attempts=40, sleep=no_sleep)


@dataclass
class Site:
    """An emulator with the desk installed, one ticket type, and a desk whose writes retry."""

    emulator: Emulator
    url: str
    token: str
    admin: GroupOfficeClient
    desk: SupportDesk
    type: TicketType
    tag: str
    clients: list[GroupOfficeClient] = field(default_factory=list)

    def fail(self, fraction: float) -> None:
        """From now on, ``fraction`` of the ``/set`` calls deadlock."""
        self.emulator.faults.fraction = fraction

    def desk_with(self, transport: Any = None, retry: WriteRetry = PATIENT) -> SupportDesk:
        client = GroupOfficeClient(self.url, api_key=self.token, retry=FAST_RETRY,
                                   transport=transport)
        self.clients.append(client)
        return SupportDesk(client, DeskConfig(feedback="public", feedback_text="Closed."),
                           write_retry=retry)

    def tickets(self, type_id: str | None = None) -> list[dict[str, Any]]:
        """The tasks of the type, with their comments (``comments``), as the admin reads them."""
        batch = Batch()
        query = batch.call("Task/query", {"filter": {"tasklistId": [type_id or self.type.id]}})
        tasks = batch.call("Task/get", {"#ids": query.ref("/ids"), "properties": [
            "id", "title", "progress", "responsibleUserId", "customFields"]})
        found = self.admin.execute(batch).get(tasks)["list"]
        if not found:
            return []
        batch = Batch()
        query = batch.call("Comment/query", {"filter": {
            "entity": "Task", "entityId": [str(t["id"]) for t in found]}})
        comments = batch.call("Comment/get", {"#ids": query.ref("/ids"),
                                              "properties": ["id", "entityId", "text",
                                                             "mailStatus"]})
        by_task: dict[str, list[str]] = {}
        for c in self.admin.execute(batch).get(comments)["list"]:
            # the texts as written: the web client's attribution line taken off (it is checked
            # in test_attribution.py)
            text = without_attribution(str(c["text"]), c.get("mailStatus"))
            by_task.setdefault(str(c["entityId"]), []).append(text)
        return [{**t, "comments": by_task.get(str(t["id"]), [])} for t in found]


@pytest.fixture
def site() -> Iterator[Site]:
    emu = Emulator(fail_seed=11)
    server = emu.start()
    try:
        admin = GroupOfficeClient(server.base_url, api_key=server.admin_api_key,
                                  retry=FAST_RETRY)
        install_layout(admin)
        tag = f"gs-tr-{uuid.uuid4().hex[:6]}"
        client = GroupOfficeClient(server.base_url, api_key=server.admin_api_key,
                                   retry=FAST_RETRY)
        desk = SupportDesk(client, DeskConfig(), write_retry=PATIENT)
        built = Site(emu, server.base_url, server.admin_api_key, admin, desk,
                     desk.types.create(f"{tag} Hardware"), tag, [client])
        built.desk = built.desk_with()
        yield built
        for client in [admin, *built.clients]:
            client.close()
    finally:
        emu.stop()


def _texts(ticket: Mapping[str, Any]) -> list[str]:
    return sorted(ticket["comments"])


# --- injected deadlocks: every write ends as asked, nothing doubled -----------------------------


def test_create_and_messages_survive_deadlocks(site: Site) -> None:
    site.fail(0.3)
    desk = site.desk
    made = [desk.tickets.create(site.type, f"Printer {n}", f"<p>Paper jam {n}</p>", REQUESTER)
            for n in range(8)]
    for n, ticket in enumerate(made):
        desk.messages.reply(ticket, f"<p>Answer {n}</p>")
        desk.messages.note(ticket, f"<p>Note {n}</p>")
    site.fail(0.0)
    assert site.emulator.faults.injected >= 5 and desk.retries >= 5
    found = {t["title"]: t for t in site.tickets()}
    assert sorted(found) == sorted(f"Printer {n}" for n in range(8))
    for n in range(8):
        ticket = found[f"Printer {n}"]
        assert _texts(ticket) == sorted([f"<p>Paper jam {n}</p>", f"<p>Answer {n}</p>",
                                         f"<p>Note {n}</p>"])
        assert ticket["progress"] == Status.IN_PROGRESS.value


def test_state_changes_survive_deadlocks(site: Site) -> None:
    desk = site.desk
    made = [desk.tickets.create(site.type, f"Screen {n}", "<p>Flicker</p>", REQUESTER)
            for n in range(6)]
    me = site.admin.user_id
    site.fail(0.35)
    for ticket in made[:2]:
        assert desk.tickets.assign(ticket, "me").agent is not None
    for ticket in made[2:4]:
        assert desk.tickets.set_status(ticket, "in-progress").status is Status.IN_PROGRESS
    for ticket in made[4:]:
        assert desk.tickets.close(ticket).status is Status.COMPLETED
    site.fail(0.0)
    assert desk.retries >= 3
    found = {t["title"]: t for t in site.tickets()}
    assert [str(found[f"Screen {n}"]["responsibleUserId"]) for n in range(2)] == [str(me)] * 2
    assert [found[f"Screen {n}"]["progress"] for n in range(2, 4)] == ["in-progress"] * 2
    for n in range(4, 6):
        closed = found[f"Screen {n}"]
        assert closed["progress"] == "completed"
        assert _texts(closed) == sorted(["<p>Flicker</p>", "Closed."])


def test_create_many_survives_deadlocks(site: Site) -> None:
    site.fail(0.5)
    drafts = [TicketDraft(site.type, f"Bulk {n}", f"<p>Mail {n}</p>", REQUESTER,
                          legacy_id=f"L{n}", status="in-progress" if n % 3 == 0 else None)
              for n in range(30)]
    results = site.desk.tickets.create_many(drafts)
    site.fail(0.0)
    assert all(isinstance(r, CreatedTicket) for r in results)
    assert site.desk.retries >= 1
    found = site.tickets()
    assert sorted(t["title"] for t in found) == sorted(f"Bulk {n}" for n in range(30))
    for ticket in found:
        n = int(ticket["title"].split()[1])
        assert ticket["comments"] == [f"<p>Mail {n}</p>"]
        assert ticket["progress"] == ("in-progress" if n % 3 == 0 else "needs-action")


def test_types_and_categories_survive_deadlocks(site: Site) -> None:
    desk = site.desk
    site.fail(0.5)
    made = [desk.types.create(f"{site.tag} T{n}", agents=[]) for n in range(4)]
    renamed = desk.types.rename(made[0], f"{site.tag} T0 renamed")
    archived = desk.types.archive(made[1])
    desk.types.archive(made[3])
    restored = desk.types.restore(made[3])
    categories = [desk.categories.create(f"{site.tag} C{n}", made[2]) for n in range(3)]
    global_category = desk.categories.create(f"{site.tag} global")
    site.fail(0.0)
    assert desk.retries >= 2
    lists = site.admin.task_lists.query_get({}, properties=["id", "name"]).objects
    ours = sorted(str(o["name"]) for o in lists if site.tag in str(o["name"]))
    assert ours == sorted([f"{site.tag} Hardware", f"{site.tag} T0 renamed",
                           *(f"{site.tag} T{n}" for n in (1, 2, 3))])
    assert renamed.name == f"{site.tag} T0 renamed" and archived.archived
    assert not restored.archived and not desk.types.get(made[3].id).archived
    cats = site.admin.task_categories.query_get({}, properties=["id", "name"]).objects
    assert sorted(str(c["name"]) for c in cats if site.tag in str(c["name"])) == sorted(
        [f"{site.tag} C{n}" for n in range(3)] + [f"{site.tag} global"])
    assert {c.type_id for c in categories} == {made[2].id} and global_category.type_id is None


# --- a failure that persists ends in the error of a single try ---------------------------------


def test_persistent_failure_ends_in_the_clear_error(site: Site) -> None:
    ticket = site.desk.tickets.create(site.type, "Stuck", "<p>Help</p>", REQUESTER)
    tries = WriteRetry(max_attempts=3, sleep=no_sleep)
    desk = site.desk_with(retry=tries)
    site.fail(1.0)
    with pytest.raises(DbException, match="Database exception"):
        desk.tickets.create(site.type, "Never", "<p>Nope</p>", REQUESTER)
    with pytest.raises(DbException, match="Database exception"):
        desk.messages.reply(ticket, "<p>Never</p>")
    with pytest.raises(DbException, match="Database exception"):
        desk.tickets.close(ticket)
    with pytest.raises(DbException, match="Database exception"):
        desk.categories.create(f"{site.tag} never")
    site.fail(0.0)
    assert desk.retries == 4 * (tries.max_attempts - 1)
    (left,) = site.tickets()
    assert left["title"] == "Stuck" and left["comments"] == ["<p>Help</p>"]
    assert left["progress"] == "needs-action"


def test_retries_are_bounded_in_time(site: Site) -> None:
    waited: list[float] = []
    tries = WriteRetry(max_attempts=100, max_total_seconds=1.0, initial_backoff=0.4,
                       max_backoff=0.4, sleep=waited.append)
    desk = site.desk_with(retry=tries)
    site.fail(1.0)
    with pytest.raises(DbException):
        desk.tickets.create(site.type, "Never", "<p>Nope</p>", REQUESTER)
    site.fail(0.0)
    assert 0 < len(waited) < 100 and sum(waited) <= 1.0
    assert all(0.0 <= w <= 0.4 for w in waited)


def test_backoff_is_bounded_jitter() -> None:
    policy = WriteRetry(initial_backoff=0.1, max_backoff=0.5)
    pauses = {n: [policy.pause(n) for _ in range(200)] for n in (1, 2, 3, 10)}
    assert all(0.0 <= p <= 0.1 for p in pauses[1]) and max(pauses[1]) > 0.05
    assert all(0.0 <= p <= 0.2 for p in pauses[2]) and max(pauses[2]) > 0.1
    assert all(0.0 <= p <= 0.5 for p in pauses[10]) and max(pauses[10]) > 0.4
    assert len(set(pauses[3])) > 100  # jitter: writers that failed together spread out


@pytest.mark.parametrize(("values", "named"), [
    ({"max_attempts": 0}, "max_attempts must be at least 1, got 0"),
    ({"max_total_seconds": 0}, "max_total_seconds must be positive, got 0"),
])
def test_a_bad_policy_is_refused_naming_the_value(values: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        WriteRetry(**values)


def test_an_unknown_outcome_is_never_resent(site: Site) -> None:
    """A write whose answer was lost may have been executed: it propagates, nothing is
    resent (the client's rule)."""
    from go_support.jmap import OutcomeUnknownError

    transport = LostAnswer()
    desk = site.desk_with(transport)
    ticket = site.desk.tickets.create(site.type, "Lost", "<p>First</p>", REQUESTER)
    transport.armed = True
    with pytest.raises(OutcomeUnknownError):
        desk.messages.reply(ticket, "<p>Maybe</p>")
    assert transport.writes == 1 and desk.retries == 0
    (found,) = site.tickets()
    assert _texts(found) == sorted(["<p>First</p>", "<p>Maybe</p>"])


@dataclass
class LostAnswer:
    """A transport that, once armed, lets the next write request through and then answers
    HTTP 502 (a proxy that lost Group-Office's answer): the outcome is unknown."""

    inner: RequestsTransport = field(default_factory=RequestsTransport)
    armed: bool = False
    writes: int = 0

    def send(self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None,
             timeout: float) -> HttpResponse:
        answer = self.inner.send(method, url, headers=headers, body=body, timeout=timeout)
        if self.armed and body and b"/set" in body:
            self.writes += 1
            return HttpResponse(502, "Bad Gateway", {}, b"")
        return answer


# --- what a real Group-Office leaves after a deadlock part-way through a call ---------------


@dataclass
class PartialDeadlock:
    """A transport that makes the first ``times`` ``method`` calls creating at least ``keep``
    objects deadlock after their first ``keep`` objects were saved: Group-Office saves each
    object in its own transaction, so those stay, while the call answers ``dbException`` (or
    ``error``) and the calls referring to it fail. ``keep=0``: the call writes nothing."""

    method: str
    keep: int
    times: int = 1
    inner: RequestsTransport = field(default_factory=RequestsTransport)
    struck: int = 0
    error: tuple[str, str] = ("dbException", "Database exception. Check server logs for "
                              "details.")

    def _targets(self, calls: list[Any]) -> list[str]:
        found = []
        for call in calls:
            if (self.struck < self.times and call[0] == self.method
                    and len(call[1].get("create") or {}) >= self.keep):
                self.struck += 1
                found.append(call[2])
        return found

    def send(self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None,
             timeout: float) -> HttpResponse:
        calls = json.loads(body) if body and "jmap.php" in url else None
        targets = [] if calls is None else self._targets(calls)
        if calls is None or not targets:
            return self.inner.send(method, url, headers=headers, body=body, timeout=timeout)
        poisoned = set(targets)
        forwarded = []
        for call in calls:
            if call[2] in targets:
                kept = dict(list((call[1].get("create") or {}).items())[:self.keep])
                if kept:
                    forwarded.append([call[0], {**call[1], "create": kept}, call[2]])
            elif any(f'"resultOf": "{p}"' in json.dumps(call[1]) for p in poisoned):
                poisoned.add(call[2])
            else:
                forwarded.append(call)
        answer = self.inner.send(method, url, headers=headers,
                                 body=json.dumps(forwarded).encode(), timeout=timeout)
        answered = {a[2]: a for a in json.loads(answer.content)}
        out = []
        for call in calls:
            if call[2] in targets:
                out.append(["error", {"message": self.error[1], "type": self.error[0]},
                            call[2]])
            elif call[2] in poisoned:
                out.append(["error", {"message": f"Could not resolve path part for {call[2]}",
                                      "type": "invalidResultReference"}, call[2]])
            else:
                out.append(answered[call[2]])
        return HttpResponse(answer.status, answer.reason, dict(answer.headers),
                            json.dumps(out).encode())


def test_a_state_that_cannot_be_written_undoes_the_message_despite_deadlocks(
        site: Site) -> None:
    """The reply went in, its state change deadlocks on every attempt: the message is
    removed again (RolledBack), the undoing itself tried again through its own deadlock."""
    ticket = site.desk.tickets.create(site.type, "Stubborn", "<p>First</p>", REQUESTER)
    transport = PartialDeadlock("Task/set", keep=0, times=5)
    desk = site.desk_with(transport, WriteRetry(max_attempts=2, sleep=no_sleep))
    with pytest.raises(RolledBack, match="the message was removed again") as caught:
        desk.messages.reply(ticket, "<p>Not kept</p>", status="completed")
    assert transport.struck == 5 and not caught.value.left_over
    assert isinstance(caught.value.cause, DbException)
    (found,) = site.tickets()
    assert found["comments"] == ["<p>First</p>"] and found["progress"] == "needs-action"


def test_a_reply_created_by_a_failed_call_is_not_posted_again(site: Site) -> None:
    ticket = site.desk.tickets.create(site.type, "Partial", "<p>First</p>", REQUESTER)
    transport = PartialDeadlock("Comment/set", keep=1)
    desk = site.desk_with(transport)
    posted = desk.messages.reply(ticket, "<p>Only once</p>", status="completed")
    assert transport.struck == 1 and desk.retries == 1
    (found,) = site.tickets()
    assert _texts(found) == sorted(["<p>First</p>", "<p>Only once</p>"])
    assert found["progress"] == "completed"
    assert posted.ticket.status is Status.COMPLETED and posted.html == "<p>Only once</p>"


def test_a_reply_created_by_a_failed_call_is_undone_when_no_attempt_is_left(
        site: Site) -> None:
    ticket = site.desk.tickets.create(site.type, "Undone", "<p>First</p>", REQUESTER)
    transport = PartialDeadlock("Comment/set", keep=1)
    desk = site.desk_with(transport, WriteRetry(max_attempts=1, sleep=no_sleep))
    with pytest.raises(RolledBack, match="the message was removed again") as caught:
        desk.messages.reply(ticket, "<p>Too late</p>")
    assert isinstance(caught.value.cause, DbException) and not caught.value.left_over
    (found,) = site.tickets()
    assert found["comments"] == ["<p>First</p>"] and found["progress"] == "needs-action"


def test_a_ticket_created_by_a_failed_call_is_not_created_again(site: Site) -> None:
    transport = PartialDeadlock("Comment/set", keep=1)
    desk = site.desk_with(transport)
    made = desk.tickets.create(site.type, "Half made", "<p>Mail</p>", REQUESTER,
                               status="in-progress")
    assert transport.struck == 1 and desk.retries == 1
    (found,) = site.tickets()
    assert found["comments"] == ["<p>Mail</p>"] and found["progress"] == "in-progress"
    assert made.id == str(found["id"]) and made.messages is not None
    assert [m.html for m in made.messages] == ["<p>Mail</p>"]


def test_a_lock_timeout_is_tried_again(site: Site) -> None:
    """A busy Group-Office times out the lock a ``/set`` call takes before it writes anything
    ("Lock timeout with name: jmap-set-..."): nothing was written, the write is tried again."""
    ticket = site.desk.tickets.create(site.type, "Busy", "<p>First</p>", REQUESTER)
    transport = PartialDeadlock("Comment/set", keep=0, error=(
        "exception", "Lock timeout with name: jmap-set-go\\modules\\community\\comments"
        "\\model\\Comment"))
    desk = site.desk_with(transport)
    desk.messages.note(ticket, "<p>Once</p>")
    assert transport.struck == 1 and desk.retries == 1
    (found,) = site.tickets()
    assert _texts(found) == sorted(["<p>First</p>", "<p>Once</p>"])


@pytest.mark.parametrize("method", ["Task/set", "Comment/set"])
def test_a_bulk_cut_by_a_deadlock_is_finished_without_doubles(site: Site, method: str) -> None:
    transport = PartialDeadlock(method, keep=4)
    desk = site.desk_with(transport)
    drafts = [TicketDraft(site.type, f"Cut {n}", f"<p>Cut {n}</p>", REQUESTER)
              for n in range(10)]
    results = desk.tickets.create_many(drafts)
    assert transport.struck == 1 and desk.retries == 1
    assert all(isinstance(r, CreatedTicket) for r in results)
    found = site.tickets()
    assert sorted(t["title"] for t in found) == sorted(f"Cut {n}" for n in range(10))
    assert all(t["comments"] == [f"<p>{t['title']}</p>"] for t in found)
    assert sorted(r.ticket_id for r in results if isinstance(r, CreatedTicket)) == sorted(
        str(t["id"]) for t in found)


def test_a_failing_lock_semaphore_is_transient_other_php_errors_are_not() -> None:
    """Seen on a real Group-Office under eight writers: the semaphore behind its entity lock
    failed ("sem_release(): ... Invalid argument", errorException); other PHP errors stay
    errors."""
    from go_support.desk.retry import failed_for_now
    from go_support.jmap.errors import MethodError

    def error(message: str) -> MethodError:
        return MethodError(method="Comment/set", call_id="c1", type="errorException",
                           server_message=message)

    assert failed_for_now(error("sem_release(): Failed to release key 0x84aeb7e1: "
                                "Invalid argument"))
    assert not failed_for_now(error("Undefined array key \"text\""))
