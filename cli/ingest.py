"""``go-support ingest``: one mail from an MTA (Postfix ``pipe``, an alias), exactly once.

Exit codes follow sendmail's ``sysexits``: 0 when Group-Office holds the mail or it was
quarantined (kept in ``[mail] quarantine_dir``), 75 (``EX_TEMPFAIL``) when Group-Office or the
settings failed for now: the MTA keeps the mail and delivers it again later, and the mail's key
makes that second delivery a no-op if the first one was written after all.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

__all__ = ["TEMPFAIL", "ingest_command"]

TEMPFAIL = 75


@click.command("ingest")
@click.option("--mailbox", default="stdin", show_default=True,
              help="The mailbox name the mail is routed as ([mail.mailboxes.<name>]).")
@click.option("--recipient", default=None,
              help="The envelope recipient (Postfix: ${recipient}), for routing by address.")
@click.pass_obj
def ingest_command(conn: Any, mailbox: str, recipient: str | None) -> None:
    """Import one mail from standard input (for an MTA): exit 0 when Group-Office holds it or
    it is quarantined, 75 on a temporary failure so that the MTA retries.

    \b
    Examples:
      go-support ingest --mailbox support < message.eml
      go-support ingest --mailbox support --recipient hardware@example.com  # Postfix pipe
    """
    # force: the group's options configured logging at ERROR already; a line per mail is INFO
    logging.basicConfig(level=min(logging.INFO, logging.getLogger().level),
                        format="go-support ingest: %(message)s", stream=sys.stderr, force=True)
    from go_support.errors import GoSupportError

    try:
        settings = conn.settings()
        from go_support.mail.sources import StdinSource

        source = StdinSource(sys.stdin.buffer, envelope_recipient=recipient,
                             max_bytes=settings.mail.max_bytes, name=mailbox)
        mails = source.fetch()
        from go_support.desk import SupportDesk
        from go_support.mail.runner import build_intake

        with conn.client() as client:
            intake = build_intake(SupportDesk(client, settings), settings)
            outcomes = intake.handle(source, mails)
    except (GoSupportError, OSError) as exc:
        click.echo(f"go-support ingest: temporary failure, the MTA should retry: {exc}",
                   err=True)
        sys.exit(TEMPFAIL)
    if any(o.action in ("failed", "deferred") for o in outcomes):
        sys.exit(TEMPFAIL)
