"""``go-support demo``: the help desk on the embedded Group-Office emulator.

This is the README's first command: a newcomer sees go-support work without owning a
Group-Office. It starts the emulator, prepares it as ``go-support install`` does, creates two
ticket types with an agent each, opens tickets on behalf of requesters, lets the agents answer
(a reply, a private note, a closed ticket), and shows the result. Everything goes through the
library (:class:`~go_support.desk.SupportDesk` on :class:`~go_support.jmap.GroupOfficeClient`)
over real HTTP; agents write with their own API keys, as they would in Group-Office.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import click

from go_support.cli.output import emit_json
from go_support.cli.tickets import render_ticket, render_tickets
from go_support.desk import DeskConfig, SupportDesk, Ticket, TicketType
from go_support.desk.forms import ticket_json, type_json
from go_support.emulator import Emulator
from go_support.jmap import GroupOfficeClient
from go_support.migrations import install

#: (type, description, agent group, agent: (username, display name, e-mail))
DEMO_TYPES = [
    ("IT support", "Computers, accounts, printers", "IT agents",
     ("alice", "Alice Martin", "alice@example.com")),
    ("Facilities", "Rooms, heating, furniture", "Facilities agents",
     ("frank", "Frank Nowak", "frank@example.com")),
]

#: A requester who is a Group-Office user; the other requesters are only addresses. She is a
#: customer of every type (in DEMO_CUSTOMERS) and signs in to the help page with this password.
DEMO_EMPLOYEE = ("ann", "Ann Smith", "ann@example.com")
DEMO_PASSWORD = "demo-ann-1"
DEMO_CUSTOMERS = "Customers"

#: (type, subject, requester, first message)
DEMO_TICKETS = [
    ("IT support", "Printer on floor 2 is jammed", "ann@example.com",
     "<p>Hi, the printer next to the kitchen eats every sheet. Can someone look?</p>"),
    ("IT support", "Cannot log in to the VPN", "Bob Brown <bob@example.com>",
     "<p>Since this morning the VPN says my certificate expired.</p>"),
    ("Facilities", "Heating in room 3.14 is off", "Carol Jones <carol@example.com>",
     "<p>It is 15 °C in here. Could someone check the radiator?</p>"),
    ("Facilities", "New desk chair for Dave", "dave@example.com",
     "<p>Dave starts on Monday and needs a chair with armrests.</p>"),
]

SHOWN_SUBJECT = DEMO_TICKETS[0][1]


@dataclass
class DemoResult:
    types: list[TicketType]
    tickets: list[Ticket]
    shown: Ticket
    seeded: bool
    outbound: OutboundDemo | None = None
    mail: list[str] = field(default_factory=list)


def _agent_desk(admin: GroupOfficeClient, url: str, user_id: str, name: str,
                clients: list[GroupOfficeClient]) -> SupportDesk:
    """A desk on the agent's own API key: what they write is theirs in Group-Office."""
    created = admin.keys.set(create={"k": {"name": f"demo {name}", "userId": user_id}})
    key = str(created.created["k"]["accessToken"])
    client = GroupOfficeClient(url, api_key=key)
    clients.append(client)
    return SupportDesk(client, DeskConfig())


def seed_demo(admin: GroupOfficeClient, desk: SupportDesk) -> None:
    """Two types with an agent each, four tickets, a reply, a private note, a closed one."""
    clients: list[GroupOfficeClient] = []
    try:
        agents: dict[str, SupportDesk] = {}
        for type_name, description, group, (username, display, email) in DEMO_TYPES:
            group_id = admin.groups.create({"name": group})
            user_id = admin.users.create({"username": username, "displayName": display,
                                          "email": email, "groups": [2, 3, int(group_id)]})
            desk.types.create(type_name, description, agents=[group])
            agents[type_name] = _agent_desk(admin, desk.client.base_url, user_id, username,
                                            clients)
        username, display, email = DEMO_EMPLOYEE
        customers = admin.groups.create({"name": DEMO_CUSTOMERS})
        admin.users.create({"username": username, "displayName": display, "email": email,
                            "password": DEMO_PASSWORD, "groups": [2, 3, int(customers)]})
        desk.categories.create("Printer", "IT support")
        opened: list[Ticket] = []
        for type_name, subject, requester, text in DEMO_TICKETS:
            category = "Printer" if "Printer" in subject else None
            opened.append(desk.tickets.create(type_name, subject, text, requester,
                                              category=category))
        printer, vpn, heating, chair = opened
        alice, frank = agents["IT support"], agents["Facilities"]
        alice.messages.reply(printer, "<p>I am on my way with a new paper roller.</p>")
        alice.messages.note(printer, "<p>Roller part no. 4711: two left in stock.</p>")
        alice.messages.reply(vpn, "<p>Your certificate is renewed: please connect again.</p>",
                             status="completed")
        frank.messages.reply(heating, "<p>The heating engineer comes tomorrow at 8.</p>")
        desk.tickets.assign(chair, frank.client.user_id)
    finally:
        for client in clients:
            client.close()


# --- mail into tickets (the intake pipeline the daemon runs) ---------------------------------

#: The key that signs the demo's Message-IDs (a real daemon reads GO_SUPPORT_MAIL_SECRET).
DEMO_MAIL_SECRET = "demo-only-secret-not-for-production"


def _demo_mails(ids: Any, printer: Ticket) -> list[tuple[str, bytes]]:
    """A new request, a reply to it, an out-of-office reply to no ticket, and the bounce of
    the agent's answer on the printer ticket (as if mailed with our signed Message-ID)."""
    answer = next(m for m in printer.messages or () if m.mail_status in ("pending", "sent"))
    sent_id = answer.message_id or ids.new(printer.id, answer.id)
    return [
        ("1-new", (b"From: Erin Lee <erin@example.com>\r\nTo: support@example.com\r\n"
                   b"Subject: Monitor flickers\r\nMessage-ID: <demo-erin-1@example.com>\r\n"
                   b"Date: Mon, 7 Dec 2026 09:00:00 +0000\r\n\r\n"
                   b"My second monitor flickers every few seconds.\r\n")),
        ("3-reply", (b"From: Erin Lee <erin@example.com>\r\nTo: support@example.com\r\n"
                     b"Subject: Re: Monitor flickers\r\nMessage-ID: <demo-erin-2@example.com>\r\n"
                     b"In-Reply-To: <demo-erin-1@example.com>\r\n"
                     b"Date: Mon, 7 Dec 2026 09:05:00 +0000\r\n\r\n"
                     b"It stops when I unplug the dock.\r\n")),
        ("2-auto", (b"From: Gina <gina@example.com>\r\nTo: support@example.com\r\n"
                    b"Subject: Out of office\r\nAuto-Submitted: auto-replied\r\n"
                    b"Message-ID: <demo-gina@example.com>\r\n\r\nI am away until Monday.\r\n")),
        ("2-bounce", ("From: MAILER-DAEMON@example.com\r\nTo: support@example.com\r\n"
                      "Subject: Undelivered Mail Returned to Sender\r\n"
                      "Auto-Submitted: auto-replied\r\nMessage-ID: <demo-dsn@example.com>\r\n"
                      "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
                      "report-type=delivery-status; boundary=B\r\n\r\n--B\r\n"
                      "Content-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
                      "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
                      "Reporting-MTA: dns; mx.example.com\r\n\r\n"
                      "Final-Recipient: rfc822; ann@example.com\r\nAction: failed\r\n"
                      "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 mailbox unknown\r\n"
                      "\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                      f"Message-ID: {sent_id}\r\nSubject: Re: Printer\r\n\r\n--B--\r\n"
                      ).encode()),
    ]


def show_mail_intake(url: str, admin_key: str, printer: Ticket) -> list[str]:
    """Sample mails from a Maildir through the daemon's pipeline into the emulator: the log
    line of each (which ticket, and why), and the acknowledgement the new ticket got (into an
    SMTP sink)."""
    import tempfile
    from email import message_from_bytes

    from go_support.mail.acks import Acknowledger
    from go_support.mail.config import MailboxSettings, MailSettings
    from go_support.mail.outbound import SmtpSender
    from go_support.mail.pipeline import Intake
    from go_support.mail.sink import smtp_sink
    from go_support.mail.sources import MaildirSource
    from go_support.mail.thread_ids import MessageIds

    ids = MessageIds(DEMO_MAIL_SECRET, "example.com")
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as folder, smtp_sink() as sink, \
            GroupOfficeClient(url, api_key=admin_key) as client:
        source = MaildirSource("support", folder)
        mail = MailSettings(addresses=["support@example.com"], mailboxes={
            "support": MailboxSettings(kind="maildir", path=folder, type=DEMO_TYPES[0][0])})
        acks = Acknowledger(SmtpSender(sink.host, sink.port, security="none", timeout=10),
                            mail, ids)
        intake = Intake(SupportDesk(client, DeskConfig()), mail, default_type=DEMO_TYPES[0][0],
                        ids=ids, acks=acks)
        for name, raw in _demo_mails(ids, printer):
            (source.path / "new" / f"{name}.eml").write_bytes(raw)
        for _ in range(3):  # the reply waits for the ticket of its first mail
            for outcome in intake.handle(source, source.fetch()):
                if outcome.action != "deferred":
                    lines.append(f"{outcome.mail.key.split('/')[-1]}: {outcome.action}"
                                 f"{f' -> ticket {outcome.ticket_id}' if outcome.ticket_id else ''}"
                                 f": {outcome.reason}")
        for item in sink.messages:
            message = message_from_bytes(item.data)
            lines.append(f"acknowledgement to {', '.join(item.rcpt_tos)}: "
                         f"{message['Subject']} (Auto-Submitted: {message['Auto-Submitted']})")
    return lines


def build_demo(url: str, admin_key: str) -> DemoResult:
    """Prepare the emulator and seed it (unless a kept data file has the demo already)."""
    with GroupOfficeClient(url, api_key=admin_key) as admin:
        install(admin)
        desk = SupportDesk(admin, DeskConfig())
        seeded = not any(t.name == DEMO_TYPES[0][0] for t in desk.types.list())
        if seeded:
            seed_demo(admin, desk)
        types = desk.types.list()
        tickets = list(desk.tickets.list(per_page=100))
        first = next((t for t in tickets if t.subject == SHOWN_SUBJECT), tickets[-1])
        shown = desk.tickets.get(first.id)
    return DemoResult(types, tickets, shown, seeded)


def run_mail_demo(url: str, admin_key: str, result: DemoResult) -> None:
    """The mail service on a freshly seeded demo: the agents' answers leave through an SMTP
    sink, then sample mails come in (one of them the bounce of a mailed answer); the tickets
    are read again afterwards."""
    if not result.seeded:
        return
    result.outbound = demo_outbound(url, admin_key, result)
    result.mail = show_mail_intake(url, admin_key, result.shown)
    with GroupOfficeClient(url, api_key=admin_key) as admin:
        desk = SupportDesk(admin, DeskConfig())
        result.tickets = list(desk.tickets.list(per_page=100))
        result.shown = desk.tickets.get(result.shown.id)


# --- outbound: agents' answers leave through an SMTP sink --------------------------------------

DEMO_ADDRESS = "support@example.com"


@dataclass
class OutboundDemo:
    """The answers the mail service mailed, as the SMTP sink received them."""

    smtp: str
    grace_seconds: float
    mails: list[dict[str, str]]

    def to_json(self) -> dict[str, Any]:
        return {"smtp": self.smtp, "graceSeconds": self.grace_seconds, "mails": self.mails}

    def render(self) -> str:
        if not self.mails:
            return "No answers waiting to be mailed."
        lines = [f"The mail service mailed the agents' answers (their {self.grace_seconds:g} s "
                 f"grace period skipped on the demo's clock) through an SMTP sink at "
                 f"{self.smtp}:"]
        for mail in self.mails:
            lines.append(f"  to {mail['to']}: {mail['subject']}")
            lines.append(f"     Message-ID {mail['messageId']} (signed, names the ticket)")
        return "\n".join(lines)


def demo_outbound(url: str, admin_key: str, result: DemoResult) -> OutboundDemo:
    """Mail the answers waiting in the emulator (``mailStatus`` pending) into an SMTP sink,
    as the daemon does once their grace period is over (the clock is moved past it); the
    ticket shown is read again, its answer now mailed."""
    from datetime import UTC, datetime, timedelta
    from email import message_from_bytes

    from go_support.mail.config import MailSettings
    from go_support.mail.delivery import deliver_pending
    from go_support.mail.outbound import SmtpSender
    from go_support.mail.sink import smtp_sink
    from go_support.mail.thread_ids import MessageIds

    settings = MailSettings(addresses=[DEMO_ADDRESS])
    ids = MessageIds(DEMO_MAIL_SECRET, DEMO_ADDRESS.split("@", 1)[1])
    later = datetime.now(UTC) + timedelta(seconds=settings.outbound.grace_seconds + 1)
    with smtp_sink() as sink, GroupOfficeClient(url, api_key=admin_key) as admin:
        sender = SmtpSender(sink.host, sink.port, security="none", timeout=10)
        desk = SupportDesk(admin, DeskConfig())
        report = deliver_pending(desk, sender, settings, now=later, ids=ids)
        received = sink.wait_for(len(report.sent)) if report.sent else []
        result.shown = desk.tickets.get(result.shown.id)
    mails = []
    for item in received:
        message = message_from_bytes(item.data)
        mails.append({"to": ", ".join(item.rcpt_tos), "subject": str(message["Subject"]),
                      "messageId": str(message["Message-ID"])})
    return OutboundDemo(f"{sink.host}:{sink.port}", settings.outbound.grace_seconds, mails)


@click.command("demo")
@click.option("--data", "data_path", default=":memory:", show_default=True,
              help="SQLite file for the emulator's data (:memory: keeps nothing).")
@click.option("--port", default=0, show_default=True, type=int,
              help="Port of the emulator (0: any free port).")
@click.option("--keep-running/--exit", "keep_running", default=None,
              help="Keep the emulator and the help page serving afterwards (prints their URLs, "
              "the admin API key and a demo customer to sign in as), to explore them; "
              "default: keep running when run on a terminal, exit otherwise.")
@click.option("--json", "local_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def demo_command(conn: Any, data_path: str, port: int, keep_running: bool | None,
                 local_json: bool) -> None:
    """The help desk on the embedded Group-Office emulator: prepares it (go-support install),
    creates two ticket types with an agent each, tickets with a reply, a private note and a
    closed one, and lists them.

    \b
    Examples:
      go-support demo
      go-support demo --exit
      go-support demo --keep-running --port 8080 --data demo.sqlite
    """
    as_json = local_json or conn.as_json
    if keep_running is None:  # a person at a terminal gets the help page to try; scripts don't
        keep_running = not as_json and sys.stdin.isatty() and sys.stdout.isatty()
    emu = Emulator(data_path)
    server = emu.start(port=port)
    try:
        result = build_demo(server.base_url, server.admin_api_key)
        run_mail_demo(server.base_url, server.admin_api_key, result)
        mail_lines = result.mail
        if as_json:
            data: dict[str, Any] = {
                "url": server.base_url,
                "types": [type_json(t) for t in result.types],
                "tickets": [ticket_json(t) for t in result.tickets],
                "ticket": ticket_json(result.shown),
                "mailed": result.outbound.to_json() if result.outbound else None,
                "mail": mail_lines,
            }
            if keep_running:
                data["adminApiKey"] = server.admin_api_key
            emit_json(data)
        else:
            _print(server.base_url, result)
            if mail_lines:
                click.echo("\nMail into tickets (sample mails from a Maildir, through the "
                           "mail daemon's pipeline):")
                for line in mail_lines:
                    click.echo(f"  {line}")
        if keep_running:
            _serve(server.base_url, server.admin_api_key, err=as_json)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


def _print(url: str, result: DemoResult) -> None:
    click.echo(f"Group-Office emulator at {url}, prepared with go-support install.")
    if result.seeded:
        click.echo("Created the ticket types, their agents (with their own API keys) and the "
                   "tickets below, through the go-support library over HTTP.")
    click.echo("")
    click.echo("Ticket types:")
    for t in result.types:
        click.echo(f"  {t.name} (id {t.id}): {t.description or ''}")
    click.echo("")
    click.echo(render_tickets(result.tickets))
    click.echo("")
    click.echo(render_ticket(result.shown))
    if result.outbound is not None:
        click.echo("")
        click.echo(result.outbound.render())


def _serve(url: str, key: str, *, err: bool) -> None:
    """The emulator, and the help page on it for the demo's customer, until Ctrl+C."""
    from go_support.help import HelpOptions, create_app
    from go_support.help.server import serving

    with GroupOfficeClient(url, api_key=key) as client:
        page = create_app(None, HelpOptions(), desk=SupportDesk(
            client, DeskConfig(all_customer_groups=[DEMO_CUSTOMERS])))
        with serving(page) as help_url:
            click.echo(f"\nServing at {url}; admin API key: {key}", err=err)
            click.echo(f"Try: GO_SUPPORT_URL={url} GO_SUPPORT_API_KEY={key} go-support tickets "
                       "list", err=err)
            click.echo(f"Help page for end users at {help_url}/ : sign in as "
                       f"{DEMO_EMPLOYEE[0]} with the password {DEMO_PASSWORD}", err=err)
            click.echo("Press Ctrl+C to stop.", err=err)
            wait_forever()


def wait_forever() -> None:
    """Until Ctrl+C (tests replace it)."""
    threading.Event().wait()
