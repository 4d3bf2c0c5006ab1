"""The line that says, in Group-Office's web client, who wrote a message.

Group-Office shows every comment as written by the comment's creator, and ignores
``createdBy`` when a comment is created (groupoffice-wire 16): a requester's message written
with the service key reads as the key user's. So the desk puts one line above the text of
every message it stores for someone else (the requester, or another sender on a mail
thread)::

    <p class="go-support-from"><b>From:</b> Ann Example &lt;ann@example.com&gt;</p>

Group-Office keeps it (its comment sanitising keeps ``<p>`` and ``class``: groupoffice-wire
09) and its web client renders it above the text. The desk takes the line off again when it
reads a message (:func:`without_attribution`), so its own views, the CLI and ``--json`` show
the text as it was written.

The line is for people only. Who wrote a message, for the desk, comes from the comment's
``mailStatus`` (``received``: the requester) and ``createdBy``, never from this line: anyone
can type text that looks like it. The desk removes it only from a received message, and only
the one line at the very start, so a line typed by an agent or quoted in a mail stays as it
was written.
"""

from __future__ import annotations

import html
import re

from go_support.desk.html import sanitize_html
from go_support.desk.models import Person

__all__ = [
    "ATTRIBUTION_CLASS", "attributed", "attribution_line", "without_attribution",
]

ATTRIBUTION_CLASS = "go-support-from"
_MAX_NAME = 190  # the requester name field's length: enough for any name worth showing

# The line exactly as attribution_line writes it: no tag inside, nothing before it.
_PREFIX = f'<p class="{ATTRIBUTION_CLASS}"><b>From:</b> '
_LEADING_LINE = re.compile(r"\A" + re.escape(_PREFIX) + r"[^<]*</p>")


def attribution_line(sender: Person) -> str:
    """``<p class="go-support-from"><b>From:</b> Name &lt;address&gt;</p>`` for ``sender`` (the
    name, the address, or the user id when neither is known)."""
    name = (sender.name or "").strip()[:_MAX_NAME]
    email = (sender.email or "").strip()
    if name and email:
        shown = f"{name} <{email}>"
    else:
        shown = name or email or (f"user {sender.id}" if sender.id else "(unknown sender)")
    shown = " ".join(shown.split())  # no line breaks or runs of blanks in a name
    line = f"{_PREFIX}{html.escape(shown, quote=False)}</p>"
    # A name may contain what Group-Office refuses as a script ("javascript:"): cleaned like
    # any message text (an invisible space breaks the pattern, the words stay readable).
    return sanitize_html(line, what="the sender's name")


def attributed(text: str, sender: Person) -> str:
    """Cleaned message HTML with the attribution line of ``sender`` above it."""
    return attribution_line(sender) + text


def without_attribution(text: str, mail_status: str | None) -> str:
    """A stored message's HTML as it was written: the desk's attribution line taken off the
    start of a received message (any other message is returned unchanged)."""
    if mail_status != "received":
        return text
    return _LEADING_LINE.sub("", text, count=1)
