"""Group-Office's rule for comment HTML: what it strips from a comment, and what it refuses.

Group-Office runs a comment's ``text`` through ``StringUtil::sanitizeHtml($html, false)`` and
checks what is left with ``StringUtil::detectXSS($text, false)``: scripts and ``on*``
attributes go silently, a ``javascript:`` link that survives refuses the whole comment with
"You're not allowed to use scripts in the content" (groupoffice-wire 09 #5, #6). This module is
that rule, ported with its quirks, once for the two sides of go-support that need it:

* the emulator enforces it (:mod:`go_support.emulator.entities.comments`);
* the desk cleans a message itself and checks the result against it before sending, so that
  Group-Office stores what the desk showed (:mod:`go_support.desk.html`).

The numbers in parentheses are steps of the recorded wire corpus (``groupoffice-wire``).
"""

from __future__ import annotations

import html
import re
import urllib.parse

__all__ = ["detect_xss", "sanitize"]

# -- sanitising: StringUtil::sanitizeHtml($html, false) ------------------------------------

_A = re.ASCII  # PCRE without UCP: \s and \w are ASCII only
_CLOSING_TAG = re.compile(r"</[\s]*([\w]*)[\s]*>", _A)
# a closing tag that the line above changes (one with a blank): else it changes nothing
_SPACED_CLOSING_TAG = re.compile(r"</(?:\s+\w*\s*|\w*\s+)>", _A)
_STYLE_COMMENT_OPEN = re.compile(r"<style[^>]*>[\s]*<!--", _A)
_STYLE_COMMENT_CLOSE = re.compile(r"-->[\s*]</style>", _A)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.I | re.S | _A)  # 'Uusi': the U makes it lazy
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# Each pattern with a piece of text that any match contains (lower case): a text without it
# is not searched (the answer is the same, found sooner).
_REMOVED = [
    (needle, re.compile(p, re.I | re.S | _A))
    for needle, p in (
        ("<!doctype", r"<!DOCTYPE[^>]*>"), ("<html", r"<html[^>]*>"), ("</html>", r"</html>"),
        ("<body", r"<body[^>]*>"), ("</body>", r"</body>"), ("<meta", r"<meta[^>]*>"),
        ("<link", r"<link\s[^>]*>"), ("<title", r"<title[^>]*>.*?</title>"),
        ("<head", r"<head[^>]*>"), ("</head", r"</head[^>]*>"), ("<base", r"<base[^>]*>"),
        ("<meta", r"<meta[^>]*>"), ("<bgsound", r"<bgsound[^>]*>"),
        ("<xml", r"<xml[^>]*>.*?</xml>"), ("o:", r"<\/?o:[^>]*>"), ("v:", r"<\/?v:[^>]*>"),
        ("st1:", r"<\/?st1:[^>]*>"), ("<?xml", r"<\?xml[^>]*>"),
        ("<style", r"<style[^>]*>.*?</style>"), ("<script", r"<script[^>]*>.*?</script>"),
        ("<iframe", r"<iframe[^>]*>.*?</iframe>"), ("<object", r"<object[^>]*>.*?</object>"),
        ("<embed", r"<embed[^>]*>.*?</embed>"), ("<applet", r"<applet[^>]*>.*?</applet>"),
        ("<form", r"<form[^>]*>"), ("</form>", r"</form>"),
    )
]
_TAG = re.compile(r"<([^>]+)>")
_EVENT_ATTRIBUTE = re.compile(r"\s(?:on|xmlns)[^\s]+", re.I | _A)
_Z_INDEX = re.compile(r"(z-index)[\s]*:[\s]*([0-9]+)[\s]*", _A)


def sanitize(text: str) -> str:
    """What the server stores for ``text`` (``<script>`` and ``onerror`` gone: 09 #5).

    A port of ``StringUtil::sanitizeHtml`` without style preservation, quirks included: a
    ``on…``/``xmlns…`` attribute is cut at the first blank, and ``/* … */`` goes even in text.
    """
    if "</" in text and _SPACED_CLOSING_TAG.search(text):
        text = _CLOSING_TAG.sub(r"</\1>", text)
    if "<style" in text:
        text = _STYLE_COMMENT_OPEN.sub("<style>", text)
    if "-->" in text:
        text = _STYLE_COMMENT_CLOSE.sub("</style>", text)
    if "<!--" in text:
        text = _HTML_COMMENT.sub("", text)
    if "/*" in text:
        text = _CSS_COMMENT.sub("", text)
    lowered = text.lower()  # the patterns ignore ASCII case only: lower() finds every match
    for needle, pattern in _REMOVED:
        if needle in lowered:
            cut = pattern.sub("", text)
            if cut != text:
                text, lowered = cut, cut.lower()
    if _EVENT_ATTRIBUTE.search(text):  # else no tag holds one either
        text = _TAG.sub(lambda m: "<" + _EVENT_ATTRIBUTE.sub("", m.group(1)) + ">", text)
    for match in _Z_INDEX.finditer(text):
        if int(match.group(2)) > 8000:
            text = text.replace(match.group(0), "z-index:8000")
    return text


# -- XSS detection: StringUtil::detectXSS($text, false) ------------------------------------

_HEX_ENTITY = re.compile(r"(&#|\\)[xX]([0-9a-fA-F]+);?")
_DEC_ENTITY = re.compile(r"(&#+[0-9]+)")
_WHITESPACE = re.compile(r"\s", _A)
_XSS_TAGS = (
    "applet|meta|xml|blink|link\\s|script|embed|object|iframe|frame|frameset|ilayer|layer|"
    "bgsound|title|base"
)
# Each pattern with the pieces of text one of which any match contains, in the text as
# _folded() gives it (None: always searched).
_XSS_PATTERNS: list[tuple[tuple[str, ...] | None, re.Pattern[str]]] = [
    # an attribute starting with "on" or xmlns
    (("=",), re.compile(r"(<[^>]+[\x00-\x20\"'/])(on|xmlns)[a-z]+\s?=[^>]*>?", re.I)),
    # javascript:, livescript:, vbscript: and mocha: protocols
    (("script:", "mocha:"), re.compile(r"((java|live|vb)script|mocha):(\w)*", re.I)),
    (("-moz-binding",), re.compile(r"-moz-binding[\x00-\x20]*:")),
    # style attributes with expression/behavior; PHP's "(<[^>]*+[…])*" prefix can never match
    # (the possessive run eats what the class needs), so only the rest counts
    (("style=",), re.compile(r"style=[^>]*(expression|behavior)[^>]*>?", re.I)),
    # tags nobody needs in a comment
    (None, re.compile(r"</*(" + _XSS_TAGS + r")[^>]*>?", re.I)),
]


def _folded(text: str) -> str:
    """``text`` in lower case, with the letters that Unicode case-insensitive matching takes
    for ASCII ones as those (dotless i U+0131, long s U+017F, and capital I with dot U+0130,
    which lower() turns into i and a combining dot): a piece of a pattern found
    case-insensitively is in it. (Upper-case "-moz-binding" only makes it search needlessly.)"""
    return (text.lower().replace("\u0131", "i").replace("\u017f", "s")
            .replace("i\u0307", "i"))


def detect_xss(text: str) -> bool:
    """True for residual XSS after sanitising, e.g. a ``javascript:`` link (09 #5)."""
    clean = urllib.parse.unquote_plus(text)
    clean = _HEX_ENTITY.sub(lambda m: chr(int(m.group(2), 16) % 256), clean)
    clean = _DEC_ENTITY.sub(r"\1;", clean)
    clean = html.unescape(clean)
    clean = _WHITESPACE.sub("", clean)
    folded = _folded(clean) + "\x00" + _folded(text)
    for pieces, pattern in _XSS_PATTERNS:
        if pieces is not None and not any(piece in folded for piece in pieces):
            continue
        if pattern.search(clean) or pattern.search(text):
            return True
    return False


def text_to_html(text: str) -> str:
    """Plain text as comment HTML: everything escaped, a paragraph per blank-line-separated
    block, ``<br>`` at line breaks (the CLI's ``--message``, the help page's forms, legacy
    messages)."""
    import html
    import re

    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "".join("<p>" + "<br>".join(html.escape(line.rstrip()) for line in b.split("\n"))
                   + "</p>"
                   for b in blocks)
