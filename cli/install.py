"""``go-support install``: prepare Group-Office for go-support, or say it is up to date."""

from __future__ import annotations

from typing import Any

import click

from go_support.cli.output import emit_json
from go_support.migrations import InstallReport, Progress, install


def _print_progress(event: Progress) -> None:
    prefix = f"[{event.index}/{event.total}] {event.step}"
    if event.event == "started":
        click.echo(f"{prefix}: {event.description}")
        for action in event.actions:
            click.echo(f"      - {action}")
    elif event.event == "done":
        note = {"recorded": "already present, recorded",
                "up to date": "done meanwhile by another install"}.get(event.status or "", "")
        click.echo(f"{prefix}: {event.status}" + (f" ({note})" if note else ""))


def _print_dry_run(report: InstallReport) -> None:
    click.echo("Dry run: nothing was changed.")
    pending = report.changed
    for step in report.steps:
        if step.status == "pending":
            click.echo(f"{step.step}: {step.description}")
            for action in step.actions:
                click.echo(f"      - {action}")
    if not pending:
        click.echo("Up to date: nothing to do.")
    else:
        click.echo(f"{len(pending)} step(s) pending; run `go-support install` to apply them.")
    if report.missing_rights:
        click.echo(f"Warning: user {report.user_id} lacks {', '.join(report.missing_rights)}: "
                   "with this API key, go-support install will be refused.")


@click.command("install")
@click.option("--dry-run", is_flag=True,
              help="List the pending steps and what each would create; change nothing.")
@click.option("--json", "local_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def install_command(conn: Any, dry_run: bool, local_json: bool) -> None:
    """Prepare Group-Office for go-support: the field set "Support" on tasks and its custom
    fields, the task-list groupings "Support" and "Support archive", the comment label
    "Private".

    Idempotent: run it again after every upgrade of go-support; when nothing is missing it
    says "up to date" and changes nothing. An interrupted install resumes. Objects that clash
    with what go-support needs are named and left alone (exit 6). Needs an administrator's
    API key (the core right mayChangeCustomFields).

    \b
    Examples:
      go-support install --dry-run
      go-support install
      go-support --config /etc/go-support/config.toml install --json
    """
    as_json = local_json or conn.as_json
    with conn.client() as client:
        if not as_json:
            click.echo(f"Group-Office at {client.base_url}, user id {client.session.user_id}")
        report = install(client, dry_run=dry_run,
                         on_progress=None if as_json else _print_progress)
    if as_json:
        emit_json(report.to_json())
        return
    if report.newer_steps:
        click.echo(f"Note: a newer go-support prepared this Group-Office "
                   f"({', '.join(report.newer_steps)}); upgrade go-support on this host.")
    if dry_run:
        _print_dry_run(report)
    elif report.up_to_date:
        click.echo(f"Up to date: nothing to do ({' '.join(report.recorded)}).")
    else:
        click.echo(f"Done: {len(report.changed)} step(s) applied; Group-Office is prepared "
                   f"({' '.join(report.recorded)}).")
