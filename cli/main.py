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
from typing import Any

import click

from go_support import __version__
from go_support.cli import exitcodes
from go_support.cli.categories import categories_group
from go_support.cli.check import check_command
from go_support.cli.config import command_line_overrides, config_group
from go_support.cli.context import Embedding, open_desk
from go_support.cli.demo import demo_command
from go_support.cli.emulator import emulator_command
from go_support.cli.install import install_command
from go_support.cli.tickets import tickets_group
from go_support.cli.types import types_group
from go_support.desk import DeskError, SupportDesk
from go_support.errors import GoSupportError
from go_support.jmap import GroupOfficeClient, Transport
from go_support.jmap.errors import (
    AuthenticationError,
    InvalidObjectError,
    JMAPError,
    MethodError,
    ProtocolError,
    SetFailed,
    TransportError,
)
from go_support.migrations import MigrationError
from go_support.settings import ConfigError, Settings, load_settings


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
        if self._settings is None:
            self._settings = load_settings(self.config, overrides=self.overrides)
        return self._settings

    def client(self) -> GroupOfficeClient:
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
        return open_desk(self)


@click.group(
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


cli.add_command(emulator_command)
cli.add_command(demo_command)
cli.add_command(check_command)
cli.add_command(config_group)
cli.add_command(install_command)
cli.add_command(types_group)
cli.add_command(categories_group)
cli.add_command(tickets_group)


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, ConfigError):
        return exitcodes.CONFIG
    if isinstance(error, MigrationError):
        return exitcodes.REFUSED
    if isinstance(error, AuthenticationError):
        return exitcodes.AUTHENTICATION
    if isinstance(error, TransportError | ProtocolError):
        return exitcodes.CONNECTION
    if isinstance(error, MethodError | SetFailed | DeskError | InvalidObjectError):
        return exitcodes.REFUSED
    if isinstance(error, JMAPError):
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
    if isinstance(error, TransportError) and "TLS error" in text:
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
