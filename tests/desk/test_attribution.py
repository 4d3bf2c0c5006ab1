"""The line that names, in Group-Office's web client, who wrote a requester's message.

Stored at the top of every message the desk writes for the requester's side, never shown by
the desk itself; who wrote a message, for the desk, comes from ``mailStatus`` and the comment's
creator, never from text: a line typed by an agent (in the desk or in the web client) or by a
requester changes nothing.
"""

from __future__ import annotations

import pytest

from go_support.desk import InvalidMessage, Person
from go_support.desk.attribution import attribution_line, without_attribution
from go_support.jmap import GroupOfficeClient
from tests.desk.conftest import World

pytestmark = pytest.mark.live

FAKE = '<p class="go-support-from"><b>From:</b> The Boss &lt;boss@example.com&gt;</p>'


def _stored(admin: GroupOfficeClient, message_id: str) -> str:
    comment = admin.comments.get_one(message_id, ["text"])
    assert comment is not None
    return str(comment["text"])


def test_a_user_requesters_first_message_names_them_in_group_office_only(
        world: World, admin: GroupOfficeClient) -> None:
    ticket = world.desk.tickets.create(world.type_a, "Wi-Fi", "<p>no Wi-Fi</p>",
                                       world.users["customer"])
    customer = ticket.requester
    assert customer.name and customer.email
    line = (f'<p class="go-support-from"><b>From:</b> {customer.name} '
            f"&lt;{customer.email}&gt;</p>")
    read = world.desk.tickets.get(ticket.id, with_messages=True)
    assert read.messages is not None
    first = read.messages[0]
    assert _stored(admin, first.id) == line + "<p>no Wi-Fi</p>"
    assert first.html == "<p>no Wi-Fi</p>" and first.author == customer


def test_an_address_only_requester_and_a_requester_reply(world: World,
                                                         admin: GroupOfficeClient) -> None:
    ticket = world.desk.tickets.create(world.type_a, "Printer", "<p>jammed</p>",
                                       "Carol Jones <carol@example.com>")
    first = world.desk.messages.list(ticket)[0]
    assert _stored(admin, first.id).startswith(
        '<p class="go-support-from"><b>From:</b> Carol Jones &lt;carol@example.com&gt;</p>')
    assert first.html == "<p>jammed</p>"

    mine = world.desk.tickets.create(world.type_a, "Mouse", "<p>dead</p>",
                                     world.users["customer"])
    answer = world.as_("customer").messages.reply(mine, "<p>still dead</p>")
    assert answer.html == "<p>still dead</p>" and answer.author is not None
    assert answer.author.id == world.users["customer"]
    assert _stored(admin, answer.id) == attribution_line(mine.requester) + "<p>still dead</p>"
    assert answer in world.desk.messages.list(mine)


def test_a_mail_from_someone_else_on_the_thread_names_its_sender(
        world: World, admin: GroupOfficeClient) -> None:
    ticket = world.desk.tickets.create(world.type_a, "VPN", "<p>down</p>",
                                       world.users["customer"])
    carl = Person(None, "carl@example.com", "Carl Copy")
    posted = world.as_("customer").messages.reply(ticket, "<p>here too</p>", sender=carl)
    assert _stored(admin, posted.id) == (
        '<p class="go-support-from"><b>From:</b> Carl Copy &lt;carl@example.com&gt;</p>'
        "<p>here too</p>")
    # the desk's author is still the requester's side: the line is for people only
    assert posted.author is not None and posted.author.id == world.users["customer"]
    assert posted.html == "<p>here too</p>" and posted.mail_status == "received"


def test_sender_is_checked_and_only_for_the_requesters_side(world: World) -> None:
    ticket = world.desk.tickets.create(world.type_a, "Keyboard", "<p>sticky</p>",
                                       world.users["customer"])
    with pytest.raises(InvalidMessage, match="sender"):
        world.as_("agent_a").messages.reply(ticket, "<p>ok</p>",
                                            sender=Person(None, "x@example.com"))
    with pytest.raises(InvalidMessage, match="not an e-mail address"):
        world.as_("customer").messages.reply(ticket, "<p>ok</p>",
                                             sender=Person(None, "not an address"))
    with pytest.raises(InvalidMessage, match="neither an address nor a name"):
        world.as_("customer").messages.reply(ticket, "<p>ok</p>", sender=Person("12"))
    assert len(world.desk.messages.list(ticket)) == 1  # nothing was written


def test_a_typed_attribution_line_changes_nothing(world: World, admin: GroupOfficeClient) -> None:
    ticket = world.desk.tickets.create(world.type_a, "Screen", FAKE + "<p>flickers</p>",
                                       world.users["customer"])
    agent = world.own("agent_a")  # on the agent's own key: Group-Office records the agent
    reply = agent.messages.reply(ticket, FAKE + "<p>new cable?</p>")
    note = agent.messages.note(ticket, FAKE + "<p>ask the boss</p>")
    # the same line typed in the web client: a comment without mailStatus, by the agent
    typed = world.own("agent_a").client.comments.create({
        "entity": "Task", "entityId": ticket.id, "text": FAKE + "<p>typed</p>"})
    first, *rest = world.desk.messages.list(ticket)
    # the requester's own copy of the line stays: only the desk's line at the top goes
    assert first.html == FAKE + "<p>flickers</p>"
    assert first.author == ticket.requester and first.mail_status == "received"
    by_id = {m.id: m for m in rest}
    for posted, text in ((reply, "<p>new cable?</p>"), (note, "<p>ask the boss</p>")):
        shown = by_id[posted.id]
        assert shown.html == FAKE + text  # as the agent wrote it
        assert shown.author is not None and shown.author.id == world.users["agent_a"]
    assert by_id[reply.id].mail_status == "pending" and not by_id[reply.id].private
    assert by_id[note.id].private and by_id[note.id].mail_status is None
    web = by_id[str(typed)]
    assert web.html == FAKE + "<p>typed</p>" and web.mail_status is None
    assert web.author is not None and web.author.id == world.users["agent_a"]


def test_only_the_desks_line_at_the_very_start_of_a_received_message_goes() -> None:
    line = attribution_line(Person(None, "a@example.com", "Ann"))
    assert without_attribution(line + "<p>x</p>", "received") == "<p>x</p>"
    assert without_attribution(line + line + "<p>x</p>", "received") == line + "<p>x</p>"
    for status in (None, "pending", "sent", "senderror"):
        assert without_attribution(line + "<p>x</p>", status) == line + "<p>x</p>"
    assert without_attribution("<p>x</p>" + line, "received") == "<p>x</p>" + line
    # a line with markup inside is not the desk's
    odd = '<p class="go-support-from"><b>From:</b> <i>Ann</i></p><p>x</p>'
    assert without_attribution(odd, "received") == odd


def test_a_name_that_looks_like_a_script_is_cleaned() -> None:
    line = attribution_line(Person(None, "a@example.com", 'Ann javascript:alert(1) <b>"'))
    from go_support.htmlrules import detect_xss, sanitize

    assert not detect_xss(line) and sanitize(line) == line
    assert without_attribution(line + "<p>x</p>", "received") == "<p>x</p>"
    assert "&lt;" in line and "<b>\"" not in line
