"""What the page shows and sends: dates in the reader's language, messages as text.

Messages are shown as plain text (:func:`go_support.desk.html_to_text`), escaped by the
templates: whatever HTML a message holds, the page never renders it. What a requester types is
plain text too, turned into simple HTML (paragraphs, line breaks) with every character
escaped, so ``<script>`` in a message stays the text ``<script>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime

from go_support.htmlrules import text_to_html

__all__ = ["DEFAULT_LOCALE", "format_date", "pick_locale", "text_to_html"]

DEFAULT_LOCALE = Locale("en")


def pick_locale(languages: Iterable[str]) -> Locale:
    """The first language of ``Accept-Language`` (best first) that Babel knows, else English."""
    for tag in languages:
        text = tag.strip()
        if not text or text == "*" or not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", text):
            continue
        try:
            return Locale.parse(text, sep="-")
        except (UnknownLocaleError, ValueError):
            language = text.split("-")[0]
            try:
                return Locale.parse(language)
            except (UnknownLocaleError, ValueError):
                continue
    return DEFAULT_LOCALE


def format_date(value: datetime | None, locale: Locale, zone: tzinfo) -> str:
    """``value`` in the reader's language ("6 déc. 2026, 23:05:00"); "" for no date."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return format_datetime(value, format="medium", tzinfo=zone, locale=locale)
