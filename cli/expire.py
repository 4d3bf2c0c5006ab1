"""``go-support expire``: Group-Office's daily auto-close of inactive tickets, for cron."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import click

from go_support.cli import exitcodes
from go_support.cli.context import json_option, parse_when, wants_json
from go_support.cli.output import emit_json


class _SomeFailed(click.ClickException):
    """Exit 7 after the report was printed: some tickets could not be warned or closed."""

    exit_code = exitcodes.PARTIAL

    def __init__(self) -> None:
        super().__init__("")

    def show(self, file: Any = None) -> None:
        return None


def _moment(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


@click.command("expire")
@click.option("--dry-run", is_flag=True,
              help="Change nothing: list each ticket that would be warned or closed, and why.")
@click.option("--explain", "explain", multiple=True, metavar="ID",
              help="Say what a run would do to this ticket and why, also when it would be "
              "skipped (repeatable); changes nothing.")
@click.option("--now", "now", callback=parse_when, metavar="WHEN",
              help="Pretend it is this moment (2026-05-01 or 2026-05-01T09:30, UTC); only "
              "with --dry-run or --explain, to try settings out.")
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help="Only tickets of this ticket type (repeatable); default: every type.")
@json_option
@click.pass_obj
def expire_command(conn: Any, dry_run: bool, explain: tuple[str, ...],
                   now: datetime | date | None, types: tuple[str, ...],
                   local_json: bool) -> None:
    """Close inactive tickets as Group-Office's Support module does (optionally warning
    first), with the [expiry] settings; run it daily from cron.

    A ticket is closed when [expiry] days is above 0, it is In progress, the last message
    (private notes and our warnings do not count) was by an agent, and it is older than days;
    tickets of excluded types or categories never are. Safe to run twice, or on two hosts at
    once. Exit 0: nothing failed; 7: some tickets failed (the report names them; the next run
    tries again); 3: bad [expiry] settings.

    \b
    Examples:
      go-support expire --dry-run
      go-support expire --explain 1234
      go-support expire --json
    """
    from go_support.expiry.runner import Report, explain_text, run

    as_json = wants_json(conn, local_json)
    moment = _moment(now)
    if moment is not None and not (dry_run or explain):
        raise click.UsageError("--now is only allowed with --dry-run or --explain")
    settings = conn.settings()
    expiry = settings.expiry
    with conn.desk() as desk:
        report: Report = run(desk, expiry, now=moment, dry_run=dry_run,
                             settings_path=settings.path, explain=list(explain) or None,
                             types=list(types) or None)
    if as_json:
        emit_json(report.to_json())
    else:
        _print(report, explain_text)
    if report.failed:
        raise _SomeFailed


def _print(report: Any, line: Any) -> None:
    if report.days <= 0 and not report.outcomes:
        click.echo("Auto-close is off: [expiry] days is 0 (or not set). Nothing to do.")
        return
    if report.dry_run:
        click.echo("Dry run: nothing was changed.")
    for outcome in report.outcomes:
        click.echo(line(outcome))
    if not report.outcomes:
        click.echo("No ticket to warn or close.")
        return
    done = [o for o in report.outcomes if o.ok]
    failed = report.failed
    counts: dict[str, int] = {}
    for o in done:
        counts[o.result] = counts.get(o.result, 0) + 1
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    click.echo(f"{len(report.outcomes)} ticket(s): {summary}" + (
        f"; {len(failed)} failed" if failed else ""))
