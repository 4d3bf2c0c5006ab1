"""The help page: a Flask application built by :func:`create_app` from the go-support settings.

Every page acts through the sidecar's own API key with ``desk.as_user(user)`` for the signed-in
user only, and shows only that user's own requests (where they are the requester) with their
public messages: even a user who is also an agent sees no private note here. Ticket, message
and attachment ids in URLs are checked on every request; whatever is not the user's answers
404, the same as what does not exist, so guessing ids tells nothing.
"""

from __future__ import annotations

import hmac
import io
import mimetypes
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from babel import Locale
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from go_support.desk import (
    DeskError,
    InvalidMessage,
    InvalidTicket,
    Message,
    NotATicket,
    PermissionDenied,
    SupportDesk,
    Ticket,
    TicketFilter,
    TicketType,
    html_to_text,
)
from go_support.help.options import HelpOptions
from go_support.help.signin import (
    FailureLimiter,
    LiveSession,
    SessionRegistry,
    SignInRefused,
    SignInUnavailable,
    verify_credentials,
)
from go_support.help.text import format_date, pick_locale, text_to_html
from go_support.jmap import JMAPError
from go_support.settings import Settings, load_settings

__all__ = ["HelpState", "create_app"]

P = ParamSpec("P")
R = TypeVar("R")

PER_PAGE = 25
MAX_FILES = 10
MAX_SUBJECT = 190
#: Types a browser could run or render inline: always downloaded as opaque bytes.
ACTIVE_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
    "text/javascript", "application/javascript", "application/x-javascript", "text/css",
    "application/pdf",
})
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"),
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass
class HelpState:
    """What the page keeps between requests (``app.extensions["go_support_help"]``)."""

    desk: SupportDesk
    options: HelpOptions
    verify_tls: bool | str
    timeout: float
    sessions: SessionRegistry
    user_failures: FailureLimiter
    address_failures: FailureLimiter


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, ``Secure`` whenever the request came over TLS (``secure=None``)."""

    def __init__(self, secure: bool | None) -> None:
        self.secure = secure

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure if self.secure is None else self.secure


def create_app(settings: Settings | None = None, options: HelpOptions | None = None, *,
               desk: SupportDesk | None = None) -> Flask:
    """The help page for the Group-Office and desk of ``settings`` (default
    :func:`~go_support.settings.load_settings`), with ``options`` (default
    :meth:`HelpOptions.from_env`).

    ``desk`` replaces the desk built from the settings (it must act as an admin key's user:
    the page uses :meth:`SupportDesk.as_user`). A WSGI server runs the result as it is:
    ``gunicorn 'go_support.help:create_app()'``.
    """
    if options is None:
        options = HelpOptions.from_env()
    if desk is None:
        if settings is None:
            settings = load_settings()
        desk = SupportDesk(settings.client(), settings)
    go = settings.groupoffice if settings is not None else None
    window = options.failure_window_minutes * 60.0
    state = HelpState(
        desk=desk,
        options=options,
        verify_tls=go.verify if go is not None else True,
        timeout=go.timeout if go is not None else 30.0,
        sessions=SessionRegistry(options.idle_minutes * 60.0, options.max_hours * 3600.0),
        user_failures=FailureLimiter(options.user_failures, window),
        address_failures=FailureLimiter(options.address_failures, window),
    )

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=options.secret_key,
        SESSION_COOKIE_NAME="go_support_help",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=options.max_hours),
        MAX_CONTENT_LENGTH=options.max_upload_mb * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.session_interface = _SessionInterface(options.secure_cookies)
    if options.trusted_proxies:
        n = options.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    app.extensions["go_support_help"] = state
    app.jinja_env.autoescape = True
    _register(app)
    return app


def _state() -> HelpState:
    found: HelpState = current_app.extensions["go_support_help"]
    return found


# --- requests, sessions and CSRF ----------------------------------------------------------------


def _csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _locale() -> Locale:
    if "locale" not in g:
        g.locale = pick_locale(request.accept_languages.values())
    found: Locale = g.locale
    return found


def _user() -> LiveSession:
    found: LiveSession = g.user
    return found


def _desk() -> SupportDesk:
    """The desk acting for the signed-in user, and for nobody else."""
    return _state().desk.as_user(_user().user_id)


def signed_in(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
    """Only for a live session; others go to the sign-in page (and come back afterwards)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | BaseResponse:
        if g.get("user") is None:
            if g.get("expired"):
                flash("Your session has ended. Please sign in again.", "info")
            target = request.full_path if request.method == "GET" else None
            return redirect(url_for("signin", next=target) if target else url_for("signin"))
        return view(*args, **kwargs)

    return wrapper


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``) is followed after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("my_requests")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("my_requests")
    return target


def _register(app: Flask) -> None:
    @app.before_request
    def load_user() -> BaseResponse | None:
        g.user = None
        sid = session.get("sid")
        if isinstance(sid, str):
            live = _state().sessions.touch(sid)
            if live is None:
                session.pop("sid", None)
                g.expired = True
            else:
                g.user = live
        if request.method == "POST":
            return _check_csrf()
        return None

    @app.after_request
    def headers(response: BaseResponse) -> BaseResponse:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        response.vary.add("Cookie")
        return response

    @app.context_processor
    def helpers() -> dict[str, Any]:
        def when(value: Any) -> str:
            return format_date(value, _locale(), _state().options.zone)

        return {"csrf_token": _csrf_token, "when": when, "user": g.get("user"),
                "locale": _locale}

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        code = exc.code or 500
        if isinstance(exc, RequestEntityTooLarge):
            message = (f"What you sent is too large: attachments may be at most "
                       f"{_state().options.max_upload_mb} MB together.")
        elif code == 404:
            message = "There is no such page, or it is not yours to see."
        else:
            message = exc.description or exc.name
        return render_template("error.html", title=exc.name, message=message), code

    @app.errorhandler(JMAPError)
    def unreachable(exc: JMAPError) -> tuple[str, int]:
        current_app.logger.warning("Group-Office: %s", exc)
        return render_template(
            "error.html", title="Service unavailable",
            message="The help desk cannot reach Group-Office right now. Please try again in "
                    "a few minutes."), 503

    @app.errorhandler(NotATicket)
    @app.errorhandler(PermissionDenied)
    def not_yours(exc: DeskError) -> tuple[str, int]:
        return render_template("error.html", title="Not found",
                               message="There is no such request, or it is not yours."), 404

    app.add_url_rule("/", "index", index)
    app.add_url_rule("/signin", "signin", signin, methods=["GET", "POST"])
    app.add_url_rule("/signout", "signout", signout, methods=["POST"])
    app.add_url_rule("/requests", "my_requests", my_requests)
    app.add_url_rule("/requests/new", "new_request", new_request, methods=["GET", "POST"])
    app.add_url_rule("/requests/<int:ticket_id>", "ticket", ticket_page)
    app.add_url_rule("/requests/<int:ticket_id>/created", "created", created)
    app.add_url_rule("/requests/<int:ticket_id>/reply", "reply", reply, methods=["POST"])
    app.add_url_rule(
        "/requests/<int:ticket_id>/messages/<int:message_id>/files/<int:index>",
        "attachment", attachment)


def _check_csrf() -> BaseResponse | None:
    expected = session.get("csrf")
    given = request.form.get("csrf_token", "")
    if isinstance(expected, str) and hmac.compare_digest(expected, given):
        return None
    page = render_template(
        "error.html", title="Form expired",
        message="This form has expired or did not come from this site. Go back, reload the "
                "page and send it again.")
    return Response(page, status=400)


# --- pages ---------------------------------------------------------------------------------------


def index() -> BaseResponse:
    return redirect(url_for("my_requests" if g.get("user") else "signin"))


def signin() -> BaseResponse | tuple[str, int] | str:
    if g.get("user") is not None and request.method == "GET":
        return redirect(url_for("my_requests"))
    target = request.values.get("next")
    if g.get("expired") and request.method == "GET":
        flash("Your session has ended. Please sign in again.", "info")
    if request.method == "GET":
        return render_template("signin.html", username="", errors={}, next=target)
    state = _state()
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = "Enter your user name."
    if not password:
        errors["password"] = "Enter your password."
    if errors:
        return render_template("signin.html", username=username, errors=errors,
                               next=target), 422
    user_key = "user:" + username.casefold()
    address_key = "address:" + (request.remote_addr or "?")
    wait = max(state.user_failures.retry_after(user_key),
               state.address_failures.retry_after(address_key))
    if wait:
        minutes = max(1, round(wait / 60))
        errors["form"] = (f"Too many failed sign-ins. Please wait {minutes} minute"
                          f"{'s' if minutes != 1 else ''} and try again.")
        page = render_template("signin.html", username=username, errors=errors, next=target)
        return Response(page, status=429, headers={"Retry-After": str(int(wait + 0.999))})
    try:
        user_id = verify_credentials(state.desk.client.base_url, username, password,
                                     verify=state.verify_tls, timeout=state.timeout)
    except SignInRefused as exc:
        if exc.counts:
            state.user_failures.fail(user_key)
            state.address_failures.fail(address_key)
        errors["form"] = str(exc)
        return render_template("signin.html", username=username, errors=errors,
                               next=target), 401 if exc.counts else 403
    except SignInUnavailable as exc:
        errors["form"] = str(exc)
        return render_template("signin.html", username=username, errors=errors,
                               next=target), 503
    state.user_failures.reset(user_key)
    person = state.desk.as_user(user_id).roles.actor
    session.clear()  # a new session: nothing from before signing in is kept (fixation)
    session["sid"] = state.sessions.start(user_id, person.name or person.email or username)
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True
    return redirect(_safe_next(target))


def signout() -> BaseResponse:
    sid = session.get("sid")
    if isinstance(sid, str):
        _state().sessions.end(sid)
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("signin"))


@signed_in
def my_requests() -> str:
    page = request.args.get("page", 1, type=int) or 1
    page = max(1, page)
    found = _desk().tickets.list(
        TicketFilter(requester=_user().user_id, include_archived=True), page=page,
        per_page=PER_PAGE)
    return render_template("requests.html", page=found)


def _own_ticket(ticket_id: int, with_messages: bool = True) -> Ticket:
    """The user's own ticket (as its requester), or 404."""
    ticket = _desk().tickets.get(str(ticket_id), with_messages=with_messages)
    if ticket.requester.id != _user().user_id:
        abort(404)  # an agent of the type may read it, but it is not their request
    return ticket


def _public(ticket: Ticket) -> list[Message]:
    return [m for m in ticket.messages or () if not m.private]


def _author(message: Message, ticket: Ticket) -> str:
    author = message.author
    if message.mail_status == "received" or (author is not None
                                             and author.id == _user().user_id):
        return "You"
    if author is None:
        return "Support"
    return author.name or "Support"


def _render_ticket(ticket: Ticket, errors: dict[str, str] | None = None,
                   text: str = "", status: int = 200) -> tuple[str, int]:
    messages = [{
        "id": m.id, "author": _author(m, ticket), "date": m.date, "text": html_to_text(m.html),
        "attachments": [(i, a.name or f"attachment {i + 1}")
                        for i, a in enumerate(m.attachments)],
    } for m in _public(ticket)]
    return render_template("ticket.html", ticket=ticket, messages=messages,
                           errors=errors or {}, text=text), status


@signed_in
def ticket_page(ticket_id: int) -> tuple[str, int]:
    return _render_ticket(_own_ticket(ticket_id))


@signed_in
def created(ticket_id: int) -> str:
    return render_template("created.html", ticket=_own_ticket(ticket_id, with_messages=False))


def _uploads(errors: dict[str, str]) -> list[tuple[str, bytes, str]]:
    files = []
    for item in request.files.getlist("attachments"):
        if item is None or not item.filename:
            continue  # a file input left empty still sends an empty part
        name = item.filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
        data = item.read()
        if not name:
            errors["attachments"] = "An attachment has no file name."
        elif not data:
            errors["attachments"] = f"The file {name} is empty."
        files.append((name, data, item.mimetype or "application/octet-stream"))
    if len(files) > MAX_FILES:
        errors["attachments"] = f"Attach at most {MAX_FILES} files at a time."
    return files


@signed_in
def reply(ticket_id: int) -> BaseResponse | tuple[str, int]:
    ticket = _own_ticket(ticket_id)
    text = request.form.get("message", "")
    errors: dict[str, str] = {}
    if not text.strip():
        errors["message"] = "Write your reply."
    files = _uploads(errors)
    if not errors:
        try:
            posted = _desk().messages.reply(ticket.id, text_to_html(text), attachments=files)
        except (InvalidMessage, InvalidTicket) as exc:
            errors["message"] = f"Your reply could not be sent: {exc}"
        else:
            flash("Your reply was sent.", "success")
            return redirect(url_for("ticket", ticket_id=ticket_id, _anchor=f"m{posted.id}"))
    return _render_ticket(ticket, errors, text, 422)


def _submittable(desk: SupportDesk) -> list[TicketType]:
    """The active types the user is a customer of (the settings' customer groups)."""
    return [t for t in desk.types.list() if desk.roles.is_customer(t)]


@signed_in
def new_request() -> BaseResponse | tuple[str, int]:
    desk = _desk()
    types = _submittable(desk)
    if request.method == "GET":
        return render_template("new.html", types=types, form={}, errors={}), 200
    form = {k: request.form.get(k, "") for k in ("type", "subject", "message")}
    errors: dict[str, str] = {}
    chosen = next((t for t in types if t.id == form["type"]), None)
    if chosen is None:
        errors["type"] = "Choose what your request is about."
    subject = form["subject"].strip()
    if not subject:
        errors["subject"] = "Enter a subject."
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = f"The subject may be at most {MAX_SUBJECT} characters long."
    if not form["message"].strip():
        errors["message"] = "Describe your request."
    files = _uploads(errors)
    if not errors and chosen is not None:
        try:
            ticket = desk.tickets.create(chosen, subject, text_to_html(form["message"]),
                                         _user().user_id, attachments=files)
        except InvalidMessage as exc:
            errors["message"] = f"Your request could not be sent: {exc}"
        except InvalidTicket as exc:
            errors["subject"] = f"Your request could not be sent: {exc}"
        except PermissionDenied:
            errors["type"] = "You may not open requests of this kind."
        else:
            return redirect(url_for("created", ticket_id=int(ticket.id)))
    return render_template("new.html", types=types, form=form, errors=errors), 422


@signed_in
def attachment(ticket_id: int, message_id: int, index: int) -> BaseResponse:
    ticket = _own_ticket(ticket_id)
    message = next((m for m in _public(ticket) if m.id == str(message_id)), None)
    if message is None or index >= len(message.attachments):
        abort(404)  # private notes are not in _public: their files are never served
    found = message.attachments[index]
    data = _state().desk.client.download_blob(found.blob_id)
    name = found.name or f"attachment-{index + 1}"
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    kind = "application/octet-stream" if guessed in ACTIVE_TYPES else guessed
    response = send_file(io.BytesIO(data), mimetype=kind, as_attachment=True,
                         download_name=name, etag=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
