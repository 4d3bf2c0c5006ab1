"""``go-support migrate``: the legacy Tickets module's tickets into the help desk."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import Any

import click

from go_support.cli import exitcodes
from go_support.cli.context import json_option, wants_json
from go_support.cli.output import emit_json


class _Bar:
    """A rich progress bar on stderr: counts, rate and time left; nothing when stderr is not
    a terminal (cron, pipes) or with --json."""

    def __init__(self, enabled: bool) -> None:
        self._progress: Any = None
        self._task: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("tickets"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                console=Console(stderr=True), transient=True)

    def start(self, total: int) -> None:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("migrate", total=total)

    def advance(self, tickets: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, tickets)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


@click.command("migrate", context_settings={"ignore_unknown_options": False})
@click.option("--userId", "user_id", type=click.IntRange(min=1),
              help="The Group-Office user the migration acts as (through a short-lived API "
              "key the settings' admin key creates and destroys). Default: the API key's user.")
@click.option("-c", "--config", "go_config", metavar="PATH",
              help="Group-Office's config.php (-c=PATH, -c PATH, --config=PATH). Default: "
              "$GO_CONFIG_FILE, else /etc/groupoffice/config.php. Before the command name, "
              "--config is go-support's own TOML file.")
@click.option("--type", "types", multiple=True, metavar="ID|NAME",
              help="Only the tickets of this legacy type (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many tickets.")
@click.option("--dry-run", is_flag=True, help="Read and map everything, write nothing.")
@click.option("--chunk", type=click.IntRange(min=1, max=1000), default=500, show_default=True,
              help="Tickets written together (fewer: smaller requests, more of them).")
@json_option
@click.pass_obj
def migrate_command(conn: Any, user_id: int | None, go_config: str | None,
                    types: tuple[str, ...], limit: int | None, dry_run: bool, chunk: int,
                    local_json: bool) -> None:
    """Migrate tickets from Group-Office's legacy Tickets module into the help desk.

    \b
    Example (the command line of Group-Office's own CLI):
      go-support migrate --userId=1 -c=/etc/groupoffice/config.php
    Run it again at any time: tickets already migrated are skipped, a run that was
    interrupted is completed. Exit codes: 0 done, 7 some tickets failed (listed),
    3 config.php or the legacy database unusable, 2 bad options or --userId.
    """
    from go_support.desk import SupportDesk
    from go_support.jmap import GroupOfficeClient
    from go_support.legacy.acting import acting_key, check_user
    from go_support.legacy.config import config_path, load_config
    from go_support.legacy.mapping import UnknownLegacyType
    from go_support.legacy.reader import LegacyDatabase
    from go_support.legacy.writer import Migration

    as_json = wants_json(conn, local_json)
    config = load_config(config_path(go_config))
    bar = _Bar(enabled=not as_json and sys.stderr.isatty())
    with ExitStack() as stack:
        db = stack.enter_context(LegacyDatabase.from_config(config))
        admin = stack.enter_context(conn.client())
        client: GroupOfficeClient = admin
        look: GroupOfficeClient | None = None  # reads the next chunk's needs meanwhile
        if user_id is not None and not dry_run:
            token = stack.enter_context(acting_key(admin, user_id))
            client, look = (stack.enter_context(GroupOfficeClient(
                admin.base_url, api_key=token, transport=conn.transport)) for _ in range(2))
        elif user_id is not None:
            check_user(admin, user_id)  # a dry run creates no key
        elif not dry_run:
            look = stack.enter_context(conn.client())
        desk = SupportDesk(client, conn.settings())
        stack.callback(bar.stop)
        try:
            summary = Migration(desk, db, types=types, limit=limit, dry_run=dry_run,
                                chunk=chunk, progress=bar, lookahead=None if look is None
                                else SupportDesk(look, conn.settings())).run()
        except UnknownLegacyType as exc:
            raise click.UsageError(str(exc)) from None
    if as_json:
        emit_json(summary.to_json())
    else:
        _print(summary)
    if summary.failed_count:
        sys.exit(exitcodes.PARTIAL)


def _print(summary: Any) -> None:
    verb = "would migrate" if summary.dry_run else "migrated"
    click.echo(f"{summary.tickets} tickets read: {summary.migrated} {verb}, "
               f"{summary.completed} completed, {summary.skipped} already there, "
               f"{summary.failed_count} failed; {summary.messages} messages and "
               f"{summary.attachments} attachments written.")
    for name, counts in summary.per_type.items():
        click.echo(f"  {name}: {counts.migrated} {verb}, {counts.completed} completed, "
                   f"{counts.skipped} already there, {counts.failed} failed")
    if summary.types_created:
        click.echo("Ticket types created: " + ", ".join(summary.types_created))
    if summary.categories_created:
        click.echo("Categories created (custom statuses): "
                   + ", ".join(summary.categories_created))
    for failure in summary.failed:
        click.echo(f"failed: legacy ticket {failure.legacy_id}: {failure.reason}", err=True)
    if summary.problem_count:
        click.echo(f"{summary.problem_count} piece(s) could not be carried over as they were:",
                   err=True)
        for problem in summary.problems:
            click.echo(f"  {problem}", err=True)
    for note in summary.notes:
        click.echo(f"note: {note}")
