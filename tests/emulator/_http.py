"""The one HTTP client of the emulator tests: bare JMAP arrays, Bearer tokens, auth.php, uploads.

Also the emulator's shared fixtures in plain form (``running``, ``frozen_clock``), the seeded
users' API keys and the error objects the tests compare against.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import requests

from go_support.emulator import Emulator, filters

ADMIN_PASSWORD = "admin-secret-1"
TIMEOUT = 30

# API keys of users a test seeds (any 45 characters will do)
WRITER_KEY = "w" * 45
READER_KEY = "r" * 45
OUTSIDER_KEY = "o" * 45
CREATOR_KEY = "c" * 45

# what Group-Office answers
DB_ERROR = {"message": "Database exception. Check server logs for details.", "type": "dbException"}
FORBIDDEN = {
    "type": "forbidden", "description": "Permission denied", "properties": None,
    "validationErrors": None,
}
NOT_FOUND = {
    "type": "notFound", "description": "Item not found", "properties": None,
    "validationErrors": None,
}

_names = itertools.count(1)


def unique(prefix: str) -> str:
    """``prefix`` and a number no other call of this process got."""
    return f"{prefix}{next(_names)}"


class Go:
    """A client of one emulator; its calls go as ``token`` (the admin's key unless given)."""

    def __init__(self, base_url: str, admin_key: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.admin_key = admin_key
        self.token = token or admin_key
        self.http = requests.Session()
        self.http.trust_env = False  # no proxies from the environment for loopback

    def as_user(self, token: str) -> Go:
        """The same server, as the user of ``token``."""
        return Go(self.base_url, self.admin_key, token)

    # -- jmap.php --------------------------------------------------------------------------------

    def post(self, *calls: list[Any], token: str | None = None) -> list[Any]:
        """One request of ``calls``; the answer's method responses."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        r = self.http.post(f"{self.base_url}/api/jmap.php", json=list(calls), headers=headers,
                           timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        result: list[Any] = r.json()
        return result

    def call(self, method: str, args: dict[str, Any], token: str | None = None) -> Any:
        """One call; returns its arguments (or the error object, name "error")."""
        name, result, _ = self.post([method, args, "c"], token=token)[0]
        assert name in (method, "error")
        return result

    def ok(self, method: str, args: dict[str, Any], token: str | None = None) -> Any:
        """One call that must succeed; returns its arguments."""
        [(name, result, _)] = self.post([method, args, "c"], token=token)
        assert name == method, result
        return result

    def error(self, method: str, args: dict[str, Any], token: str | None = None) -> Any:
        """One call that must fail; returns the error object."""
        [(name, result, _)] = self.post([method, args, "c"], token=token)
        assert name == "error", result
        return result

    # -- shortcuts -------------------------------------------------------------------------------

    def new_list(self, **values: Any) -> str:
        values.setdefault("name", unique("list "))
        res = self.ok("TaskList/set", {"create": {"l": values}})
        return str(res["created"]["l"]["id"])

    def new_task(self, tasklist_id: str, **values: Any) -> str:
        values.setdefault("title", unique("task "))
        res = self.ok("Task/set", {"create": {"t": {"tasklistId": tasklist_id, **values}}})
        assert res["created"] and res["notCreated"] is None, res
        return str(res["created"]["t"]["id"])

    def comment(self, task_id: str, text: str = "<p>hi</p>", **extra: Any) -> Any:
        values = {"entity": "Task", "entityId": task_id, "text": text, **extra}
        created = self.ok("Comment/set", {"create": {"m": values}})["created"]
        assert created and "m" in created, created
        return created["m"]

    def get(self, entity: str, id_: str, *props: str) -> Any:
        """One object; with ``props`` only those (and the id)."""
        args: dict[str, Any] = {"ids": [id_]}
        if props:
            args["properties"] = ["id", *props]
        [obj] = self.ok(f"{entity}/get", args)["list"]
        return obj

    def update(self, entity: str, id_: str, patch: dict[str, Any]) -> Any:
        return self.ok(f"{entity}/set", {"update": {id_: patch}})

    def state(self, entity: str) -> str:
        return str(self.ok(f"{entity}/get", {"ids": []})["state"])

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

    # -- the other endpoints ---------------------------------------------------------------------

    def auth(self, body: Any, content_type: str = "application/json",
             token: str | None = None) -> requests.Response:
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = body if isinstance(body, str | bytes) else None
        return self.http.post(
            f"{self.base_url}/api/auth.php", json=None if data is not None else body,
            data=data, headers=headers, timeout=TIMEOUT,
        )

    def session(self, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.get(f"{self.base_url}/api/jmap.php", headers=headers, timeout=TIMEOUT)

    def login(self, username: str, password: str) -> str:
        r = self.auth({"username": username, "password": password})
        assert r.status_code == 201, (r.status_code, r.reason)
        token: str = r.json()["accessToken"]
        return token

    def upload(self, data: bytes, name: str, content_type: str = "text/plain") -> str:
        """``api/upload.php``; the new blob's id."""
        r = self.http.post(
            f"{self.base_url}/api/upload.php", data=data, timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type,
                     "X-File-Name": f"UTF-8''{name}"},
        )
        assert r.status_code == 201, r.text
        blob_id: str = r.json()["id"]
        return blob_id


@contextmanager
def running(seed: dict[str, Any] | None = None) -> Iterator[Go]:
    """An emulator (seeded with ``seed``) on a free port, and the admin's client of it."""
    emu = Emulator(admin_password=ADMIN_PASSWORD)
    if seed is not None:
        emu.seed(seed)
    server = emu.start()
    try:
        yield Go(server.base_url, server.admin_api_key)
    finally:
        emu.stop()


@contextmanager
def clock_at(now: datetime) -> Iterator[list[datetime]]:
    """The emulator's clock stands at ``now[0]``; move it by changing that item."""
    clock = [now]
    filters.set_clock(lambda: clock[0])
    try:
        yield clock
    finally:
        filters.set_clock(None)
