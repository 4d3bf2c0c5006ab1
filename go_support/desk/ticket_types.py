"""``desk.types``: ticket types are task lists in the grouping "Support"."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from go_support.desk import names
from go_support.desk._core import DeskCore, ReadPlan, set_result
from go_support.desk.actor import AGENT_LEVEL, MANAGE, ActorMode
from go_support.desk.convert import is_id, optional
from go_support.desk.discovery import DeskLayout
from go_support.desk.errors import InvalidType, NotInstalled, RolledBack, UnknownGroup
from go_support.desk.models import TicketType
from go_support.desk.retry import write_once
from go_support.jmap import Batch, Responses
from go_support.jmap.results import GetResult

__all__ = ["TypeManager"]

MAX_NAME = 100
#: Group-Office's super admin, whose task lists get no owner entry in their ACL.
SUPER_ADMIN = "1"
MAX_DESCRIPTION = 255


def _checked_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidType(f"a ticket type needs a name (got {name!r})")
    text = " ".join(name.split())
    if len(text) > MAX_NAME:
        raise InvalidType(f"the type name {text[:40]!r}... is longer than {MAX_NAME} characters")
    return text


class TypeManager:
    """Ticket types. Everyone may list them; only managers create, rename or archive them.

    Agents of a type are the users with write access (30) or more on its list's ACL, which
    managers edit in Group-Office; customers come from the settings.
    """

    def __init__(self, core: DeskCore) -> None:
        self._core = core

    def _layout(self) -> DeskLayout:
        """The layout, checked against Group-Office (one request)."""
        return self._core.read(ReadPlan(build=lambda batch, known: lambda r, lay, a: lay,
                                        needs_layout=False, actor=ActorMode.NONE))

    def list(self, include_archived: bool = False) -> builtins.list[TicketType]:
        """The active types by name (and the archived ones after them, if asked)."""
        layout = self._layout()
        return [t for t in layout.types if include_archived or not t.archived]

    def get(self, name_or_id: str | int | TicketType) -> TicketType:
        """A type by name (case-insensitive) or id; :class:`UnknownType` otherwise."""
        return self._core.resolve_type(name_or_id, self._layout())

    def customer_groups(self, type: str | int | TicketType) -> builtins.list[str]:
        """The groups (names or ids) whose members are customers of the type (settings).

        No request when the desk knows its layout and the type is in it (the groups come from
        the settings); otherwise the layout is read, as :meth:`get` does.
        """
        core = self._core
        known = core.shared.layout
        ticket_type = known.find(type) if known is not None else None
        if ticket_type is None:
            ticket_type = self.get(type)
        return [str(g) for g in core.settings.customer_groups(ticket_type.name)]

    def _check_unique(self, name: str, layout: DeskLayout, keep: TicketType | None = None) -> None:
        for other in layout.types:
            if other.name.casefold() == name.casefold() and (keep is None or other.id != keep.id):
                state = "an archived" if other.archived else "a"
                raise InvalidType(f"there is already {state} ticket type named '{other.name}' "
                                  f"(id {other.id})")

    def _groups(self, refs: Iterable[str | int], level: int = AGENT_LEVEL) -> dict[str, int]:
        """Group ids for names or ids, one request; :class:`UnknownGroup` for the unknown."""
        wanted = [str(r).strip() for r in refs]
        if not wanted:
            return {}
        batch = Batch()
        calls = []
        for ref in wanted:
            if is_id(ref):
                calls.append((ref, batch.call("Group/get", {"ids": [ref],
                                                            "properties": ["id", "name"]})))
            else:
                query = batch.call("Group/query", {"filter": {"text": ref}})
                calls.append((ref, batch.call("Group/get", {"#ids": query.ref("/ids"),
                                                            "properties": ["id", "name"]})))
        responses = self._core.client.execute(batch)
        acl: dict[str, int] = {}
        for ref, call in calls:
            found = GetResult.from_json(responses.get(call)).objects
            match = [g for g in found if str(g["id"]) == ref or g.get("name") == ref]
            if not match:
                raise UnknownGroup(f"there is no Group-Office group {ref!r}")
            acl[str(match[0]["id"])] = level
        return acl

    def create(
        self,
        name: str,
        description: str | None = None,
        agents: Iterable[str | int] | None = None,
    ) -> TicketType:
        """A new type: a task list in "Support" whose ``agents`` (groups, by name or id) get
        write access. Managers only.

        The settings' managers group gets manage access on the list, so that every manager
        (also with their own API key) sees every type, and a name is never taken twice by a
        manager who could not see the first type. The list's owner is who creates it; unless
        that is Group-Office's super admin (user 1), Group-Office keeps the owner's personal
        group on the list at manage, whatever is patched (groupoffice-wire 17): a manager who
        creates a type on his own key is an agent of it, and the desk shows him as one. A type
        created through :meth:`~SupportDesk.as_user` is created with the desk's own key, and
        has no such owner entry when that key is user 1's. Any other grant Group-Office added
        is taken away again.
        """
        core = self._core
        title = _checked_name(name)
        if description is not None and len(description) > MAX_DESCRIPTION:
            raise InvalidType(f"the description is longer than {MAX_DESCRIPTION} characters")
        actor = core.full_actor()
        core.require_manager(actor, "create ticket types")
        layout = core.layout()
        self._check_unique(title, layout)
        acl = self._groups(agents or [])
        managers = core.settings.desk.managers_group
        if managers is not None:
            for group_id, level in self._groups([managers], MANAGE).items():
                acl[group_id] = max(level, acl.get(group_id, 0))
        values: dict[str, Any] = {"name": title, "role": "list",
                                  "groupingId": layout.grouping_id, "acl": acl}
        if description:
            values["description"] = description

        def send() -> tuple[str, dict[str, int], str | None]:
            batch = Batch()
            call = batch.set("TaskList", create={"l1": values})
            got = batch.call("TaskList/get", {"#ids": call.ref("/created/*/id"),
                                              "properties": ["id", "acl", "createdBy"]})
            owner = batch.call("User/get", {"#ids": got.ref("/list/*/createdBy"),
                                            "properties": ["id", "personalGroup"]})
            responses = core.client.execute(batch)
            result = set_result(responses, call, creates=["l1"])
            core.raise_set_error(result, "TaskList/set", f"create the ticket type '{title}'")
            found = GetResult.from_json(responses.get(got)).objects
            return (result.created_id("l1"), {str(k): int(v) for k, v in (
                found[0].get("acl") or {}).items()} if found else {},
                owner_group(found[0] if found else {}, optional(responses, owner)))

        def exists() -> tuple[str, dict[str, int], str | None] | None:
            # A failed request may still have created the list: the name is unique.
            made = core.discover().find(title)
            if made is None:
                return None
            batch = Batch()
            got = batch.call("TaskList/get", {"ids": [made.id],
                                              "properties": ["id", "acl", "createdBy"]})
            owner = batch.call("User/get", {"#ids": got.ref("/list/*/createdBy"),
                                            "properties": ["id", "personalGroup"]})
            responses = core.client.execute(batch)
            found = GetResult.from_json(responses.get(got)).objects
            return (made.id, {str(k): int(v) for k, v in (found[0].get("acl") or {}).items()}
                    if found else {}, owner_group(found[0] if found else {},
                                                  optional(responses, owner)))

        new_id, actual, kept = write_once(core, send, f"create the ticket type '{title}'",
                                          exists)
        self._exact_acl(new_id, acl, actual, kept, title)
        return self._after_change(new_id)

    def _exact_acl(self, list_id: str, acl: dict[str, int], actual: dict[str, int],
                   owner_group_id: str | None, title: str) -> None:
        """Take away what Group-Office granted on its own, except the owner's personal group,
        which Group-Office puts back at manage on every save (groupoffice-wire 17)."""
        core = self._core
        wanted = dict(acl)
        if owner_group_id is not None and owner_group_id in actual:
            wanted[owner_group_id] = actual[owner_group_id]
        if actual == wanted:
            return
        # ``acl`` writes merge into the ACL; a group set to null is removed (groupoffice-wire 04)
        patch: dict[str, int | None] = {gid: None for gid in actual if gid not in wanted}
        patch.update({gid: level for gid, level in wanted.items() if actual.get(gid) != level})
        def send_acl() -> None:
            batch = Batch()
            call = batch.set("TaskList", update={list_id: {"acl": patch}})
            result = set_result(core.client.execute(batch), call, updates=[list_id])
            core.raise_set_error(result, "TaskList/set",
                                 f"set the ACL of the ticket type '{title}'")

        def destroy() -> bool:
            batch = Batch()
            gone = batch.set("TaskList", destroy=[list_id])
            return not set_result(core.client.execute(batch), gone).errors

        try:
            write_once(core, send_acl, f"set the ACL of the ticket type '{title}'")
        except Exception as cause:
            undone, left = [], []
            try:
                if not write_once(core, destroy, f"destroy the task list {list_id}"):
                    left.append(f"task list {list_id}")
                else:
                    undone.append(f"task list {list_id}")
            except Exception:
                left.append(f"task list {list_id}")
            raise RolledBack(
                f"the ticket type '{title}' was created but its ACL could not be set: {cause}",
                cause=cause, undone=undone, left_over=left) from cause

    def _after_change(self, type_id: str) -> TicketType:
        core = self._core
        core.forget_layout()
        found = core.discover().by_id(type_id)
        assert found is not None, "the type just written is not in the layout"
        return found

    def _update(self, ticket_type: TicketType, patch: dict[str, Any], what: str) -> TicketType:
        core = self._core

        def send() -> None:
            batch = Batch()
            call = batch.set("TaskList", update={ticket_type.id: patch})
            responses: Responses = core.client.execute(batch)
            result = set_result(responses, call, updates=[ticket_type.id])
            core.raise_set_error(result, "TaskList/set", what)

        write_once(core, send, what)  # absolute values: safe to send again
        return self._after_change(ticket_type.id)

    def rename(self, type: str | int | TicketType, new_name: str) -> TicketType:
        """Rename a type. Managers only."""
        core = self._core
        title = _checked_name(new_name)
        actor = core.full_actor()
        core.require_manager(actor, "rename ticket types")
        ticket_type = core.resolve_type(type, core.layout())
        self._check_unique(title, core.layout(), keep=ticket_type)
        return self._update(ticket_type, {"name": title},
                            f"rename the ticket type '{ticket_type.name}'")

    def archive(self, type: str | int | TicketType) -> TicketType:
        """Move a type to "Support archive": its tickets stay readable, no new ones. Managers
        only."""
        core = self._core
        actor = core.full_actor()
        core.require_manager(actor, "archive ticket types")
        layout = core.layout()
        ticket_type = core.resolve_type(type, layout)
        if layout.archive_grouping_id is None:
            raise NotInstalled(f'the task-list grouping "{names.ARCHIVE_GROUPING_NAME}" is '
                               "missing: run `go-support install`")
        if ticket_type.archived:
            return ticket_type
        return self._update(ticket_type, {"groupingId": layout.archive_grouping_id},
                            f"archive the ticket type '{ticket_type.name}'")

    def restore(self, type: str | int | TicketType) -> TicketType:
        """Bring an archived type back. Managers only."""
        core = self._core
        actor = core.full_actor()
        core.require_manager(actor, "restore ticket types")
        layout = core.layout()
        ticket_type = core.resolve_type(type, layout)
        if not ticket_type.archived:
            return ticket_type
        self._check_unique(ticket_type.name, DeskLayout(
            layout.grouping_id, layout.archive_grouping_id, layout.active_types,
            layout.key_levels, layout.private_label_id, layout.tasklist_state))
        return self._update(ticket_type, {"groupingId": layout.grouping_id},
                            f"restore the ticket type '{ticket_type.name}'")


def owner_group(task_list: Mapping[str, Any], owners: Mapping[str, Any] | None) -> str | None:
    """The personal group of a task list's owner (``createdBy``), from a ``User/get`` of the
    owner, or ``None`` when the owner is the super admin (user 1), whose lists carry no owner
    entry (groupoffice-wire 17), or cannot be read."""
    owner_id = str(task_list.get("createdBy") or "")
    if not owner_id or owner_id == SUPER_ADMIN or owners is None:
        return None
    for user in GetResult.from_json(owners).objects:
        if str(user.get("id")) == owner_id:
            group = user.get("personalGroup")
            group_id = group.get("id") if isinstance(group, Mapping) else group
            return None if group_id is None else str(group_id)
    return None
