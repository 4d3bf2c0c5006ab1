"""``go_support.settings``: file, environment, precedence, every problem with file and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from go_support.settings import (
    DEFAULT_FEEDBACK_TEXT,
    ConfigError,
    Settings,
    load_settings,
)

SECRET = "k3y-Th4t-Must-N3ver-Show-0123456789abcdefghij"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems(text: str, name: str = "go-support.toml") -> list[str]:
    path = write(Path(name), text)
    with pytest.raises(ConfigError) as exc:
        load_settings(path)
    assert all(p.source == name for p in exc.value.problems)
    return [str(p) for p in exc.value.problems]


FULL = """
[groupoffice]
url = "https://go.example.com/"
timeout = 12
verify_tls = true
api_key_file = "secrets/api-key"

[desk]
managers_group = "Support managers"
default_type = "General"
customer_groups = ["Customers", 7]

[desk.close]
feedback = "public"
feedback_text = "Closed after 14 days without an answer."

[types."Level 2"]
customer_groups = ["Key accounts"]

[types.Hardware]
"""


def test_a_full_file(isolated: Path) -> None:
    key = write(Path("secrets/api-key"), SECRET + "\n")
    key.chmod(0o600)
    write(Path("go-support.toml"), FULL)

    settings = load_settings()

    go = settings.groupoffice
    assert (go.url, go.timeout, go.verify, go.api_key) == (
        "https://go.example.com", 12.0, True, SECRET)
    assert go.api_key_file == str(key.absolute())
    assert settings.desk.managers_group == "Support managers"
    assert settings.desk.close.feedback == "public"
    assert settings.customer_groups("Level 2") == ["Key accounts"]
    assert settings.customer_groups("level 2") == ["Key accounts"]
    assert settings.customer_groups("Hardware") == ["Customers", 7]  # entry without groups
    assert settings.customer_groups("Software") == ["Customers", 7]
    assert settings.path == Path("go-support.toml")
    assert settings.warnings == ()
    assert settings.origins["groupoffice.api_key"] == f"file {key.absolute()}"


def test_no_file_at_all_is_fine() -> None:
    settings = load_settings()
    assert settings.path is None
    assert settings.groupoffice.url is None and settings.groupoffice.api_key is None
    assert settings.desk.close.feedback == "none"
    assert settings.desk.close.feedback_text == DEFAULT_FEEDBACK_TEXT
    assert settings.customer_groups("Anything") == []
    assert {origin for _, _, origin in settings.effective()} == {"default"}


# --- every problem names the file and the key -------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ('[desk.close]\nfeedback = "loud"\n',
     "go-support.toml: desk.close.feedback: must be one of none, private, public (got 'loud')"),
    ('[groupoffice]\ntimeout = 0\n',
     "go-support.toml: groupoffice.timeout: must be greater than 0 (got 0)"),
    ('[groupoffice]\ntimeout = "30"\n',
     "go-support.toml: groupoffice.timeout: must be a number (got '30')"),
    ('[groupoffice]\nverify_tls = "no"\n',
     "go-support.toml: groupoffice.verify_tls: must be true or false (got 'no')"),
    ('[groupoffice]\nurl = "go.example.com"\n',
     "go-support.toml: groupoffice.url: must be an http(s) URL such as https://go.example.com"),
    ('[groupoffice]\nurl = "https://admin:pw@go.example.com"\n',
     "go-support.toml: groupoffice.url: must not contain a user name or password"),
    ('[desk]\nmanagers_group = true\n',
     "go-support.toml: desk.managers_group: must be a group name (a string) or a group id"),
    ('[desk]\nmanagers_group = -3\n',
     "go-support.toml: desk.managers_group: a group id must be a positive number (got -3)"),
    ('[desk]\ncustomer_groups = "Customers"\n',
     'go-support.toml: desk.customer_groups: must be a list, e.g. ["Customers"]'),
    ('[desk]\ndefault_type = " "\n', "go-support.toml: desk.default_type: must not be empty"),
    ('[desk.close]\nfeedback_text = ""\n', "go-support.toml: desk.close.feedback_text: must not"),
    ('[types."Level 1"]\ncustomer_groups = ["A", ""]\n',
     'go-support.toml: types."Level 1".customer_groups[1]: a group name must not be empty'),
    ('desk = 5\n', "go-support.toml: desk: must be a table (got 5)"),
    ('[types]\nHardware = 1\n', "go-support.toml: types.Hardware: must be a table (got 1)"),
    ('[groupoffice]\nca_bundle = "nowhere.pem"\n',
     "go-support.toml: groupoffice.ca_bundle: no such file: "),
    ('[groupoffice]\napi_key_file = "nowhere"\n',
     "go-support.toml: groupoffice.api_key_file: no such file: "),
])
def test_each_problem_names_file_and_key(text: str, expected: str) -> None:
    found = problems(text)
    assert len(found) == 1, found
    assert found[0].startswith(expected), found[0]


@pytest.mark.parametrize(("text", "expected"), [
    ("[groupoffice]\nurll = 'x'\n", "groupoffice.urll: unknown key (did you mean 'url'?)"),
    ("[desk.close]\nfeedbak = 'none'\n",
     "desk.close.feedbak: unknown key (did you mean 'feedback'?)"),
    ("[deks]\nx = 1\n", "deks: unknown section (did you mean 'desk'?)"),
    ("[types.Hardware]\ncustomers = ['A']\n",
     "types.Hardware.customers: unknown key (did you mean 'customer_groups'?)"),
    ("smtp = 1\n", "smtp: unknown key (known keys: groupoffice, desk, types, mail, expiry)"),
])
def test_unknown_keys_are_errors(text: str, expected: str) -> None:
    assert problems(text) == [f"go-support.toml: {expected}"]


def test_all_problems_are_reported_at_once() -> None:
    found = problems(
        '[groupoffice]\ntimeout = -1\nverify_tls = 1\ntypo = 2\n'
        '[desk.close]\nfeedback = "loud"\n[types.X]\ncustomer_groups = [true]\n',
        name="conf/site.toml",
    )
    keys = [p.split(": ")[1] for p in found]
    assert sorted(keys) == sorted(["groupoffice.typo", "groupoffice.timeout",
                                   "groupoffice.verify_tls", "desk.close.feedback",
                                   "types.X.customer_groups[0]"])
    assert all(p.startswith("conf/site.toml: ") for p in found)


def test_the_message_lists_every_problem() -> None:
    write(Path("go-support.toml"), '[desk.close]\nfeedback = "loud"\n[desk]\nx = 1\n')
    with pytest.raises(ConfigError) as exc:
        load_settings()
    text = str(exc.value)
    assert text.startswith("2 problems in the configuration:")
    assert "go-support.toml: desk.close.feedback:" in text
    assert "go-support.toml: desk.x: unknown key" in text


def test_broken_toml_names_the_file_and_the_line() -> None:
    found = problems('[desk]\nmanagers_group = "Managers\n')
    assert found[0].startswith("go-support.toml: not valid TOML:")
    assert "line 2" in found[0]


def test_an_explicit_file_must_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings("missing.toml")
    assert str(exc.value) == "missing.toml: no such file (named by --config)"
    monkeypatch.setenv("GO_SUPPORT_CONFIG", "/nonexistent/go.toml")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert str(exc.value) == "/nonexistent/go.toml: no such file (named by $GO_SUPPORT_CONFIG)"


def test_an_api_key_in_the_file_is_an_error_saying_where_it_goes() -> None:
    found = problems(f'[groupoffice]\napi_key = "{SECRET}"\n')
    assert found[0].startswith("go-support.toml: groupoffice.api_key: secrets do not belong")
    assert "GO_SUPPORT_API_KEY" in found[0] and "groupoffice.api_key_file" in found[0]
    assert SECRET not in found[0]


@pytest.mark.parametrize("content", ["", "\n  \n", "two words\n"])
def test_a_bad_key_file_is_an_error(content: str) -> None:
    write(Path("key"), content)
    found = problems('[groupoffice]\napi_key_file = "key"\n')
    assert found[0].startswith("go-support.toml: groupoffice.api_key_file: ")


def test_ca_bundle_and_no_verification_contradict(isolated: Path) -> None:
    write(Path("ca.pem"), "-----BEGIN CERTIFICATE-----\n")
    found = problems('[groupoffice]\nverify_tls = false\nca_bundle = "ca.pem"\n')
    assert found == ["go-support.toml: groupoffice.ca_bundle: cannot be combined with "
                     "verify_tls = false: either verify with this bundle or do not verify at all"]
    settings = load_settings(write(Path("ok.toml"), '[groupoffice]\nca_bundle = "ca.pem"\n'))
    assert settings.groupoffice.verify == str(Path("ca.pem").absolute())


# --- where the file is, and what wins ------------------------------------------------------


def test_file_search_order(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    etc = write(isolated / "etc" / "config.toml", '[desk]\ndefault_type = "etc"\n')
    assert load_settings().desk.default_type == "etc"
    home = write(isolated / "home" / ".config" / "go-support" / "config.toml",
                 '[desk]\ndefault_type = "home"\n')
    assert load_settings().desk.default_type == "home"
    write(Path("go-support.toml"), '[desk]\ndefault_type = "cwd"\n')
    assert load_settings().desk.default_type == "cwd"
    monkeypatch.setenv("GO_SUPPORT_CONFIG", str(home))
    assert load_settings().desk.default_type == "home"
    assert load_settings(etc).desk.default_type == "etc"
    assert load_settings(etc).path == etc


def test_environment_and_options_override_the_file(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(Path("key"), "from-the-file-0123456789\n").chmod(0o600)
    path = write(Path("go-support.toml"),
                 '[groupoffice]\nurl = "https://file.example.com"\ntimeout = 5\n'
                 'api_key_file = "key"\n')

    settings = load_settings()
    assert settings.groupoffice.url == "https://file.example.com"
    assert settings.groupoffice.api_key == "from-the-file-0123456789"
    assert settings.origins["groupoffice.url"] == str(path)

    monkeypatch.setenv("GO_SUPPORT_URL", "https://env.example.com")
    monkeypatch.setenv("GO_SUPPORT_API_KEY", "from-the-environment-0123")
    settings = load_settings()
    assert settings.groupoffice.url == "https://env.example.com"
    assert settings.groupoffice.api_key == "from-the-environment-0123"
    assert settings.origins["groupoffice.url"] == "environment variable GO_SUPPORT_URL"
    assert settings.origins["groupoffice.api_key"] == "environment variable GO_SUPPORT_API_KEY"
    assert settings.groupoffice.timeout == 5

    settings = load_settings(overrides={
        "groupoffice.url": ("https://option.example.com", "--url"),
        "groupoffice.api_key": ("from-the-option-0123456", "--api-key"),
        "groupoffice.timeout": (7.5, "--timeout"),
        "groupoffice.verify_tls": (False, "--insecure"),
    })
    go = settings.groupoffice
    assert (go.url, go.api_key, go.timeout, go.verify) == (
        "https://option.example.com", "from-the-option-0123456", 7.5, False)
    assert settings.origins["groupoffice.timeout"] == "--timeout"
    assert str(settings.warnings[0]).startswith(
        "--insecure: groupoffice.verify_tls: TLS certificates are not verified")


def test_a_bad_value_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GO_SUPPORT_URL", "ftp://go.example.com")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert str(exc.value).startswith(
        "environment variable GO_SUPPORT_URL: groupoffice.url: must be an http(s) URL")


def test_warnings() -> None:
    write(Path("key"), "0123456789abcdef\n").chmod(0o644)
    settings = load_settings(write(
        Path("go-support.toml"),
        '[groupoffice]\nurl = "http://go.example.com"\nverify_tls = false\n'
        'api_key_file = "key"\n'))
    text = "\n".join(str(w) for w in settings.warnings)
    assert "go-support.toml: groupoffice.verify_tls: TLS certificates are not verified" in text
    assert "go-support.toml: groupoffice.url: plain http" in text
    assert "chmod 600" in text
    loopback = load_settings(write(Path("l.toml"), '[groupoffice]\nurl = "http://127.0.0.1:8080"\n'))
    assert loopback.warnings == ()


# --- secrets ------------------------------------------------------------------------------


def test_the_api_key_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GO_SUPPORT_API_KEY", SECRET)
    settings = load_settings()
    assert settings.groupoffice.api_key == SECRET
    shown = [repr(settings), str(settings), repr(settings.groupoffice),
             settings.model_dump_json(), json.dumps(settings.public_dict()),
             repr(settings.effective()), repr(settings.origins), repr(settings.model_dump())]
    for text in shown:
        assert SECRET not in text
    assert settings.public_dict()["groupoffice"]["api_key"] == "<set>"
    assert load_settings(env={}).public_dict()["groupoffice"]["api_key"] == "<not set>"


def test_client_needs_url_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings().client()
    assert [p.key for p in exc.value.problems] == ["groupoffice.url", "groupoffice.api_key"]
    monkeypatch.setenv("GO_SUPPORT_URL", "https://go.example.com")
    monkeypatch.setenv("GO_SUPPORT_API_KEY", SECRET)
    client = load_settings().client()
    assert client.base_url == "https://go.example.com"
    assert SECRET not in repr(client)


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError):
        settings.desk = settings.desk  # type: ignore[misc]
    assert isinstance(settings, Settings)
