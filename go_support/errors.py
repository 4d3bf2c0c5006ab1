"""The root of go-support's exception hierarchy, and secret redaction.

Every package of go-support raises subclasses of :class:`GoSupportError`, so that an
application (the CLI, the daemon) can catch "anything go-support decided to report"
in one place without also swallowing programming errors such as ``TypeError``.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED", "GoSupportError", "redact"]

REDACTED = "<redacted>"

# Credentials that may hide inside URLs or header dumps even when the caller did not
# name them: ``scheme://user:password@host`` and ``Bearer <token>``.
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_BEARER = re.compile(r"(?P<scheme>\bBearer\s+)[^\s\"',;]+")


class GoSupportError(Exception):
    """Base class of every error go-support raises on purpose."""


def redact(text: str, *secrets: str | None) -> str:
    """Return ``text`` with every secret replaced by ``<redacted>``.

    Why: exception messages end up in logs, tracebacks and bug reports, and some of
    them quote what a server sent back (Group-Office even echoes raw SQL). Empty or
    ``None`` secrets are ignored; longer secrets are replaced first so that a secret
    containing another one is not left half visible. URL user-info and ``Bearer``
    tokens are removed even when they were not passed in.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    return _BEARER.sub(lambda m: f"{m.group('scheme')}{REDACTED}", text)
