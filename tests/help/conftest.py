"""The help page over real HTTP: an emulator with the desk installed, the page served by
waitress on a free port, and people to sign in as.

``site`` builds, for one test: the ticket types "Hardware" and "Software" (customers may
submit to both) and "Internal" (no customer group), a customers group, an agents group,
users ``ann`` and ``bob`` (customers, passwords ``ann-pass-1`` and ``bob-pass-1``) and
``agent`` (agent of every type), and the page at ``site.url``. ``Browser`` is a requests
session that signs in through the form and keeps the CSRF token of the last page.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from go_support.desk import SupportDesk, TicketType
from go_support.help import HelpOptions, create_app
from go_support.help.server import serving as serve
from go_support.jmap import GroupOfficeClient
from go_support.settings import Settings, load_settings
from tests._support import Cleanup, destroyed_afterwards

PASSWORDS = {"ann": "ann-pass-1", "bob": "bob-pass-1", "agent": "agent-pass-1"}


def settings_for(tmp: Path, url: str, key: str, customers: str,
                 internal: str = "Internal") -> Settings:
    """go-support settings from a real TOML file: the customers group of every type except
    ``internal``, which has none."""
    config = tmp / "go-support.toml"
    config.write_text(
        f'[desk]\ncustomer_groups = ["{customers}"]\n\n'
        f'[types."{internal}"]\ncustomer_groups = []\n', encoding="utf-8")
    return load_settings(config, env={"GO_SUPPORT_URL": url, "GO_SUPPORT_API_KEY": key})


@dataclass
class Site:
    url: str
    go_url: str
    go_key: str
    admin: GroupOfficeClient
    desk: SupportDesk
    types: dict[str, TicketType]
    users: dict[str, str]
    groups: dict[str, str]
    tag: str
    prefix: str = ""
    app: Any = None

    def another_app(self, tmp: Path, options: HelpOptions, desk: SupportDesk | None = None
                    ) -> Any:
        """Another page on the same Group-Office and settings, with other options."""
        settings = settings_for(tmp, self.go_url, self.go_key, f"{self.tag} customers",
                                f"{self.prefix}Internal")
        return create_app(settings, options, desk=desk)

    def username(self, who: str) -> str:
        return f"{self.tag}-{who}"

    def browser(self) -> Browser:
        return Browser(self.url)

    def signed_in(self, who: str) -> Browser:
        browser = self.browser()
        answer = browser.sign_in(self.username(who), PASSWORDS[who])
        assert answer.status_code == 200 and "My requests" in answer.text, answer.text[:2000]
        return browser


@dataclass
class Browser:
    """A visitor of the page: cookies, and the CSRF token of the last page read."""

    base: str
    http: requests.Session = field(default_factory=requests.Session)
    token: str | None = None

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        answer = self.http.get(self.base + path, timeout=30, **kwargs)
        self._remember(answer)
        return answer

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> requests.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.token or "")
        answer = self.http.post(self.base + path, data=form, timeout=60, **kwargs)
        self._remember(answer)
        return answer

    def _remember(self, answer: requests.Response) -> None:
        found = re.search(r'name="csrf_token" value="([^"]+)"', answer.text)
        if found:
            self.token = found.group(1)

    def sign_in(self, username: str, password: str,
                headers: dict[str, str] | None = None) -> requests.Response:
        self.get("/signin")
        return self.post("/signin", {"username": username, "password": password},
                         headers=headers)


def make_user(admin: GroupOfficeClient, cleanup: Cleanup, tag: str, name: str,
              groups: list[str], password: str) -> str:
    user_id = admin.users.create({
        "username": f"{tag}-{name}", "displayName": f"{name.title()} Tester",
        "email": f"{name}.{tag}@example.com", "password": password,
        "groups": [2, 3, *[int(g) for g in groups]],
    })
    return cleanup("User", str(user_id))


def build_site(url: str, key: str, tmp: Path, cleanup: Cleanup, tag: str,
               prefix: str = "") -> Site:
    """Groups, users and types for ``site``; type names start with ``prefix`` (on a shared
    Group-Office, the test's tag)."""
    admin = GroupOfficeClient(url, api_key=key)
    groups = {name: cleanup("Group", admin.groups.create({"name": f"{tag} {name}"}))
              for name in ("customers", "agents")}
    users = {
        "ann": make_user(admin, cleanup, tag, "ann", [groups["customers"]], PASSWORDS["ann"]),
        "bob": make_user(admin, cleanup, tag, "bob", [groups["customers"]], PASSWORDS["bob"]),
        "agent": make_user(admin, cleanup, tag, "agent", [groups["agents"]],
                           PASSWORDS["agent"]),
    }
    settings = settings_for(tmp, url, key, f"{tag} customers", f"{prefix}Internal")
    desk = SupportDesk(GroupOfficeClient(url, api_key=key), settings)
    types = {}
    for name in ("Hardware", "Software", "Internal"):
        made = desk.types.create(prefix + name, agents=[groups["agents"]])
        cleanup("TaskList", made.id)
        types[name] = made
    return Site("", url, key, admin, desk, types, users, groups, tag, prefix)


@pytest.fixture
def tag() -> str:
    return f"gs-help-emu-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def go_server() -> Iterator[tuple[str, str]]:
    from tests._support import emulator_server
    from tests.desk.conftest import install_layout

    with emulator_server(install_layout) as server:
        yield server


@pytest.fixture
def options() -> HelpOptions:
    return HelpOptions(secret_key="test-secret-key-0123456789")


@contextlib.contextmanager
def site_on(url: str, key: str, tmp: Path, tag: str, options: HelpOptions,
            prefix: str = "") -> Iterator[Site]:
    """:func:`build_site` on a Group-Office, the page served; everything made is destroyed
    afterwards."""
    admin = GroupOfficeClient(url, api_key=key)
    try:
        with destroyed_afterwards(admin) as cleanup:
            built = build_site(url, key, tmp, cleanup, tag, prefix)
            try:
                built.app = built.another_app(tmp, options)
                with serve(built.app) as base:
                    built.url = base
                    yield built
            finally:
                built.admin.close()
                built.desk.client.close()
    finally:
        admin.close()


@pytest.fixture
def site(go_server: tuple[str, str], tmp_path: Path, tag: str,
         options: HelpOptions) -> Iterator[Site]:
    url, key = go_server
    with site_on(url, key, tmp_path, tag, options) as built:
        yield built
