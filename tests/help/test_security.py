"""What the help page refuses: other people's tickets and files, private notes, forged forms,
password guessing; and how its cookies and downloads are sent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from go_support.desk import DeskConfig, SupportDesk, Ticket, TicketFilter
from go_support.emulator import Emulator
from go_support.help import HelpOptions, create_app
from go_support.jmap import GroupOfficeClient
from tests.help.conftest import Browser, Site, serve

NOT_YOURS = "There is no such request, or it is not yours."


def _ann_ticket_with_files(site: Site) -> tuple[Ticket, str, str]:
    """Ann's ticket with an attachment on her message and a private note with a file:
    ``(ticket, id of her message, id of the note)``."""
    desk = site.desk
    ticket = desk.tickets.create(site.types["Hardware"], "Ann's secret laptop",
                                 "<p>serial 12345</p>", site.users["ann"],
                                 attachments=[("invoice.pdf", b"%PDF-ann", "application/pdf")])
    note = desk.messages.note(ticket, "<p>private remark</p>",
                              attachments=[("note.txt", b"internal-bytes", "text/plain")])
    first = (desk.tickets.get(ticket.id).messages or ())[0]
    return ticket, first.id, note.id


def test_guessing_ticket_ids_shows_nothing_of_other_tickets(site: Site) -> None:
    ticket, _, _ = _ann_ticket_with_files(site)
    bob = site.signed_in("bob")
    own = site.desk.tickets.create(site.types["Hardware"], "Bob's", "<p>b</p>",
                                   site.users["bob"])
    for guess in range(1, int(own.id) + 5):
        answer = bob.get(f"/requests/{guess}")
        if str(guess) == own.id:
            assert answer.status_code == 200
            continue
        assert answer.status_code == 404, guess
        assert NOT_YOURS in answer.text or "no such page" in answer.text
        assert "secret laptop" not in answer.text and "serial" not in answer.text
    for path in (f"/requests/{ticket.id}/created", f"/requests/-{ticket.id}",
                 f"/requests/{ticket.id}x", "/requests/99999999999999999999"):
        answer = bob.get(path)
        assert answer.status_code == 404, path
        assert "secret laptop" not in answer.text
    # no answer on another's ticket either, and nothing was written
    bob.get(f"/requests/{own.id}")
    answer = bob.post(f"/requests/{ticket.id}/reply", {"message": "let me in"})
    assert answer.status_code == 404
    assert len(site.desk.tickets.get(ticket.id).messages or ()) == 2


def test_another_users_attachment_is_refused(site: Site) -> None:
    ticket, first, _ = _ann_ticket_with_files(site)
    ann = site.signed_in("ann")
    assert ann.get(f"/requests/{ticket.id}/messages/{first}/files/0").content == b"%PDF-ann"
    bob = site.signed_in("bob")
    own = site.desk.tickets.create(site.types["Hardware"], "Bob's", "<p>b</p>",
                                   site.users["bob"])
    for path in (f"/requests/{ticket.id}/messages/{first}/files/0",
                 f"/requests/{own.id}/messages/{first}/files/0",  # his ticket, her message
                 f"/requests/{ticket.id}/messages/{first}/files/1"):
        answer = bob.get(path)
        assert answer.status_code == 404, path
        assert b"%PDF-ann" not in answer.content


def test_a_private_note_and_its_file_stay_hidden_even_by_id(site: Site) -> None:
    ticket, _, note = _ann_ticket_with_files(site)
    ann = site.signed_in("ann")
    page = ann.get(f"/requests/{ticket.id}")
    assert "private remark" not in page.text and "note.txt" not in page.text
    assert f'id="m{note}"' not in page.text
    for path in (f"/requests/{ticket.id}/messages/{note}/files/0",
                 f"/requests/{ticket.id}/messages/{note}/files/1"):
        answer = ann.get(path)
        assert answer.status_code == 404
        assert b"internal-bytes" not in answer.content
    # a note's id is no ticket id either (whatever task may carry that number)
    answer = ann.get(f"/requests/{note}")
    assert "private remark" not in answer.text


def test_script_in_a_message_or_subject_is_shown_as_text(site: Site) -> None:
    ann = site.signed_in("ann")
    ann.get("/requests/new")
    answer = ann.post("/requests/new", {
        "type": site.types["Hardware"].id, "subject": "<script>alert('s')</script>",
        "message": "<script>alert(1)</script> <img src=x onerror=alert(2)>"})
    assert answer.status_code == 200
    number = re.search(r'<strong class="number">#(\d+)</strong>', answer.text)
    assert number is not None
    page = ann.get(f"/requests/{number.group(1)}")
    assert "<script" not in page.text and "<img" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=alert(2)&gt;" in page.text
    assert "&lt;script&gt;alert(&#39;s&#39;)&lt;/script&gt;" in page.text
    listed = ann.get("/requests")
    assert "<script" not in listed.text
    # an agent's HTML answer is shown as text, never rendered
    site.desk.messages.reply(number.group(1),
                             '<p>Click <a href="javascript:alert(3)">here</a> <b>now</b></p>')
    page = ann.get(f"/requests/{number.group(1)}")
    assert "javascript:" not in page.text and "<b>now" not in page.text
    assert "Click here now" in page.text


def test_forms_without_the_csrf_token_are_refused(site: Site) -> None:
    ticket = site.desk.tickets.create(site.types["Hardware"], "CSRF", "<p>x</p>",
                                      site.users["ann"])
    ann = site.signed_in("ann")
    ann.get(f"/requests/{ticket.id}")
    for token in (None, "", "forged-token"):
        data = {"message": "forged"}
        if token is not None:
            data["csrf_token"] = token
        answer = ann.post(f"/requests/{ticket.id}/reply", data, csrf=False)
        assert answer.status_code == 400
        assert "Form expired" in answer.text
        answer = ann.post("/requests/new", {"type": site.types["Hardware"].id,
                                            "subject": "x", "message": "y", **(
                                                {"csrf_token": token} if token is not None
                                                else {})}, csrf=False)
        assert answer.status_code == 400
        assert ann.post("/signout", {} if token is None else {"csrf_token": token},
                        csrf=False).status_code == 400
    assert len(site.desk.tickets.get(ticket.id).messages or ()) == 1
    assert site.desk.tickets.list(TicketFilter(requester=site.users["ann"])).total == 1
    assert ann.get("/requests").status_code == 200  # still signed in
    # another visitor's token does not fit this session
    other = site.signed_in("bob")
    other.get("/requests")
    answer = ann.post(f"/requests/{ticket.id}/reply",
                      {"message": "x", "csrf_token": other.token}, csrf=False)
    assert answer.status_code == 400
    # sign-in itself needs the token of the sign-in page
    fresh = site.browser()
    answer = fresh.post("/signin", {"username": site.username("ann"),
                                    "password": "ann-pass-1"}, csrf=False)
    assert answer.status_code == 400


def test_session_cookie_is_signed_httponly_samesite_and_secure_behind_tls(
        site: Site, tmp_path: Path) -> None:
    browser = site.browser()
    answer = browser.get("/signin")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    # a tampered cookie is no session
    signed = site.signed_in("ann")
    value = signed.http.cookies["go_support_help"]
    signed.http.cookies.clear()
    signed.http.cookies.set("go_support_help", value[:-2] + ("AA" if value[-2:] != "AA"
                                                             else "BB"))
    assert signed.get("/requests", allow_redirects=False).status_code == 302
    # behind a TLS proxy (trusted to say so), the cookie is Secure
    app = site.another_app(tmp_path, HelpOptions(trusted_proxies=1))
    with serve(app) as base:
        behind = Browser(base)
        answer = behind.get("/signin", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in answer.headers["Set-Cookie"]


def test_sign_out_ends_the_session_on_the_server(site: Site) -> None:
    ann = site.signed_in("ann")
    stolen = dict(ann.http.cookies)
    assert ann.post("/signout").status_code == 200
    assert ann.get("/requests", allow_redirects=False).status_code == 302
    replay = Browser(site.url)
    for name, value in stolen.items():
        replay.http.cookies.set(name, value)
    answer = replay.get("/requests", allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/signin")


def test_sessions_expire_when_idle_and_when_old(site: Site) -> None:
    sessions = site.app.extensions["go_support_help"].sessions
    now = [1000.0]
    sessions.clock = lambda: now[0]
    ann = site.signed_in("ann")
    now[0] += sessions.idle - 5
    assert ann.get("/requests").status_code == 200
    now[0] += sessions.idle + 1
    answer = ann.get("/requests")
    assert answer.url.startswith(site.url + "/signin")
    assert "Your session has ended. Please sign in again." in answer.text
    ann = site.signed_in("ann")
    for _ in range(int(sessions.max_age // (sessions.idle - 1)) + 1):
        now[0] += sessions.idle - 1
        ann.get("/requests")
    assert ann.get("/requests").url.startswith(site.url + "/signin")


@pytest.fixture
def limited(site: Site, tmp_path: Path) -> Iterator[str]:
    """The page with 3 failures allowed per user and 5 per address; addresses taken from
    ``X-Forwarded-For`` (one trusted proxy)."""
    app = site.another_app(tmp_path, HelpOptions(user_failures=3, address_failures=5,
                                           trusted_proxies=1))
    with serve(app) as base:
        yield base


def _sign_in(base: str, username: str, password: str, address: str) -> Browser:
    browser = Browser(base)
    browser.get("/signin")
    browser.last = browser.post(  # type: ignore[attr-defined]
        "/signin", {"username": username, "password": password},
        headers={"X-Forwarded-For": address})
    return browser


def test_failed_sign_ins_are_limited_per_user(site: Site, limited: str) -> None:
    ann = site.username("ann")
    for _ in range(3):
        answer = _sign_in(limited, ann, "wrong", "10.0.0.1").last  # type: ignore[attr-defined]
        assert answer.status_code == 401
        assert "The user name or password is not right." in answer.text
    for address in ("10.0.0.1", "10.0.0.2"):  # the right password, from anywhere: still no
        answer = _sign_in(limited, ann, "ann-pass-1", address).last  # type: ignore[attr-defined]
        assert answer.status_code == 429
        assert "Too many failed sign-ins" in answer.text
        assert int(answer.headers["Retry-After"]) > 0
    # the same name in other letter case is the same user
    assert _sign_in(limited, ann.upper(), "ann-pass-1",
                    "10.0.0.3").last.status_code == 429  # type: ignore[attr-defined]
    # Bob is not affected
    assert _sign_in(limited, site.username("bob"), "bob-pass-1",
                    "10.0.0.1").last.status_code == 200  # type: ignore[attr-defined]


def test_failed_sign_ins_are_limited_per_address(site: Site, limited: str) -> None:
    for n in range(5):
        answer = _sign_in(limited, f"nobody-{n}", "wrong",
                          "10.9.9.9").last  # type: ignore[attr-defined]
        assert answer.status_code == 401
    blocked = _sign_in(limited, site.username("bob"), "bob-pass-1",
                       "10.9.9.9").last  # type: ignore[attr-defined]
    assert blocked.status_code == 429
    fine = _sign_in(limited, site.username("bob"), "bob-pass-1",
                    "10.9.9.10").last  # type: ignore[attr-defined]
    assert fine.status_code == 200 and "My requests" in fine.text


def test_a_forwarded_address_is_ignored_without_a_trusted_proxy(site: Site,
                                                                tmp_path: Path) -> None:
    app = site.another_app(tmp_path, HelpOptions(address_failures=2))
    with serve(app) as base:
        for n in range(2):
            _sign_in(base, f"nobody-{n}", "wrong", f"10.1.1.{n}")
        answer = _sign_in(base, site.username("bob"), "bob-pass-1",
                          "10.1.1.99").last  # type: ignore[attr-defined]
        assert answer.status_code == 429


def test_downloads_are_attachments_never_rendered(site: Site) -> None:
    ticket = site.desk.tickets.create(
        site.types["Hardware"], "Files", "<p>x</p>", site.users["ann"],
        attachments=[("page.html", b"<script>alert(1)</script>", "text/html"),
                     ("Überweisung März.txt", b"plain", "text/plain")])
    first = (site.desk.tickets.get(ticket.id).messages or ())[0]
    ann = site.signed_in("ann")
    html_file = ann.get(f"/requests/{ticket.id}/messages/{first.id}/files/0")
    assert html_file.status_code == 200
    assert html_file.content == b"<script>alert(1)</script>"
    assert html_file.headers["Content-Type"] == "application/octet-stream"
    assert html_file.headers["Content-Disposition"].startswith("attachment;")
    assert "page.html" in html_file.headers["Content-Disposition"]
    assert html_file.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in html_file.headers["Cache-Control"]
    assert "sandbox" in html_file.headers["Content-Security-Policy"]
    text_file = ann.get(f"/requests/{ticket.id}/messages/{first.id}/files/1")
    assert text_file.headers["Content-Type"].startswith("text/plain")
    assert ("filename*=UTF-8''%C3%9Cberweisung%20M%C3%A4rz.txt"
            in text_file.headers["Content-Disposition"])


def test_every_page_carries_the_security_headers(site: Site) -> None:
    ann = site.signed_in("ann")
    for path in ("/signin", "/requests", "/requests/new", "/requests/424242"):
        answer = ann.get(path)
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "script-src" not in answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Cache-Control"] == "no-store"


def test_a_second_factor_gets_a_clear_message() -> None:
    """Group-Office answers 200 with a login token for an account with 2FA (protocol §2.4):
    the page says it cannot ask for the second factor, and counts no failure."""
    from go_support.migrations import install

    emu = Emulator()
    emu.seed({"users": [{"id": 90, "username": "otp-user", "displayName": "Otto",
                         "email": "otto@example.com", "password": "otp-pass-1",
                         "otp": True}]})
    server = emu.start()
    try:
        with GroupOfficeClient(server.base_url, api_key=server.admin_api_key) as admin:
            install(admin)
            desk = SupportDesk(GroupOfficeClient(server.base_url,
                                                 api_key=server.admin_api_key), DeskConfig())
            app = create_app(None, HelpOptions(user_failures=1), desk=desk)
            with serve(app) as base:
                for _ in range(2):
                    answer = _sign_in(base, "otp-user", "otp-pass-1",
                                      "").last  # type: ignore[attr-defined]
                    assert answer.status_code == 403
                    assert "second factor (two-factor authentication)" in answer.text
            desk.client.close()
    finally:
        emu.stop()


def test_group_office_down_gives_a_clear_message_and_counts_no_failure(
        site: Site, tmp_path: Path) -> None:
    desk = SupportDesk(GroupOfficeClient("http://127.0.0.1:9", api_key="k"), DeskConfig())
    app = create_app(None, HelpOptions(user_failures=1), desk=desk)
    with serve(app) as base:
        for _ in range(2):
            answer = _sign_in(base, "ann", "x", "").last  # type: ignore[attr-defined]
            assert answer.status_code == 503
            assert "cannot reach Group-Office" in answer.text
