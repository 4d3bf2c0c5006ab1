"""The texts expiry writes (a warning, the closing feedback) and the marker inside them.

Every message expiry writes carries an invisible marker, ``<div
data-go-support-expiry="warning:<anchor>">``, where ``<anchor>`` is the id of the agent's
message that started the quiet period. A later run (or a second run at the same moment) reads
it back: a warning is not the agent's last message, a quiet period is warned once, and two
runs that wrote the same message keep the older one. Group-Office keeps ``data-`` attributes
(it strips scripts and ``on*`` attributes only); the marker never shows.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from go_support.expiry.config import PLACEHOLDERS

__all__ = ["Kind", "Marker", "find_marker", "render"]

Kind = Literal["warning", "close"]

_MARKER = re.compile(r"""data-go-support-expiry\s*=\s*["']?(warning|close):(\d+)""")


@dataclass(frozen=True)
class Marker:
    """What a message written by expiry is: a warning or a closing feedback, and the agent's
    message (comment id) whose quiet period it belongs to."""

    kind: Kind
    anchor: str


def find_marker(text: str | None) -> Marker | None:
    """The marker in a message's HTML, or ``None`` for any other message."""
    found = _MARKER.search(text or "")
    if found is None:
        return None
    kind: Kind = "warning" if found.group(1) == "warning" else "close"
    return Marker(kind, found.group(2))


def _paragraphs(text: str) -> str:
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    return "".join(f"<p>{b.replace(chr(10), '<br>')}</p>" for b in blocks if b.strip())


def render(template: str, values: Mapping[str, object], marker: Marker) -> str:
    """The message's HTML: the template with its placeholders filled in (values escaped),
    a paragraph per block of lines, inside the marker."""
    escaped = {name: html.escape(str(values.get(name, ""))) for name in PLACEHOLDERS}
    parts = []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        parts.append(html.escape(literal))
        if field is not None:
            parts.append(format(escaped[field], spec or ""))
            del conversion  # "{x!r}" is read as {x}: the value is text either way
    body = _paragraphs("".join(parts))
    return f'<div data-go-support-expiry="{marker.kind}:{marker.anchor}">{body}</div>'
