"""A tiny HTTP client for the emulator tests: bare JMAP arrays, Bearer tokens, auth.php."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from go_support.emulator import Emulator

ADMIN_PASSWORD = "admin-secret-1"


class Go:
    def __init__(self, base_url: str, admin_key: str) -> None:
        self.base_url = base_url
        self.admin_key = admin_key
        self.http = requests.Session()

    def post(self, calls: list[Any], token: str | None = None) -> list[Any]:
        headers = {"Authorization": f"Bearer {token or self.admin_key}"}
        r = self.http.post(f"{self.base_url}/api/jmap.php", json=calls, headers=headers, timeout=10)
        assert r.status_code == 200, r.text
        result: list[Any] = r.json()
        return result

    def call(self, method: str, args: dict[str, Any], token: str | None = None) -> Any:
        """One call; returns its arguments (or the error object, name "error")."""
        name, result, _ = self.post([[method, args, "c"]], token)[0]
        assert name in (method, "error")
        return result

    def ok(self, method: str, args: dict[str, Any], token: str | None = None) -> Any:
        name, result, _ = self.post([[method, args, "c"]], token)[0]
        assert name == method, result
        return result

    def auth(self, body: Any, content_type: str = "application/json",
             token: str | None = None) -> requests.Response:
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = body if isinstance(body, str | bytes) else None
        return self.http.post(
            f"{self.base_url}/api/auth.php", json=None if data is not None else body,
            data=data, headers=headers, timeout=10,
        )

    def session(self, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.get(f"{self.base_url}/api/jmap.php", headers=headers, timeout=10)

    def login(self, username: str, password: str) -> str:
        r = self.auth({"username": username, "password": password})
        assert r.status_code == 201, (r.status_code, r.reason)
        token: str = r.json()["accessToken"]
        return token

    def create_user(self, username: str, password: str | None = "s3cret-pw") -> str:
        values: dict[str, Any] = {
            "username": username, "displayName": f"User {username}",
            "email": f"{username}@example.com",
        }
        if password:
            values["password"] = password
        created = self.ok("User/set", {"create": {"u": values}})["created"]
        assert created is not None, "user not created"
        return str(created["u"]["id"])


@contextmanager
def running() -> Iterator[Go]:
    emu = Emulator(admin_password=ADMIN_PASSWORD)
    server = emu.start()
    try:
        yield Go(server.base_url, server.admin_api_key)
    finally:
        emu.stop()
