"""``go-support daemon``: every mailbox into tickets, and agents' answers out, until SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

import click

__all__ = ["daemon_command"]


@click.command("daemon")
@click.option("--once", is_flag=True,
              help="One cycle (every mailbox until empty, then outbound), then exit: for cron.")
@click.option("--poll", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds between cycles when no mailbox has IMAP IDLE.")
@click.pass_obj
def daemon_command(conn: Any, once: bool, poll: float) -> None:
    """Run the mail daemon: every mailbox of [mail.mailboxes] into tickets (IMAP IDLE, polling,
    Maildir), then agents' answers out; SIGTERM finishes the batch at hand and exits 0.

    \b
    Examples:
      go-support daemon            # until SIGTERM (a systemd service)
      go-support daemon --once     # one cycle, for cron
    """
    # force: the group's options configured logging at ERROR already; a line per mail is INFO
    logging.basicConfig(level=min(logging.INFO, logging.getLogger().level), stream=sys.stderr,
                        format="%(asctime)s go-support daemon: %(message)s", force=True)
    settings = conn.settings()
    if not settings.mail.mailboxes:
        raise click.UsageError("no mailbox in the settings: add a [mail.mailboxes.<name>] "
                               "section")
    from go_support.desk import SupportDesk
    from go_support.mail.runner import Runner

    with conn.client() as client:
        runner = Runner(SupportDesk(client, settings), settings)
        signal.signal(signal.SIGTERM, lambda *_: runner.stop())
        signal.signal(signal.SIGINT, lambda *_: runner.stop())
        if once:
            runner.run_once()
            return
        runner.run(poll=poll)
