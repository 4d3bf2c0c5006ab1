"""``go-support help``: serve the help page (end users' requests) with waitress."""

from __future__ import annotations

from typing import Any

import click

from go_support.help import HelpOptions, OptionsError, create_app
from go_support.settings import ConfigError, ConfigProblem


@click.command("help")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Requests served at the same time.")
@click.option("--trusted-proxies", type=click.IntRange(0, 10), default=None,
              help="Reverse proxies in front that set X-Forwarded-* "
              "[default: $GO_SUPPORT_HELP_TRUSTED_PROXIES, else 0].")
@click.pass_obj
def help_command(conn: Any, host: str, port: int, threads: int,
                 trusted_proxies: int | None) -> None:
    """Serve the help page: end users sign in with their Group-Office account, open requests
    and follow their own tickets.

    It acts through the configured API key (an admin's) for the signed-in user only. The
    session secret comes from $GO_SUPPORT_HELP_SECRET_KEY or $GO_SUPPORT_HELP_SECRET_KEY_FILE
    (else a random one: a restart signs everyone out); see docs/sysadmin.md for a reverse proxy.

    \b
    Example:
      go-support help --host 127.0.0.1 --port 8000
    """
    from go_support.help.server import make_server

    settings = conn.settings()
    try:
        options = HelpOptions.from_env(trusted_proxies=trusted_proxies)
    except OptionsError as exc:  # exit code 3, like every other configuration problem
        raise ConfigError([ConfigProblem("help page options", None, str(exc))]) from exc
    app = create_app(settings, options)
    server = make_server(app, host=host, port=port, threads=threads)
    address = getattr(server, "effective_host", host), getattr(server, "effective_port", port)
    click.echo(f"Help page on http://{address[0]}:{address[1]}/ (Group-Office "
               f"{settings.groupoffice.url})")
    click.echo("Press Ctrl+C to stop.")
    try:
        server.run()  # returns on Ctrl+C (waitress stops its threads)
    finally:
        server.close()
    click.echo("Stopped.")
