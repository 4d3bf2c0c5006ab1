"""Routing by mailbox and recipient address, and the [mail] settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from go_support.mail.config import MailboxSettings, PasswordMissing, password_variable
from go_support.mail.routing import Router, split_plus
from go_support.settings import ConfigError, load_settings


def box(**values: object) -> MailboxSettings:
    base: dict[str, object] = {"host": "imap.desk.example", "user": "support@desk.example"}
    return MailboxSettings.model_validate(base | values)


ROUTER = Router(
    {
        "support": box(type="General", addresses={
            "Hardware@Desk.Example": "Hardware", "billing@desk.example": "Billing",
            "invoices@desk.example": "Billing", "support+urgent@desk.example": "Level 2"}),
        "untyped": box(),
        "strict": box(type="General", plus_types=False),
    },
    default_type="Inbox", type_names=["General", "Hardware", "Level 2", "Billing"])


@pytest.mark.parametrize(("recipients", "envelope", "expected", "reason"), [
    (["hardware@desk.example"], None, "Hardware", "sent to hardware@desk.example"),
    (["invoices@desk.example"], None, "Billing", "sent to invoices@desk.example"),  # alias
    (["support+level-2@desk.example"], None, "Level 2",
     "sent to support+level-2@desk.example, whose tag names the type"),
    (["support+urgent@desk.example"], None, "Level 2", "sent to support+urgent@desk.example"),
    (["billing+march@desk.example"], None, "Billing",
     "sent to billing+march@desk.example (plus-address of billing@desk.example)"),
    (["someone@else.example", "billing@desk.example"], None, "Billing",
     "sent to billing@desk.example"),  # To first, then Cc
    (["support@desk.example"], None, "General", "the type of mailbox 'support'"),
    (["hardware@desk.example"], "billing@desk.example", "Billing",
     "sent to billing@desk.example"),  # the envelope recipient says most
])
def test_one_mailbox_feeds_several_types(recipients: list[str], envelope: str | None,
                                         expected: str, reason: str) -> None:
    route = ROUTER.route("support", recipients, envelope_recipient=envelope)
    assert (route.type_name, route.reason) == (expected, reason)


def test_fallbacks_and_unknown_mailboxes() -> None:
    assert ROUTER.route("untyped", ["x@desk.example"]).type_name == "Inbox"
    assert ROUTER.route("strict", ["support+hardware@desk.example"]).type_name == "General"
    none = Router({"m": box()}).route("m", [])
    assert none.type_name is None
    assert none.reason == ("no ticket type: mailbox 'm' has no type, no address routes this "
                           "mail and [desk] default_type is not set")
    with pytest.raises(KeyError, match="no mailbox 'nope'"):
        ROUTER.route("nope", [])


def test_split_plus() -> None:
    assert split_plus("support+hw@x.org") == ("support@x.org", "hw")
    assert split_plus("support@x.org") == ("support@x.org", None)
    assert split_plus("support+@x.org") == ("support@x.org", None)


def test_passwords_come_from_the_environment() -> None:
    assert password_variable("Level 2 in-box") == "GO_SUPPORT_MAILBOX_LEVEL_2_IN_BOX_PASSWORD"
    mailbox = box()
    assert mailbox.password_for("support", {"GO_SUPPORT_MAILBOX_SUPPORT_PASSWORD": "s3"}) == "s3"
    assert box(password_env="IMAP_PW").password_for("x", {"IMAP_PW": "pw"}) == "pw"
    with pytest.raises(PasswordMissing, match="GO_SUPPORT_MAILBOX_SUPPORT_PASSWORD"):
        mailbox.password_for("support", {})
    assert "password" not in mailbox.model_dump()


def test_mail_settings_in_the_toml(tmp_path: Path) -> None:
    config = tmp_path / "go-support.toml"
    config.write_text('''
[mail]
addresses = ["support@desk.example"]
max_size_mb = 10
[mail.mailboxes.support]
host = "imap.desk.example"
user = "support@desk.example"
processed_flag = "$GoSupportDone"
processed_folder = "Done"
[mail.mailboxes.support.addresses]
"hardware@desk.example" = "Hardware"
[mail.mailboxes.demo]
kind = "maildir"
path = "maildir"
''')
    with pytest.raises(ConfigError) as failed:
        load_settings(config, env={})
    assert [str(p) for p in failed.value.problems] == [
        f"{config}: mail.mailboxes.support: give only one of processed_folder (mail is "
        "moved there) and processed_flag (mail is flagged and stays)"]
    config.write_text(config.read_text().replace('processed_folder = "Done"\n', ""))
    flagged = load_settings(config, env={}).mail.mailboxes["support"]
    assert (flagged.move_to, flagged.processed_flag) == (None, "$GoSupportDone")
    config.write_text(config.read_text().replace('processed_flag = "$GoSupportDone"\n', ""))
    settings = load_settings(config, env={})
    mail = settings.mail
    assert mail.max_bytes == 10 * 1024 * 1024 and mail.id_domain == "desk.example"
    assert mail.mailboxes["support"].effective_port == 993
    assert mail.mailboxes["support"].move_to == "Processed"
    assert mail.mailboxes["support"].addresses == {"hardware@desk.example": "Hardware"}
    assert mail.mailboxes["demo"].path == "maildir"


def test_bad_mail_settings_are_named(tmp_path: Path) -> None:
    config = tmp_path / "go-support.toml"
    config.write_text('''
[mail]
adresses = ["x@y.z"]
[mail.mailboxes.support]
host = "imap.desk.example"
password = "hunter2"
''')
    with pytest.raises(ConfigError) as failed:
        load_settings(config, env={})
    problems = [str(p) for p in failed.value.problems]
    assert f"{config}: mail.adresses: unknown key (did you mean 'addresses'?)" in problems
    assert any(p.startswith(f"{config}: mail.mailboxes.support.password: secrets do not "
                            "belong in the configuration file") for p in problems)
    assert "hunter2" not in str(failed.value)


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sysadmin.md").read_text()
    start = docs.index("```toml\n[mail]\n") + len("```toml\n")
    example = docs[start:docs.index("```", start)]
    config = tmp_path / "go-support.toml"
    config.write_text(example)
    mail = load_settings(config, env={}).mail
    assert mail.id_domain == "helpdesk.example.com"
    support = mail.mailboxes["support"]
    assert support.addresses["invoices@example.com"] == "Billing"
    route = Router(mail.mailboxes, type_names=["Level 2"]).route(
        "support", ["support+level-2@example.com"])
    assert route.type_name == "Level 2"
