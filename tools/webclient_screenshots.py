"""Screenshots of Group-Office's web client for docs/agents.md, taken from a real Group-Office.

usage: scripts/webclient-screenshots URL [--out docs/images] [--keep]
       (admin credentials: GO_SUPPORT_ADMIN_USER / GO_SUPPORT_ADMIN_PASSWORD, or an admin
       API key in GO_SUPPORT_TOKEN)

It prepares, through the desk, a throw-away ticket type, an agent and a ticket with a
requester's message, a reply waiting to be mailed and a private note
(:func:`tools.webclient.sample_ticket`), signs in to the web client as that agent and
writes::

    webclient-ticket-list.png         the Tasks module on the type's list, the ticket open
    webclient-requester-message.png   the requester's message, with the line naming them
    webclient-reply-pending.png       the agent's reply, waiting to be mailed (hourglass)
    webclient-private-note.png        a private note (red label "Private")
    webclient-label-private.png       the comment editor's label menu

Everything it created is destroyed again (``--keep`` leaves it, to look at by hand). Run it
again when Group-Office's web client changes. Needs Debian's chromium and Playwright for
Python (``scripts/bootstrap.sh``); no browser is downloaded.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from go_support.jmap import GroupOfficeClient
from tools.webclient import CHROMIUM, LAUNCH_ARGS, NOTE, REPLY, REQUEST, WebClient, sample_ticket

SHOTS = ("webclient-ticket-list.png", "webclient-requester-message.png",
         "webclient-reply-pending.png", "webclient-private-note.png",
         "webclient-label-private.png")


def _first_words(html_text: str) -> str:
    """A piece of a message's text to find its bubble by."""
    return html_text.split("<p>")[1].split("</p>")[0][:30]


def _clip(page: Any, locator: Any, path: Path, pad: int = 8) -> None:
    """A screenshot of what ``locator`` covers, with a small margin."""
    locator.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = locator.bounding_box()
    if box is None:
        raise RuntimeError(f"nothing to photograph for {path.name}: the element is hidden")
    x, y = max(box["x"] - pad, 0), max(box["y"] - pad, 0)
    page.screenshot(path=str(path), clip={"x": x, "y": y, "width": box["width"] + 2 * pad,
                                          "height": box["height"] + 2 * pad})


def take(browser: Any, url: str, client: GroupOfficeClient, out: Path, *,
         keep: bool = False) -> list[Path]:
    """Prepare the sample ticket, sign in as its agent and write the screenshots."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sample_ticket(client, keep=keep) as sample:
        web = WebClient(browser, url)
        try:
            page = web.page
            web.sign_in(sample.username, sample.password)
            web.subscribe(sample.ticket.type.id)
            web.open_list(sample.type_name)
            web.open_ticket(sample.ticket.subject)
            path = out / SHOTS[0]
            page.screenshot(path=str(path))
            written.append(path)
            for name, text in zip(SHOTS[1:4], (REQUEST, REPLY, NOTE), strict=True):
                path = out / name
                _clip(page, web.comment_row(_first_words(text)), path)
                written.append(path)
            web.open_label_menu("Called the user back: the access point is fine.")
            panel = page.locator(".goui-html-field").first
            menu = page.locator("menu.goui-dropdown").first
            box, menu_box = panel.bounding_box(), menu.bounding_box()
            assert box is not None and menu_box is not None
            top = min(box["y"], menu_box["y"]) - 8
            bottom = max(box["y"] + box["height"], menu_box["y"] + menu_box["height"]) + 8
            path = out / SHOTS[4]
            page.screenshot(path=str(path), clip={"x": box["x"] - 8, "y": top,
                                                  "width": box["width"] + 16,
                                                  "height": bottom - top})
            written.append(path)
            if web.errors:
                print("web client errors:", *web.errors, sep="\n  ", file=sys.stderr)
        finally:
            web.close()
        if keep:
            print(f"kept: ticket {sample.ticket.id} in '{sample.type_name}', agent "
                  f"{sample.username} / {sample.password}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the Group-Office, e.g. https://go.example.com")
    parser.add_argument("--out", type=Path, default=Path("docs/images"),
                        help="folder for the PNG files (default: docs/images)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the sample type, agent and ticket (to look at them by hand)")
    args = parser.parse_args(argv)
    token = os.environ.get("GO_SUPPORT_TOKEN")
    user = os.environ.get("GO_SUPPORT_ADMIN_USER")
    password = os.environ.get("GO_SUPPORT_ADMIN_PASSWORD")
    if not token and not (user and password):
        parser.error("set GO_SUPPORT_TOKEN (an admin API key) or GO_SUPPORT_ADMIN_USER and "
                     "GO_SUPPORT_ADMIN_PASSWORD")
    if not CHROMIUM.exists():
        parser.error(f"{CHROMIUM} is missing: install Debian's chromium "
                     "(scripts/system-packages.sh)")
    from playwright.sync_api import sync_playwright

    client = (GroupOfficeClient(args.url, api_key=token) if token
              else GroupOfficeClient(args.url, username=user, password=password))
    with client, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            for path in take(browser, args.url, client, args.out, keep=args.keep):
                print(f"{path}  {path.stat().st_size // 1024} KB")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
