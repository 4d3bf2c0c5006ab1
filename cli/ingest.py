"""``go-support ingest``: one mail from an MTA (Postfix ``pipe``, an alias), exactly once.

Exit codes follow sendmail's ``sysexits``: 0 when Group-Office holds the mail or it was
quarantined (kept in ``[mail] quarantine_dir``), 75 (``EX_TEMPFAIL``) when Group-Office or the
settings failed for now: the MTA keeps the mail and delivers it again later, and the mail's key
makes that second delivery a no-op if the first one was written after all. 65
(``EX_DATAERR``) when the mail would be quarantined but no ``quarantine_dir`` is set: the MTA
returns it to its sender with the reason rather than it being dropped.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from go_support.cli.context import mail_log

__all__ = ["DATAERR", "TEMPFAIL", "check_mailbox", "ingest_command"]

TEMPFAIL = 75
DATAERR = 65
#: Routing without a section of its own (``go_support.mail.routing.STDIN_MAILBOX``).
STDIN_MAILBOX = "stdin"


def check_mailbox(settings: Any, mailbox: str) -> None:
    """A ``--mailbox`` the settings do not know is a configuration error, not a crash: the
    MTA keeps the mail (exit 75) until the sysadmin fixes the name or the file."""
    if mailbox == STDIN_MAILBOX or mailbox in settings.mail.mailboxes:
        return
    from go_support.settings import ConfigError, ConfigProblem

    known = ", ".join(sorted(settings.mail.mailboxes)) or "none"
    raise ConfigError([ConfigProblem(
        source=str(settings.path or "configuration"), key=f"mail.mailboxes.{mailbox}",
        message=f"no such mailbox (--mailbox {mailbox}); known: {known}")],
        path=settings.path)


@click.command("ingest")
@click.option("--mailbox", default=STDIN_MAILBOX, show_default=True,
              help="The mailbox name the mail is routed as ([mail.mailboxes.<name>]).")
@click.option("--recipient", default=None,
              help="The envelope recipient (Postfix: ${recipient}), for routing by address.")
@click.pass_obj
def ingest_command(conn: Any, mailbox: str, recipient: str | None) -> None:
    """Import one mail from standard input (for an MTA): exit 0 when Group-Office holds it or
    it is quarantined, 75 on a temporary failure so that the MTA retries. A mail that opens a
    ticket is acknowledged when outbound mail is set up ([mail] addresses, [mail.smtp] and
    $GO_SUPPORT_MAIL_SECRET); otherwise a log line says why not.

    \b
    Examples:
      go-support ingest --mailbox support < message.eml
      go-support ingest --mailbox support --recipient hardware@example.com  # Postfix pipe
    """
    with mail_log("go-support ingest: %(message)s"):
        _ingest(conn, mailbox, recipient)


def _ingest(conn: Any, mailbox: str, recipient: str | None) -> None:
    from go_support.errors import GoSupportError

    try:
        settings = conn.settings()
        check_mailbox(settings, mailbox)
        from go_support.mail.sources import StdinSource

        source = StdinSource(sys.stdin.buffer, envelope_recipient=recipient,
                             max_bytes=settings.mail.max_bytes, name=mailbox)
        mails = source.fetch()
        from go_support.desk import SupportDesk
        from go_support.mail.runner import build_intake

        with conn.client() as client:
            intake = build_intake(SupportDesk(client, settings), settings)
            outcomes = intake.handle(source, mails)
        from go_support.mail.seen import record_seen, state_dir

        record_seen(state_dir(settings.mail), mailbox, outcomes)
    except (GoSupportError, OSError) as exc:
        click.echo(f"go-support ingest: temporary failure, the MTA should retry: {exc}",
                   err=True)
        sys.exit(TEMPFAIL)
    if any(o.action in ("failed", "deferred") for o in outcomes):
        sys.exit(TEMPFAIL)
    refused = [o for o in outcomes if o.action == "quarantine"]
    if refused and not settings.mail.quarantine_dir:
        # nowhere to keep it: the MTA returns it to its sender with the reason, not dropped
        click.echo(f"go-support ingest: not accepted: {refused[0].reason}", err=True)
        sys.exit(DATAERR)
