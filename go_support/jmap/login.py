"""Who the client is: an API key, or a password login renewed once when refused; and the
session Group-Office gives that user (fetched lazily, or deferred, see
:meth:`Authenticated.defer_session`).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from go_support import __version__
from go_support.jmap.connection import Connection, json_or_none
from go_support.jmap.errors import (
    AuthenticationError,
    JMAPError,
    SecondFactorRequired,
)
from go_support.jmap.session import Limits, Session
from go_support.jmap.transport import HttpResponse, RequestsTransport

__all__ = ["Authenticated"]

log = logging.getLogger("go_support.jmap")


class Authenticated(Connection):
    """A :class:`Connection` that logs in, logs out and knows its session."""

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "User-Agent": f"go-support/{__version__}",
            "Authorization": f"Bearer {self._token()}",
        }
        headers.update(extra or {})
        return headers

    def _token(self) -> str:
        if self._api_key:
            return self._api_key
        with self._lock:
            if self._access_token is None:
                self._login()
            assert self._access_token is not None
            return self._access_token

    def _can_relogin(self) -> bool:
        return self._api_key is None and self._access_token is not None

    def _relogin(self) -> None:
        with self._lock:
            log.info("the login token was refused; logging in again as %r", self._username)
            self._access_token = None
            self._login()

    def _login(self) -> None:
        """``POST <base>/api/auth.php`` with the username and password."""
        url = f"{self.base_url}/api/auth.php"
        body = json.dumps({"username": self._username, "password": self._password}).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "User-Agent": f"go-support/{__version__}",
        }

        def attempt() -> HttpResponse:
            resp = self._send("POST", url, headers=headers, body=body)
            if resp.status >= 500 or resp.status == 429:
                raise self._status_error("POST", url, resp, hint="the login failed on the server")
            return resp

        resp = self._retry(attempt, what=f"login at {url}")
        data = json_or_none(resp.content)
        obj: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        who = f"user {self._username!r}"
        if resp.status == 201 and isinstance(obj.get("accessToken"), str):
            self._access_token = obj["accessToken"]
            with contextlib.suppress(ValueError):
                self._session = self._adopt(Session.from_json(obj))
            return
        if resp.status == 200 and "loginToken" in obj:
            raw = obj.get("authenticators")
            methods = [str(a) for a in raw] if isinstance(raw, list) else []
            raise SecondFactorRequired(
                f"Group-Office asks {who} for a second factor ({', '.join(methods) or '?'}); "
                "go-support cannot answer one. Create an API key for this user (System "
                "settings > API keys, or Key/set) and pass api_key= instead",
                authenticators=methods,
            )
        if resp.status == 401:
            raise AuthenticationError(
                f"Group-Office refused the login of {who} at {url}: bad username or password"
            )
        if resp.status == 403:
            raise AuthenticationError(
                f"Group-Office refused the login of {who} at {url}: {resp.reason} (the "
                "account may be disabled, or logins from this IP address not allowed)"
            )
        if data is None or not isinstance(data, Mapping):
            raise self._protocol_error("POST", url, resp)
        raise self._status_error("POST", url, resp, hint="the login did not succeed")

    def logout(self) -> None:
        """Delete the login token on the server (nothing to do for an API key)."""
        with self._guard(), self._lock:
            if self._api_key or self._access_token is None:
                return
            url = f"{self.base_url}/api/auth.php"
            try:
                self._send(
                    "POST", url,
                    headers=self._headers({"Content-Type": "application/json"}),
                    body=b'{"action":"logout"}',
                )
            finally:
                self._access_token = None
                self._session = None

    def close(self) -> None:
        """Log out a password login (best effort) and close the default transport."""
        with contextlib.suppress(JMAPError):
            self.logout()
        if self._owns_transport and isinstance(self._transport, RequestsTransport):
            self._transport.close()

    # --- session ------------------------------------------------------------------------

    def _fetch_session(self) -> Session:
        url = f"{self.base_url}/api/jmap.php"

        def attempt() -> HttpResponse:
            resp = self._send("GET", url, headers=self._headers())
            if resp.status >= 500 or resp.status == 429:
                raise self._status_error("GET", url, resp)
            return resp

        resp = self._retry(attempt, what=f"session GET {url}")
        if resp.status == 401 and self._can_relogin():
            self._relogin()
            if self._session is not None:
                return self._session
            resp = self._retry(attempt, what=f"session GET {url}")
        if resp.status == 401:
            how = "API key" if self._api_key else f"login token of {self._username!r}"
            raise AuthenticationError(
                f"Group-Office at {self.base_url} refused the {how} (HTTP 401 on GET {url}). "
                "Check that the key exists and belongs to an enabled user"
            )
        if resp.status != 200:
            hint = (
                "Is base_url the Group-Office root (the folder that contains api/)?"
                if resp.status == 404 else ""
            )
            raise self._status_error("GET", url, resp, hint=hint)
        data = json_or_none(resp.content)
        if not isinstance(data, Mapping):
            raise self._protocol_error("GET", url, resp)
        try:
            session = Session.from_json(data)
        except ValueError as exc:
            raise self._protocol_error(
                "GET", url, resp, detail=f"a JSON object, but {exc}"
            ) from exc
        return self._adopt(session)

    @property
    def session(self) -> Session:
        """The session, fetched on first use and cached."""
        with self._guard(), self._lock:
            if self._session is None:
                token = self._token()  # a password login also delivers the session
                if self._session is None and token:
                    self._session = self._fetch_session()
            assert self._session is not None
            return self._session

    def refresh_session(self) -> Session:
        """Fetch the session again (after module rights or limits changed)."""
        with self._guard(), self._lock:
            self._session = self._fetch_session()
            return self._session

    def defer_session(self, defer: bool = True) -> None:
        """Send API calls without fetching the session first, until something needs it.

        Until the session is loaded (by :attr:`session`, :attr:`user_id`, a blob upload or
        download, or a password login, which delivers it), :meth:`execute` posts to
        ``<base>/api/jmap.php`` and :attr:`limits` are Group-Office's defaults
        (``maxCallInRequest`` 10, ``maxObjectsInGet`` 100, ``maxObjectsInSet`` 1000). If
        that address answers HTTP 404 (nothing was executed), the session is fetched and
        the request is sent to the ``apiUrl`` it advertises.
        """
        with self._lock:
            self._defer_session = defer

    @property
    def limits(self) -> Limits:
        """The session's request limits (Group-Office's defaults while the session is
        deferred and not loaded yet, see :meth:`defer_session`)."""
        if self._defer_session and self._session is None:
            return Limits()
        return self.session.limits

    @property
    def user_id(self) -> str:
        """The id of the authenticated user."""
        return self.session.user_id

