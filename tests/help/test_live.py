"""Signing in through Group-Office's own ``api/auth.php``: on the emulator and, with
``GO_SUPPORT_TEST_URL``/``GO_SUPPORT_TEST_TOKEN``, on a real Group-Office (``[live]``), where
throw-away users, groups and types are created through the API and destroyed afterwards."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from go_support.help import HelpOptions
from tests.desk import conftest as desk_fixtures
from tests.help.conftest import PASSWORDS, Site, site_on

# The desk tests' Group-Office: the emulator, and the real one when the variables are set.
go_server = desk_fixtures.go_server
on_emulator = desk_fixtures.on_emulator

pytestmark = pytest.mark.live


@pytest.fixture
def any_site(go_server: tuple[str, str], on_emulator: bool, tmp_path: Path) -> Iterator[Site]:
    """The help page on the emulator, or on the real Group-Office (types named with the tag
    there, so that they never meet the installation's own)."""
    url, key = go_server
    tag = f"gs-help-{uuid.uuid4().hex[:8]}"
    options = HelpOptions(secret_key="live-test-secret-0123456789")
    with site_on(url, key, tmp_path, tag, options,
                 prefix="" if on_emulator else f"{tag} ") as built:
        yield built


def test_sign_in_through_auth_php_then_work_and_sign_out(any_site: Site) -> None:
    site = any_site
    browser = site.browser()
    wrong = browser.sign_in(site.username("ann"), "not-" + PASSWORDS["ann"])
    assert wrong.status_code == 401 and "The user name or password is not right." in wrong.text
    unknown = browser.sign_in(f"{site.tag}-nobody", PASSWORDS["ann"])
    assert unknown.status_code == 401 and "The user name or password is not right." in unknown.text
    signed = browser.sign_in(site.username("ann"), PASSWORDS["ann"])
    assert signed.status_code == 200 and "<h1>My requests</h1>" in signed.text
    assert "Ann Tester" in signed.text
    created = browser.post("/requests/new", {"type": site.types["Hardware"].id,
                                             "subject": "Live printer", "message": "Jams."},
                           files={"attachments": ("jam.txt", b"paper jam", "text/plain")})
    number = re.search(r'<strong class="number">#(\d+)</strong>', created.text)
    assert number is not None, created.text[-1500:]
    ticket = site.desk.tickets.get(number.group(1))
    assert ticket.requester.id == site.users["ann"]
    first = (ticket.messages or ())[0]
    download = browser.get(f"/requests/{ticket.id}/messages/{first.id}/files/0")
    assert download.content == b"paper jam"
    assert f'<td data-label="Number">#{ticket.id}</td>' in browser.get("/requests").text
    assert site.browser().sign_in(site.username("bob"), PASSWORDS["bob"]).status_code == 200
    bob = site.signed_in("bob")
    assert bob.get(f"/requests/{ticket.id}").status_code == 404
    browser.post("/signout")
    assert browser.get("/requests", allow_redirects=False).status_code == 302
