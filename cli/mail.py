"""``go-support mail``: the mail service's state, its quarantine, and outbound delivery.

The desk, the client and the mail modules are imported inside the commands, so that
``go-support --help`` loads none of them.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from go_support.cli.context import json_option, wants_json
from go_support.cli.output import emit_json, table

if TYPE_CHECKING:
    from go_support.mail.config import MailSettings
    from go_support.mail.quarantine import QuarantineStore
    from go_support.mail.seen import LastSeen

__all__ = ["mail_group"]


@click.group("mail")
def mail_group() -> None:
    """The mail service: mailboxes, outbound queue, quarantine, sending answers.

    \b
    Examples:
      go-support mail status
      go-support mail quarantine list
      go-support mail send-pending --once
    """


def _mail(conn: Any) -> MailSettings:
    mail: MailSettings = conn.settings().mail
    return mail


def _store(mail: MailSettings) -> QuarantineStore | None:
    from go_support.mail.quarantine import QuarantineStore

    return QuarantineStore(mail.quarantine_dir) if mail.quarantine_dir else None


def _no_store() -> click.ClickException:
    return click.ClickException(
        "no local quarantine: set [mail] quarantine_dir in the configuration file")


# --- status -----------------------------------------------------------------------------------


def _seen_json(seen: LastSeen | None) -> dict[str, Any] | None:
    return None if seen is None else seen.to_json()


@mail_group.command("status")
@json_option
@click.pass_obj
def status_command(conn: Any, local_json: bool) -> None:
    """Mailboxes, the last mail seen, the outbound queue and the quarantine.

    The outbound queue is read from Group-Office (answers in their grace period, due, or
    interrupted while sending); nothing is sent.

    \b
    Examples:
      go-support mail status
      go-support --json mail status
    """
    from go_support.mail.delivery import outbound_queue, pending_counts
    from go_support.mail.seen import last_seen, state_dir

    mail = _mail(conn)
    folder = state_dir(mail)
    seen = {name: last_seen(name, folder) for name in mail.mailboxes}
    mailboxes = [{"name": name, "kind": box.kind,
                  "where": box.path if box.kind == "maildir" else
                  f"{box.user}@{box.url}/{box.folder}" if box.kind == "jmap" else
                  f"{box.user}@{box.host}:{box.effective_port}/{box.folder}",
                  "type": box.type, "lastSeen": _seen_json(seen[name])}
                 for name, box in mail.mailboxes.items()]
    store = _store(mail)
    quarantined = store.list() if store is not None else []
    by_code: dict[str, int] = {}
    for entry in quarantined:
        by_code[entry.code] = by_code.get(entry.code, 0) + 1
    warning = None
    signer = None
    if mail.addresses and mail.id_domain:
        import secrets

        from go_support.mail.thread_ids import MessageIds, SecretMissing

        try:
            signer = MessageIds.from_env(mail.id_domain)
        except SecretMissing as exc:  # the queue is still worth showing
            warning = f"{exc}; answers interrupted while sending are shown as due"
            signer = MessageIds(secrets.token_hex(16), mail.id_domain)
    with conn.desk() as desk:
        queue = outbound_queue(desk, mail, ids=signer) if signer is not None else []
    data = {
        "mailboxes": mailboxes,
        "outbound": {"enabled": mail.outbound.enabled,
                     "graceSeconds": mail.outbound.grace_seconds,
                     **pending_counts(queue),
                     "queue": [{"comment": i.comment_id, "ticket": i.ticket_id,
                                "state": i.state, "dueAt": i.due_at.isoformat(),
                                "to": i.to} for i in queue],
                     "warning": warning},
        "quarantine": {"folder": mail.quarantine_dir, "count": len(quarantined),
                       "byReason": by_code},
    }
    if wants_json(conn, local_json):
        emit_json(data)
        return
    click.echo("Mailboxes:" if mailboxes else "Mailboxes: none configured ([mail.mailboxes]).")
    for box in mailboxes:
        last = seen[str(box["name"])]
        click.echo(f"  {box['name']} ({box['kind']}, {box['where']}) -> "
                   f"{box['type'] or 'default type'}; last mail: "
                   f"{last if last is not None else 'none seen yet'}")
    counts = pending_counts(queue)
    if not mail.addresses:
        click.echo("Outbound: not configured (set [mail] addresses).")
    else:
        click.echo(f"Outbound: {counts['waiting']} in their grace period, {counts['due']} due, "
                   f"{counts['interrupted']} interrupted while sending"
                   + ("" if mail.outbound.enabled else " (sending is off here)"))
        if warning:
            click.echo(f"  ({warning})")
        if queue:
            click.echo(table(["comment", "ticket", "state", "due", "to"],
                             [[i.comment_id, i.ticket_id, i.state,
                               i.due_at.strftime("%Y-%m-%d %H:%M:%S"), i.to or "-"]
                              for i in queue]))
    if store is None:
        click.echo("Quarantine: no local folder ([mail] quarantine_dir).")
    else:
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(by_code.items()))
        click.echo(f"Quarantine: {len(quarantined)} mail(s)" + (f" ({reasons})" if reasons
                                                                 else ""))


# --- quarantine -----------------------------------------------------------------------------


@mail_group.group("quarantine")
def quarantine_group() -> None:
    """Mails that became no ticket, with their reason: look at them and run them again.

    \b
    Examples:
      go-support mail quarantine list
      go-support mail quarantine show 3f2a9c0d1e2b3c4d5e6f
      go-support mail quarantine retry 3f2a9c0d1e2b3c4d5e6f
    """


@quarantine_group.command("list")
@json_option
@click.pass_obj
def quarantine_list(conn: Any, local_json: bool) -> None:
    """The quarantined mails, oldest first.

    \b
    Example:
      go-support mail quarantine list
    """
    store = _store(_mail(conn))
    if store is None:
        raise _no_store()
    entries = store.list()
    if wants_json(conn, local_json):
        emit_json([vars(e) for e in entries])
        return
    if not entries:
        click.echo("The quarantine is empty.")
        return
    click.echo(table(["id", "when", "code", "from", "reason"],
                     [[e.id, e.at, e.code, e.source, e.reason] for e in entries], 60))


@quarantine_group.command("show")
@click.argument("mail_id")
@click.option("--raw", is_flag=True, help="Print the mail's original bytes.")
@json_option
@click.pass_obj
def quarantine_show(conn: Any, mail_id: str, raw: bool, local_json: bool) -> None:
    """One quarantined mail: why, from where, and its headers (or its bytes with --raw).

    \b
    Example:
      go-support mail quarantine show 3f2a9c0d1e2b3c4d5e6f --raw > mail.eml
    """
    store = _store(_mail(conn))
    if store is None:
        raise _no_store()
    entry = store.get(mail_id)
    data = store.read(mail_id) if entry.has_bytes else None
    if raw:
        if data is None:
            store.read(mail_id)  # raises, saying where the mail is
        sys.stdout.flush()
        sys.stdout.buffer.write(data or b"")
        return
    headers = _headers(data) if data is not None else {}
    if wants_json(conn, local_json):
        emit_json({**vars(entry), "headers": headers})
        return
    click.echo(f"Quarantined mail {entry.id} ({entry.size} bytes), since {entry.at}")
    click.echo(f"  from mailbox {entry.source} ({entry.key})")
    click.echo(f"  reason: {entry.code}: {entry.reason}")
    for name, value in headers.items():
        click.echo(f"  {name}: {value}")


def _headers(data: bytes) -> dict[str, str]:
    from email.parser import BytesParser
    from email.policy import default

    message = BytesParser(policy=default).parsebytes(data, headersonly=True)
    found = {}
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        try:
            value = message.get(name)
        except Exception:  # a broken header is why some mails are here
            value = "(unreadable)"
        if value is not None:
            found[name] = " ".join(str(value).split())[:200]
    return found


@quarantine_group.command("retry")
@click.argument("mail_id")
@json_option
@click.pass_obj
def quarantine_retry(conn: Any, mail_id: str, local_json: bool) -> None:
    """Run a quarantined mail through the whole intake again (after a fix in the settings or
    the desk): when it now becomes a ticket, a follow-up or a bounce note, it is imported
    exactly once (a mail Group-Office holds already is not written again), acknowledged like
    any new ticket, and the entry is removed; otherwise the new reason is shown.

    \b
    Example:
      go-support mail quarantine retry 3f2a9c0d1e2b3c4d5e6f
    """
    from go_support.mail.pipeline import import_one
    from go_support.mail.sources import IncomingMail

    settings = conn.settings()
    mail: MailSettings = settings.mail
    store = _store(mail)
    if store is None:
        raise _no_store()
    entry = store.get(mail_id)
    raw = store.read(mail_id)
    with conn.desk() as desk:
        result = import_one(desk, settings, IncomingMail(entry.source, entry.key, raw,
                                                         len(raw)))
    imported = result.action in ("new-ticket", "follow-up", "bounce", "duplicate")
    if imported:
        store.remove(mail_id)
    outcome = {"id": mail_id, "action": result.action, "code": result.code,
               "reason": result.reason, "ticket": result.ticket_id, "imported": imported}
    if wants_json(conn, local_json):
        emit_json(outcome)
    else:
        where = f" -> ticket {result.ticket_id}" if result.ticket_id else ""
        click.echo(f"{mail_id}: {result.action}{where}: {result.reason}")
        click.echo("imported; removed from the quarantine" if imported else
                   "still quarantined" if result.action == "quarantine" else
                   "not imported (Group-Office failed): try again later")
    if result.action in ("failed", "deferred"):
        sys.exit(1)


# --- outbound ---------------------------------------------------------------------------------


@mail_group.command("send-pending")
@click.option("--once", is_flag=True, help="One cycle, then exit (for cron).")
@click.option("--interval", default=15.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds between cycles without --once.")
@json_option
@click.pass_obj
def send_pending_command(conn: Any, once: bool, interval: float, local_json: bool) -> None:
    """Mail agents' answers whose grace period is over, without the rest of the daemon.

    Each cycle reads the answers from Group-Office, mails the due ones through
    [mail.smtp] and marks them sent (or send error, with the reason in a private note).
    Needs [mail] addresses and $GO_SUPPORT_MAIL_SECRET (the Message-ID signing key).

    \b
    Examples:
      go-support mail send-pending --once        # from cron, every minute
      go-support mail send-pending --interval 10  # until Ctrl+C
    """
    from go_support.mail.delivery import DeliveryState, deliver_pending
    from go_support.mail.outbound import SmtpSender

    mail = _mail(conn)
    sender = SmtpSender.from_settings(mail.smtp)
    state = DeliveryState()
    as_json = wants_json(conn, local_json)
    with conn.desk() as desk:
        while True:
            report = deliver_pending(desk, sender, mail, now=datetime.now(UTC), state=state)
            if as_json:
                emit_json(report.to_json())
            else:
                for line in report.lines:
                    click.echo(line)
                if once:
                    click.echo(f"{len(report.sent)} sent, {len(report.failed)} failed, "
                               f"{len(report.deferred)} deferred, {len(report.waiting)} "
                               "waiting")
            if once:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
