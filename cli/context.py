"""What the help-desk commands share: the desk built from the settings, options, messages.

``conn.desk()`` (:meth:`go_support.cli.main.Connection.desk`) opens a
:class:`~go_support.desk.SupportDesk` on the Group-Office named by the global options, the
environment and the configuration file, acting as the API key's user::

    with conn.desk() as desk:
        page = desk.tickets.list()

A program that embeds the command (a benchmark, a test) may hand it a transport:
``main(argv, transport=CountingTransport())``; every client the command opens uses it.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from go_support.htmlrules import text_to_html

if TYPE_CHECKING:  # imported when a desk is opened: `go-support --help` loads no desk
    from go_support.desk import SupportDesk
    from go_support.jmap import Transport

__all__ = [
    "DATETIME",
    "Embedding",
    "json_option",
    "mail_log",
    "message_options",
    "open_desk",
    "parse_when",
    "read_attachments",
    "read_message",
    "text_to_html",
    "wants_json",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Embedding:
    """What an embedding program passes as click's ``obj`` (see :func:`main`)."""

    transport: Transport | None = None


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is logged."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        return None


@contextmanager
def mail_log(fmt: str) -> Iterator[None]:
    """The mail service's log lines (one per mail, outbound, mailbox errors) on standard error
    at INFO while a command runs: the command line's root logger shows errors only."""
    logger = logging.getLogger("go_support.mail")
    saved = logger.level, logger.propagate
    handler = _Stderr()
    handler.setFormatter(logging.Formatter(fmt))
    logger.addHandler(handler)
    logger.setLevel(min(logging.INFO, logging.getLogger().level or logging.INFO))
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


@contextmanager
def open_desk(conn: Any) -> Iterator[SupportDesk]:
    """A desk on ``conn.client()`` with the settings' ``[desk]`` section; closed afterwards."""
    from go_support.desk import SupportDesk

    with conn.client() as client:
        yield SupportDesk(client, conn.settings())


def json_option(function: F) -> F:
    """``--json`` on a command (the global ``go-support --json ...`` works as well)."""
    return click.option("--json", "local_json", is_flag=True,
                        help="Machine-readable output (same as the global --json).")(function)


def wants_json(conn: Any, local_json: bool) -> bool:
    return bool(local_json or getattr(conn, "as_json", False))


# --- dates ---------------------------------------------------------------------------------


def parse_when(ctx: click.Context, param: click.Parameter,
               value: str | None) -> datetime | date | None:
    """``2024-05-01``, ``2024-05-01T09:30``, ``2024-05-01 09:30:00+02:00`` (naive: UTC).

    A click ``callback`` (not a ``ParamType``, whose typing differs between click versions).
    """
    if value is None:
        return None
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date or time such as 2024-05-01 or 2024-05-01T09:30 (UTC "
            "unless an offset is given)", ctx, param) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


DATETIME: dict[str, Any] = {"metavar": "WHEN", "callback": parse_when}
"""Keyword arguments of a date option: ``click.option("--created-after", **DATETIME)``."""


# --- messages --------------------------------------------------------------------------------


def message_options(function: F) -> F:
    """``--message``, ``--message-file``, ``--html``, ``--attach`` (the message is read from
    standard input when neither ``--message`` nor ``--message-file`` is given)."""
    decorators = [
        click.option("--message", "-m", "message", metavar="TEXT",
                     help="The message text (plain text; HTML with --html)."),
        click.option("--message-file", "-F", "message_file", metavar="FILE",
                     type=click.File("r", encoding="utf-8"),
                     help="Read the message from FILE ('-': standard input)."),
        click.option("--html", "is_html", is_flag=True,
                     help="The message is HTML (it is cleaned as Group-Office would); "
                     "otherwise it is plain text."),
        click.option("--attach", "attach", multiple=True, metavar="FILE",
                     type=click.Path(exists=True, dir_okay=False, readable=True),
                     help="Attach a file (repeat for several)."),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _stdin() -> IO[str] | None:
    stream = sys.stdin
    try:
        if stream is None or stream.isatty():
            return None
    except (AttributeError, ValueError, OSError):
        return None
    return stream


def read_message(message: str | None, message_file: IO[str] | None, is_html: bool) -> str:
    """The message as HTML, from ``--message``, ``--message-file`` or standard input."""
    if message is not None and message_file is not None:
        raise click.UsageError("give either --message or --message-file, not both")
    if message is not None:
        text = message
    elif message_file is not None:
        text = message_file.read()
    else:
        stream = _stdin()
        if stream is None:
            raise click.UsageError(
                "no message: give --message TEXT, --message-file FILE, or pipe it on "
                "standard input")
        try:
            text = stream.read()
        except OSError as exc:
            raise click.UsageError(f"cannot read the message from standard input ({exc})") \
                from exc
        if not text.strip():  # `</dev/null`, an empty pipe: no message was given at all
            raise click.UsageError(
                "no message: standard input is empty; give --message TEXT, --message-file "
                "FILE, or pipe the message on standard input")
    # An empty --message or --message-file stays empty: the desk refuses it, naming what is
    # empty (exit 6); an empty standard input is "no message given" (a usage error, exit 2).
    return text if is_html else text_to_html(text)


def read_attachments(paths: tuple[str, ...]) -> list[tuple[str, bytes, str]]:
    """``(name, content, content type)`` of each ``--attach`` file."""
    files = []
    for item in paths:
        path = Path(item)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise click.BadParameter(f"cannot read {item!r}: {exc.strerror or exc}",
                                     param_hint="'--attach'") from exc
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        files.append((path.name, data, ctype))
    return files
