"""Group-Office's ``config.php``, read without running PHP.

Why not ``php -r``: the migration must run on hosts without PHP (a separate go-support
host reading the database over the network) and must never execute a file it only needs
the database credentials from. The file is a PHP script that fills the array ``$config``;
this module understands the forms Group-Office's templates and administrators write:

* ``$config['db_host'] = 'localhost';`` (also nested keys ``$config['a']['b'] = ...``),
* ``$config = [ ... ];`` / ``$config = array( ... );`` (whole-array assignment),
* literals: strings in single or double quotes with PHP's escapes, integers (decimal,
  hex, octal, binary, with ``_``), floats, ``true``/``false``/``null``, nested arrays,
  string concatenation with ``.``;
* ``//``, ``#`` and ``/* */`` comments; other statements (``ini_set(...)``,
  ``date_default_timezone_set(...)``) are skipped.

A key assigned something that is not a literal (a constant, a function call, a variable)
is remembered as unreadable: it is an error only when the migration needs that key, and the
error names the key, the file and the line.

Group-Office overlays its built-in defaults with ``/etc/groupoffice/globalconfig.inc.php``
(shared by all instances) and then with the instance's ``config.php``;
:func:`load_config` does the same.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from go_support.legacy.errors import LegacyConfigError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "GLOBAL_CONFIG",
    "DatabaseSettings",
    "GroupOfficeConfig",
    "Unreadable",
    "config_path",
    "config_path_from_argv",
    "load_config",
    "parse_php_config",
]

CONFIG_ENV = "GO_CONFIG_FILE"
"""The environment variable Group-Office's ``cli.php`` reads when ``-c`` is absent."""
DEFAULT_CONFIG = Path("/etc/groupoffice/config.php")
GLOBAL_CONFIG = Path("/etc/groupoffice/globalconfig.inc.php")

# Group-Office's own defaults (App::getConfig) for the keys the migration reads. db_name and
# db_user have defaults there too, but guessing a site's credentials only turns a missing key
# into a confusing login refusal, so both are required here.
_DEFAULTS: dict[str, Any] = {
    "db_host": "localhost",
    "db_port": 3306,
    "db_pass": "",
    "file_storage_path": "/home/groupoffice",
}
_REQUIRED = ("db_name", "db_user")


@dataclass(frozen=True)
class Unreadable:
    """A ``$config`` value that is not a plain literal (kept to name it in an error)."""

    expression: str
    file: str
    line: int


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the legacy database is and how to log in (``password`` never in ``repr``)."""

    host: str
    port: int
    name: str
    user: str
    password: str = field(repr=False)
    socket: str | None = None

    def describe(self) -> str:
        """``user@host:port/name`` or ``user@unix:socket/name``, for messages (no password)."""
        where = f"unix:{self.socket}" if self.socket else f"{self.host}:{self.port}"
        return f"{self.user}@{where}/{self.name}"


@dataclass(frozen=True)
class GroupOfficeConfig:
    """The merged ``$config`` of a Group-Office installation, and what the migration uses."""

    path: Path
    sources: tuple[Path, ...]
    values: Mapping[str, Any] = field(repr=False)
    database: DatabaseSettings
    file_storage_path: Path


# --------------------------------------------------------------------------------------
# Locating the file


def _strip_argument(value: str) -> str:
    """``=path``, ``'path'``, ``"path"`` -> ``path`` (click hands ``-c=x`` over as ``=x``;
    quotes survive when a wrapper passes the argument without a shell)."""
    text = value.strip()
    if text.startswith("="):
        text = text[1:].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


def config_path(option: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """The config file to read: the ``-c``/``--config`` value, else ``$GO_CONFIG_FILE``,
    else ``/etc/groupoffice/config.php`` (the same order as Group-Office's ``cli.php``)."""
    env = os.environ if environ is None else environ
    if option is not None:
        text = _strip_argument(option)
        if not text:
            raise LegacyConfigError("-c/--config needs the path of Group-Office's config.php")
        return Path(text).expanduser()
    from_env = env.get(CONFIG_ENV, "").strip()
    if from_env:
        return Path(_strip_argument(from_env)).expanduser()
    return DEFAULT_CONFIG


def config_path_from_argv(argv: Sequence[str],
                          environ: Mapping[str, str] | None = None) -> Path:
    """:func:`config_path` for a raw argument list: ``-c=PATH``, ``-c PATH``, ``-cPATH``,
    ``--config=PATH``, ``--config PATH`` (the last one given wins)."""
    option: str | None = None
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-c", "--config"):
            if i + 1 >= len(args):
                raise LegacyConfigError(f"{arg} needs the path of Group-Office's config.php")
            option = args[i + 1]
            i += 2
            continue
        if arg.startswith("--config="):
            option = arg[len("--config="):]
        elif arg.startswith("-c") and not arg.startswith("--"):
            option = arg[2:]
        i += 1
    return config_path(option, environ)


# --------------------------------------------------------------------------------------
# The PHP subset


class _Syntax(Exception):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*?(?=\?>|\n|$)|\#(?!\[)[^\n]*?(?=\?>|\n|$)|/\*.*?\*/)
  | (?P<unclosed>/\*)
  | (?P<close>\?>)
  | (?P<var>\$[A-Za-z_][A-Za-z0-9_]*)
  | (?P<sstr>'(?:[^'\\]|\\.)*')
  | (?P<dstr>"(?:[^"\\]|\\.)*")
  | (?P<num>(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+
             |(?:\d[\d_]*)?\.\d[\d_]*(?:[eE][+-]?\d+)?|\d[\d_]*(?:\.(?!\.))?(?:[eE][+-]?\d+)?))
  | (?P<heredoc><<<)
  | (?P<name>\\?[A-Za-z_][A-Za-z0-9_\\]*)
  | (?P<op>=>|::|\?\?=|\.=|\+=|\[|\]|\(|\)|,|;|=|\.|-|\+|\{|\}|:|\?|!|&|@|\*|/|%|<|>|\|)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass
class _Tok:
    kind: str
    text: str
    pos: int


def _tokens(code: str, start: int) -> list[_Tok]:
    """Tokens of the PHP code from ``start`` (just after ``<?php``) to the end or ``?>``."""
    out: list[_Tok] = []
    pos = start
    while pos < len(code):
        m = _TOKEN.match(code, pos)
        if m is None:
            if code[pos] in "'\"":
                raise _Syntax("a string is not closed", pos)
            if code.startswith("/*", pos):
                raise _Syntax("a /* comment is not closed", pos)
            raise _Syntax(f"unexpected character {code[pos]!r}", pos)
        kind = m.lastgroup or ""
        if kind == "close":
            rest = code.find("<?php", m.end())
            if rest < 0:
                break
            pos = rest + len("<?php")
            continue
        if kind == "unclosed":
            raise _Syntax("a /* comment is not closed", pos)
        if kind == "heredoc":
            raise _Syntax("heredoc strings (<<<) are not supported; use a quoted string", pos)
        if kind not in ("ws", "comment"):
            out.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    return out


_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "e": "\x1b", "f": "\f",
                   "\\": "\\", "$": "$", '"': '"'}


def _single_quoted(body: str) -> str:
    return re.sub(r"\\([\\'])", r"\1", body)


def _double_quoted(body: str, pos: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "$" and i + 1 < len(body) and (body[i + 1].isalpha() or body[i + 1] in "_{"):
            raise _Syntax("a double-quoted string interpolates a variable", pos)
        if c != "\\" or i + 1 == len(body):
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif m := re.match(r"[0-7]{1,3}", body[i + 1:]):
            out.append(chr(int(m.group(), 8) & 0xFF))
            i += 1 + len(m.group())
        elif (m := re.match(r"x([0-9a-fA-F]{1,2})", body[i + 1:])) or (
                m := re.match(r"u\{([0-9a-fA-F]+)\}", body[i + 1:])):
            out.append(chr(int(m.group(1), 16)))
            i += 1 + len(m.group())
        else:  # PHP keeps unknown escapes as they are
            out.append(c)
            i += 1
    return "".join(out)


def _number(text: str) -> int | float:
    t = text.replace("_", "")
    low = t.lower()
    if low.startswith("0x"):
        return int(t[2:], 16)
    if low.startswith("0b"):
        return int(t[2:], 2)
    if low.startswith("0o"):
        return int(t[2:], 8)
    if re.fullmatch(r"0[0-7]+", t):
        return int(t, 8)
    if re.fullmatch(r"\d+", t):
        return int(t)
    return float(t)


class _Parser:
    """A recursive-descent reader of the statements that fill ``$config``."""

    def __init__(self, code: str, file: str) -> None:
        self.code = code
        self.file = file
        self.start = code.find("<?php") + len("<?php")
        self.toks: list[_Tok] = []
        self.i = 0
        self.config: dict[str, Any] = {}
        self.assigned = False

    def line(self, pos: int) -> int:
        return self.code.count("\n", 0, pos) + 1

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise _Syntax("the file ends in the middle of a statement",
                          len(self.code))
        self.i += 1
        return tok

    def expect(self, text: str) -> _Tok:
        tok = self.take()
        if tok.text != text:
            raise _Syntax(f"expected {text!r} but found {tok.text!r}", tok.pos)
        return tok

    def run(self) -> dict[str, Any]:
        self.toks = _tokens(self.code, self.start)
        while self.peek() is not None:
            tok = self.peek()
            assert tok is not None
            if tok.kind == "var" and tok.text == "$config":
                self.config_statement()
            elif tok.text == ";":
                self.i += 1
            else:
                self.skip_statement()
        return self.config

    def skip_statement(self) -> None:
        """Skip a statement that does not assign ``$config`` (balanced brackets; a block
        such as ``if (...) { ... }`` ends at its closing brace, and ``$config`` assignments
        inside it are skipped with it: they are conditional)."""
        depth = 0
        while (tok := self.peek()) is not None:
            self.i += 1
            if tok.text in "([{":
                depth += 1
            elif tok.text in ")]}":
                depth -= 1
                if tok.text == "}" and depth <= 0:
                    return
            elif tok.text == ";" and depth <= 0:
                return

    def config_statement(self) -> None:
        self.take()  # $config
        keys: list[str] = []
        while (tok := self.peek()) is not None and tok.text == "[":
            self.take()
            key_tok = self.peek()
            if key_tok is not None and key_tok.text == "]":
                raise _Syntax("appending to $config with [] is not supported", key_tok.pos)
            key = self.expression()
            if isinstance(key, (Unreadable, list, dict)):
                raise _Syntax("a $config key must be a literal string or number",
                              key_tok.pos if key_tok else 0)
            keys.append(str(key))
            self.expect("]")
        op = self.take()
        if op.text not in ("=", ".=", "+="):
            raise _Syntax(f"expected '=' after $config but found {op.text!r}", op.pos)
        value = self.expression()
        end = self.take()
        if end.text != ";":
            raise _Syntax(f"expected ';' but found {end.text!r}", end.pos)
        self.assigned = True
        if not keys:
            if isinstance(value, Unreadable):
                raise _Syntax("$config is assigned something that is not an array literal",
                              op.pos)
            if not isinstance(value, dict):
                raise _Syntax("$config must be an array", op.pos)
            if op.text == "+=":
                for k, v in value.items():
                    self.config.setdefault(k, v)
            else:
                self.config = dict(value)
            return
        target = self.config
        for key in keys[:-1]:
            inner = target.get(key)
            if not isinstance(inner, dict):
                inner = {}
                target[key] = inner
            target = inner
        last = keys[-1]
        if op.text == ".=":
            old = target.get(last, "")
            if isinstance(old, str) and isinstance(value, str):
                value = old + value
            else:
                value = Unreadable(f"{old!r} . {value!r}", self.file, self.line(op.pos))
        elif op.text == "+=":
            old = target.get(last)
            if isinstance(old, (int, float)) and isinstance(value, (int, float)):
                value = old + value
            elif isinstance(old, dict) and isinstance(value, dict):
                value = {**value, **old}
            else:
                value = Unreadable("+=", self.file, self.line(op.pos))
        target[last] = value

    def expression(self) -> Any:
        start = self.peek()
        value = self.operand()
        while (tok := self.peek()) is not None and tok.text == ".":
            self.take()
            right = self.operand()
            if isinstance(value, str) and isinstance(right, str):
                value = value + right
            elif isinstance(value, (str, int, float)) and isinstance(right, (str, int, float)):
                value = _php_str(value) + _php_str(right)
            else:
                value = self.unreadable_from(start)
        if (tok := self.peek()) is not None and tok.kind in ("sstr", "dstr", "num", "var"):
            raise _Syntax(f"expected ';' but found {tok.text[:20]!r}", tok.pos)
        if tok is not None and tok.text not in (";", ",", "]", ")", "=>"):
            # an operator we do not evaluate (?:, ??, +, ...): keep the key, unreadable
            return self.unreadable_from(start, skip=True)
        return value

    def unreadable_from(self, start: _Tok | None, skip: bool = False) -> Unreadable:
        """Skip the rest of this value and remember its text."""
        if skip:
            depth = 0
            while (tok := self.peek()) is not None:
                if tok.text in "([{":
                    depth += 1
                elif tok.text in ")]}":
                    if depth == 0:
                        break
                    depth -= 1
                elif tok.text in (";", ",", "=>") and depth == 0:
                    break
                self.i += 1
        begin = start.pos if start else 0
        end_tok = self.peek()
        end = end_tok.pos if end_tok else len(self.code)
        text = " ".join(self.code[begin:end].split())
        return Unreadable(text[:80], self.file, self.line(begin))

    def operand(self) -> Any:
        tok = self.take()
        if tok.kind == "sstr":
            return _single_quoted(tok.text[1:-1])
        if tok.kind == "dstr":
            return _double_quoted(tok.text[1:-1], tok.pos)
        if tok.kind == "num":
            return _number(tok.text)
        if tok.text in ("-", "+"):
            inner = self.operand()
            if isinstance(inner, (int, float)) and not isinstance(inner, bool):
                return -inner if tok.text == "-" else inner
            return Unreadable(tok.text, self.file, self.line(tok.pos))
        if tok.text == "[":
            return self.array("]")
        if tok.kind == "name":
            low = tok.text.lower()
            if low == "true":
                return True
            if low == "false":
                return False
            if low == "null":
                return None
            if low == "array" and (nxt := self.peek()) is not None and nxt.text == "(":
                self.take()
                return self.array(")")
            self.i -= 1
            return self.unreadable_from(tok, skip=True)
        if tok.text == "(":
            value = self.expression()
            self.expect(")")
            return value
        if tok.kind == "var":
            self.i -= 1
            return self.unreadable_from(tok, skip=True)
        raise _Syntax(f"unexpected {tok.text!r}", tok.pos)

    def array(self, closing: str) -> dict[str, Any] | list[Any]:
        items: list[tuple[Any, Any]] = []
        has_keys = False
        next_index = 0
        while True:
            tok = self.peek()
            if tok is None:
                raise _Syntax("an array is not closed", len(self.code))
            if tok.text == closing:
                self.take()
                break
            first = self.expression()
            if (arrow := self.peek()) is not None and arrow.text == "=>":
                self.take()
                has_keys = True
                key = first
                value = self.expression()
                if isinstance(key, bool) or key is None:
                    key = int(bool(key)) if key is not None else ""
                if isinstance(key, (int, float)) or (
                        isinstance(key, str) and re.fullmatch(r"-?[1-9]\d*|0", key)):
                    key = int(key)
                    next_index = max(next_index, key + 1)
                elif not isinstance(key, str):
                    raise _Syntax("an array key must be a literal string or number", arrow.pos)
            else:
                key, value = next_index, first
                next_index += 1
            items.append((key, value))
            sep = self.take()
            if sep.text == closing:
                break
            if sep.text != ",":
                raise _Syntax(f"expected ',' or {closing!r} in an array but found {sep.text!r}",
                              sep.pos)
        if not has_keys:
            return [v for _, v in items]
        return {str(k): v for k, v in items}


def _php_str(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_php_config(code: str, file: str = "config.php") -> dict[str, Any]:
    """The ``$config`` array a Group-Office config file builds (nested arrays as dicts or
    lists, non-literal values as :class:`Unreadable`).

    Raises :class:`LegacyConfigError` naming ``file`` (and the line) when it is not PHP or
    its syntax is not understood.
    """
    text = code.lstrip("\ufeff")
    if text.startswith("#!"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    stripped = text.lstrip()
    if not stripped.startswith("<?php") and not stripped.startswith("<?PHP"):
        what = "empty" if not stripped else f"starts with {stripped[:20]!r}"
        raise LegacyConfigError(
            f"{file} is not a PHP file: it is {what}, not '<?php' (give the path of "
            f"Group-Office's config.php, e.g. -c=/etc/groupoffice/config.php)")
    text = text.replace("<?PHP", "<?php", 1)
    parser = _Parser(text, file)
    try:
        return parser.run()
    except _Syntax as exc:
        raise LegacyConfigError(
            f"{file}, line {parser.line(exc.pos)}: {exc.message}; go-support reads "
            f"config.php without running PHP and understands literal values only") from None


# --------------------------------------------------------------------------------------
# Loading and checking


def _read(path: Path, what: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LegacyConfigError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise LegacyConfigError(f"{what} {path} is a folder, not a file") from None
    except PermissionError:
        raise LegacyConfigError(
            f"{what} {path} cannot be read: permission denied (run as the web server's user "
            f"or as root)") from None
    except OSError as exc:
        raise LegacyConfigError(f"{what} {path} cannot be read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise LegacyConfigError(
                f"{what} {path} is not text (undecodable byte at offset {exc.start})") from None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Later files win key by key (PHP's array_merge of two ``$config`` arrays)."""
    merged = dict(base)
    merged.update(over)
    return merged


def load_config(path: Path | str, global_path: Path | str | None = GLOBAL_CONFIG,
                ) -> GroupOfficeConfig:
    """Read ``path`` (Group-Office's ``config.php``), overlaid on ``global_path`` when that
    file exists, and check the keys the migration needs.

    Errors name the key and the file that should hold it; the password never appears.
    """
    path = Path(path)
    sources: list[Path] = []
    values: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    gpath = Path(global_path) if global_path is not None else None
    if gpath is not None and gpath.exists() and gpath.resolve() != path.resolve():
        found = parse_php_config(_read(gpath, "Group-Office's global config"), str(gpath))
        values = _merge(values, found)
        origin.update(dict.fromkeys(found, gpath))
        sources.append(gpath)
    found = parse_php_config(_read(path, "Group-Office's config file"), str(path))
    values = _merge(values, found)
    origin.update(dict.fromkeys(found, path))
    sources.append(path)

    named = " and ".join(str(s) for s in sources)
    if not any(k.startswith("db_") for k in values):
        raise LegacyConfigError(
            f"{named} holds no database settings: none of $config['db_host'], "
            f"['db_name'], ['db_user'], ['db_pass'] is set. Is this Group-Office's "
            f"config.php?")
    for key in _REQUIRED:
        if key not in values:
            raise LegacyConfigError(
                f"$config['{key}'] is missing from {named}; the migration needs it to log in "
                f"to Group-Office's database")

    def where(key: str) -> Path:
        return origin.get(key, path)

    def text(key: str, *, allow_empty: bool = False) -> str:
        value = values.get(key, _DEFAULTS.get(key))
        if isinstance(value, Unreadable):
            raise LegacyConfigError(
                f"$config['{key}'] in {value.file} (line {value.line}) is not a literal value "
                f"go-support can read without running PHP"
                + ("" if key == "db_pass" else f" ({value.expression})")
                + "; write it as a quoted string")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            kind = "an array" if isinstance(value, (list, dict)) else type(value).__name__
            if value is None:
                kind = "null"
            raise LegacyConfigError(
                f"$config['{key}'] in {where(key)} must be a string (it is {kind})")
        result = str(value)
        if not allow_empty and not result.strip():
            raise LegacyConfigError(f"$config['{key}'] in {where(key)} is empty")
        return result

    port_value = values.get("db_port", _DEFAULTS["db_port"])
    if isinstance(port_value, Unreadable):
        text("db_port")
    if isinstance(port_value, str) and port_value.strip().isdigit():
        port_value = int(port_value.strip())
    if isinstance(port_value, bool) or not isinstance(port_value, int) or not (
            0 < port_value < 65536):
        raise LegacyConfigError(
            f"$config['db_port'] in {where('db_port')} must be a port number from 1 to 65535 "
            f"(it is {port_value!r})")
    socket = values.get("db_socket")
    socket_text = text("db_socket", allow_empty=True).strip() if socket is not None else ""
    database = DatabaseSettings(
        host=text("db_host"),
        port=port_value,
        name=text("db_name"),
        user=text("db_user"),
        password=text("db_pass", allow_empty=True),
        socket=socket_text or None,
    )
    storage = Path(text("file_storage_path"))
    return GroupOfficeConfig(path=path, sources=tuple(sources), values=values,
                             database=database, file_storage_path=storage)
