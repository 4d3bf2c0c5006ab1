"""Bad input: a clear error naming the value, no write sent, and nothing left on Group-Office."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from go_support.desk import (
    Attachment,
    InvalidMessage,
    InvalidTicket,
    NotATicket,
    RolledBack,
    SupportDesk,
    TicketFilter,
    UnknownCategory,
    UnknownStatus,
    UnknownType,
    UnknownUser,
)
from go_support.jmap import GroupOfficeClient, HttpResponse, JMAPError
from tests._support import Cleanup
from tests.desk.conftest import World
from tests.jmap.conftest import RecordingTransport

pytestmark = pytest.mark.live

UNKNOWN_BLOB = "0" * 40


def _writes(recorder: RecordingTransport) -> list[str]:
    return [call[0] for body in recorder.api_requests() for call in body
            if call[0].endswith("/set")]


@pytest.fixture
def watched(world: World, recorder: RecordingTransport) -> SupportDesk:
    """The admin desk on a transport that records what is sent."""
    return world.fresh(transport=recorder)


def test_create_refuses_bad_values(world: World, watched: SupportDesk,
                                   recorder: RecordingTransport,
                                   unchanged: Callable[[World], Any]) -> None:
    create = watched.tickets.create
    customer = world.users["customer"]
    with unchanged(world):
        cases: list[tuple[type[Exception], str, Callable[[], object]]] = [
            (UnknownType, "there is no ticket type 'Nope'",
             lambda: create("Nope", "s", "<p>m</p>", customer)),
            (UnknownCategory, "there is no category 'nope' for type",
             lambda: create(world.type_a, "s", "<p>m</p>", customer, category="nope")),
            (InvalidTicket, "the subject must not be empty",
             lambda: create(world.type_a, "   ", "<p>m</p>", customer)),
            (InvalidTicket, "'bob@' is not an e-mail address",
             lambda: create(world.type_a, "s", "<p>m</p>", "bob@")),
            (InvalidTicket, "'not an address' is neither a user id nor an e-mail address",
             lambda: create(world.type_a, "s", "<p>m</p>", "not an address")),
            (InvalidTicket, "'a@b' is not an e-mail address",
             lambda: create(world.type_a, "s", "<p>m</p>", "a@b")),
            (UnknownUser, "the requester, user 999999, does not exist",
             lambda: create(world.type_a, "s", "<p>m</p>", 999999)),
            (InvalidTicket, f"user {world.users['agent_b']} is not an agent of type",
             lambda: create(world.type_a, "s", "<p>m</p>", customer,
                            agent=world.users["agent_b"])),
            (InvalidMessage, "the first message is empty",
             lambda: create(world.type_a, "s", "<p> </p>", customer)),
            (InvalidMessage, "is not a Message-ID",
             lambda: create(world.type_a, "s", "<p>m</p>", customer, message_id="a b")),
            (InvalidMessage, "is not a readable file",
             lambda: create(world.type_a, "s", "<p>m</p>", customer,
                            attachments=["/no/such/file.txt"])),
            (InvalidTicket, "longer|at most 255",
             lambda: create(world.type_a, "x" * 256, "<p>m</p>", customer)),
        ]
        for error, text, action in cases:
            with pytest.raises(error, match=text):
                action()
    assert _writes(recorder) == []


def test_archived_types_take_no_new_tickets(world: World,
                                            unchanged: Callable[[World], Any]) -> None:
    world.desk.types.archive(world.type_b)
    with unchanged(world), pytest.raises(InvalidTicket, match="is archived"):
        world.desk.tickets.create(world.type_b, "s", "<p>m</p>", world.users["customer"])


def test_not_a_ticket(world: World, watched: SupportDesk, recorder: RecordingTransport,
                      admin: GroupOfficeClient, unchanged: Callable[[World], Any]) -> None:
    plain_list = admin.task_lists.create({"name": f"{world.tag} plain"})
    try:
        plain = admin.tasks.create({"tasklistId": plain_list, "title": "not a ticket"})
        desk = watched
        with unchanged(world):
            for ref, text in ((plain, f"task {plain} is not a ticket: its task list is not a "
                                      "ticket type"),
                              ("99999999", "there is no ticket 99999999"),
                              ("abc", "'abc' is not a ticket id")):
                for action in (
                    lambda ref=ref: desk.tickets.get(ref),
                    lambda ref=ref: desk.messages.reply(ref, "<p>x</p>"),
                    lambda ref=ref: desk.messages.note(ref, "<p>x</p>"),
                    lambda ref=ref: desk.messages.list(ref),
                    lambda ref=ref: desk.tickets.assign(ref, world.users["agent_a"]),
                    lambda ref=ref: desk.tickets.set_status(ref, "completed"),
                    lambda ref=ref: desk.tickets.close(ref),
                ):
                    with pytest.raises(NotATicket, match=text):
                        action()
        task = admin.tasks.get_one(plain, ["progress", "responsibleUserId"])
        assert task == {"id": plain, "progress": "needs-action", "responsibleUserId": None}
        assert admin.comments.query({"entity": "Task", "entityId": plain}).ids == []
    finally:
        admin.task_lists.destroy([plain_list])
    assert _writes(recorder) == []


def test_unknown_status(world: World, watched: SupportDesk, recorder: RecordingTransport,
                        unchanged: Callable[[World], Any]) -> None:
    ticket = world.desk.tickets.create(world.type_a, "s", "<p>m</p>", world.users["customer"])
    recorder.clear()
    with unchanged(world):
        with pytest.raises(UnknownStatus, match="there is no status 'done'"):
            watched.tickets.set_status(ticket, "done")
        with pytest.raises(UnknownStatus, match="'open'"):
            watched.tickets.list(TicketFilter(status="open"))
        with pytest.raises(UnknownStatus, match="'resolved'"):
            watched.messages.reply(ticket, "<p>x</p>", status="resolved")
        with pytest.raises(InvalidTicket, match="closing needs a closing status"):
            watched.tickets.close(ticket, status="in progress")
        with pytest.raises(UnknownType, match="'Nope'"):
            watched.tickets.list(TicketFilter(type="Nope"))
        with pytest.raises(UnknownCategory, match="'Nope'"):
            watched.tickets.list(TicketFilter(category="Nope"))
        with pytest.raises(UnknownUser, match="the agent, user 999999, does not exist"):
            watched.tickets.assign(ticket, 999999)
        with pytest.raises(InvalidTicket, match="is not an agent of type"):
            watched.tickets.assign(ticket, world.users["customer"])
        with pytest.raises(InvalidMessage, match="the reply is empty"):
            watched.messages.reply(ticket, "<script>only a script</script>")
    assert _writes(recorder) == []


def test_a_refused_first_message_leaves_no_ticket(world: World,
                                                  unchanged: Callable[[World], Any]) -> None:
    """The task is created, its first message refused (an unknown blob fails the whole
    Comment/set, 10): the task is destroyed again and the error says so."""
    with unchanged(world), pytest.raises(RolledBack, match="destroyed again, nothing was "
                                         "left") as caught:
        world.desk.tickets.create(world.type_a, "s", "<p>m</p>", world.users["customer"],
                                  attachments=[Attachment(UNKNOWN_BLOB, "ghost.txt")])
    assert caught.value.left_over == () and len(caught.value.undone) == 1
    assert isinstance(caught.value.cause, JMAPError)


def test_a_refused_reply_leaves_the_ticket_alone(world: World, admin: GroupOfficeClient,
                                                 unchanged: Callable[[World], Any]) -> None:
    """The Task/set that sets the state is guarded by a reference to the new comment: when
    the comment is refused, the ticket is not touched either."""
    ticket = world.own("agent_a").tickets.create(world.type_a, "s", "<p>m</p>",
                                                 world.users["customer"])
    with unchanged(world), pytest.raises(JMAPError):
        world.desk.messages.reply(ticket, "<p>x</p>", status="completed",
                                  attachments=[Attachment(UNKNOWN_BLOB, "ghost.txt")])
    task = admin.tasks.get_one(ticket.id, ["progress", "responsibleUserId"])
    assert task == {"id": ticket.id, "progress": "needs-action", "responsibleUserId": None}


@dataclass
class SpoilingTransport(RecordingTransport):
    """Sends everything to Group-Office, but spoils the last Task/set that follows a
    Comment/set with a custom field that does not exist, which Group-Office refuses for the
    whole call (``logicException``, groupoffice-wire 07): the comment and the agent are then
    written, the progress is not, and the desk must undo both."""

    armed: bool = True
    spoiled: int = 0

    def send(self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None,
             timeout: float) -> HttpResponse:
        if self.armed and body and "jmap.php" in url:
            calls = json.loads(body)
            names = [c[0] for c in calls]
            if "Comment/set" in names and "Task/set" in names:
                last = len(names) - 1 - names[::-1].index("Task/set")
                for patch in calls[last][1]["update"].values():
                    patch["customFields"] = {"noSuchFieldOfTheDesk": "x"}
                body = json.dumps(calls).encode()
                self.armed = False
                self.spoiled += 1
        return super().send(method, url, headers=headers, body=body, timeout=timeout)


def test_a_reply_the_task_refuses_is_rolled_back(world: World, admin: GroupOfficeClient,
                                                 unchanged: Callable[[World], Any]) -> None:
    ticket = world.own("agent_a").tickets.create(world.type_a, "s", "<p>m</p>",
                                                 world.users["customer"])
    world.desk.tickets.set_status(ticket, "in progress")
    spoiler = SpoilingTransport()
    spoiled = world.fresh(transport=spoiler)
    with unchanged(world), pytest.raises(RolledBack) as caught:
        # the admin key's comment assigns the admin, the agent Task/set runs, the progress
        # Task/set is refused
        spoiled.messages.reply(ticket, "<p>half</p>")
    assert spoiler.spoiled == 1
    assert "noSuchFieldOfTheDesk" in str(caught.value.cause)
    assert "the message was removed again and the ticket is as it was" in str(caught.value)
    assert caught.value.left_over == ()
    comment, state = caught.value.undone
    assert comment.startswith("comment ") and state == f"status and agent of ticket {ticket.id}"
    task = admin.tasks.get_one(ticket.id, ["progress", "responsibleUserId"])
    assert task == {"id": ticket.id, "progress": "in-progress", "responsibleUserId": None}


def test_a_requester_with_create_level_replies_on_their_own_key(
        world: World, admin: GroupOfficeClient) -> None:
    """Create level (20) may comment but not update the task (groupoffice-wire 16): the desk leaves
    the state to the comment hook, which does what a requester's reply should."""
    ticket = world.desk.tickets.create(world.type_a, "s", "<p>m</p>", world.users["customer"],
                                       agent=world.users["agent_a"])
    world.desk.tickets.set_status(ticket, "in progress")
    admin.task_lists.update(world.type_a.id, {f"acl/{world.groups['customers']}": 20})
    reply = world.own("customer").messages.reply(ticket, "<p>from my own key</p>")
    assert reply.mail_status == "received"
    task = admin.tasks.get_one(ticket.id, ["progress", "responsibleUserId"])
    assert task == {"id": ticket.id, "progress": "needs-action",
                    "responsibleUserId": world.users["agent_a"]}



def test_a_category_id_that_is_no_category_is_unknown(world: World, admin: GroupOfficeClient,
                                                      cleanup: Cleanup) -> None:
    desk = world.desk
    real = desk.categories.create(f"{world.tag} Real", world.type_a)
    cleanup("TaskCategory", real.id)
    ticket = desk.tickets.create(world.type_a, "s", "<p>m</p>", world.users["customer"],
                                 category=real)
    gone = desk.categories.create(f"{world.tag} Gone", world.type_a)
    admin.task_categories.destroy([gone.id])
    for ok in (real.id, int(real.id), real, [real.name, real.id]):
        assert [t.id for t in desk.tickets.list(TicketFilter(category=ok))] == [ticket.id]
    for ref, shown in ((999999, "'999999'"), ("999999", "'999999'"), (gone.id, repr(gone.id)),
                       (gone, repr(gone.id)), ([real.id, 999999], "'999999'"),
                       ([real.name, 999999], "'999999'")):
        with pytest.raises(UnknownCategory, match=f"there is no category with the id {shown}"):
            desk.tickets.list(TicketFilter(category=ref))
        with pytest.raises(UnknownCategory, match=f"there is no category with the id {shown}"):
            world.as_("agent_a").tickets.list(TicketFilter(category=ref))
