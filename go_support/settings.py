"""go-support's settings: one TOML file, plus the environment for secrets.

::

    from go_support.settings import load_settings

    settings = load_settings()                 # or load_settings("/etc/go-support/config.toml")
    client = settings.client()                 # a GroupOfficeClient for [groupoffice]
    settings.desk.close.feedback               # "none" | "private" | "public"
    settings.customer_groups("Hardware")       # [types."Hardware"], else [desk] customer_groups

Where the file is: the ``path`` argument (the CLI's ``--config``), else ``$GO_SUPPORT_CONFIG``,
else the first of ``./go-support.toml``, ``~/.config/go-support/config.toml`` and
``/etc/go-support/config.toml`` that exists. No file at all is fine: defaults and the
environment.

What wins, highest first: a command-line option (``overrides``), the environment
(``GO_SUPPORT_URL``, ``GO_SUPPORT_API_KEY``), the file, the defaults. The API key never comes
from the TOML file: ``$GO_SUPPORT_API_KEY``, or the file named by ``groupoffice.api_key_file``.
A key written into the TOML is an error that says where to put it instead.

Every problem is collected before anything is raised, and each names its source (the file, an
environment variable or an option) and its key: :class:`ConfigError` lists them all. Unknown
keys are errors, so that a typo is never silently ignored. The API key is kept out of ``repr``,
``model_dump`` and :meth:`Settings.public_dict`; only ``<set>``/``<not set>`` is ever shown.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from go_support.errors import GoSupportError
from go_support.expiry.config import ExpirySettings
from go_support.mail.config import MailSettings

if TYPE_CHECKING:
    from go_support.jmap import GroupOfficeClient

__all__ = [
    "API_KEY_ENV",
    "CONFIG_ENV",
    "DEFAULT_FEEDBACK_TEXT",
    "NOT_SET",
    "SET",
    "URL_ENV",
    "CloseSettings",
    "ConfigError",
    "ConfigProblem",
    "DeskSettings",
    "GroupOfficeSettings",
    "GroupRef",
    "Settings",
    "TypeSettings",
    "default_paths",
    "find_config_file",
    "load_settings",
]

CONFIG_ENV = "GO_SUPPORT_CONFIG"
URL_ENV = "GO_SUPPORT_URL"
API_KEY_ENV = "GO_SUPPORT_API_KEY"
FILE_NAME = "go-support.toml"
SYSTEM_CONFIG = Path("/etc/go-support/config.toml")

SET = "<set>"
NOT_SET = "<not set>"
DEFAULT = "default"

DEFAULT_FEEDBACK_TEXT = (
    "This ticket was closed because we did not hear back from you. "
    "Reply to this message if you still need help."
)

#: Keys under [groupoffice] that look like an attempt to put the secret into the file.
_SECRET_KEYS = frozenset({"api_key", "apikey", "api-key", "key", "token", "access_token",
                          "password"})
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


# --- errors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigProblem:
    """One problem: where the value came from, which key, and what is wrong.

    ``source`` is the configuration file as it was found or given (``go-support.toml``), an
    environment variable (``environment variable GO_SUPPORT_URL``) or an option (``--url``).
    ``key`` is the dotted TOML key (``desk.close.feedback``, ``types."Level 1".customer_groups``),
    or ``None`` for a problem with the file itself (unreadable, not TOML).
    """

    source: str
    key: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.message}" if self.key else (
            f"{self.source}: {self.message}")

    def to_json(self) -> dict[str, str | None]:
        return {"source": self.source, "key": self.key, "message": self.message}


class ConfigError(GoSupportError):
    """The configuration is invalid; ``problems`` lists every problem, each with file and key."""

    def __init__(self, problems: Iterable[ConfigProblem], *, path: Path | None = None) -> None:
        self.problems = tuple(problems)
        self.path = path
        if len(self.problems) == 1:
            text = str(self.problems[0])
        else:
            lines = "\n".join(f"  {p}" for p in self.problems)
            text = f"{len(self.problems)} problems in the configuration:\n{lines}"
        super().__init__(text)


# --- value types ---------------------------------------------------------------------------


def _group_ref(value: Any) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(
            f"must be a group name (a string) or a group id (a number) (got {_show(value)})")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"a group id must be a positive number (got {value})")
        return value
    text = value.strip()
    if not text:
        raise ValueError("a group name must not be empty")
    return text


GroupRef = Annotated[int | str, PlainValidator(_group_ref)]
"""A Group-Office group, by name (``"Customers"``) or by id (``7``)."""

Feedback = Literal["none", "private", "public"]


def _show(value: Any) -> str:
    """A value for an error message: short, and never a whole table."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# --- the sections -----------------------------------------------------------------------------


class GroupOfficeSettings(_Section):
    """``[groupoffice]``: where Group-Office is and how to reach it.

    ``api_key`` is a property, not a field: it is never part of ``repr``, ``model_dump`` or
    ``==``'s output, and it only comes from ``$GO_SUPPORT_API_KEY``, ``--api-key`` or the file
    named by ``api_key_file``.
    """

    url: str | None = None
    """The Group-Office root: the folder that contains ``api/`` (``https://go.example.com``)."""
    timeout: Annotated[float, Field(gt=0)] = 30.0
    """Seconds per HTTP request."""
    verify_tls: bool = True
    ca_bundle: str | None = None
    """A CA bundle (PEM) to verify the server's certificate with, for a private CA."""
    api_key_file: str | None = None
    """A file that holds the API key (and nothing else); mode 600, owned by the daemon's user."""

    _api_key: str | None = PrivateAttr(default=None)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"must be an http(s) URL such as https://go.example.com (got {_show(text)})")
        if "@" in parts.netloc:
            raise ValueError("must not contain a user name or password; the API key goes in "
                             f"${API_KEY_ENV} or groupoffice.api_key_file")
        return text.rstrip("/")

    @property
    def api_key(self) -> str | None:
        """The API key, or ``None``. Pass it on; never print it."""
        return self._api_key

    @property
    def verify(self) -> bool | str:
        """What :class:`~go_support.jmap.GroupOfficeClient` takes as ``verify``."""
        if not self.verify_tls:
            return False
        return self.ca_bundle if self.ca_bundle else True


class CloseSettings(_Section):
    """``[desk.close]``: what a ticket gets when it is closed (by an agent or by expiry)."""

    feedback: Feedback = "none"
    """``none``: nothing; ``private``: a private note; ``public``: a reply to the requester."""
    feedback_text: str = DEFAULT_FEEDBACK_TEXT
    """The text of that note or reply (plain text or HTML)."""

    @field_validator("feedback_text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty (leave the key out for the default text)")
        return value


class DeskSettings(_Section):
    """``[desk]``: who is who, and the defaults of the help desk."""

    managers_group: GroupRef | None = None
    """Members of this group are managers; Group-Office admins always are."""
    default_type: str | None = None
    """The ticket type (task list) that new tickets go to when none is given."""
    customer_groups: list[GroupRef] = []
    """Customers of every type without its own ``[types."<name>"] customer_groups``."""
    close: CloseSettings = CloseSettings()

    @field_validator("default_type")
    @classmethod
    def _type_name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty (leave the key out for no default type)")
        return value.strip() if value is not None else None


class TypeSettings(_Section):
    """``[types."<type name>"]``: settings of one ticket type."""

    customer_groups: list[GroupRef] | None = None
    """Groups whose members are customers of this type; ``None``: ``[desk] customer_groups``."""


class Settings(_Section):
    """Everything go-support reads from its configuration; build it with :func:`load_settings`.

    ``path`` is the file it was read from (``None``: defaults and environment only),
    ``origins`` says where each effective value came from, ``warnings`` lists settings that
    are valid but risky (TLS not verified, a key file other users can read).
    """

    groupoffice: GroupOfficeSettings = GroupOfficeSettings()
    desk: DeskSettings = DeskSettings()
    types: dict[str, TypeSettings] = {}
    mail: MailSettings = MailSettings()
    """``[mail]``: the mail daemon (:mod:`go_support.mail.config`)."""
    expiry: ExpirySettings = ExpirySettings()
    """``[expiry]``: auto-close of inactive tickets (:mod:`go_support.expiry.config`)."""

    _path: Path | None = PrivateAttr(default=None)
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)
    _warnings: tuple[ConfigProblem, ...] = PrivateAttr(default=())

    @field_validator("types")
    @classmethod
    def _type_names(cls, value: dict[str, TypeSettings]) -> dict[str, TypeSettings]:
        for name in value:
            if not name.strip():
                raise ValueError("a type name must not be empty")
        return value

    @property
    def path(self) -> Path | None:
        """The configuration file, or ``None`` when none was found."""
        return self._path

    @property
    def origins(self) -> dict[str, str]:
        """``{"groupoffice.url": "environment variable GO_SUPPORT_URL", ...}`` for every key."""
        return dict(self._origins)

    @property
    def warnings(self) -> tuple[ConfigProblem, ...]:
        return self._warnings

    def customer_groups(self, type_name: str) -> list[int | str]:
        """The customer groups of a ticket type: its own entry, else ``[desk] customer_groups``.

        The type name is matched exactly first, then case-insensitively.
        """
        entry = self.types.get(type_name)
        if entry is None:
            folded = type_name.casefold()
            entry = next((t for n, t in self.types.items() if n.casefold() == folded), None)
        if entry is not None and entry.customer_groups is not None:
            return list(entry.customer_groups)
        return list(self.desk.customer_groups)

    def connection_problems(self) -> tuple[ConfigProblem, ...]:
        """What is missing to connect to Group-Office: the URL, then the API key (each a
        problem that says where to set it); empty when both are set."""
        go = self.groupoffice
        source = str(self._path) if self._path else "configuration"
        problems = []
        if not go.url:
            problems.append(ConfigProblem(
                source, "groupoffice.url",
                f"required: set url in [groupoffice] of the configuration file, ${URL_ENV} "
                "or --url (e.g. https://go.example.com)"))
        if not go.api_key:
            problems.append(ConfigProblem(
                source, "groupoffice.api_key",
                f"required: set ${API_KEY_ENV} or groupoffice.api_key_file (create a key in "
                "Group-Office under System settings > API keys)"))
        return tuple(problems)

    def client(self, **kwargs: Any) -> GroupOfficeClient:
        """A :class:`~go_support.jmap.GroupOfficeClient` for ``[groupoffice]``.

        Raises :class:`ConfigError` when the URL or the API key is missing.
        """
        from go_support.jmap import GroupOfficeClient

        go = self.groupoffice
        problems = self.connection_problems()
        if problems:
            raise ConfigError(problems, path=self._path)
        assert go.url is not None
        kwargs.setdefault("timeout", go.timeout)
        kwargs.setdefault("verify", go.verify)
        return GroupOfficeClient(go.url, api_key=go.api_key, **kwargs)

    def public_dict(self) -> dict[str, Any]:
        """The effective settings as plain data, with the API key as ``<set>``/``<not set>``."""
        data = self.model_dump(mode="json")
        data["groupoffice"]["api_key"] = SET if self.groupoffice.api_key else NOT_SET
        return data

    def effective(self) -> list[tuple[str, Any, str]]:
        """``(dotted key, value, origin)`` for every setting; the API key as ``<set>``."""
        rows: list[tuple[str, Any, str]] = []

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict) and (value or not prefix):
                for key, item in value.items():
                    walk(_join(prefix, key), item)
            else:
                rows.append((prefix, value, self._origins.get(prefix, DEFAULT)))

        walk("", self.public_dict())
        return rows


# --- loading -----------------------------------------------------------------------------


def default_paths() -> list[Path]:
    """Where a configuration file is looked for, in order (the first that exists wins)."""
    return [Path(FILE_NAME), Path.home() / ".config" / "go-support" / "config.toml",
            SYSTEM_CONFIG]


def find_config_file(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    search_paths: Sequence[Path] | None = None,
) -> tuple[Path | None, str]:
    """The file to read and why: ``(path, "--config" | "$GO_SUPPORT_CONFIG" | "found")``.

    An explicit path (argument or variable) must exist; the search list may come up empty.
    """
    environ = os.environ if env is None else env
    if path is not None and str(path) != "":
        return Path(path), "--config"
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]), f"${CONFIG_ENV}"
    for candidate in search_paths if search_paths is not None else default_paths():
        if candidate.is_file():
            return candidate, "found"
    return None, "none"


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, tuple[Any, str]] | None = None,
    search_paths: Sequence[Path] | None = None,
) -> Settings:
    """Read, merge and validate the settings; raise :class:`ConfigError` listing every problem.

    ``path``: the configuration file (else ``$GO_SUPPORT_CONFIG``, else the search list of
    :func:`default_paths`). ``env``: the environment (default ``os.environ``). ``overrides``:
    values from the command line, ``{"groupoffice.url": (value, "--url")}``; they win over
    everything. Supported override keys: ``groupoffice.url``, ``groupoffice.api_key``,
    ``groupoffice.timeout``, ``groupoffice.verify_tls``.
    """
    environ = os.environ if env is None else env
    file, how = find_config_file(path, env=environ, search_paths=search_paths)
    source = str(file) if file is not None else "configuration"
    problems: list[ConfigProblem] = []
    warnings: list[ConfigProblem] = []
    raw: dict[str, Any] = {}
    origins: dict[str, str] = {}

    if file is not None:
        raw = _read_toml(file, how, problems)
        for key in _leaf_keys(raw):
            origins[key] = source
    base = file.absolute().parent if file is not None else Path.cwd()

    # secrets never come from the file
    go_table = raw.get("groupoffice")
    if isinstance(go_table, dict):
        for key in sorted(set(go_table) & _SECRET_KEYS):
            del go_table[key]
            origins.pop(f"groupoffice.{key}", None)
            problems.append(ConfigProblem(
                source, f"groupoffice.{key}",
                "secrets do not belong in the configuration file: set the environment variable "
                f"{API_KEY_ENV}, or put the key alone in a file readable only by go-support's "
                "user (chmod 600) and name it in groupoffice.api_key_file"))
    problems += _unknown_keys(raw, Settings, source)

    # the environment and the command line, over the file
    sources: dict[str, str] = {}
    url_env = environ.get(URL_ENV, "").strip()
    if url_env:
        _put(raw, "groupoffice.url", url_env)
        origins["groupoffice.url"] = sources["groupoffice.url"] = (
            f"environment variable {URL_ENV}")
    api_key: str | None = None
    api_key_origin = DEFAULT
    if environ.get(API_KEY_ENV, "").strip():
        api_key = environ[API_KEY_ENV].strip()
        api_key_origin = f"environment variable {API_KEY_ENV}"
    for key, (value, option) in (overrides or {}).items():
        if value is None:
            continue
        if key == "groupoffice.api_key":
            api_key, api_key_origin = str(value).strip() or None, option
            continue
        _put(raw, key, value)
        origins[key] = sources[key] = option

    settings: Settings | None = None
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems += _explain(exc, raw, source, sources)

    go_raw = raw.get("groupoffice")
    go: dict[str, Any] = go_raw if isinstance(go_raw, dict) else {}
    key_file = go.get("api_key_file")
    if isinstance(key_file, str) and key_file.strip():
        resolved = _resolve(base, key_file)
        if settings is not None:
            settings = _with_go(settings, api_key_file=str(resolved))
        if api_key is None:
            api_key = _read_key_file(resolved, source, problems, warnings)
            if api_key is not None:
                api_key_origin = f"file {resolved}"
        else:
            _check_key_file_mode(resolved, source, warnings)
    ca_bundle = go.get("ca_bundle")
    if isinstance(ca_bundle, str) and ca_bundle.strip():
        resolved = _resolve(base, ca_bundle)
        if not resolved.is_file():
            problems.append(ConfigProblem(
                sources.get("groupoffice.ca_bundle", source), "groupoffice.ca_bundle",
                f"no such file: {resolved}"))
        if go.get("verify_tls") is False and "groupoffice.verify_tls" not in sources:
            problems.append(ConfigProblem(
                source, "groupoffice.ca_bundle",
                "cannot be combined with verify_tls = false: either verify with this bundle "
                "or do not verify at all"))
        if settings is not None:
            settings = _with_go(settings, ca_bundle=str(resolved))

    if problems:
        raise ConfigError(problems, path=file)
    assert settings is not None
    warnings += _warn(settings, origins, source)
    origins["groupoffice.api_key"] = api_key_origin
    settings.groupoffice._api_key = api_key
    settings._path = file
    settings._origins = origins
    settings._warnings = tuple(warnings)
    return settings


# --- helpers ---------------------------------------------------------------------------------


def _with_go(settings: Settings, **values: Any) -> Settings:
    go = settings.groupoffice.model_copy(update=values)
    return settings.model_copy(update={"groupoffice": go})


def _resolve(base: Path, value: str) -> Path:
    """Relative paths in the file are relative to the file's folder; ``~`` is expanded."""
    path = Path(value.strip()).expanduser()
    return path if path.is_absolute() else (base / path)


def _read_toml(file: Path, how: str, problems: list[ConfigProblem]) -> dict[str, Any]:
    source = str(file)
    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        hint = f" (named by {how})" if how != "found" else ""
        problems.append(ConfigProblem(source, None, f"no such file{hint}"))
        return {}
    except UnicodeDecodeError:
        problems.append(ConfigProblem(source, None, "not UTF-8 text"))
        return {}
    except OSError as exc:
        problems.append(ConfigProblem(source, None, f"cannot read it: {exc.strerror or exc}"))
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(ConfigProblem(source, None, f"not valid TOML: {exc}"))
        return {}


def _join(prefix: str, key: str) -> str:
    part = key if _BARE_KEY.match(key) else '"' + key.replace('"', '\\"') + '"'
    return f"{prefix}.{part}" if prefix else part


def _dotted(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text = f"{text}[{part}]" if isinstance(part, int) else _join(text, part)
    return text


def _leaf_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted keys of every value that is not a table."""
    keys: list[str] = []
    for key, value in data.items():
        dotted = _join(prefix, str(key))
        keys += _leaf_keys(value, dotted) if isinstance(value, dict) else [dotted]
    return keys


def _put(raw: dict[str, Any], dotted: str, value: Any) -> None:
    section, _, key = dotted.partition(".")
    if section not in raw:
        raw[section] = {}
    table = raw[section]
    if isinstance(table, dict):  # else the file's bad value stays, and is reported
        table[key] = value


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """``(model, is_map_of_models)`` for a field annotation, or ``(None, False)``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if get_origin(annotation) is dict:
        args = get_args(annotation)
        if len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], BaseModel):
            return args[1], True
    return None, False


def _unknown_keys(
    data: Mapping[str, Any], model: type[BaseModel], source: str, prefix: str = ""
) -> list[ConfigProblem]:
    """Every key the model does not know, with a suggestion; removes them from ``data``."""
    problems: list[ConfigProblem] = []
    known = list(model.model_fields)
    for key in list(data):
        dotted = _join(prefix, str(key))
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            what = "section" if isinstance(data[key], dict) else "key"
            problems.append(ConfigProblem(source, dotted, f"unknown {what} ({hint})"))
            assert isinstance(data, dict)
            del data[key]
            continue
        inner, is_map = _model_of(model.model_fields[key].annotation)
        value = data[key]
        if inner is None or not isinstance(value, dict):
            continue
        if is_map:
            for name, entry in value.items():
                if isinstance(entry, dict):
                    problems += _unknown_keys(entry, inner, source, _join(dotted, str(name)))
        else:
            problems += _unknown_keys(value, inner, source, dotted)
    return problems


_MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "bool_type": lambda e: "must be true or false",
    "float_type": lambda e: "must be a number",
    "int_type": lambda e: "must be a whole number",
    "string_type": lambda e: "must be a string (in double quotes)",
    "list_type": lambda e: 'must be a list, e.g. ["Customers"]',
    "dict_type": lambda e: "must be a table",
    "model_type": lambda e: "must be a table",
    "model_attributes_type": lambda e: "must be a table",
    "greater_than": lambda e: f"must be greater than {e.get('ctx', {}).get('gt', 0):g}",
    "greater_than_equal": lambda e: f"must be {e.get('ctx', {}).get('ge', 0):g} or more",
    "literal_error": lambda e: "must be one of "
    + ", ".join(re.findall(r"'([^']*)'", str(e.get("ctx", {}).get("expected", "")))),
}


def _explain(
    exc: ValidationError, raw: Mapping[str, Any], source: str, sources: Mapping[str, str]
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_url=False):
        if error["type"] == "extra_forbidden":
            continue  # reported by _unknown_keys, with a suggestion
        loc = tuple(error["loc"])
        key = _dotted(loc)
        kind = error["type"]
        if kind in _MESSAGES:
            message = f"{_MESSAGES[kind](error)} (got {_show(error.get('input'))})"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
        if (key, message) in seen:
            continue
        seen.add((key, message))
        origin = next((sources[k] for k in sources if key == k or key.startswith(k + ".")),
                      source)
        problems.append(ConfigProblem(origin, key, message))
    return problems


def _read_key_file(
    path: Path, source: str, problems: list[ConfigProblem], warnings: list[ConfigProblem]
) -> str | None:
    key = "groupoffice.api_key_file"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(ConfigProblem(source, key, f"no such file: {path}"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        problems.append(ConfigProblem(source, key, f"cannot read {path}: {reason}"))
        return None
    secret = text.strip()
    if not secret:
        problems.append(ConfigProblem(source, key, f"{path} is empty; put the API key in it"))
        return None
    if len(secret.split()) > 1:
        problems.append(ConfigProblem(
            source, key, f"{path} must hold the API key alone, on one line"))
        return None
    _check_key_file_mode(path, source, warnings)
    return secret


def _check_key_file_mode(path: Path, source: str, warnings: list[ConfigProblem]) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.append(ConfigProblem(
            source, "groupoffice.api_key_file",
            f"{path} can be read by other users (mode {stat.S_IMODE(mode):03o}); "
            f"run: chmod 600 {path}"))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _warn(settings: Settings, origins: Mapping[str, str], source: str) -> list[ConfigProblem]:
    warnings: list[ConfigProblem] = []
    go = settings.groupoffice
    if not go.verify_tls:
        warnings.append(ConfigProblem(
            origins.get("groupoffice.verify_tls", source), "groupoffice.verify_tls",
            "TLS certificates are not verified: anyone on the path can read the API key "
            "(use ca_bundle for a private CA instead)"))
    if go.url:
        parts = urlsplit(go.url)
        if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
            warnings.append(ConfigProblem(
                origins.get("groupoffice.url", source), "groupoffice.url",
                "plain http: the API key travels unencrypted; use https"))
    return warnings
