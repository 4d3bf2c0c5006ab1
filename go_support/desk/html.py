"""Making message HTML acceptable to Group-Office before it is sent.

Group-Office strips ``<script>`` (and other active elements) and ``on*`` attributes from a
comment silently, and refuses the whole comment when what is left still looks like a
script, e.g. a ``javascript:`` link ("You're not allowed to use scripts in the content",
groupoffice-wire 09). A desk must neither lose a customer's mail to that check nor store
something different from what it showed, so :func:`sanitize_html` does the cleaning itself:

* elements that run or embed code go with their content (``script``, ``style``, ``iframe``,
  ``object``, ``embed``, ``applet``, ``xml``, ``title``, ``head``, ...), page scaffolding and
  form tags go but keep their content (``html``, ``body``, ``form``, ``meta``, ``link``,
  ``base``, Office namespaces such as ``o:p``);
* ``on*`` and ``xmlns*`` attributes go; so do URL attributes with ``javascript:``,
  ``vbscript:``, ``livescript:``, ``mocha:`` or ``data:`` (except ``data:image/`` in ``src``),
  and ``style`` attributes with ``expression``, ``behavior``, ``-moz-binding`` or a script URL;
* comments, processing instructions and doctypes go; text is re-escaped.

Then the result is checked the way Group-Office checks it (:func:`looks_like_script`, which is
Group-Office's own rule from :mod:`go_support.htmlrules`, shared with the emulator). Text
that merely *mentions* such things ("type javascript: in the address bar", an escaped
``&lt;script&gt;``) gets an invisible zero-width space where Group-Office's pattern would
match, so the words stay readable. If that still does not pass, :class:`InvalidMessage` is
raised before anything is sent.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from html.parser import HTMLParser

from go_support.desk.errors import InvalidMessage
from go_support.htmlrules import detect_xss as looks_like_script

__all__ = ["html_to_text", "looks_like_script", "sanitize_html"]

ZWSP = "\u200b"

_DROP_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "object", "embed", "applet", "xml", "title", "head",
    "noscript", "template", "frameset", "frame", "noframes", "ilayer", "layer",
})
_DROP_TAG = frozenset({
    "html", "body", "meta", "link", "base", "bgsound", "form", "blink",
})
_URL_ATTRIBUTES = frozenset({
    "href", "src", "action", "formaction", "background", "lowsrc", "dynsrc", "poster",
    "xlink:href", "data", "codebase", "cite", "longdesc", "usemap", "srcset", "ping",
    "profile", "manifest", "archive", "classid",
})
_DROPPED_ATTRIBUTES = frozenset({"srcdoc"})
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
})
_SCRIPT_SCHEME = re.compile(r"^(?:(?:java|live|vb)script|mocha|data):", re.I)
_BAD_STYLE = re.compile(
    r"expression|behavior|-moz-binding|(?:java|live|vb)script\s*:|mocha\s*:", re.I)
_CONTROL_AND_SPACE = re.compile(r"[\x00-\x20\x7f]+")


def _clean_url(value: str, attribute: str) -> bool:
    """Whether a URL attribute may stay."""
    plain = _CONTROL_AND_SPACE.sub("", html.unescape(urllib.parse.unquote(value)))
    if _SCRIPT_SCHEME.match(plain):
        return attribute == "src" and plain.lower().startswith("data:image/")
    return not looks_like_script(plain)


class _Cleaner(HTMLParser):
    def __init__(self, neutralise: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.neutralise = neutralise
        self.out: list[str] = []
        self.skipping: list[str] = []  # stack of elements dropped with their content

    # -- helpers --------------------------------------------------------------------------

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        kept: list[str] = []
        for name, value in attrs:
            lowered = name.lower()
            if lowered.startswith(("on", "xmlns")) or lowered in _DROPPED_ATTRIBUTES:
                continue
            if not re.fullmatch(r"[a-z_:][-a-z0-9_:.]*", lowered):
                continue
            if value is None:
                kept.append(f" {lowered}")
                continue
            if lowered in _URL_ATTRIBUTES and not _clean_url(value, lowered):
                continue
            if (self.neutralise and lowered in _URL_ATTRIBUTES
                    and looks_like_script(f'<a {lowered}="{value}">')):
                continue  # a harmless URL that Group-Office's check refuses: keep the text
            if lowered == "style" and _BAD_STYLE.search(_decoded(value)):
                continue
            if self.neutralise and lowered not in _URL_ATTRIBUTES:
                value = _neutralise(value)
            kept.append(f' {lowered}="{html.escape(value, quote=True)}"')
        return "".join(kept)

    @staticmethod
    def _is_namespaced(tag: str) -> bool:
        return ":" in tag

    # -- parser callbacks -----------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if self.skipping:
            if tag == self.skipping[-1] and tag not in _VOID:
                self.skipping.append(tag)
            return
        if tag in _DROP_WITH_CONTENT:
            if tag not in _VOID:
                self.skipping.append(tag)
            return
        if tag in _DROP_TAG or self._is_namespaced(tag):
            return
        self.out.append(f"<{tag}{self._attributes(tag, attrs)}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if self.skipping or tag in _DROP_WITH_CONTENT or tag in _DROP_TAG:
            return
        if self._is_namespaced(tag):
            return
        self.out.append(f"<{tag}{self._attributes(tag, attrs)}>")

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag in _DROP_WITH_CONTENT or tag in _DROP_TAG or self._is_namespaced(tag):
            return
        if tag in _VOID:
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        text = _neutralise(data) if self.neutralise else data
        self.out.append(html.escape(text, quote=False))

    def handle_comment(self, data: str) -> None:
        return None

    def handle_decl(self, decl: str) -> None:
        return None

    def handle_pi(self, data: str) -> None:
        return None

    def unknown_decl(self, data: str) -> None:
        return None


def _decoded(value: str) -> str:
    return _CONTROL_AND_SPACE.sub("", html.unescape(urllib.parse.unquote(value)))


_NEUTRALISE = [
    (re.compile(r"(scr)(ipt)", re.I), rf"\1{ZWSP}\2"),
    (re.compile(r"(moc)(ha)", re.I), rf"\1{ZWSP}\2"),
    (re.compile(r"(-moz-)(binding)", re.I), rf"\1{ZWSP}\2"),
    (re.compile(r"<"), f"<{ZWSP}"),
    (re.compile(r"(?<![a-z])(on|xmlns)([a-z])", re.I), rf"\1{ZWSP}\2"),
    (re.compile(r"(sty)(le)", re.I), rf"\1{ZWSP}\2"),
    (re.compile(r"(expre)(ssion)", re.I), rf"\1{ZWSP}\2"),
    (re.compile(r"(beha)(vior)", re.I), rf"\1{ZWSP}\2"),
]


def _neutralise(text: str) -> str:
    for pattern, replacement in _NEUTRALISE:
        text = pattern.sub(replacement, text)
    return text


def _clean(text: str, neutralise: bool) -> str:
    cleaner = _Cleaner(neutralise)
    cleaner.feed(text)
    cleaner.close()
    return "".join(cleaner.out).strip()


def sanitize_html(text: str, *, what: str = "the message") -> str:
    """``text`` without scripts, event handlers and script links; raises
    :class:`InvalidMessage` if Group-Office would still refuse it."""
    if not isinstance(text, str):
        raise InvalidMessage(f"{what} must be HTML text (got {type(text).__name__})")
    cleaned = _clean(text, neutralise=False)
    if not looks_like_script(cleaned):
        return cleaned
    cleaned = _clean(text, neutralise=True)
    if looks_like_script(cleaned):
        raise InvalidMessage(
            f"{what} contains HTML that Group-Office refuses as a script even after cleaning; "
            "send it as plain text")
    return cleaned


_PARAGRAPH_END = re.compile(r"</p\s*>", re.I)
_LINE_END = re.compile(r"</(?:div|li|tr|h[1-6])\s*>|<br\s*/?>", re.I)
_TAG_RE = re.compile(r"<[^>]*>")
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){2,}")  # two or more blank lines


def html_to_text(text: str) -> str:
    """Message HTML as plain text for people: tags go, entities are decoded, a paragraph
    ends with a blank line, ``<br>`` and the end of another block with a line break, and the
    invisible spaces of :func:`sanitize_html` go. Empty when the message says nothing."""
    plain = _TAG_RE.sub("", _LINE_END.sub("\n", _PARAGRAPH_END.sub("\n\n", text)))
    plain = html.unescape(plain).replace(ZWSP, "")
    return _BLANK_LINES.sub("\n\n", plain).strip()
