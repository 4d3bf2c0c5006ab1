"""Messages, and the state a ticket is left in after each (Group-Office's comment side
effects, groupoffice-wire 08, 09, 16, are overridden in the same request)."""

from __future__ import annotations

from pathlib import Path

import pytest

from go_support.desk import Attachment, Message, PostedMessage, Status, Ticket
from go_support.desk.names import PRIVATE_LABEL_NAME
from go_support.jmap import GroupOfficeClient
from tests.desk.conftest import World
from tests.jmap.conftest import RecordingTransport

pytestmark = pytest.mark.live


def _state(admin: GroupOfficeClient, ticket_id: str) -> tuple[object, object]:
    task = admin.tasks.get_one(ticket_id, ["progress", "responsibleUserId"])
    assert task is not None
    return task["progress"], task["responsibleUserId"]


def _by_agent_a(world: World, subject: str = "help") -> Ticket:
    """A ticket created with agent A's own key: the admin key is not its creator, so an admin
    comment would auto-assign the admin (groupoffice-wire 09, 16)."""
    return world.own("agent_a").tickets.create(
        world.type_a, subject, f"<p>{subject}</p>", world.users["customer"])


def _label(admin: GroupOfficeClient) -> str:
    return next(str(x["id"]) for x in admin.comment_labels.get(None).objects
                if x["name"] == PRIVATE_LABEL_NAME)


def test_agent_reply_assigns_the_replying_agent(world: World, admin: GroupOfficeClient) -> None:
    ticket = _by_agent_a(world)
    assert _state(admin, ticket.id) == ("needs-action", None)
    # through the admin key: Group-Office would assign the admin (the key's user)
    reply = world.as_("agent_a2").messages.reply(ticket, "<p>Looking into it</p>")
    assert isinstance(reply, Message) and reply.mail_status == "pending" and not reply.private
    assert reply.ticket_id == ticket.id and reply.html == "<p>Looking into it</p>"
    assert _state(admin, ticket.id) == ("in-progress", world.users["agent_a2"])
    comment = admin.comments.get_one(reply.id, ["mailStatus", "labels", "section"])
    assert comment == {"id": reply.id, "mailStatus": "pending", "labels": [], "section": None}


def test_agent_reply_keeps_the_agent_and_takes_a_status(world: World,
                                                         admin: GroupOfficeClient) -> None:
    ticket = world.desk.tickets.create(world.type_a, "s", "<p>s</p>", world.users["customer"],
                                       agent=world.users["agent_a"])
    world.own("agent_a2").messages.reply(ticket.id, "<p>waiting for you</p>",
                                         status="Needs action")
    assert _state(admin, ticket.id) == ("needs-action", world.users["agent_a"])
    world.desk.messages.reply(ticket.id, "<p>again</p>")
    assert _state(admin, ticket.id) == ("in-progress", world.users["agent_a"])


def test_own_key_agent_reply(world: World, admin: GroupOfficeClient) -> None:
    ticket = world.desk.tickets.create(world.type_a, "own", "<p>own</p>",
                                       world.users["customer"])
    world.own("agent_a2").messages.reply(ticket, "<p>mine now</p>")
    assert _state(admin, ticket.id) == ("in-progress", world.users["agent_a2"])


def test_requester_reply_needs_action_and_keeps_the_agent(world: World,
                                                          admin: GroupOfficeClient) -> None:
    ticket = _by_agent_a(world)
    # unassigned: the admin key's comment would assign the admin; it must stay unassigned
    reply = world.as_("customer").messages.reply(ticket, "<p>any news?</p>",
                                                 message_id="<r1@example.com>")
    assert reply.mail_status == "received" and reply.message_id == "<r1@example.com>"
    assert reply.author is not None and reply.author.id == world.users["customer"]
    assert _state(admin, ticket.id) == ("needs-action", None)
    world.as_("agent_a").messages.reply(ticket, "<p>yes</p>")
    assert _state(admin, ticket.id) == ("in-progress", world.users["agent_a"])
    world.as_("customer").messages.reply(ticket, "<p>thanks, but</p>")
    assert _state(admin, ticket.id) == ("needs-action", world.users["agent_a"])


def test_requester_reply_reopens_a_closed_ticket(world: World, admin: GroupOfficeClient) -> None:
    ticket = _by_agent_a(world)
    world.desk.tickets.close(ticket)
    world.as_("customer").messages.reply(ticket, "<p>it is back</p>")
    assert _state(admin, ticket.id) == ("needs-action", None)
    task = admin.tasks.get_one(ticket.id, ["percentComplete"])
    assert task is not None and task["percentComplete"] == 0


def test_note_changes_nothing(world: World, admin: GroupOfficeClient) -> None:
    ticket = _by_agent_a(world)
    world.desk.tickets.set_status(ticket, "in progress")
    note = world.as_("agent_a2").messages.note(ticket, "<p>customer is VIP</p>")
    assert note.private and note.mail_status is None
    assert _state(admin, ticket.id) == ("in-progress", None)  # not assigned, not reset
    comment = admin.comments.get_one(note.id, ["labels", "section", "mailStatus"])
    assert comment is not None
    assert comment["labels"] == [_label(admin)] and comment["section"] is None  # never "private"
    world.desk.tickets.close(ticket)
    world.own("agent_a").messages.note(ticket, "<p>closed, noted</p>")
    assert _state(admin, ticket.id) == ("completed", None)


def test_attachments(world: World, admin: GroupOfficeClient, tmp_path: Path) -> None:
    ticket = _by_agent_a(world)
    path = tmp_path / "trace.log"
    path.write_bytes(b"line 1\nline 2\n")
    first = world.desk.messages.reply(ticket, "<p>logs</p>",
                                      attachments=[path, ("a.txt", b"A")])
    assert [a.name for a in first.attachments] == ["trace.log", "a.txt"]
    # an attachment already on the server is attached again without an upload
    again = world.desk.messages.note(ticket, "<p>forwarded</p>",
                                     attachments=[Attachment(first.attachments[1].blob_id,
                                                             "copy.txt")])
    assert [a.name for a in again.attachments] == ["copy.txt"]
    shown = world.desk.tickets.get(ticket).messages or ()
    assert [len(m.attachments) for m in shown] == [0, 2, 1]
    assert world.desk.client.download_blob(shown[2].attachments[0].blob_id) == b"A"
    # an image-only message is not empty
    world.desk.messages.reply(ticket, "", attachments=[("x.png", b"\x89PNG....", "image/png")])


def test_html_is_cleaned_before_sending(world: World, admin: GroupOfficeClient) -> None:
    ticket = _by_agent_a(world)
    reply = world.desk.messages.reply(
        ticket, '<p onclick="steal()">Hi <script>alert(1)</script><a href="javascript:x()">'
                "click</a> or type javascript: yourself</p>")
    assert "script>" not in reply.html and "onclick" not in reply.html
    assert "javascript:" not in reply.html and "href" not in reply.html
    stored = admin.comments.get_one(reply.id, ["text"])
    assert stored is not None and stored["text"] == reply.html  # stored as sent


def test_messages_list_oldest_first(world: World) -> None:
    ticket = _by_agent_a(world)
    world.desk.messages.reply(ticket, "<p>2</p>", status=Status.IN_PROGRESS)
    world.as_("customer").messages.reply(ticket, "<p>3</p>")
    assert [m.html for m in world.desk.messages.list(ticket)] == [
        "<p>help</p>", "<p>2</p>", "<p>3</p>"]


def test_reply_and_note_carry_the_ticket_as_left(world: World,
                                                 admin: GroupOfficeClient) -> None:
    """The ticket comes back in the request that wrote the message: no further read."""
    ticket = _by_agent_a(world)
    recorder = RecordingTransport()
    agent = world.fresh(transport=recorder).as_user(world.users["agent_a2"])
    agent.layout  # noqa: B018 - warm the layout
    recorder.clear()
    reply = agent.messages.reply(ticket, "<p>on it</p>")
    assert len(recorder.api_requests()) == 2  # the checks, then the change and its re-read
    assert isinstance(reply, PostedMessage) and isinstance(reply, Message)
    assert reply.ticket.id == ticket.id and reply.ticket.status is Status.IN_PROGRESS
    assert reply.ticket.agent is not None and reply.ticket.agent.id == world.users["agent_a2"]
    assert reply.ticket.agent.name  # the agent's name came along
    assert reply.ticket.requester.id == world.users["customer"]
    assert reply.ticket.messages is None
    assert (reply.ticket.status.value, reply.ticket.agent.id) == _state(admin, ticket.id)

    recorder.clear()
    note = agent.messages.note(ticket, "<p>remember the toner</p>")
    assert len(recorder.api_requests()) == 2
    assert note.private and note.ticket.status is Status.IN_PROGRESS
    assert note.ticket.agent is not None and note.ticket.agent.id == world.users["agent_a2"]

    answer = world.as_("customer").messages.reply(ticket, "<p>still broken</p>")
    assert answer.ticket.status is Status.NEEDS_ACTION
    assert answer.ticket.agent is not None and answer.ticket.agent.id == world.users["agent_a2"]
    closing = world.desk.messages.reply(ticket, "<p>fixed</p>", status="completed")
    assert closing.ticket.status is Status.COMPLETED


def test_a_posted_message_equals_the_listed_one(world: World) -> None:
    ticket = _by_agent_a(world)
    reply = world.desk.messages.reply(ticket, "<p>listed</p>")
    listed = world.desk.messages.list(ticket)
    assert reply in listed and listed[-1] == reply and reply == listed[-1]
    assert hash(reply) == hash(listed[-1]) and {reply} == {listed[-1]}
    assert reply.ticket not in listed  # a ticket is no message
    assert "ticket=" not in repr(reply)
