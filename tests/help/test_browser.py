"""The help page in a real browser: Debian's Chromium, headless, driven by Playwright.

Playwright is pointed at the system Chromium (``/usr/bin/chromium``, from
scripts/system-packages.sh) and never downloads a browser. JavaScript is switched off in the
browser: every step works with forms and links alone. Screenshots of each step land in
``tmp/artifacts/help/`` under the repository (or ``$GO_SUPPORT_ARTIFACTS/help``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.help.conftest import PASSWORDS, Site

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("GO_SUPPORT_ARTIFACTS")
                 or Path(__file__).resolve().parents[2] / "tmp" / "artifacts") / "help"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/system-packages.sh "
                    "installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_requester_signs_in_opens_a_request_and_replies_without_javascript(
        chromium: Any, site: Site, tmp_path: Path) -> None:
    other = site.desk.tickets.create(site.types["Hardware"], "Bob's private matter",
                                     "<p>only for Bob</p>", site.users["bob"])
    context = chromium.new_context(java_script_enabled=False, locale="de-DE",
                                   viewport={"width": 1024, "height": 800})
    page = context.new_page()
    try:
        page.goto(site.url + "/requests")
        assert page.url.startswith(site.url + "/signin")

        page.get_by_label("User name").fill(site.username("ann"))
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").inner_text().count("not right") == 1
        _shot(page, "01-wrong-password")

        page.get_by_label("Password").fill(PASSWORDS["ann"])
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("heading", level=1).inner_text() == "My requests"
        _shot(page, "02-my-requests-empty")

        page.get_by_role("link", name="New request").first.click()
        page.get_by_label("What is it about?").select_option(label="Hardware")
        page.get_by_label("Subject").fill("Docking station <b>dead</b>")
        page.get_by_label("Message").fill("The dock stays dark.\n\nSince Monday.")
        attachment = tmp_path / "dock.txt"
        attachment.write_text("serial DS-42\n", encoding="utf-8")
        page.get_by_label("Attachments (optional)").set_input_files(str(attachment))
        _shot(page, "03-new-request-form")
        page.get_by_role("button", name="Send request").click()
        number = page.locator("strong.number").inner_text()
        assert re.fullmatch(r"#\d+", number)
        _shot(page, "04-request-received")

        page.get_by_role("link", name=re.compile(f"View request {number}")).click()
        assert "Docking station <b>dead</b>" in page.get_by_role("heading", level=1).inner_text()
        assert page.get_by_role("link", name="dock.txt").count() == 1
        opened = page.locator("time").first.inner_text()
        assert re.fullmatch(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d:\d\d", opened)  # German dates
        page.get_by_label("Your message").fill("Tried another cable: still dark.")
        page.get_by_role("button", name="Send reply").click()
        assert page.get_by_role("status").inner_text() == "Your reply was sent."
        assert page.get_by_text("Tried another cable: still dark.").count() == 1
        _shot(page, "05-replied")

        ticket = site.desk.tickets.get(number.lstrip("#"))
        assert [m.html for m in ticket.messages or ()] == [
            "<p>The dock stays dark.</p><p>Since Monday.</p>",
            "<p>Tried another cable: still dark.</p>"]
        assert [a.name for a in (ticket.messages or ())[0].attachments] == ["dock.txt"]

        response = page.goto(f"{site.url}/requests/{other.id}")
        assert response is not None and response.status == 404
        assert "Bob" not in page.content()
        _shot(page, "06-another-users-ticket-refused")

        page.set_viewport_size({"width": 375, "height": 700})
        page.goto(site.url + "/requests")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        _shot(page, "07-my-requests-on-a-phone")

        page.get_by_role("button", name="Sign out").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    finally:
        context.close()
    for name in ("01-wrong-password", "04-request-received", "06-another-users-ticket-refused"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 1000
