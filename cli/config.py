"""``go-support config check`` and ``config show``: the effective settings and their sources.

The API key is never printed: only ``<set>`` or ``<not set>``, and where it came from.
"""

from __future__ import annotations

from typing import Any

import click

from go_support.cli import exitcodes
from go_support.cli.output import emit_json, table
from go_support.settings import (
    CONFIG_ENV,
    ConfigError,
    ConfigProblem,
    Settings,
    default_paths,
    find_config_file,
)


class _QuietExit(click.ClickException):
    """Exit 3 (bad configuration) after the command printed its own report."""

    exit_code = exitcodes.CONFIG

    def __init__(self) -> None:
        super().__init__("")

    def show(self, file: Any = None) -> None:
        return None


def _where(conn: Any) -> tuple[str | None, str]:
    path, how = find_config_file(getattr(conn, "config", None))
    if path is None:
        looked = ", ".join(str(p) for p in default_paths())
        return None, (f"no configuration file (looked for {looked}; none exists): defaults "
                      "and the environment only")
    why = {"--config": "given with --config", f"${CONFIG_ENV}": f"named by ${CONFIG_ENV}",
           "found": "found"}.get(how, how)
    return str(path), f"configuration file: {path} ({why})"


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(repr(v) if isinstance(v, str) else str(v) for v in value) + "]"
    return str(value)


def _print_settings(settings: Settings) -> None:
    rows = [[key, _value(value), origin] for key, value, origin in settings.effective()]
    click.echo(table(["setting", "value", "from"], rows, max_width=60))


def _print_problems(title: str, problems: tuple[ConfigProblem, ...]) -> None:
    click.echo(title)
    for problem in problems:
        click.echo(f"  {problem}")


def _json(settings: Settings | None, path: str | None, problems: tuple[ConfigProblem, ...],
          *, with_problems: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"file": path}
    if with_problems:
        data["valid"] = not problems
        data["problems"] = [p.to_json() for p in problems]
        data["warnings"] = [w.to_json() for w in settings.warnings] if settings else []
    data["settings"] = settings.public_dict() if settings else None
    data["origins"] = {key: origin for key, _, origin in settings.effective()} if settings \
        else None
    return data


@click.group("config")
def config_group() -> None:
    """Check and show go-support's configuration (a TOML file and the environment).

    \b
    The file: --config FILE, else $GO_SUPPORT_CONFIG, else the first of ./go-support.toml,
    ~/.config/go-support/config.toml, /etc/go-support/config.toml. The API key comes from
    $GO_SUPPORT_API_KEY or the file named by groupoffice.api_key_file, never from the TOML.

    \b
    Examples:
      go-support config check
      go-support --config /etc/go-support/config.toml config check --json
      go-support config show
    """


@config_group.command("check")
@click.option("--json", "local_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def check_command(conn: Any, local_json: bool) -> None:
    """Validate the configuration: every problem with its file and key (exit 3), else the
    effective settings and where each comes from. A missing Group-Office URL or API key is
    a problem too.

    \b
    Examples:
      go-support config check
      GO_SUPPORT_CONFIG=/etc/go-support/config.toml go-support config check --json
    """
    as_json = local_json or conn.as_json
    path, where = _where(conn)
    try:
        settings = conn.settings()
    except ConfigError as exc:
        if as_json:
            emit_json(_json(None, path, exc.problems, with_problems=True))
        else:
            click.echo(where)
            count = len(exc.problems)
            _print_problems(f"{count} problem{'s' if count != 1 else ''}:", exc.problems)
        raise _QuietExit from exc
    # A valid file is not enough: without the URL and the API key every command fails.
    missing = settings.connection_problems()
    if as_json:
        emit_json(_json(settings, path, missing, with_problems=True))
    else:
        click.echo(where)
        if missing:
            count = len(missing)
            _print_problems(f"{count} problem{'s' if count != 1 else ''}:", missing)
        else:
            click.echo("No problems.")
        click.echo()
        _print_settings(settings)
        if settings.warnings:
            click.echo()
            _print_problems("Warnings:", settings.warnings)
    if missing:
        raise _QuietExit


@config_group.command("show")
@click.option("--json", "local_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def show_command(conn: Any, local_json: bool) -> None:
    """Show the effective settings and where each comes from (secrets as <set>/<not set>).

    An invalid configuration fails with exit code 3; `config check` lists its problems.

    \b
    Examples:
      go-support config show
      go-support --url https://go.example.com config show --json
    """
    path, where = _where(conn)
    settings = conn.settings()
    if local_json or conn.as_json:
        emit_json(_json(settings, path, (), with_problems=False))
        return
    click.echo(where)
    _print_settings(settings)
