"""``go-support check``: can go-support reach Group-Office, and with which rights?"""

from __future__ import annotations

from typing import Any

import click

from go_support.cli.output import emit_json, table

MODULES = (("community", "tasks"), ("community", "comments"), ("core", "core"))


@click.command("check")
@click.pass_obj
def check_command(conn: Any) -> None:
    """Connect to Group-Office and show the version, the user and the module rights.

    \b
    Example:
      GO_SUPPORT_URL=https://go.example.com GO_SUPPORT_API_KEY=... go-support check --json
    (global options such as --json go before the command name:
      go-support --json check)
    """
    with conn.client() as client:
        session = client.session
        rights = {
            f"{package}/{module}": session.module_rights(package, module)
            for package, module in MODULES
        }
        report = {
            "url": client.base_url,
            "version": session.version,
            "userId": session.user_id,
            "limits": {
                "maxCallInRequest": session.limits.max_call_in_request,
                "maxObjectsInGet": session.limits.max_objects_in_get,
                "maxObjectsInSet": session.limits.max_objects_in_set,
            },
            "rights": rights,
        }
    if conn.as_json:
        emit_json(report)
        return
    click.echo(f"Group-Office {report['version']} at {report['url']}, user id {report['userId']}")
    rows = [
        [name, "no access" if r is None else ", ".join(k for k, v in r.items() if v) or "-"]
        for name, r in rights.items()
    ]
    click.echo(table(["module", "rights"], rows, max_width=80))
