"""The HTML cleaning, checked against the emulator's port of Group-Office's own sanitiser and
script detection (StringUtil::sanitizeHtml / detectXSS, groupoffice-wire 09)."""

from __future__ import annotations

import pytest

from go_support.desk import InvalidMessage, sanitize_html
from go_support.desk.html import html_to_text, looks_like_script
from go_support.emulator.entities.comments import detect_xss, sanitize

CASES = [
    ("<p>Hello <b>world</b></p>", "<p>Hello <b>world</b></p>"),
    ('<script>alert(1)</script><p onclick="x()">hi</p>', "<p>hi</p>"),
    ('<a href="javascript:alert(1)">x</a>', "<a>x</a>"),
    ('<a href=" jav&#x09;ascript:alert(1)">x</a>', "<a>x</a>"),
    ('<a href="https://example.com/a?b=1&amp;c=2">ok</a>',
     '<a href="https://example.com/a?b=1&amp;c=2">ok</a>'),
    ('<img src="x" onerror="alert(1)">', '<img src="x">'),
    ('<img src="data:image/png;base64,AAA">', '<img src="data:image/png;base64,AAA">'),
    ('<a href="data:text/html;base64,AAA">x</a>', "<a>x</a>"),
    ("<html><head><title>T</title></head><body><p>B</p></body></html>", "<p>B</p>"),
    ('<div style="width:expression(alert(1))">x</div>', "<div>x</div>"),
    ('<div style="color: red">x</div>', '<div style="color: red">x</div>'),
    ("<o:p>office</o:p><br/>text", "office<br>text"),
    ('<iframe src="x"><p>in</p></iframe>after', "after"),
    ("<style>p{}</style><!-- c --><p>a</p>", "<p>a</p>"),
    ("plain & text < 5", "plain &amp; text &lt; 5"),
    ('<form action="x"><input name="q"></form>', '<input name="q">'),
    ("<svg><script>x</script></svg>ok", "<svg></svg>ok"),
    ('<a href="https://example.com/online=1">link</a>', "<a>link</a>"),
]


@pytest.mark.parametrize(("given", "expected"), CASES)
def test_cleaning(given: str, expected: str) -> None:
    cleaned = sanitize_html(given)
    assert cleaned == expected
    # what Group-Office stores is what was sent, and it does not refuse it
    assert sanitize(cleaned) == cleaned
    assert not detect_xss(cleaned)


@pytest.mark.parametrize("text", [
    "<p>Type javascript: in the address bar</p>",
    "<p>I wrote &lt;script&gt; into the field</p>",
    "<p>a vbscript: macro and a mocha: thing</p>",
    "<p>style=expression(x) came from the CSS</p>",
    '<p title="online=yes">status</p>',
])
def test_mentions_of_scripts_survive_readably(text: str) -> None:
    assert detect_xss(sanitize(text)) or looks_like_script(text)  # Group-Office would refuse
    cleaned = sanitize_html(text)
    assert not detect_xss(sanitize(cleaned)) and sanitize(cleaned) == cleaned
    assert html_to_text(cleaned) == html_to_text(sanitize_html(text))
    assert html_to_text(cleaned).split() == html_to_text(text).split()  # only invisible
    # spaces were added


def test_looks_like_script_matches_group_office() -> None:
    for text in ['<a href="javascript:x">', "<meta http-equiv=x>", "<p>fine</p>",
                 '<p title="x" onload="y">', "java&#115;cript:alert(1)"]:
        assert looks_like_script(text) == detect_xss(text)


def test_not_html() -> None:
    with pytest.raises(InvalidMessage, match="must be HTML text"):
        sanitize_html(None)  # type: ignore[arg-type]


def test_one_rule_for_the_desk_and_the_emulator() -> None:
    """Group-Office's comment rule lives in go_support.htmlrules, used by both sides."""
    from go_support import htmlrules
    from go_support.desk import html as desk_html
    from go_support.emulator.entities import comments

    assert desk_html.looks_like_script is htmlrules.detect_xss
    assert comments.detect_xss is htmlrules.detect_xss
    assert comments.sanitize is htmlrules.sanitize


def test_html_to_text_is_public_and_readable() -> None:
    from go_support.desk import html_to_text as exported

    assert exported is html_to_text
    assert html_to_text("<p>One</p><p>Two<br>lines</p><ul><li>a</li><li>b</li></ul>") == (
        "One\n\nTwo\nlines\n\na\nb")
    assert html_to_text("<p>a</p>\n\n\n<p> </p>\n<p>b &amp; c</p >") == "a\n\nb & c"
    assert html_to_text(sanitize_html("<p>type javascript: here</p>")) == (
        "type javascript: here")  # the invisible spaces go
    assert html_to_text("<p> </p><br>") == ""


# -- the rule's shortcuts change no answer ------------------------------------------------------

_PIECES = ("<", ">", "</", "/", "=", " ", "\t", "\n", ":", "-->", "<!--", "/*", "*/", '"', "'",
           "p", "P", "br", "on", "ON", "onerror", "xmlns", "script", "SCRIPT", "scr\u0131pt",
           "\u017fcript", "scr\u0130pt", "javascript", "JavaScript", "mocha", "vbscript",
           "-moz-binding", "-MOZ-BINDING", "style", "STYLE", "expression", "behavior",
           "iframe", "meta", "link", "title", "base", "xml", "?xml", "o:", "v:", "st1:",
           "html", "body", "head", "form", "object", "embed", "applet", "bgsound", "!DOCTYPE",
           "z-index: 9000", "&#x6A;", "&#106;", "%3C", "+", "\u212a", "text", "é")


def _unshortened_sanitize(text: str) -> str:
    """htmlrules.sanitize with every pattern applied (no shortcut), as the oracle."""
    from go_support import htmlrules as h

    text = h._CLOSING_TAG.sub(r"</\1>", text)
    text = h._STYLE_COMMENT_OPEN.sub("<style>", text)
    text = h._STYLE_COMMENT_CLOSE.sub("</style>", text)
    text = h._HTML_COMMENT.sub("", text)
    text = h._CSS_COMMENT.sub("", text)
    for _needle, pattern in h._REMOVED:
        text = pattern.sub("", text)
    text = h._TAG.sub(lambda m: "<" + h._EVENT_ATTRIBUTE.sub("", m.group(1)) + ">", text)
    for match in h._Z_INDEX.finditer(text):
        if int(match.group(2)) > 8000:
            text = text.replace(match.group(0), "z-index:8000")
    return text


def _unshortened_xss(text: str) -> bool:
    import html
    import urllib.parse

    from go_support import htmlrules as h

    clean = urllib.parse.unquote_plus(text)
    clean = h._HEX_ENTITY.sub(lambda m: chr(int(m.group(2), 16) % 256), clean)
    clean = h._DEC_ENTITY.sub(r"\1;", clean)
    clean = html.unescape(clean)
    clean = h._WHITESPACE.sub("", clean)
    return any(p.search(clean) or p.search(text) for _pieces, p in h._XSS_PATTERNS)


def test_the_rule_skips_only_patterns_that_cannot_match() -> None:
    """sanitize and detect_xss search a pattern only when the text holds a piece every match
    contains (case folded as the pattern folds it): on random mixtures of risky pieces they
    answer as the plain rule does."""
    import random

    from go_support.htmlrules import detect_xss, sanitize

    for text in ("javascr\u0130pt:x", "java\u017fcript:x", "javascr\u0131pt:x", "MOCHA:x",
                 "JavaScript:x", "-moz-binding:x", "STYLE=x:expression(", "<x ONclick=y>"):
        assert detect_xss(text) is _unshortened_xss(text) is True, text
    for text in ("<META x>", "<LiNk x>", "<O:p>", "<!DOCTYPE x>", "<SCRIPT>a</script>",
                 "a</ p >", "a</em\t>"):
        assert sanitize(text) == _unshortened_sanitize(text) != text, text
    rnd = random.Random(5)
    flagged = 0
    for _ in range(4000):
        text = "".join(rnd.choice(_PIECES) for _ in range(rnd.randint(1, 14)))
        assert sanitize(text) == _unshortened_sanitize(text), text
        assert detect_xss(text) is _unshortened_xss(text), text
        flagged += detect_xss(text)
    assert 200 < flagged < 3800  # both answers were exercised
