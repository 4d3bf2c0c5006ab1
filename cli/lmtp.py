"""``go-support lmtp``: the MTA delivers over LMTP to one long-running process, exactly once."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from go_support.cli.context import mail_log

__all__ = ["lmtp_command"]


@click.command("lmtp")
@click.option("--listen", default="127.0.0.1:2424", show_default=True, metavar="ADDRESS",
              help="HOST:PORT, or unix:/path/to/socket.")
@click.option("--mailbox", default="stdin", show_default=True,
              help="The mailbox whose routes apply ([mail.mailboxes.<name>]).")
@click.pass_obj
def lmtp_command(conn: Any, listen: str, mailbox: str) -> None:
    """Serve LMTP for an MTA: each mail answered 250 once Group-Office holds it (or it is
    quarantined), 451 when Group-Office failed so that the MTA delivers it again.

    \b
    Examples:
      go-support lmtp --listen 127.0.0.1:2424 --mailbox support
      go-support lmtp --listen unix:/run/go-support/lmtp   # Postfix: lmtp:unix:/run/...
    """
    with mail_log("%(asctime)s go-support lmtp: %(message)s"):
        _serve(conn, listen, mailbox)


def _serve(conn: Any, listen: str, mailbox: str) -> None:
    from go_support.cli.ingest import check_mailbox
    from go_support.mail.lmtp import LmtpListener, LmtpWorker, parse_listen

    try:
        where = parse_listen(listen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--listen") from None
    settings = conn.settings()
    check_mailbox(settings, mailbox)
    from go_support.desk import SupportDesk
    from go_support.mail.runner import build_intake

    with conn.client() as client:
        intake = build_intake(SupportDesk(client, settings), settings)
        worker = LmtpWorker(intake, mailbox=mailbox, max_bytes=settings.mail.max_bytes)
        listener = LmtpListener(worker, where)
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        signal.signal(signal.SIGINT, lambda *_: stopping.set())
        try:
            listener.start()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {listen}: {exc}") from None
        address = listener.address
        shown = f"unix:{address}" if isinstance(address, str) else f"{address[0]}:{address[1]}"
        click.echo(f"go-support lmtp: listening on {shown}", err=True)
        try:
            stopping.wait()
        finally:
            listener.stop()
