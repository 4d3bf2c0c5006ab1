"""``api/auth.php``: login, logout and self-registration, with Group-Office's answers (02, 11).

Messages travel in the HTTP reason phrase; bodies always carry ``"debug": []``. A wrong password
and an unknown user get the same 401 (02). A user seeded with ``"otp": true`` has a pending second
factor: the right password gets 200 "Success, but more authorization required." with
``{"loginToken", "authenticators": ["otpauthenticator"], "debug": []}`` (protocol §2.4) and no
access token; completing the second factor is not emulated.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from .context import Context, RequestState
from .defaults import new_token
from .errors import MethodError, SetError

if TYPE_CHECKING:
    from .server import App, Environ

DEBUG: dict[str, Any] = {"debug": []}


def hash_password(password: str) -> str:
    salt = new_token()[:16]
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 20000).hex()
    return f"pbkdf2${salt}${digest}"


def check_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    if not stored.startswith("pbkdf2$"):
        return hmac.compare_digest(stored, password)
    _, salt, digest = stored.split("$", 2)
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 20000).hex()
    return hmac.compare_digest(candidate, digest)


def handle_auth(app: App, environ: Environ) -> tuple[str, dict[str, Any] | None]:
    from .server import _base_url, _bearer, _read_body

    method = environ["REQUEST_METHOD"]
    if method == "DELETE":
        return _logout(app, _bearer(environ))
    if "application/json" not in environ.get("CONTENT_TYPE", ""):
        return "400 Only Content-Type: application/json", dict(DEBUG)
    try:
        body = json.loads(_read_body(environ) or b"null")
    except ValueError:
        return "500 JsonException", dict(DEBUG)
    if not isinstance(body, dict):
        body = {}
    action = body.get("action", "login")
    if action == "logout":
        return _logout(app, _bearer(environ))
    if action == "register":
        return _register(app, environ, body.get("user") or {})
    if action != "login":
        return "400 Bad request", dict(DEBUG)
    username = str(body.get("username") or "").strip()
    password = str(body.get("password") or "")
    if not username or not password:
        message = "Missing arguments 'username' and 'password' for authentication."
        return f"400 {message}", {"error": message, **DEBUG}
    wanted = username.lower()
    user = next(
        (u for u in app.store.all("User") if str(u.get("username", "")).lower() == wanted), None
    )
    if user is None or not check_password(user.get("password"), password):
        # An unknown user gets exactly the answer of a wrong password (02 steps 1-2).
        error = {"description": "Bad username or password", "code": 10}
        return "401 Bad username or password", {"errors": {"username": error}, **DEBUG}
    if not user.get("enabled", True):
        return "403 You're account has been disabled.", dict(DEBUG)
    factors = user.get("secondFactors")
    if factors:
        # A pending second factor (seed flag "otp"): no access token yet, only a login token
        # to complete the login with (protocol §2.4). Completing it is not emulated.
        return "200 Success, but more authorization required.", {
            "loginToken": new_token(),
            "authenticators": [str(f) for f in factors],
            **DEBUG,
        }
    _record_login(app, user)
    return _login_answer(app, environ, str(user["id"]), _base_url(environ))


def _record_login(app: App, user: dict[str, Any]) -> None:
    """A login saves the user (lastLogin, loginCount), which moves the User state."""
    from .filters import now_iso

    user = dict(user)
    user["lastLogin"] = now_iso()
    user["loginCount"] = int(user.get("loginCount") or 0) + 1
    app.store.put("User", user)
    app.store.log_change("User", str(user["id"]))


def _login_answer(
    app: App, environ: Environ, user_id: str, base_url: str
) -> tuple[str, dict[str, Any]]:
    token = new_token()
    app.store.meta.tokens[token] = {"userId": user_id}
    ctx = Context(
        store=app.store,
        registry=app.registry,
        request=RequestState(base_url=base_url),
        user_id=user_id,
        token=token,
    )
    session = app.session(ctx)
    return (
        "201 Authentication is complete, access token created.",
        {**session, "accessToken": token, **DEBUG},
    )


def _logout(app: App, token: str | None) -> tuple[str, dict[str, Any]]:
    if token:
        app.store.meta.tokens.pop(token, None)
    return "200 OK", dict(DEBUG)


def _register(app: App, environ: Environ, user: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from .server import _base_url

    if not app.store.meta.settings.get("allowRegistration"):
        return "403 Registration is not allowed", dict(DEBUG)
    ctx = Context(
        store=app.store,
        registry=app.registry,
        request=RequestState(base_url=_base_url(environ)),
        user_id="1",  # registration runs with system rights
    )
    handler = app.registry.entity("User")
    if not isinstance(user, dict):
        user = {}
    try:
        created = handler.create_one(ctx, dict(user))
    except SetError as e:
        # 422 with the first validation error as the reason phrase (entities §8.5).
        first = next(iter((e.validation_errors or {}).values()), {})
        return f"422 {first.get('description', 'Validation failed')}", dict(DEBUG)
    except MethodError as e:
        return f"500 {_reason(e.message)}", dict(DEBUG)
    return _login_answer(app, environ, str(created["id"]), _base_url(environ))


def _reason(message: str) -> str:
    """A reason phrase is one line of latin-1 text."""
    line = message.splitlines()[0] if message else "Internal Server Error"
    return line.encode("latin-1", "replace").decode("latin-1")
