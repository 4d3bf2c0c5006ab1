"""Entry point of the ``go-support`` command.

Every command turns the library's errors into one line on stderr and a documented exit code
(:mod:`exitcodes`); a traceback is only shown with ``--debug``.
"""

from __future__ import annotations

import json
import logging
import sys
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from go_support import __version__
from go_support.cli import exitcodes
from go_support.cli.context import Embedding
from go_support.cli.lazy import LazyCommand, LazyGroup
from go_support.errors import GoSupportError

if TYPE_CHECKING:
    from go_support.desk import SupportDesk
    from go_support.jmap import GroupOfficeClient, Transport
    from go_support.settings import Settings

#: The commands, imported when used (see :mod:`go_support.cli.lazy`), with their summaries.
COMMANDS = {
    "categories": LazyCommand(
        "go_support.cli.categories:categories_group",
        "Ticket categories: global ones, and those of one ticket type."),
    "check": LazyCommand(
        "go_support.cli.check:check_command",
        "Connect to Group-Office and show the version, the user and the module rights."),
    "config": LazyCommand(
        "go_support.cli.config:config_group",
        "Check and show go-support's configuration (a TOML file and the environment)."),
    "daemon": LazyCommand(
        "go_support.cli.daemon:daemon_command",
        "Run the mail daemon: every mailbox of [mail.mailboxes] into tickets (IMAP IDLE, "
        "polling, Maildir), then agents' answers out; SIGTERM finishes the batch at hand and "
        "exits 0."),
    "demo": LazyCommand(
        "go_support.cli.demo:demo_command",
        "The help desk on the embedded Group-Office emulator: prepares it (go-support "
        "install), creates two ticket types with an agent each, tickets with a reply, a "
        "private note and a closed one, and lists them."),
    "emulator": LazyCommand(
        "go_support.cli.emulator:emulator_command",
        "Run a Group-Office-compatible JMAP server on SQLite, for demos and tests."),
    "expire": LazyCommand(
        "go_support.cli.expire:expire_command",
        "Close inactive tickets as Group-Office's Support module does (optionally warning "
        "first), with the [expiry] settings; run it daily from cron."),
    "help": LazyCommand(
        "go_support.cli.help:help_command",
        "Serve the help page: end users sign in with their Group-Office account, open "
        "requests and follow their own tickets."),
    "lmtp": LazyCommand(
        "go_support.cli.lmtp:lmtp_command",
        "Serve LMTP for an MTA: each mail answered 250 once Group-Office holds it (or it is "
        "quarantined), 451 when Group-Office failed so that the MTA delivers it again."),
    "ingest": LazyCommand(
        "go_support.cli.ingest:ingest_command",
        "Import one mail from standard input (for an MTA): exit 0 when Group-Office holds it "
        "or it is quarantined, 75 on a temporary failure so that the MTA retries."),
    "install": LazyCommand(
        "go_support.cli.install:install_command",
        "Prepare Group-Office for go-support: the field set \"Support\" on tasks and its "
        "custom fields, the task-list groupings \"Support\" and \"Support archive\", the "
        "comment label \"Private\"."),
    "mail": LazyCommand(
        "go_support.cli.mail:mail_group",
        "The mail service: mailboxes, outbound queue, quarantine, sending answers."),
    "migrate": LazyCommand(
        "go_support.cli.migrate:migrate_command",
        "Migrate tickets from Group-Office's legacy Tickets module into the help desk."),
    "tickets": LazyCommand(
        "go_support.cli.tickets:tickets_group",
        "Tickets: list, show, open, answer, assign, change status, close."),
    "types": LazyCommand(
        "go_support.cli.types:types_group",
        "Ticket types: the task lists in the task-list grouping \"Support\"."),
}


@dataclass
class Connection:
    """What the global options say about the Group-Office to talk to."""

    url: str | None
    api_key: str | None = field(repr=False)
    timeout: float
    verify: bool
    as_json: bool
    config: str | None = None
    overrides: dict[str, tuple[Any, str]] = field(default_factory=dict, repr=False)
    _settings: Settings | None = field(default=None, repr=False)
    transport: Transport | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        """The configuration file and the environment, under the command-line options."""
        from go_support.settings import load_settings

        if self._settings is None:
            self._settings = load_settings(self.config, overrides=self.overrides)
        return self._settings

    def client(self) -> GroupOfficeClient:
        from go_support.jmap import GroupOfficeClient
        from go_support.settings import ConfigError

        settings = self.settings()
        missing = settings.connection_problems()
        if missing:  # one at a time (the URL first): one line, exit 3 (bad configuration)
            raise ConfigError(missing[:1], path=settings.path)
        go = settings.groupoffice
        assert go.url is not None
        return GroupOfficeClient(go.url, api_key=go.api_key, timeout=go.timeout,
                                 verify=go.verify, transport=self.transport)

    def desk(self) -> AbstractContextManager[SupportDesk]:
        """``with conn.desk() as desk:`` a help desk on :meth:`client` and the settings."""
        from go_support.cli.context import open_desk

        return open_desk(self)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="\b\n" + exitcodes.TABLE,  # \b: click keeps the table's lines as they are
)
@click.version_option(__version__, prog_name="go-support")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Configuration file (TOML). Default: $GO_SUPPORT_CONFIG, else the first of "
    "./go-support.toml, ~/.config/go-support/config.toml, /etc/go-support/config.toml.",
)
@click.option("--url", envvar="GO_SUPPORT_URL", help="Group-Office base URL (env GO_SUPPORT_URL).")
@click.option(
    "--api-key",
    envvar="GO_SUPPORT_API_KEY",
    help="API key; prefer the environment variable GO_SUPPORT_API_KEY, which stays out of "
    "the shell history and the process list.",
)
@click.option(
    "--timeout", default=30.0, help="Seconds per HTTP request [default: the file's, else 30]."
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Do not verify the server's TLS certificate (never in production).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--debug", is_flag=True, help="Log HTTP traffic (without secrets) and show tracebacks."
)
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: str | None,
    url: str | None,
    api_key: str | None,
    timeout: float,
    insecure: bool,
    as_json: bool,
    debug: bool,
) -> None:
    """go-support: a help desk for Group-Office, on Group-Office's own tasks.

    \b
    Examples:
      go-support demo                      # the embedded Group-Office emulator with demo data
      GO_SUPPORT_URL=https://go.example.com GO_SUPPORT_API_KEY=... go-support check
    """
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    embedding = ctx.obj if isinstance(ctx.obj, Embedding) else Embedding()
    ctx.obj = Connection(url, api_key, timeout, not insecure, as_json, config_path,
                         command_line_overrides(ctx), transport=embedding.transport)
    ctx.meta["debug"] = debug


#: Global options that override the file, with the settings key each sets.
_OPTION_KEYS = (
    ("url", "--url", "groupoffice.url"),
    ("api_key", "--api-key", "groupoffice.api_key"),
    ("timeout", "--timeout", "groupoffice.timeout"),
)


def command_line_overrides(ctx: click.Context) -> dict[str, tuple[Any, str]]:
    """The global options given on the command line, as ``load_settings`` overrides.

    Values that came from the environment (``GO_SUPPORT_URL``...) are left to
    ``load_settings``, which reads the same variables; defaults never override the file.
    """
    overrides: dict[str, tuple[Any, str]] = {}
    for param, option, key in _OPTION_KEYS:
        if ctx.get_parameter_source(param) is click.core.ParameterSource.COMMANDLINE:
            overrides[key] = (ctx.params[param], option)
    if ctx.params.get("insecure"):
        overrides["groupoffice.verify_tls"] = (False, "--insecure")
    return overrides


def _is(error: BaseException, module: str, *names: str) -> bool:
    """Whether ``error`` is one of ``module``'s classes ``names``, without importing
    ``module``: if it was never imported, nothing raised one of its errors."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(error, tuple(getattr(loaded, n) for n in names))


def exit_code_for(error: BaseException) -> int:
    """The exit code of a library error (the table in ``go-support --help``)."""
    jmap = "go_support.jmap.errors"
    if _is(error, "go_support.settings", "ConfigError"):
        return exitcodes.CONFIG
    if _is(error, "go_support.migrations.base", "MigrationError"):
        return exitcodes.REFUSED
    if _is(error, "go_support.legacy.acting", "UnknownUser"):
        return exitcodes.USAGE
    if _is(error, "go_support.legacy.errors", "LegacyError"):
        return exitcodes.CONFIG
    if _is(error, jmap, "AuthenticationError"):
        return exitcodes.AUTHENTICATION
    if _is(error, jmap, "TransportError", "ProtocolError"):
        return exitcodes.CONNECTION
    if _is(error, jmap, "MethodError", "SetFailed", "InvalidObjectError") or _is(
        error, "go_support.desk.errors", "DeskError"
    ):
        return exitcodes.REFUSED
    if _is(error, jmap, "JMAPError"):
        return exitcodes.CONNECTION
    return exitcodes.FAILURE


#: What the library's TLS error suggests to a program, and what the command suggests instead.
_LIBRARY_TLS_HINT = "; for a private CA pass verify="
_CLI_TLS_HINT = (
    "; for a private CA set groupoffice.ca_bundle (a PEM file) in the configuration file "
    "(--insecure skips the check: for tests only, never in production)"
)


def error_message(error: BaseException) -> str:
    """The one line the command prints for a library error (hints in the command's terms)."""
    text = str(error)
    if _is(error, "go_support.jmap.errors", "TransportError") and "TLS error" in text:
        cut = text.find(_LIBRARY_TLS_HINT)
        text = (text[:cut] if cut >= 0 else text) + _CLI_TLS_HINT
    return text


def _global_args(argv: list[str]) -> list[str]:
    """The arguments before ``--`` (after it, ``--json`` would be a value, not the option)."""
    return argv[:argv.index("--")] if "--" in argv else argv


def _fail(message: str, code: int, *, as_json: bool) -> None:
    """``message`` on stderr (as it is), and with ``--json`` also ``{"error", "exitCode"}``
    on stdout, so that a script reading stdout gets one JSON document either way."""
    click.echo(message, err=True)
    if as_json:
        click.echo(json.dumps({"error": message.removeprefix("go-support: error: "),
                               "exitCode": code}, ensure_ascii=False))
    sys.exit(code)


def main(argv: list[str] | None = None, *, transport: Transport | None = None) -> None:
    """Run the CLI; library errors become one line and an exit code, never a traceback.

    With ``--json`` (global or the command's own), an error also prints
    ``{"error": "<message>", "exitCode": N}`` on stdout.

    ``transport`` (for programs that embed the command, such as benchmarks): every
    Group-Office client the command opens sends its HTTP requests through it.
    """
    args = _global_args(list(argv if argv is not None else sys.argv[1:]))
    debug, as_json = "--debug" in args, "--json" in args
    try:
        cli.main(args=argv, prog_name="go-support", standalone_mode=False,
                 obj=Embedding(transport) if transport is not None else None)
    except click.exceptions.Abort:
        _fail("Aborted.", exitcodes.FAILURE, as_json=as_json)
    except click.ClickException as e:
        e.show()
        if as_json and e.format_message():  # an empty message: the command reported already
            click.echo(json.dumps({"error": e.format_message(), "exitCode": e.exit_code},
                                  ensure_ascii=False))
        sys.exit(e.exit_code)
    except GoSupportError as e:
        if debug:
            raise
        _fail(f"go-support: error: {error_message(e)}", exit_code_for(e), as_json=as_json)
    except Exception as e:  # a bug: one line, unless the user asked for the traceback
        if debug:
            raise
        _fail(f"go-support: unexpected error ({type(e).__name__}: {e}); run again with "
              "--debug and report it.", exitcodes.FAILURE, as_json=as_json)
    sys.exit(exitcodes.OK)
