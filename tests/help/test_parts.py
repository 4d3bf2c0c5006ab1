"""The help page's parts on their own: options, sign-in limits, sessions, text and dates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from go_support.help import HelpOptions, OptionsError
from go_support.help.signin import FailureLimiter, SessionRegistry
from go_support.help.text import format_date, pick_locale, text_to_html


def test_options_from_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("a-long-enough-secret-key\n", encoding="utf-8")
    options = HelpOptions.from_env({
        "GO_SUPPORT_HELP_SECRET_KEY_FILE": str(secret), "GO_SUPPORT_HELP_IDLE_MINUTES": "5",
        "GO_SUPPORT_HELP_SECURE_COOKIES": "TRUE", "GO_SUPPORT_HELP_TRUSTED_PROXIES": "2",
        "GO_SUPPORT_HELP_TIMEZONE": "Europe/Amsterdam"}, trusted_proxies=None)
    assert options.secret_key == "a-long-enough-secret-key"
    assert (options.idle_minutes, options.secure_cookies, options.trusted_proxies,
            options.timezone) == (5, True, 2, "Europe/Amsterdam")
    assert "secret" not in repr(options)
    assert HelpOptions.from_env({}, trusted_proxies=1).trusted_proxies == 1
    assert HelpOptions.from_env({}).secret_key != HelpOptions.from_env({}).secret_key


@pytest.mark.parametrize(("env", "message"), [
    ({"GO_SUPPORT_HELP_IDLE_MINUTES": "-1"}, "GO_SUPPORT_HELP_IDLE_MINUTES must be a whole"),
    ({"GO_SUPPORT_HELP_MAX_HOURS": "0"}, "max_hours must be 1 or more (got 0)"),
    ({"GO_SUPPORT_HELP_SECURE_COOKIES": "yes"}, "must be true, false or auto (got 'yes')"),
    ({"GO_SUPPORT_HELP_TIMEZONE": "Mars/Olympus"}, "there is no time zone 'Mars/Olympus'"),
    ({"GO_SUPPORT_HELP_SECRET_KEY": "short"}, "at least 16 characters"),
    ({"GO_SUPPORT_HELP_SECRET_KEY_FILE": "/nonexistent/secret"}, "cannot read /nonexistent"),
])
def test_bad_options_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(OptionsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        HelpOptions.from_env(env)


def test_failures_count_in_a_sliding_window() -> None:
    now = [0.0]
    limiter = FailureLimiter(3, 60.0, clock=lambda: now[0])
    for step in (0.0, 10.0, 20.0):
        now[0] = step
        assert limiter.retry_after("k") == 0
        limiter.fail("k")
    assert limiter.retry_after("k") == pytest.approx(40.0)  # the first failure ages out at 60
    assert limiter.retry_after("other") == 0
    now[0] = 60.0
    assert limiter.retry_after("k") == 0
    limiter.fail("k")
    assert limiter.retry_after("k") == pytest.approx(10.0)
    limiter.reset("k")
    assert limiter.retry_after("k") == 0


def test_sessions_end_when_idle_old_or_ended() -> None:
    now = [0.0]
    sessions = SessionRegistry(idle=10.0, max_age=25.0, clock=lambda: now[0])
    sid = sessions.start("7", "Ann")
    assert len(sid) >= 40
    for step in (9.0, 18.0):
        now[0] = step
        live = sessions.touch(sid)
        assert live is not None and live.user_id == "7"
    now[0] = 26.0  # used 8 s ago, but started 26 s ago
    assert sessions.touch(sid) is None
    other = sessions.start("8", "Bob")
    sessions.end(other)
    assert sessions.touch(other) is None
    assert sessions.touch("made-up") is None


def test_text_becomes_escaped_paragraphs() -> None:
    assert text_to_html("Hi <b>&\r\nline two\n\n\n  \nnext") == (
        "<p>Hi &lt;b&gt;&amp;<br>line two</p><p>next</p>")
    assert text_to_html("  \n\n") == ""


@pytest.mark.parametrize(("header", "expected"), [
    (["de-CH", "de"], "de_CH"), (["pt-BR"], "pt_BR"), (["zz", "fr-FR"], "fr_FR"),
    (["*"], "en"), ([], "en"), (["../../etc"], "en"), (["xx-YY", "nl"], "nl"),
])
def test_the_first_language_babel_knows(header: list[str], expected: str) -> None:
    assert str(pick_locale(header)) == expected


def test_dates_in_a_language_and_zone() -> None:
    from zoneinfo import ZoneInfo

    when = datetime(2026, 12, 6, 23, 5, tzinfo=UTC)
    assert format_date(when, pick_locale(["de"]), ZoneInfo("Europe/Berlin")) == (
        "07.12.2026, 00:05:00")
    assert format_date(when.replace(tzinfo=None), pick_locale(["en-US"]), UTC) == (
        "Dec 6, 2026, 11:05:00\u202fPM")
    assert format_date(None, pick_locale(["en"]), UTC) == ""
