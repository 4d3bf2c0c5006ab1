"""The layout is loaded once per desk and refreshed when Group-Office says it changed; the
comment side effects it works around are real."""

from __future__ import annotations

import pytest

from go_support.desk import NotInstalled, SupportDesk, TicketFilter
from go_support.desk.names import GROUPING_NAME, PRIVATE_LABEL_NAME
from go_support.jmap import GroupOfficeClient
from tests.desk.conftest import Cleanup, World
from tests.jmap.conftest import RecordingTransport

pytestmark = pytest.mark.live


def _grouping(admin: GroupOfficeClient) -> str:
    return next(str(g["id"]) for g in admin.task_list_groupings.get(None).objects
                if g["name"] == GROUPING_NAME)


def test_a_type_made_in_group_office_is_picked_up(world: World, admin: GroupOfficeClient,
                                                  cleanup: Cleanup) -> None:
    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    before = desk.layout
    assert {t.id for t in before.types} == {world.type_a.id, world.type_b.id}
    recorder.clear()
    desk.tickets.list()
    assert len(recorder.api_requests()) == 1  # checked in the same request
    # a manager makes a type natively: a list in the grouping
    native = cleanup("TaskList", admin.task_lists.create({
        "name": f"{world.tag} native", "groupingId": _grouping(admin),
        "acl": {world.groups["agents-a"]: 30}}))
    admin.tasks.create({"tasklistId": native, "title": "made natively"})
    recorder.clear()
    page = desk.tickets.list(TicketFilter(text="natively"))
    assert [t.subject for t in page] == ["made natively"]
    assert len(recorder.api_requests()) == 3  # check, discovery, the query again
    assert desk.layout.find(f"{world.tag} native") is not None
    assert world.as_("agent_a").roles.is_agent(f"{world.tag} native")


def test_agents_added_in_group_office_count_at_once(world: World,
                                                    admin: GroupOfficeClient) -> None:
    ticket = world.desk.tickets.create(world.type_b, "b", "<p>b</p>", world.users["customer"])
    agent = world.as_("agent_a")
    assert agent.tickets.list().total == 0
    admin.task_lists.update(world.type_b.id, {f"acl/{world.groups['agents-a']}": 30})
    assert [t.id for t in agent.tickets.list()] == [ticket.id]
    own = world.own("agent_a")
    assert [t.id for t in own.tickets.list()] == [ticket.id]
    admin.task_lists.update(world.type_b.id, {f"acl/{world.groups['agents-a']}": None})
    assert agent.tickets.list().total == 0
    assert own.tickets.list().total == 0


def test_as_user_views_share_the_layout(world: World) -> None:
    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    desk.tickets.list()
    recorder.clear()
    customer = desk.as_user(world.users["customer"])
    customer.tickets.list()
    # the customer's groups (one request), then the page; the layout is not read again
    assert len(recorder.api_requests()) == 2
    methods = [call[0] for body in recorder.api_requests() for call in body]
    assert "TaskListGrouping/get" not in methods
    recorder.clear()
    customer.tickets.list()
    assert len(recorder.api_requests()) == 1


def test_a_deleted_private_label_stops_the_desk(world: World, admin: GroupOfficeClient,
                                                on_emulator: bool) -> None:
    if not on_emulator:
        pytest.skip("deleting the layout of a real Group-Office is not a test's business")
    ticket = world.desk.tickets.create(world.type_a, "n", "<p>n</p>", world.users["customer"])
    world.desk.messages.note(ticket, "<p>secret</p>")
    label = next(x for x in admin.comment_labels.get(None).objects
                 if x["name"] == PRIVATE_LABEL_NAME)
    admin.comment_labels.destroy([label["id"]])
    # the notes lost their label (a database cascade, groupoffice-wire 16): better no
    # answer than a leak
    with pytest.raises(NotInstalled, match="Private"):
        world.desk.as_user(world.users["customer"]).tickets.get(ticket)


def test_group_office_really_auto_assigns(world: World, admin: GroupOfficeClient) -> None:
    """The side effect the desk overrides (groupoffice-wire 09, 16): a plain admin comment on a
    ticket someone else created assigns the admin and sets in progress."""
    ticket = world.own("agent_a").tickets.create(world.type_a, "raw", "<p>raw</p>",
                                                 world.users["customer"])
    admin.comments.create({"entity": "Task", "entityId": ticket.id, "text": "<p>raw</p>"})
    task = admin.tasks.get_one(ticket.id, ["progress", "responsibleUserId"])
    assert task is not None
    assert (task["progress"], str(task["responsibleUserId"])) == (
        "in-progress", admin.user_id)


def test_the_client_fetches_no_session(world: World) -> None:
    recorder = RecordingTransport()
    client = GroupOfficeClient(world.url, api_key=world.admin_token, transport=recorder)
    desk = SupportDesk(client, world.config)
    desk.tickets.list()
    assert [m for m, _, _ in recorder.sent] == ["POST", "POST"]
    assert desk.roles.is_manager()  # needs the key user's id: now the session is fetched
    assert [m for m, _, _ in recorder.sent].count("GET") == 1
    client.close()


def test_refresh_and_defaults(world: World, admin: GroupOfficeClient) -> None:
    desk = SupportDesk(GroupOfficeClient(world.url, api_key=world.admin_token))  # no settings
    world.clients.append(desk.client)
    first = desk.layout
    assert desk.layout is first  # loaded once
    admin.task_lists.update(world.type_a.id, {"name": f"{world.tag} A2"})
    again = desk.refresh()
    assert again is not first and again.by_id(world.type_a.id).name == f"{world.tag} A2"  # type: ignore[union-attr]
    assert desk.types.customer_groups(world.type_b) == []
    assert not desk.as_user(world.users["customer"]).roles.is_manager()
    with pytest.raises(ValueError, match="as_user needs a user id"):
        desk.as_user("bob")
    from go_support.desk import DeskConfig

    with pytest.raises(ValueError, match="feedback must be one of"):
        DeskConfig(feedback="loud")
