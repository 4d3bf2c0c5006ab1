"""Group-Office's own web client in headless Chromium, on a ticket made through the desk.

Agents read tickets in Group-Office's web client, so what it shows of the desk's messages is
checked (``tests/webclient``) and photographed (``tools/webclient_screenshots.py``) with the
same code: :func:`sample_ticket` prepares a throw-away ticket type, an agent who can sign in,
and a ticket with a requester's message, a reply waiting to be mailed and a private note;
:class:`WebClient` signs in and opens it.

Playwright for Python drives Debian's Chromium (``/usr/bin/chromium``); no browser is
downloaded (``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from go_support.desk import DeskConfig, Person, SupportDesk, Ticket
from go_support.jmap import GroupOfficeClient

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
EVERYONE, INTERNAL = 2, 3  # Group-Office's built-in groups

REQUESTER = Person(None, "ann.example@example.com", "Ann Example")
REQUEST = ("<p>Since this morning my laptop does not connect to the office Wi-Fi. "
           "Other devices work fine.</p><p>Could you have a look?</p>")
REPLY = ("<p>Hello Ann,</p><p>please forget the network \"Office\" on your laptop and "
         "connect again. Does that help?</p>")
NOTE = "<p>Third laptop this week: check the access point on floor 2.</p>"


@dataclass
class SampleTicket:
    """What :func:`sample_ticket` made: the ticket as the desk read it back, and the agent
    (``username``/``password`` sign in to the web client)."""

    ticket: Ticket
    type_name: str
    agent_id: str
    agent_name: str
    username: str
    password: str = field(repr=False)


@contextlib.contextmanager
def sample_ticket(client: GroupOfficeClient, *, tag: str | None = None,
                  type_name: str | None = None, keep: bool = False) -> Iterator[SampleTicket]:
    """A ticket type, a group of agents, an agent with a password, and a ticket with the
    three kinds of message; all of it destroyed afterwards unless ``keep``.

    ``client`` must be an admin's. The requester's message is written with the admin key (as
    mail intake does), the reply and the note by the agent (:meth:`SupportDesk.as_user`).
    """
    tag = tag or f"gs-web-{uuid.uuid4().hex[:6]}"
    created: list[tuple[str, str]] = []
    try:
        group = client.groups.create({"name": f"{tag} agents"})
        created.append(("Group", group))
        password = secrets.token_urlsafe(18)
        username = f"{tag}-agent"
        agent_name = "Alex Agent"
        agent = client.users.create({
            "username": username, "displayName": agent_name, "password": password,
            "email": f"{username}@example.com", "groups": [EVERYONE, INTERNAL, int(group)],
        })
        created.append(("User", agent))
        key = client.keys.set(create={"k": {"name": f"{tag}-agent", "userId": agent}})
        created.append(("Key", str(key.created["k"]["id"])))
        agent_token = str(key.created["k"]["accessToken"])
        desk = SupportDesk(client, DeskConfig())
        name = type_name or f"IT support {tag[-6:]}"
        ticket_type = desk.types.create(name, "Laptops, network, accounts", agents=[group])
        created.append(("TaskList", ticket_type.id))
        first = desk.tickets.create(ticket_type, "Laptop does not connect to the Wi-Fi",
                                    REQUEST, REQUESTER)
        # on the agent's own key: Group-Office records a comment's creator from the key
        with GroupOfficeClient(client.base_url, api_key=agent_token) as own:
            as_agent = SupportDesk(own, DeskConfig())
            as_agent.messages.reply(first.id, REPLY)
            as_agent.messages.note(first.id, NOTE)
        ticket = desk.tickets.get(first.id, with_messages=True)
        yield SampleTicket(ticket, name, str(agent), agent_name, username, password)
    finally:
        if not keep:
            for entity, object_id in reversed(created):
                with contextlib.suppress(Exception):  # clean up what can be, report the rest
                    client.entity(entity).destroy([object_id])


class WebClient:
    """One signed-in session of Group-Office's web client (a Playwright page)."""

    def __init__(self, browser: Any, url: str, *, width: int = 1280, height: int = 800) -> None:
        self.base = url.rstrip("/") + "/"
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           locale="en-US")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def close(self) -> None:
        self.context.close()

    def _hide_message_box(self) -> None:
        """Close a first-login box without running its callback (nothing is saved)."""
        self.page.evaluate("() => { if (window.Ext && Ext.MessageBox && "
                           "Ext.MessageBox.isVisible()) Ext.MessageBox.hide(); }")

    def sign_in(self, username: str, password: str) -> None:
        page = self.page
        page.goto(self.base, wait_until="networkidle")
        page.wait_for_selector("input[name=username]", state="visible", timeout=30000)
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_function("() => window.go && go.User && go.User.id", timeout=30000)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)
        self._hide_message_box()

    def settle(self, ms: int = 1500) -> None:
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(ms)
        self._hide_message_box()

    def subscribe(self, list_id: str) -> None:
        """Show a ticket type's list in the user's Tasks module, as "Lists ⋮ → Subscribe to
        task list…" does (a setting of this user only)."""
        self.page.evaluate("(id) => go.Db.store('TaskList').save({isSubscribed: true}, id)",
                           list_id)
        self.settle(500)

    def open_list(self, list_name: str) -> None:
        """The Tasks module on one list, every task of it ("All")."""
        page = self.page
        page.goto(self.base + "#tasks", wait_until="networkidle")
        self.settle()
        page.locator('text="All" >> visible=true').first.click(timeout=10000)
        self.settle(500)
        page.locator(f'.x-grid3-cell-inner:text-is("{list_name}") >> visible=true').first.click(
            timeout=10000)
        self.settle()

    def open_ticket(self, subject: str) -> None:
        """Click the ticket's row in the task grid: its detail opens on the right."""
        self.page.locator(f'.x-grid3-row:has-text("{subject}") >> visible=true').first.click(
            timeout=10000)
        self.page.wait_for_selector(".comment-comment", timeout=30000)
        self.settle()

    def comments(self) -> list[dict[str, Any]]:
        """The conversation as the web client shows it, oldest first: each comment's text,
        its attribution line (``from``), mail status icon, label icons and who Group-Office
        says wrote it (``title``)."""
        found: list[dict[str, Any]] = self.page.evaluate("""() =>
            [...document.querySelectorAll('.comment-comment')].filter(e => e.offsetParent)
            .map(e => ({
                text: e.innerText,
                from: (e.querySelector('.go-support-from') || {}).innerText || null,
                mail: (e.querySelector('.comment-mail-status') || {}).title || null,
                labels: [...e.querySelectorAll('i.icon[title]')]
                    .filter(i => !i.classList.contains('comment-mail-status'))
                    .map(i => i.title),
                title: e.title,
            }))""")
        return found

    def comment_row(self, text: str) -> Any:
        """The row (avatar and bubble) of the comment that contains ``text``."""
        bubble = self.page.locator(".comment-comment", has_text=text).first
        return bubble.locator("xpath=..")

    def open_label_menu(self, note: str) -> Any:
        """Type ``note`` in the comment editor and open its "Add labels" menu; returns the
        menu's "Private" item."""
        page = self.page
        editor = page.locator(".goui-html-field [contenteditable]").first
        editor.scroll_into_view_if_needed()
        editor.click()
        editor.type(note)
        page.locator('button[title="Add labels"] >> visible=true').first.click()
        item = page.locator('.goui-dropdown >> text="Private"').first
        item.wait_for(timeout=10000)
        self.page.wait_for_timeout(500)
        return item
