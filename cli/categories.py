"""``go-support categories``: ticket categories (Group-Office task categories)."""

from __future__ import annotations

from typing import Any

import click

from go_support.cli.context import json_option, wants_json
from go_support.cli.output import emit_json, table
from go_support.desk import Category, SupportDesk
from go_support.desk.forms import category_json

__all__ = ["categories_group"]


def _scope(desk: SupportDesk, category: Category) -> str:
    if category.type_id is None:
        return "global"
    found = desk.layout.by_id(category.type_id)
    return found.name if found is not None else f"type {category.type_id}"


def _data(desk: SupportDesk, category: Category) -> dict[str, Any]:
    data = category_json(category)
    data["type"] = None if category.type_id is None else _scope(desk, category)
    return data


@click.group("categories")
def categories_group() -> None:
    """Ticket categories: global ones, and those of one ticket type.

    \b
    Examples:
      go-support categories list --type "IT support"
      go-support categories create Hardware --type "IT support"
    """


@categories_group.command("list")
@click.option("--type", "type_ref", metavar="TYPE",
              help="The global categories and those of this type (name or id); default: "
              "those of every type.")
@json_option
@click.pass_obj
def list_command(conn: Any, type_ref: str | None, local_json: bool) -> None:
    """List categories: the global ones first, then those of the types.

    \b
    Examples:
      go-support categories list
      go-support categories list --type Facilities --json
    """
    with conn.desk() as desk:
        found = desk.categories.list(type_ref)
        data = [_data(desk, c) for c in found]
    if wants_json(conn, local_json):
        emit_json(data)
        return
    if not data:
        click.echo("No categories yet: create one with go-support categories create NAME.")
        return
    click.echo(table(["id", "name", "type"], [[d["id"], d["name"], d["type"] or "global"]
                                              for d in data]))


@categories_group.command("create")
@click.argument("name")
@click.option("--type", "type_ref", metavar="TYPE",
              help="Make it a category of this type only (name or id); default: global.")
@json_option
@click.pass_obj
def create_command(conn: Any, name: str, type_ref: str | None, local_json: bool) -> None:
    """Create a category, global or of one type. Managers only.

    \b
    Examples:
      go-support categories create Urgent
      go-support categories create Printer --type "IT support"
    """
    with conn.desk() as desk:
        created = desk.categories.create(name, type_ref)
        data = _data(desk, created)
    if wants_json(conn, local_json):
        emit_json(data)
        return
    click.echo(f"Created category '{created.name}' (id {created.id}, "
               f"{data['type'] or 'global'}).")
