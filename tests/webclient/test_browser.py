"""What agents see in Group-Office's own web client, on a ticket made through the desk.

Live only: it needs a real Group-Office with its web client built (``GO_SUPPORT_TEST_URL``
and ``GO_SUPPORT_TEST_TOKEN``, an admin API key; skipped with the reason otherwise; the
emulator has no web client). Playwright for Python drives Debian's Chromium
(``/usr/bin/chromium``), never a downloaded browser. A throw-away type, agent and ticket are
made through the desk (:func:`tools.webclient.sample_ticket`) and destroyed afterwards; the
test signs in as that agent and reads the conversation as the web client renders it.
Screenshots land in ``tmp/artifacts/webclient/`` (or ``$GO_SUPPORT_ARTIFACTS/webclient``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from go_support.jmap import GroupOfficeClient
from tests._support import live_server
from tools.webclient import CHROMIUM, LAUNCH_ARGS, REQUESTER, SampleTicket, WebClient, sample_ticket

ARTIFACTS = Path(os.environ.get("GO_SUPPORT_ARTIFACTS")
                 or Path(__file__).resolve().parents[2] / "tmp" / "artifacts") / "webclient"


@pytest.fixture(params=["live"])
def go_web(request: pytest.FixtureRequest) -> tuple[str, str]:
    """``(base_url, admin token)`` of a real Group-Office with its web client."""
    return live_server()


@pytest.fixture
def sample(go_web: tuple[str, str]) -> Iterator[SampleTicket]:
    url, token = go_web
    with GroupOfficeClient(url, api_key=token) as client, sample_ticket(client) as made:
        yield made


@pytest.fixture
def web(go_web: tuple[str, str]) -> Iterator[WebClient]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/system-packages.sh "
                    "installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        client = WebClient(browser, go_web[0])
        try:
            yield client
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            client.page.screenshot(path=str(ARTIFACTS / "conversation.png"))
            client.close()
            browser.close()


def _one(comments: list[dict[str, Any]], text: str) -> dict[str, Any]:
    found = [c for c in comments if text in c["text"]]
    assert len(found) == 1, f"{text!r} in {comments}"
    return found[0]


def test_an_agent_sees_who_wrote_each_message(sample: SampleTicket, web: WebClient) -> None:
    web.sign_in(sample.username, sample.password)
    web.subscribe(sample.ticket.type.id)
    web.open_list(sample.type_name)
    web.open_ticket(sample.ticket.subject)
    comments = web.comments()
    assert len(comments) == 3, comments

    request = _one(comments, "my laptop does not connect")
    assert request["from"] == f"From: {REQUESTER.name} <{REQUESTER.email}>"
    assert request["text"].startswith(request["from"])  # above the text
    assert request["mail"] == "received"
    # Group-Office names the key's user as the writer: the line is what tells the requester
    assert REQUESTER.name not in request["title"]

    reply = _one(comments, "forget the network")
    assert reply["from"] is None  # the agent's own message: no line
    assert reply["mail"] == "pending"
    assert reply["title"].startswith(sample.agent_name)
    assert reply["labels"] == []

    note = _one(comments, "access point on floor 2")
    assert note["from"] is None
    assert note["mail"] is None
    assert note["labels"] == ["Private"]
    assert web.errors == []

    # the desk's own read of the same ticket: the text as written, the author from mailStatus
    first = sample.ticket.messages[0] if sample.ticket.messages else None
    assert first is not None and first.author == REQUESTER
    assert "go-support-from" not in first.html and "From:" not in first.html
