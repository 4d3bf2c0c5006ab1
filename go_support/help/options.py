"""How the help page runs: session lifetime, cookies, proxies, uploads, sign-in limits.

These are the web server's own knobs; what the desk is (Group-Office, customer groups) comes
from the go-support settings. :meth:`HelpOptions.from_env` reads the ``GO_SUPPORT_HELP_*``
variables, so that ``gunicorn 'go_support.help:create_app()'`` needs no code.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from go_support.errors import GoSupportError

__all__ = ["ENV_PREFIX", "HelpOptions", "OptionsError"]

ENV_PREFIX = "GO_SUPPORT_HELP_"


class OptionsError(GoSupportError):
    """A help-page option is invalid (names the variable or option and the value)."""


@dataclass(frozen=True)
class HelpOptions:
    """The help page's options; every field has a safe default.

    * ``secret_key``: signs the session cookie; random per start when not given (then every
      restart signs everyone out, and several processes would not know each other's cookies);
    * ``idle_minutes`` / ``max_hours``: a session ends after this long without a page view,
      and at the latest this long after signing in;
    * ``secure_cookies``: ``None`` sends ``Secure`` cookies whenever the request came over
      TLS (as the proxy says, see ``trusted_proxies``), ``True``/``False`` always/never;
    * ``trusted_proxies``: how many reverse proxies in front add ``X-Forwarded-For``/
      ``-Proto``/``-Host``; 0 trusts none of those headers;
    * ``max_upload_mb``: the largest request (all attachments of one form together);
    * ``timezone``: the time zone dates are shown in (an IANA name);
    * ``user_failures`` / ``address_failures`` in ``failure_window_minutes``: failed sign-ins
      allowed per user name and per client address before sign-in is refused for a while.
    """

    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    idle_minutes: int = 30
    max_hours: int = 12
    secure_cookies: bool | None = None
    trusted_proxies: int = 0
    max_upload_mb: int = 20
    timezone: str = "UTC"
    user_failures: int = 5
    address_failures: int = 20
    failure_window_minutes: int = 15

    def __post_init__(self) -> None:
        for name in ("idle_minutes", "max_hours", "max_upload_mb", "user_failures",
                     "address_failures", "failure_window_minutes"):
            if getattr(self, name) < 1:
                raise OptionsError(f"{name} must be 1 or more (got {getattr(self, name)})")
        if self.trusted_proxies < 0:
            raise OptionsError(f"trusted_proxies must be 0 or more (got {self.trusted_proxies})")
        if len(self.secret_key) < 16:
            raise OptionsError("the secret key must be at least 16 characters long")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise OptionsError(f"there is no time zone {self.timezone!r} (use an IANA name "
                               "such as Europe/Amsterdam)") from exc

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> HelpOptions:
        """Options from ``GO_SUPPORT_HELP_*`` variables (``SECRET_KEY`` or ``SECRET_KEY_FILE``,
        ``IDLE_MINUTES``, ``MAX_HOURS``, ``SECURE_COOKIES`` (true/false/auto),
        ``TRUSTED_PROXIES``, ``MAX_UPLOAD_MB``, ``TIMEZONE``), then ``overrides``."""
        environ = os.environ if env is None else env
        values: dict[str, object] = {}

        def var(name: str) -> str | None:
            text = environ.get(ENV_PREFIX + name, "").strip()
            return text or None

        key = var("SECRET_KEY")
        key_file = var("SECRET_KEY_FILE")
        if key is None and key_file is not None:
            try:
                key = Path(key_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise OptionsError(f"{ENV_PREFIX}SECRET_KEY_FILE: cannot read {key_file}: "
                                   f"{exc.strerror or exc}") from exc
        if key is not None:
            values["secret_key"] = key
        for name in ("idle_minutes", "max_hours", "trusted_proxies", "max_upload_mb"):
            text = var(name.upper())
            if text is not None:
                if not text.isdigit():
                    raise OptionsError(f"{ENV_PREFIX}{name.upper()} must be a whole number "
                                       f"(got {text!r})")
                values[name] = int(text)
        secure = var("SECURE_COOKIES")
        if secure is not None:
            choices: dict[str, bool | None] = {"true": True, "false": False, "auto": None}
            if secure.lower() not in choices:
                raise OptionsError(f"{ENV_PREFIX}SECURE_COOKIES must be true, false or auto "
                                   f"(got {secure!r})")
            values["secure_cookies"] = choices[secure.lower()]
        zone = var("TIMEZONE")
        if zone is not None:
            values["timezone"] = zone
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)  # type: ignore[arg-type]
