"""``go-support demo``: the embedded Group-Office emulator, filled with demo data and shown.

This is the README's first command: a newcomer sees go-support work without owning a
Group-Office. Everything goes through the real client over real HTTP.
"""

from __future__ import annotations

import threading
from typing import Any

import click

from go_support.emulator import Emulator
from go_support.jmap import Batch, GroupOfficeClient, created_ref

from .output import emit_json, table

DEMO_TICKETS = [
    (
        "Printer on floor 2 is jammed",
        "ann@example.com",
        "<p>Hi, the printer next to the kitchen eats every sheet. Can someone look?</p>",
    ),
    (
        "Cannot log in to the VPN",
        "bob@example.com",
        "<p>Since this morning the VPN says my certificate expired.</p>",
    ),
    (
        "New laptop for Carol",
        "carol@example.com",
        "<p>Carol starts on Monday and needs a laptop with the usual software.</p>",
    ),
]


def build_demo(client: GroupOfficeClient) -> dict[str, Any]:
    """Create a ticket list, tickets and their first messages in one HTTP request."""
    batch = Batch()
    lists = batch.call(
        "TaskList/set", {"create": {"support": {"name": "Support (demo)", "role": "list"}}}
    )
    creates = {
        f"ticket{i}": {
            "#tasklistId": created_ref(lists, "support"),
            "title": title,
            "description": f"Requester: {sender}",
        }
        for i, (title, sender, _) in enumerate(DEMO_TICKETS, 1)
    }
    tasks = batch.call("Task/set", {"create": creates})
    comments = {
        f"message{i}": {
            "entity": "Task",
            "#entityId": created_ref(tasks, f"ticket{i}"),
            "text": text,
            "mailStatus": "received",
            "mimeMessageId": f"<demo-{i}@example.com>",
        }
        for i, (_, _, text) in enumerate(DEMO_TICKETS, 1)
    }
    batch.call("Comment/set", {"create": comments})
    responses = client.execute(batch)
    list_id = responses.get(lists)["created"]["support"]["id"]
    return {"tasklistId": list_id}


def collect(client: GroupOfficeClient, tasklist_id: str) -> list[dict[str, Any]]:
    """Tickets of the list with their messages: two HTTP requests whatever their number."""
    found = client.tasks.query_get(
        {"tasklistId": tasklist_id},
        sort=[{"property": "id", "isAscending": True}],
        properties=["id", "title", "progress", "responsibleUserId", "createdAt"],
    )
    tickets = [dict(t) for t in found.objects]
    by_id = {t["id"]: t for t in tickets}
    for t in tickets:
        t["messages"] = []
    if tickets:
        comments = client.comments.query_get(
            {"entity": "Task", "entityId": list(by_id)},
            properties=["id", "entityId", "text", "date", "mailStatus"],
        )
        for c in comments.objects:
            by_id[str(c["entityId"])]["messages"].append(dict(c))
    return tickets


@click.command("demo")
@click.option("--data", "data_path", default=":memory:", show_default=True,
              help="SQLite file for the emulator's data (:memory: keeps nothing).")
@click.option("--port", default=0, show_default=True, type=int,
              help="Port of the emulator (0: any free port).")
@click.option("--keep-running", is_flag=True,
              help="Keep the emulator serving afterwards, to explore it with the API.")
@click.pass_obj
def demo_command(conn: Any, data_path: str, port: int, keep_running: bool) -> None:
    """Start the embedded Group-Office emulator, create demo tickets, and list them.

    \b
    Example:
      go-support demo
      go-support demo --keep-running --port 8080 --data demo.sqlite
    """
    emu = Emulator(data_path)
    server = emu.start(port=port)
    try:
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as client:
            created = build_demo(client)
            tickets = collect(client, created["tasklistId"])
        if conn.as_json:
            emit_json({"url": server.base_url, "tickets": tickets})
        else:
            click.echo(f"Group-Office emulator at {server.base_url}\n")
            rows = [
                [t["id"], t["title"], t["progress"], t["responsibleUserId"] or "-",
                 len(t["messages"])]
                for t in tickets
            ]
            click.echo(table(["id", "subject", "status", "agent", "messages"], rows))
            first = tickets[0]
            click.echo(f"\nMessages of ticket {first['id']} ({first['title']}):")
            for m in first["messages"]:
                click.echo(f"  [{m['date']}] {m['mailStatus']}: {_plain(m['text'])}")
        if keep_running:
            click.echo(f"\nServing at {server.base_url}; admin API key: {server.admin_api_key}")
            click.echo("Press Ctrl+C to stop.")
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


def _plain(html: str) -> str:
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
