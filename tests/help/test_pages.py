"""What a requester does on the help page, over real HTTP against the emulator."""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from go_support.desk import Status, SupportDesk, TicketFilter
from go_support.help import HelpOptions
from go_support.jmap import GroupOfficeClient
from tests._support import RecordingTransport
from tests.help.conftest import Site, serve


def _rows(html: str) -> list[str]:
    """The ticket numbers of the "My requests" table, in order."""
    return re.findall(r'<td data-label="Number">#(\d+)</td>', html)


def test_signed_out_visitors_are_sent_to_sign_in_and_come_back(site: Site) -> None:
    browser = site.browser()
    answer = browser.get("/requests/new", allow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/signin?next=")
    browser.get(answer.headers["Location"])
    signed = browser.post("/signin", {"username": site.username("ann"),
                                      "password": "ann-pass-1", "next": "/requests/new"})
    assert signed.url == site.url + "/requests/new"
    assert "<h1>New request</h1>" in signed.text


def test_sign_in_does_not_follow_a_next_address_off_the_site(site: Site) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        browser = site.browser()
        browser.get("/signin")
        answer = browser.post("/signin", {"username": site.username("ann"),
                                          "password": "ann-pass-1", "next": target},
                              allow_redirects=False)
        assert answer.status_code == 302
        assert answer.headers["Location"] == "/requests"


def test_my_requests_lists_own_tickets_newest_first_with_status_and_activity(site: Site) -> None:
    desk = site.desk
    ann, bob = site.users["ann"], site.users["bob"]
    first = desk.tickets.create(site.types["Hardware"], "Printer jams", "<p>1</p>", ann)
    second = desk.tickets.create(site.types["Software"], "Mail is slow", "<p>2</p>", ann)
    desk.tickets.create(site.types["Hardware"], "Bob's own", "<p>3</p>", bob)
    desk.messages.reply(first, "<p>On it</p>")
    browser = site.signed_in("ann")
    page = browser.get("/requests")
    assert page.status_code == 200
    assert _rows(page.text) == [second.id, first.id]
    assert "Bob's own" not in page.text and "Bob&#39;s own" not in page.text
    assert "In progress" in page.text and "Needs action" in page.text
    assert len(re.findall(r"<time datetime=", page.text)) == 2
    assert "2 requests, newest first" in page.text


def test_my_requests_pages_through_many_tickets(site: Site) -> None:
    made = [site.desk.tickets.create(site.types["Hardware"], f"Ticket {n}", "<p>x</p>",
                                     site.users["ann"]).id for n in range(27)]
    browser = site.signed_in("ann")
    first = browser.get("/requests")
    assert _rows(first.text) == list(reversed(made))[:25]
    assert 'rel="next" href="/requests?page=2"' in first.text
    second = browser.get("/requests?page=2")
    assert _rows(second.text) == list(reversed(made))[25:]
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert browser.get("/requests?page=0").status_code == 200
    assert browser.get("/requests?page=x").status_code == 200


def test_a_ticket_page_shows_public_messages_and_attachments_never_private_notes(
        site: Site) -> None:
    desk = site.desk
    ticket = desk.tickets.create(site.types["Hardware"], "Screen flickers",
                                 "<p>My screen flickers</p>", site.users["ann"],
                                 attachments=[("photo.jpg", b"\xff\xd8jpeg", "image/jpeg")])
    desk.messages.note(ticket, "<p>Internal: the supplier owes us</p>",
                       attachments=[("internal.txt", b"secret", "text/plain")])
    desk.messages.reply(ticket, "<p>Please try another cable.</p><p>Regards</p>")
    page = site.signed_in("ann").get(f"/requests/{ticket.id}")
    assert page.status_code == 200
    assert "My screen flickers" in page.text
    assert "Please try another cable.\n\nRegards" in page.text
    assert "Internal" not in page.text.replace("Internal</option>", "")
    assert "supplier" not in page.text and "internal.txt" not in page.text
    assert "photo.jpg" in page.text
    assert "In progress" in page.text
    assert page.text.index("My screen flickers") < page.text.index("another cable")


def test_a_reply_with_an_attachment_reaches_the_ticket(site: Site) -> None:
    desk = site.desk
    ticket = desk.tickets.create(site.types["Hardware"], "Keyboard", "<p>Keys stick</p>",
                                 site.users["ann"])
    desk.messages.reply(ticket, "<p>Which keys?</p>", status="in-progress")
    browser = site.signed_in("ann")
    browser.get(f"/requests/{ticket.id}")
    answer = browser.post(f"/requests/{ticket.id}/reply", {"message": "The E and the R.\nBoth."},
                          files={"attachments": ("keys.png", b"\x89PNG...", "image/png")})
    assert answer.status_code == 200
    assert "Your reply was sent." in answer.text
    assert "The E and the R.\nBoth." in answer.text and "keys.png" in answer.text
    shown = desk.tickets.get(ticket.id)
    last = (shown.messages or ())[-1]
    assert last.html == "<p>The E and the R.<br>Both.</p>"
    assert last.mail_status == "received" and not last.private
    assert [a.name for a in last.attachments] == ["keys.png"]
    assert shown.status is Status.NEEDS_ACTION  # the requester answered: back to the agents
    download = browser.get(f"/requests/{ticket.id}/messages/{last.id}/files/0")
    assert download.content == b"\x89PNG..."


def test_an_empty_reply_is_refused_with_a_message_tied_to_the_field(site: Site) -> None:
    ticket = site.desk.tickets.create(site.types["Hardware"], "Mouse", "<p>x</p>",
                                      site.users["ann"])
    browser = site.signed_in("ann")
    browser.get(f"/requests/{ticket.id}")
    answer = browser.post(f"/requests/{ticket.id}/reply", {"message": "   "})
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text
    assert '<a href="#message">Write your reply.</a>' in answer.text
    assert 'aria-invalid="true" aria-describedby="message-error"' in answer.text
    assert len(site.desk.tickets.get(ticket.id).messages or ()) == 1


def test_new_request_offers_the_customer_types_and_reports_number_and_link(site: Site) -> None:
    browser = site.signed_in("ann")
    form = browser.get("/requests/new")
    offered = re.findall(r'<option value="(\d+)"', form.text)
    assert offered == [site.types["Hardware"].id, site.types["Software"].id]
    assert 'for="subject"' in form.text and 'for="attachments"' in form.text
    answer = browser.post("/requests/new", {
        "type": site.types["Software"].id, "subject": "Licence expired",
        "message": "Word says my licence expired.\n\nCan you renew it?"},
        files=[("attachments", ("error.png", b"png-bytes", "image/png")),
               ("attachments", ("log.txt", b"log line", "text/plain"))])
    assert answer.status_code == 200
    number = re.search(r'<strong class="number">#(\d+)</strong>', answer.text)
    assert number is not None
    assert f'<a href="/requests/{number.group(1)}">View request #{number.group(1)}' in answer.text
    ticket = site.desk.tickets.get(number.group(1))
    assert ticket.subject == "Licence expired" and ticket.type.id == site.types["Software"].id
    assert ticket.requester.id == site.users["ann"]
    first = (ticket.messages or ())[0]
    assert first.html == "<p>Word says my licence expired.</p><p>Can you renew it?</p>"
    assert sorted(a.name for a in first.attachments) == ["error.png", "log.txt"]
    assert number.group(1) in _rows(browser.get("/requests").text)


def test_new_request_refuses_a_type_the_user_is_no_customer_of_and_empty_fields(
        site: Site) -> None:
    browser = site.signed_in("ann")
    browser.get("/requests/new")
    before = site.desk.tickets.list(TicketFilter(requester=site.users["ann"])).total
    answer = browser.post("/requests/new", {"type": site.types["Internal"].id,
                                            "subject": "", "message": ""})
    assert answer.status_code == 422
    for text in ("Choose what your request is about.", "Enter a subject.",
                 "Describe your request."):
        assert text in answer.text
    assert "There are 3 problems" in answer.text
    assert site.desk.tickets.list(TicketFilter(requester=site.users["ann"])).total == before


def test_a_user_in_no_customer_group_is_told_so(site: Site) -> None:
    page = site.signed_in("agent").get("/requests/new")
    assert "Your account may not open requests here" in page.text
    assert "<form method=\"post\" action=\"/requests/new\"" not in page.text


def test_an_agent_sees_only_requests_they_made_and_no_private_notes(site: Site) -> None:
    """Agents read every ticket of their types through the desk; the help page shows them only
    their own requests, as a requester sees them."""
    desk = site.desk
    ann_ticket = desk.tickets.create(site.types["Hardware"], "Ann's", "<p>a</p>",
                                     site.users["ann"])
    own = desk.tickets.create(site.types["Hardware"], "Agent's own", "<p>b</p>",
                              site.users["agent"])
    desk.messages.note(own, "<p>note to self</p>")
    browser = site.signed_in("agent")
    assert _rows(browser.get("/requests").text) == [own.id]
    assert browser.get(f"/requests/{ann_ticket.id}").status_code == 404
    page = browser.get(f"/requests/{own.id}")
    assert page.status_code == 200 and "note to self" not in page.text


def test_dates_follow_the_requester_language(site: Site) -> None:
    ticket = site.desk.tickets.create(site.types["Hardware"], "Datum", "<p>x</p>",
                                      site.users["ann"])
    browser = site.signed_in("ann")
    assert ticket.created_at is not None
    for header, locale in (("de-DE,de;q=0.9,en;q=0.5", "de_DE"), ("fr", "fr"),
                           ("xx-YY, nl;q=0.8", "nl"), ("", "en")):
        page = browser.get(f"/requests/{ticket.id}", headers={"Accept-Language": header})
        expected = format_datetime(ticket.created_at.astimezone(UTC), format="medium",
                                   tzinfo=UTC, locale=locale)
        assert expected in page.text, (header, expected)


def test_dates_are_shown_in_the_configured_time_zone(site: Site, tmp_path: Path) -> None:
    ticket = site.desk.tickets.create(site.types["Hardware"], "Zone", "<p>x</p>",
                                      site.users["ann"])
    app = site.another_app(tmp_path, HelpOptions(timezone="Asia/Tokyo"))
    with serve(app) as base:
        browser = site.browser()
        browser.base = base
        browser.sign_in(site.username("ann"), "ann-pass-1")
        page = browser.get(f"/requests/{ticket.id}", headers={"Accept-Language": "en-GB"})
    assert ticket.created_at is not None
    expected = format_datetime(ticket.created_at, format="medium",
                               tzinfo=ZoneInfo("Asia/Tokyo"), locale="en_GB")
    assert expected in page.text


def test_a_page_view_costs_at_most_two_requests_to_group_office(site: Site,
                                                                tmp_path: Path) -> None:
    desk = site.desk
    ticket = desk.tickets.create(site.types["Hardware"], "Counted", "<p>x</p>",
                                 site.users["ann"])
    for n in range(5):
        desk.messages.reply(ticket, f"<p>answer {n}</p>")
    recorder = RecordingTransport()
    counted = SupportDesk(GroupOfficeClient(site.go_url, api_key=site.go_key,
                                            transport=recorder), site.desk.settings)
    app = site.another_app(tmp_path, HelpOptions(), desk=counted)
    with serve(app) as base:
        browser = site.browser()
        browser.base = base
        browser.sign_in(site.username("ann"), "ann-pass-1")
        browser.get("/requests")  # the desk learns its layout once
        for path in ("/requests", f"/requests/{ticket.id}"):
            recorder.clear()
            assert browser.get(path).status_code == 200
            assert len(recorder.sent) <= 2, (path, recorder.sent)
