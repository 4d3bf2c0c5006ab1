"""Fixtures of the help-desk tests: Group-Office with the desk installed, and a small world.

``go_server`` is parametrized like ``tests/jmap``: every test runs against the emulator
(``[emulator]``) and against a real Group-Office (``[live]``) when ``GO_SUPPORT_TEST_URL``
and ``GO_SUPPORT_TEST_TOKEN`` (an admin API key of a test instance) are set; otherwise the
live run is skipped with that reason. The layout (``go-support install``) is installed with
``go_support.migrations.install``, which is idempotent; everything else a test creates
(types, users, groups, keys) has a unique name and is destroyed afterwards.

``world`` builds, for one test: two ticket types A and B, a group of agents for each (write
on its list), a customers group, a managers group, and users ``agent_a``, ``agent_a2``,
``agent_b``, ``customer``, ``other`` (another customer), ``manager``, ``stranger`` (in no
group of the desk), with API keys, plus desks:
``world.desk`` acts as the admin key's user, ``world.as_("customer")`` is
``desk.as_user(customer)`` (a trusted front end), ``world.own("agent_a")`` a desk on that
user's own API key.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from go_support.desk import DeskConfig, SupportDesk, TicketType
from go_support.desk.names import PRIVATE_LABEL_NAME
from go_support.jmap import Batch, GroupOfficeClient
from tests._support import (
    Cleanup,
    RecordingTransport,
    destroyed_afterwards,
    emulator_server,
    live_server,
)
from tests.jmap.conftest import FAST_RETRY

_installed_live = False


@pytest.fixture(params=["emulator", "live"])
def go_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """``(base_url, admin token)`` of a Group-Office with the help desk installed."""
    global _installed_live
    if request.param == "live":
        url, token = live_server()
        if not _installed_live:
            with GroupOfficeClient(url, api_key=token) as client:
                install_layout(client)
            _installed_live = True
        yield url, token
        return
    with emulator_server(install_layout) as server:
        yield server


@pytest.fixture
def on_emulator(request: pytest.FixtureRequest, go_server: tuple[str, str]) -> bool:
    """Whether ``go_server`` is the emulator: decided by the fixture's parameter, never by the
    URL (a real Group-Office may well listen on 127.0.0.1). Destructive tests (deleting the
    layout, seeding thousands of tasks) run only when this is true."""
    return bool(request.node.callspec.params["go_server"] == "emulator")


def install_layout(client: GroupOfficeClient) -> None:
    """What ``go-support install`` creates (field set, groupings, fields, "Private")."""
    from go_support.migrations import install

    install(client)


@pytest.fixture
def recorder() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def admin(go_server: tuple[str, str]) -> Iterator[GroupOfficeClient]:
    """A plain admin client (for set-up, checks and clean-up), not the one under test."""
    url, token = go_server
    with GroupOfficeClient(url, api_key=token, retry=FAST_RETRY) as client:
        yield client


@pytest.fixture
def tag() -> str:
    return f"gs-desk-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cleanup(admin: GroupOfficeClient) -> Iterator[Cleanup]:
    """``cleanup("TaskList", id)``: destroyed after the test, newest first."""
    with destroyed_afterwards(admin) as register:
        yield register


@dataclass
class World:
    """Two ticket types and the people around them (see the module docstring)."""

    url: str
    admin_token: str
    admin: GroupOfficeClient
    desk: SupportDesk
    config: DeskConfig
    type_a: TicketType
    type_b: TicketType
    users: dict[str, str]
    keys: dict[str, str]
    groups: dict[str, str]
    tag: str
    clients: list[GroupOfficeClient] = field(default_factory=list)

    def as_(self, who: str) -> SupportDesk:
        """The admin desk acting for a user (a trusted front end)."""
        return self.desk.as_user(self.users[who])

    def own(self, who: str, transport: Any = None) -> SupportDesk:
        """A desk on the user's own API key (acting as that user, Group-Office's ACL applies)."""
        client = GroupOfficeClient(self.url, api_key=self.keys[who], retry=FAST_RETRY,
                                   transport=transport)
        self.clients.append(client)
        return SupportDesk(client, self.config)

    def fresh(self, transport: Any = None) -> SupportDesk:
        """A new admin client and desk (nothing cached)."""
        client = GroupOfficeClient(self.url, api_key=self.admin_token, retry=FAST_RETRY,
                                   transport=transport)
        self.clients.append(client)
        return SupportDesk(client, self.config)


def make_user(admin: GroupOfficeClient, cleanup: Cleanup, tag: str, name: str,
              groups: list[str]) -> tuple[str, str]:
    """A user in ``groups`` (plus Everyone and Internal) and an API key for them."""
    user_id = admin.users.create({
        "username": f"{tag}-{name}", "displayName": f"{name.title()} {tag[-4:]}",
        "email": f"{name}.{tag}@example.com", "groups": [2, 3, *[int(g) for g in groups]],
    })
    cleanup("User", user_id)
    result = admin.keys.set(create={"k": {"name": f"{tag}-{name}", "userId": user_id}})
    key = result.created["k"]
    cleanup("Key", str(key["id"]))
    return str(user_id), str(key["accessToken"])


@pytest.fixture
def world(go_server: tuple[str, str], admin: GroupOfficeClient, cleanup: Cleanup,
          tag: str) -> Iterator[World]:
    url, token = go_server
    groups = {}
    for name in ("agents-a", "agents-b", "customers", "managers"):
        groups[name] = cleanup("Group", admin.groups.create({"name": f"{tag} {name}"}))
    users: dict[str, str] = {}
    keys: dict[str, str] = {}
    for name, member_of in (
        ("agent_a", ["agents-a"]), ("agent_a2", ["agents-a"]), ("agent_b", ["agents-b"]),
        ("customer", ["customers"]),
        ("other", ["customers"]), ("manager", ["managers"]), ("stranger", []),
    ):
        users[name], keys[name] = make_user(admin, cleanup, tag, name.replace("_", ""),
                                            [groups[g] for g in member_of])
    config = DeskConfig(
        managers_group=f"{tag} managers",
        all_customer_groups=[f"{tag} customers"],
        feedback="none",
    )
    client = GroupOfficeClient(url, api_key=token, retry=FAST_RETRY)
    desk = SupportDesk(client, config)
    type_a = desk.types.create(f"{tag} A", "type A", agents=[groups["agents-a"]])
    cleanup("TaskList", type_a.id)
    type_b = desk.types.create(f"{tag} B", "type B", agents=[f"{tag} agents-b"])
    cleanup("TaskList", type_b.id)
    built = World(url, token, admin, desk, config, type_a, type_b, users, keys, groups, tag)
    built.clients.append(client)
    yield built
    for c in built.clients:
        c.close()


# --- what Group-Office holds, to prove that nothing was left behind ---------------------------


def snapshot(admin: GroupOfficeClient, world: World) -> dict[str, Any]:
    """Everything a desk call of the test could create or change, in two requests.

    Only the world's objects are read (its types' tasks and their comments, task lists and
    categories named with its tag or created by its users, the desk's labels): a real
    Group-Office is shared, and what others create in the meantime is no change of the test's.
    """
    lists = [world.type_a.id, world.type_b.id]
    batch = Batch()
    tasks_q = batch.call("Task/query", {"filter": {"tasklistId": lists}})
    tasks = batch.call("Task/get", {"#ids": tasks_q.ref("/ids"), "properties": [
        "id", "tasklistId", "title", "progress", "responsibleUserId", "categories",
        "customFields", "percentComplete"]})
    task_lists_q = batch.call("TaskList/query", {"filter": {}})
    task_lists = batch.call("TaskList/get", {"#ids": task_lists_q.ref("/ids"),
                                             "properties": ["id", "name", "createdBy"]})
    type_lists = batch.call("TaskList/get", {"ids": lists, "properties": [
        "id", "name", "groupingId", "acl"]})
    categories_q = batch.call("TaskCategory/query", {"filter": {}})
    categories = batch.call("TaskCategory/get", {"#ids": categories_q.ref("/ids")})
    labels_q = batch.call("CommentLabel/query", {"filter": {}})
    labels = batch.call("CommentLabel/get", {"#ids": labels_q.ref("/ids")})
    responses = admin.execute(batch)
    task_ids = sorted(str(i) for i in responses.get(tasks_q)["ids"])
    comments: list[str] = []
    privates: list[str] = []
    if task_ids:
        batch = Batch()
        public_q = batch.call("Comment/query", {"filter": {"entity": "Task",
                                                           "entityId": task_ids}})
        private_q = batch.call("Comment/query", {"filter": {
            "entity": "Task", "entityId": task_ids, "section": "private"}})
        found = admin.execute(batch)
        comments = sorted(str(i) for i in found.get(public_q)["ids"])
        privates = sorted(str(i) for i in found.get(private_q)["ids"])
    people = {str(u) for u in world.users.values()}

    def ours(obj: dict[str, Any]) -> bool:
        return world.tag in str(obj.get("name")) or str(obj.get("createdBy")) in people

    return {
        "tasks": sorted((responses.get(tasks)["list"]), key=lambda t: str(t["id"])),
        "comments": comments,
        "private comments": privates,
        "task lists": sorted(str(o["id"]) for o in responses.get(task_lists)["list"]
                             if ours(o)),
        "type lists": responses.get(type_lists)["list"],
        "categories": sorted(str(o["id"]) for o in responses.get(categories)["list"]
                             if ours(o) or str(o.get("tasklistId")) in lists),
        "labels": sorted(str(o["id"]) for o in responses.get(labels)["list"]
                         if o.get("name") == PRIVATE_LABEL_NAME or ours(o)),
    }


@pytest.fixture
def unchanged(admin: GroupOfficeClient) -> Callable[[World], Any]:
    """``with unchanged(world): ...``: asserts Group-Office holds exactly the same after."""

    @contextlib.contextmanager
    def check(world: World) -> Iterator[None]:
        before = snapshot(admin, world)
        yield
        after = snapshot(admin, world)
        assert after == before

    return check
