"""``go-support types``: ticket types (task lists in the task-list grouping "Support")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from go_support.cli.context import json_option, wants_json
from go_support.cli.output import emit_json, table
from go_support.desk import SupportDesk, TicketType
from go_support.desk.forms import type_json
from go_support.errors import GoSupportError
from go_support.jmap.errors import JMAPError

__all__ = ["types_group"]

AGENT_LEVEL = 30


def _group_names(desk: SupportDesk, types: Sequence[TicketType]) -> dict[str, str]:
    """Names of the groups on the types' ACLs (one request; ids only if it fails)."""
    ids = sorted({g for t in types for g in t.acl}, key=lambda g: (len(g), g))
    if not ids:
        return {}
    try:
        found = desk.client.groups.get(ids, ["id", "name"]).objects
    except JMAPError:
        return {}
    return {str(g["id"]): str(g.get("name") or g["id"]) for g in found}


def _agents(ticket_type: TicketType, names: Mapping[str, str]) -> str:
    groups = [names.get(g, f"group {g}") for g, level in ticket_type.acl.items()
              if level >= AGENT_LEVEL]
    return ", ".join(sorted(groups)) or "- (administrators only)"


def _type_data(desk: SupportDesk, ticket_type: TicketType,
               names: Mapping[str, str]) -> dict[str, Any]:
    data = type_json(ticket_type)
    data["agentGroups"] = [{"id": g, "name": names.get(g)} for g, level in
                           ticket_type.acl.items() if level >= AGENT_LEVEL]
    data["customerGroups"] = desk.types.customer_groups(ticket_type)  # no request
    return data


def _show_one(conn: Any, desk: SupportDesk, ticket_type: TicketType, local_json: bool,
              what: str) -> None:
    names = _group_names(desk, [ticket_type])
    if wants_json(conn, local_json):
        emit_json(_type_data(desk, ticket_type, names))
        return
    state = " (archived)" if ticket_type.archived else ""
    click.echo(f"{what} ticket type '{ticket_type.name}' (id {ticket_type.id}){state}; "
               f"agents: {_agents(ticket_type, names)}.")


def _no_types(desk: SupportDesk) -> str:
    """Why ``types list`` is empty: only managers are told to create a type (one request)."""
    try:
        manager = desk.roles.is_manager()
    except GoSupportError:
        manager = False  # cannot tell: do not suggest what may be refused
    if manager:
        return "No ticket types yet: create one with go-support types create NAME."
    return ("No ticket types are visible to this user (a user sees the types whose task list "
            "it may read; managers create types).")


@click.group("types")
def types_group() -> None:
    """Ticket types: the task lists in the task-list grouping "Support".

    Agents of a type are the members of the groups with write access (or more) on its task
    list; managers (Group-Office administrators, or members of desk.managers_group) create,
    rename and archive types.

    \b
    Examples:
      go-support types list
      go-support types create "IT support" --agents "IT agents"
      go-support types archive "Old printers"
    """


@types_group.command("list")
@click.option("--archived", "include_archived", is_flag=True,
              help="Also the archived types (in the grouping \"Support archive\").")
@json_option
@click.pass_obj
def list_command(conn: Any, include_archived: bool, local_json: bool) -> None:
    """List the ticket types with their agent groups and customer groups.

    \b
    Examples:
      go-support types list
      go-support types list --archived --json
    """
    with conn.desk() as desk:
        types = desk.types.list(include_archived=include_archived)
        names = _group_names(desk, types)
        data = [_type_data(desk, t, names) for t in types]
        if wants_json(conn, local_json):
            emit_json(data)
            return
        if not types:
            click.echo(_no_types(desk))
            return
    rows = [[t.id, t.name + (" (archived)" if t.archived else ""), _agents(t, names),
             ", ".join(d["customerGroups"]) or "-", t.description or ""]
            for t, d in zip(types, data, strict=True)]
    click.echo(table(["id", "name", "agents (groups)", "customers (groups)", "description"],
                     rows))


@types_group.command("create")
@click.argument("name")
@click.option("--description", help="A short description (at most 255 characters).")
@click.option("--agents", "agents", multiple=True, metavar="GROUP",
              help="A group (name or id) whose members become agents of the type: write "
              "access on its task list (repeat for several).")
@json_option
@click.pass_obj
def create_command(conn: Any, name: str, description: str | None, agents: tuple[str, ...],
                   local_json: bool) -> None:
    """Create a ticket type: a task list in the grouping "Support". Managers only.

    \b
    Examples:
      go-support types create "IT support" --agents "IT agents"
      go-support types create Facilities --description "Building and furniture" \\
          --agents 12 --agents "Caretakers"
    """
    with conn.desk() as desk:
        created = desk.types.create(name, description, agents=list(agents))
        _show_one(conn, desk, created, local_json, "Created")


@types_group.command("rename")
@click.argument("type_ref", metavar="TYPE")
@click.argument("new_name", metavar="NEW_NAME")
@json_option
@click.pass_obj
def rename_command(conn: Any, type_ref: str, new_name: str, local_json: bool) -> None:
    """Rename a ticket type (by name or id). Managers only.

    \b
    Example:
      go-support types rename "IT support" "IT help desk"
    """
    with conn.desk() as desk:
        renamed = desk.types.rename(type_ref, new_name)
        _show_one(conn, desk, renamed, local_json, "Renamed")


@types_group.command("archive")
@click.argument("type_ref", metavar="TYPE")
@json_option
@click.pass_obj
def archive_command(conn: Any, type_ref: str, local_json: bool) -> None:
    """Archive a ticket type: its list moves to the grouping "Support archive"; its tickets
    stay readable, new tickets are refused. Managers only.

    \b
    Example:
      go-support types archive "Old printers"
    """
    with conn.desk() as desk:
        archived = desk.types.archive(type_ref)
        _show_one(conn, desk, archived, local_json, "Archived")


@types_group.command("restore")
@click.argument("type_ref", metavar="TYPE")
@json_option
@click.pass_obj
def restore_command(conn: Any, type_ref: str, local_json: bool) -> None:
    """Bring an archived ticket type back into the grouping "Support". Managers only.

    \b
    Example:
      go-support types restore "Old printers"
    """
    with conn.desk() as desk:
        restored = desk.types.restore(type_ref)
        _show_one(conn, desk, restored, local_json, "Restored")
