"""Ticket types, categories, statuses and roles: happy paths, against Group-Office."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from go_support.desk import (
    Category,
    InvalidCategory,
    InvalidType,
    NotInstalled,
    PermissionDenied,
    Status,
    SupportDesk,
    TicketFilter,
    UnknownCategory,
    UnknownGroup,
    UnknownStatus,
    UnknownType,
)
from go_support.desk.names import ARCHIVE_GROUPING_NAME, GROUPING_NAME
from go_support.jmap import GroupOfficeClient
from tests.desk.conftest import Cleanup, World
from tests.jmap.conftest import RecordingTransport

pytestmark = pytest.mark.live


def _grouping_ids(admin: GroupOfficeClient) -> dict[str, str]:
    found = admin.task_list_groupings.get(None).objects
    return {str(g["name"]): str(g["id"]) for g in found}


def test_types_are_lists_in_the_support_grouping(world: World, admin: GroupOfficeClient) -> None:
    listed = world.desk.types.list()
    assert world.type_a in listed and world.type_b in listed
    lists = admin.task_lists.get([world.type_a.id, world.type_b.id],
                                 ["role", "groupingId", "acl", "description"]).by_id()
    groupings = _grouping_ids(admin)
    for ticket_type, group in ((world.type_a, "agents-a"), (world.type_b, "agents-b")):
        obj = lists[ticket_type.id]
        assert obj["role"] == "list"
        assert str(obj["groupingId"]) == groupings[GROUPING_NAME]
        # the agents' group gets write access, the managers group manage access; the admin
        # key adds nothing else (04)
        expected = {world.groups[group]: 30, world.groups["managers"]: 50}
        assert obj["acl"] == expected
        assert ticket_type.acl == expected
    assert world.desk.types.get(world.type_a.name.upper()) == world.type_a
    assert world.desk.types.get(world.type_a.id) == world.type_a
    assert world.desk.types.get(int(world.type_b.id)) == world.type_b


def test_rename_archive_restore(world: World, admin: GroupOfficeClient) -> None:
    desk = world.desk
    renamed = desk.types.rename(world.type_a, f"{world.tag} A renamed")
    assert renamed.name == f"{world.tag} A renamed" and renamed.id == world.type_a.id
    assert admin.task_lists.get_one(world.type_a.id, ["name"])["name"] == renamed.name  # type: ignore[index]
    archived = desk.types.archive(renamed.name)
    assert archived.archived
    assert str(admin.task_lists.get_one(world.type_a.id, ["groupingId"])[  # type: ignore[index]
        "groupingId"]) == _grouping_ids(admin)[ARCHIVE_GROUPING_NAME]
    assert archived not in desk.types.list()
    assert archived in desk.types.list(include_archived=True)
    # another desk (another process) sees the change too
    assert world.fresh().types.get(renamed.name).archived
    restored = desk.types.restore(archived)
    assert not restored.archived and restored in desk.types.list()


def test_only_managers_change_types(world: World, unchanged: object) -> None:
    for who in ("agent_a", "customer"):
        for desk in (world.as_(who), world.own(who)):
            with unchanged(world):  # type: ignore[operator]
                with pytest.raises(PermissionDenied, match=rf"user {world.users[who]} is not a "
                                   "manager and may not create ticket types"):
                    desk.types.create(f"{world.tag} C")
                with pytest.raises(PermissionDenied, match="is not a manager"):
                    desk.types.rename(world.type_a, f"{world.tag} X")
                with pytest.raises(PermissionDenied, match="is not a manager"):
                    desk.types.archive(world.type_b)
                with pytest.raises(PermissionDenied, match="is not a manager"):
                    desk.categories.create(f"{world.tag} cat")


def test_a_manager_creates_a_type(world: World, cleanup: Cleanup) -> None:
    manager = world.as_("manager")
    assert manager.roles.is_manager()
    created = manager.types.create(f"{world.tag} C", agents=[world.groups["agents-a"]])
    cleanup("TaskList", created.id)
    assert created.acl == {world.groups["agents-a"]: 30, world.groups["managers"]: 50}
    assert world.as_("agent_a").roles.is_agent(created)
    assert not world.as_("agent_b").roles.is_agent(created)


def _personal_group(admin: GroupOfficeClient, user_id: str) -> str:
    user = admin.users.get_one(user_id, ["id", "personalGroup"])
    assert user is not None
    group = user["personalGroup"]
    return str(group["id"] if isinstance(group, dict) else group)


def test_a_manager_on_his_own_key_sees_every_type(world: World, admin: GroupOfficeClient,
                                                  cleanup: Cleanup,
                                                  unchanged: Callable[[World], Any]) -> None:
    """A non-admin manager with his own API key: the types the desk created are readable by
    the managers group, so he cannot take a name twice. Group-Office keeps the owner's
    personal group at manage on a list he creates (groupoffice-wire 17): he is an agent of it,
    and the desk says so; no other grant is added."""
    manager = world.own("manager")
    assert manager.roles.is_manager() and manager.roles.actor.id != admin.user_id
    assert {t.id for t in manager.types.list()} >= {world.type_a.id, world.type_b.id}
    with unchanged(world), pytest.raises(InvalidType, match=re.escape(
            f"there is already a ticket type named '{world.type_a.name}' "
            f"(id {world.type_a.id})")):
        manager.types.create(world.type_a.name.upper())
    personal = _personal_group(admin, world.users["manager"])
    recorder = RecordingTransport()
    counted = world.own("manager", transport=recorder)
    counted.layout  # noqa: B018 - warm the layout
    recorder.clear()
    created = counted.types.create(f"{world.tag} C")
    cleanup("TaskList", created.id)
    # the actor, the group look-up, the creation with its read-back, the new layout: no
    # ACL patch that Group-Office would answer as updated and ignore
    assert len(recorder.api_requests()) == 4
    raw = admin.task_lists.get([created.id], ["acl", "createdBy"]).objects[0]
    assert str(raw["createdBy"]) == world.users["manager"]
    expected = {world.groups["managers"]: 50, personal: 50}
    assert {str(k): int(v) for k, v in raw["acl"].items()} == expected == created.acl
    assert world.as_("manager").roles.is_agent(created)
    assert not world.as_("agent_a").roles.is_agent(created)
    # his personal group asked for as agents: Group-Office keeps it at manage
    kept = manager.types.create(f"{world.tag} D", agents=[personal])
    cleanup("TaskList", kept.id)
    assert kept.acl == {personal: 50, world.groups["managers"]: 50}
    # through a trusted front end the desk's own key (user 1) creates the list: no owner entry
    fronted = world.as_("manager").types.create(f"{world.tag} E")
    cleanup("TaskList", fronted.id)
    assert fronted.acl == {world.groups["managers"]: 50}
    # what he created he sees on his key through the managers group
    with pytest.raises(InvalidType, match="already a ticket type named"):
        manager.types.create(f"{world.tag} c")


def test_type_names_and_groups_are_checked(world: World, unchanged: object) -> None:
    desk = world.desk
    with unchanged(world):  # type: ignore[operator]
        with pytest.raises(InvalidType, match="already a ticket type named"):
            desk.types.create(world.type_a.name.lower())
        with pytest.raises(InvalidType, match="needs a name"):
            desk.types.create("   ")
        with pytest.raises(InvalidType, match="longer than 100"):
            desk.types.create("x" * 101)
        with pytest.raises(UnknownGroup, match="no Group-Office group 'no such group'"):
            desk.types.create(f"{world.tag} D", agents=["no such group"])
        with pytest.raises(InvalidType, match="already"):
            desk.types.rename(world.type_a, world.type_b.name)
        with pytest.raises(UnknownType, match="there is no ticket type 'Nope'"):
            desk.types.get("Nope")


def test_categories_global_and_per_type(world: World, cleanup: Cleanup,
                                        admin: GroupOfficeClient) -> None:
    desk = world.desk
    general = desk.categories.create(f"{world.tag} General")
    cleanup("TaskCategory", general.id)
    printer = desk.categories.create(f"{world.tag} Printer", world.type_a)
    cleanup("TaskCategory", printer.id)
    assert general.type_id is None and printer.type_id == world.type_a.id
    stored = admin.task_categories.get([general.id, printer.id]).by_id()
    assert stored[general.id]["ownerId"] is None and stored[general.id]["tasklistId"] is None
    assert str(stored[printer.id]["tasklistId"]) == world.type_a.id
    assert general in desk.categories.list(world.type_b)
    assert printer not in desk.categories.list(world.type_b)
    assert printer in desk.categories.list(world.type_a)
    assert printer in desk.categories.list()
    assert desk.categories.get(printer.name.upper(), world.type_a) == printer
    assert desk.categories.get(general.id) == general
    with pytest.raises(UnknownCategory, match="no category"):
        desk.categories.get(printer.name, world.type_b)
    with pytest.raises(InvalidCategory, match="already a global category"):
        desk.categories.create(general.name)
    with pytest.raises(InvalidCategory, match="already a global category"):
        desk.categories.create(general.name, world.type_a)
    with pytest.raises(InvalidCategory) as caught:
        desk.categories.create(printer.name.lower(), world.type_a)
    assert str(caught.value) == (f"there is already a category of type '{world.type_a.name}' "
                                 f"named '{printer.name}' (id {printer.id})")
    with pytest.raises(InvalidCategory) as caught:
        desk.categories.create(general.name)
    assert str(caught.value) == (f"there is already a global category named '{general.name}' "
                                 f"(id {general.id})")
    assert isinstance(desk.categories.list()[0], Category)


def test_statuses() -> None:
    from go_support.desk.roles import StatusManager

    statuses = StatusManager()
    assert statuses.list() == list(Status)
    assert [s.label for s in Status] == [
        "Needs action", "In progress", "Completed", "Failed", "Cancelled"]
    for text, expected in (("Needs action", Status.NEEDS_ACTION),
                           ("needs-action", Status.NEEDS_ACTION),
                           ("IN_PROGRESS", Status.IN_PROGRESS),
                           (" in progress ", Status.IN_PROGRESS),
                           ("Completed", Status.COMPLETED), ("canceled", Status.CANCELLED),
                           (Status.FAILED, Status.FAILED)):
        assert statuses.parse(text) is expected
    with pytest.raises(UnknownStatus, match="there is no status 'done'"):
        statuses.parse("done")
    with pytest.raises(UnknownStatus, match="'in-process'"):
        statuses.parse("in-process")  # RFC 5545's spelling is not Group-Office's (08)


def test_roles(world: World) -> None:
    a = world.as_("agent_a")
    assert a.roles.actor.id == world.users["agent_a"]
    assert a.roles.actor.email == f"agenta.{world.tag}@example.com"
    assert a.roles.is_agent(world.type_a) and not a.roles.is_agent(world.type_b)
    assert not a.roles.is_manager() and not a.roles.is_customer(world.type_a)
    a.roles.require_agent(world.type_a)
    with pytest.raises(PermissionDenied, match=rf"user {world.users['agent_a']} is not an agent "
                       rf"of type '{world.type_b.name}': needs write access on its task list"):
        a.roles.require_agent(world.type_b)
    customer = world.as_("customer")
    assert customer.roles.is_customer(world.type_a)
    customer.roles.require_customer(world.type_b)
    with pytest.raises(PermissionDenied, match="not a manager"):
        customer.roles.require_manager()
    stranger = world.as_("stranger")
    with pytest.raises(PermissionDenied, match="is not a customer of type"):
        stranger.roles.require_customer(world.type_a)
    assert world.desk.roles.is_manager()  # the admin key
    assert world.own("agent_b").roles.is_agent(world.type_b)
    assert not world.own("agent_b").roles.is_agent(world.type_a)
    assert world.as_("manager").roles.is_manager()
    assert world.own("manager").roles.is_manager()


def test_per_type_customer_groups(world: World) -> None:
    from go_support.desk import DeskConfig

    config = DeskConfig(all_customer_groups=[f"{world.tag} customers"],
                        type_customer_groups={world.type_b.name.upper(): [
                            int(world.groups["managers"])]})
    desk = SupportDesk(GroupOfficeClient(world.url, api_key=world.admin_token), config)
    assert desk.types.customer_groups(world.type_a) == [f"{world.tag} customers"]
    assert desk.types.customer_groups(world.type_b) == [world.groups["managers"]]
    assert desk.as_user(world.users["customer"]).roles.is_customer(world.type_a)
    assert not desk.as_user(world.users["customer"]).roles.is_customer(world.type_b)
    assert desk.as_user(world.users["manager"]).roles.is_customer(world.type_b)
    desk.client.close()


def test_real_settings_satisfy_the_seam(world: World, tmp_path: object) -> None:
    from pathlib import Path

    from go_support.settings import load_settings

    path = Path(str(tmp_path)) / "go-support.toml"
    path.write_text(
        f'[desk]\nmanagers_group = "{world.tag} managers"\n'
        f'customer_groups = ["{world.tag} customers"]\n'
        '[desk.close]\nfeedback = "private"\nfeedback_text = "Closed."\n'
        f'[types."{world.type_b.name}"]\ncustomer_groups = []\n', encoding="utf-8")
    settings = load_settings(path, env={})
    desk = SupportDesk(GroupOfficeClient(world.url, api_key=world.admin_token), settings)
    assert desk.as_user(world.users["manager"]).roles.is_manager()
    assert desk.as_user(world.users["customer"]).roles.is_customer(world.type_a)
    assert not desk.as_user(world.users["customer"]).roles.is_customer(world.type_b)
    desk.client.close()


def test_not_installed(admin: GroupOfficeClient, go_server: tuple[str, str],
                       on_emulator: bool) -> None:
    if not on_emulator:
        pytest.skip("removing the layout of a real Group-Office is not a test's business")
    label = [x for x in admin.comment_labels.get(None).objects if x["name"] == "Private"]
    admin.comment_labels.destroy([label[0]["id"]])
    desk = SupportDesk(GroupOfficeClient(go_server[0], api_key=go_server[1]))
    with pytest.raises(NotInstalled, match=r'comment label "Private" is missing.*go-support '
                       r"install"):
        desk.types.list()


HIDDEN = "with a user's own API key, only the types whose lists the user can read are known"


def test_unknown_type_says_why_only_when_it_can_be_why(world: World) -> None:
    """The hint about a user's own key is only given when that key cannot read every list."""
    for desk in (world.desk, world.fresh(), world.as_("customer"), world.as_("agent_a")):
        with pytest.raises(UnknownType, match="there is no ticket type 'Nope'") as caught:
            desk.types.get("Nope")
        assert HIDDEN not in str(caught.value)  # an admin key reads every list
    fresh = world.fresh()
    fresh.types.list()
    with pytest.raises(UnknownType) as caught:
        fresh.tickets.list(TicketFilter(type="Nope"))
    assert HIDDEN not in str(caught.value)
    for who in ("agent_a", "customer"):  # a level below manage; no level at all
        with pytest.raises(UnknownType, match="there is no ticket type 'Nope'") as caught:
            world.own(who).types.get("Nope")
        assert HIDDEN in str(caught.value)
    # a type a user's own key cannot read, named by its value
    with pytest.raises(PermissionDenied, match="this user cannot even read it"):
        world.own("agent_a").roles.require_agent(world.type_b)
    admin_b = world.fresh()
    admin_b.layout  # noqa: B018 - the layout of before the type was gone
    world.admin.task_lists.destroy([world.type_b.id])
    admin_b.refresh()
    with pytest.raises(UnknownType, match=f"there is no ticket type '{world.type_b.name}'"):
        admin_b.types.get(world.type_b)


def test_customer_groups_without_a_request(world: World) -> None:
    recorder = RecordingTransport()
    desk = world.fresh(transport=recorder)
    assert desk.types.customer_groups(world.type_a) == [f"{world.tag} customers"]
    assert len(recorder.api_requests()) == 1  # the layout, once
    recorder.clear()
    assert desk.types.customer_groups(world.type_b.name.upper()) == [f"{world.tag} customers"]
    assert desk.types.customer_groups(int(world.type_a.id)) == [f"{world.tag} customers"]
    assert recorder.sent == []
    with pytest.raises(UnknownType, match="'Nope'"):
        desk.types.customer_groups("Nope")  # not in the layout: read again, then refused
