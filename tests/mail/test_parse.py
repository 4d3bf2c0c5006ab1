"""Parsing: every real-world mail of the fixtures folder, and bad input of every kind.

Each fixture has its expected outcome written out: a ticket-ready mail (its sender, the
start of its title and its attachments' names), or a quarantine with its reason. A new file
in the folder fails the test until its outcome is written here.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import NamedTuple

import pytest

from go_support.htmlrules import detect_xss
from go_support.mail.parse import (
    DEFAULT_MAX_BYTES,
    ParsedMail,
    Quarantine,
    decode_header_text,
    normalise_message_id,
    parse_mail,
    replace_cids,
    text_to_html,
)
from tests.mail.fixtures import all_mails, read


class M(NamedTuple):
    sender: str
    title: str
    attachments: tuple[str, ...]


class Q(NamedTuple):
    code: str


EXPECTED: dict[str, M | Q] = {
    "attachment_emails/attachment_content_disposition.eml":
        M("foo@example.com", 'testing', ("api.rb",)),
    "attachment_emails/attachment_content_location.eml":
        M("foo@example.com", 'testing', ("Photo25.jpg",)),
    "attachment_emails/attachment_message_rfc822.eml":
        M("foo@example.com", 'testing', ("ForwardedMessage.eml",)),
    "attachment_emails/attachment_message_rfc822_inline_image.eml":
        M("test@example.com", 'test', ("img.png", "Testmail.eml")),
    "attachment_emails/attachment_nonascii_filename.eml":
        M("foo@example.com", 'testing', ("ciële.txt",)),
    "attachment_emails/attachment_only_email.eml":
        M("rfinnie@domain.dom", 'this message JUST contai', ("blah.gz",)),
    "attachment_emails/attachment_pdf.eml":
        M("xxxx@xxxx.com", 'Another PDF with 🎉 Unico', ("broken.pdf",)),
    "attachment_emails/attachment_pdf_lf.eml":
        M("xxxx@xxxx.com", 'Another PDF with 🎉 Unico', ("broken.pdf",)),
    "attachment_emails/attachment_pdf_non_ascii.eml":
        M("xxxx@xxxx.com", 'Another PDF with 🎉 Unico', ("broken.pdf",)),
    "attachment_emails/attachment_pdf_non_ascii_lf.eml":
        M("xxxx@xxxx.com", 'Another PDF with 🎉 Unico', ("broken.pdf",)),
    "attachment_emails/attachment_with_base64_encoded_name.eml":
        M("xxxxxxxxx.xxxxxxx@gmail.com", 'Fwd: Signed email causes', ("This is a test.pdf",)),
    "attachment_emails/attachment_with_encoded_name.eml": M(
        "xxxxxxxxx.xxxxxxx@gmail.com", 'Fwd: Signed email causes',
        ("01 Quien Te Dij\ufffdat. Pitbull.mp3",)),
    "attachment_emails/attachment_with_quoted_filename.eml":
        M("jeff@37signals.com", 'Eelanalüüsi päring', ("Eelanalüüsi päring.jpg",)),
    "attachment_emails/attachment_with_unquoted_name.eml":
        M("foo@example.com", 'testing', ("This is a test.txt",)),
    "error_emails/bad_date_header.eml":
        M("infoz@reactive-outpost.com", 'You may_be Eligible for ', ()),
    "error_emails/bad_encoded_subject.eml": Q("no-sender"),
    "error_emails/cant_parse_from.eml":
        M("News@InsideApple.Apple.com", 'Meet the new MacBook Pro', ()),
    "error_emails/content_transfer_encoding_empty.eml":
        M("3712f2@msa.hinet.net", '4d8119', ()),
    "error_emails/content_transfer_encoding_qp_with_space.eml":
        M("fyouizjnp@swissonline.ch", 'Low or High Blood Pressu', ()),
    "error_emails/content_transfer_encoding_text-html.eml":
        M("abhijit.862153drinnan@datavalet.com", 'Re: We will help you ref', ()),
    "error_emails/content_transfer_encoding_with_semi_colon.eml":
        M("nsukijamq@morozstudio.tk", 'Attention', ()),
    "error_emails/empty_group_lists.eml":
        M("ceciledwards@sbcglobal.net", 'Western Union Swift Mone', ()),
    "error_emails/encoding_madness.eml":
        M("no-reply@crm.el-example.org", 'eBay Bid - 2008 Ford Sup', ()),
    "error_emails/invalid_subject_characters.eml":
        M("info@formacaofrenetik.info", 'Formação FrenetikPolis: ', ()),
    "error_emails/missing_content_disposition.eml":
        M("redacted@example.com", 'Redacted', ("somefile.jpg",)),
    "error_emails/multiple_invalid_content_dispositions.eml":
        M("redacted@flashmail.net", 'Redacted', ()),
    "error_emails/must_supply_encoding.eml":
        M("info@here2there-travelers-msgs.net", 'Impress your clients wit', ()),
    "error_emails/trademark_character_in_subject.eml":
        M("j@yahoo-example.com", 'GA.comô has a lead for y', ()),
    "mime_emails/email_with_similar_boundaries.eml":
        M("xxxxxx@xxxxxxxx.xxx", 'Xxxxxx', ("LOGO.png",)),
    "mime_emails/raw_email11.eml": M("xxxxx@xxxxx", 'worse when you use them.', ()),
    "mime_emails/raw_email12.eml": M("foo@example.com", 'testing', ("Photo25.jpg",)),
    "mime_emails/raw_email2.eml": M("xxxxxxxxx.xxxxxxx@gmail.com", 'Fwd: Signed email causes', ()),
    "mime_emails/raw_email4.eml": M("xxx@xxxx.xxx", 'Filth', ("text.txt",)),
    "mime_emails/raw_email7.eml": M("foo@example.com", 'testing', ("test.rb", "test.pdf")),
    "mime_emails/raw_email_encoded_stack_level_too_deep.eml":
        M("gmail-noreply@google.com", 'Nicolas Fouché has accep', ()),
    "mime_emails/raw_email_with_binary_encoded.eml":
        M("email_test@me.nowhere", 'Testing outlook', ("2013-08-13_19-08-28-1.jpg",)),
    "mime_emails/raw_email_with_illegal_boundary.eml":
        M("email_test@me.nowhere", 'Testing outlook', ()),
    "mime_emails/raw_email_with_mimepart_without_content_type.eml": M(
        "MAILER-DAEMON@antivirus.uqam.ca", 'Warning: could not send ',
        ("delivery-status.txt", "Est-ce toi _.eml")),
    "mime_emails/raw_email_with_multipart_mixed_quoted_boundary.eml":
        M("email_test@me.nowhere", 'Testing outlook', ("broken.pdf",)),
    "mime_emails/raw_email_with_nested_attachment.eml":
        M("jamis@37signals.com", 'Testing attachments', ("truncated.png",)),
    "mime_emails/raw_email_with_quoted_illegal_boundary.eml":
        M("email_test@me.nowhere", 'Testing outlook', ()),
    "mime_emails/sig_only_email.eml": M("test@test.lindsaar.net", 'Re: Testing multipart/si', ()),
    "mime_emails/two_from_in_message.eml": M("tester1@test.com", 'Sending messages include', ()),
    "multi_charset/japanese.eml": M("raasdnil@gmail.com", 'まみむめも', ()),
    "multi_charset/japanese_attachment.eml": M("raasdnil@gmail.com", 'testing', ("てすと.txt",)),
    "multi_charset/japanese_attachment_long_name.eml": M(
        "mikel@test.lindsaar.net", 'まみむめもまみむめもまみむめもまみむめもまみむめ',
        ("かきくけこかきくけこかきくけこかきくけこかきくけこ.txt",)),
    "multi_charset/japanese_iso_2022.eml": M("raasdnil@gmail.com", 'まみむめも', ()),
    "multi_charset/japanese_shift_jis.eml": M("xxxxxxx@docomo.ne.jp", 'test', ()),
    "multi_charset/ks_c_5601-1987.eml": M("from@example.com", 'test', ()),
    "multipart_report_emails/multi_address_bounce1.eml": M(
        "MAILER-DAEMON@lvmail01.LL.com", 'Undelivered Mail Returne',
        ("delivery-status.txt", "Test of bounce email.eml")),
    "multipart_report_emails/multi_address_bounce2.eml": M(
        "MAILER-DAEMON@lvmail01.LL.com", 'Undelivered Mail Returne',
        ("delivery-status.txt", "Test of bounce email.eml")),
    "multipart_report_emails/multipart_report_multiple_status.eml": M(
        "Postmaster@ci.com", 'Mail System Error - Retu',
        ("delivery-status.txt", "delivery-status-2.txt",
         "Your Friend F M wants you to join HomeRun.eml")),
    "multipart_report_emails/report_422.eml": M(
        "MAILER-DAEMON@tppppp.com.au", 'Warning: could not send ',
        ("delivery-status.txt", "returned-headers.txt")),
    "multipart_report_emails/report_530.eml": M(
        "MAILER-DAEMON@tttttt.com.au", 'Returned mail: see trans',
        ("delivery-status.txt", "returned-headers.txt")),
    "plain_emails/basic_email.eml": M("test@lindsaar.net", 'Testing 123', ()),
    "plain_emails/basic_email_lf.eml": M("test@lindsaar.net", 'Testing 123', ()),
    "plain_emails/mix_caps_content_type.eml": M("bb@bug.com", 'undef method parameter b', ()),
    "plain_emails/raw_email.eml": M("jamis@37signals.com", 'NOTE: 한국말로 하는 것', ()),
    "plain_emails/raw_email10.eml": M("xxx@xxxx.xxx", '(no subject)', ()),
    "plain_emails/raw_email5.eml": M("xxx@xxxx.xxx", '(no subject)', ()),
    "plain_emails/raw_email6.eml": M("xxx@xxxx.xxx", '(no subject)', ()),
    "plain_emails/raw_email8.eml": M(
        "xxxxxxxxx.xxxxxxx@gmail.com", 'Fwd: Signed email causes',
        ("01 Quien Te Dij\ufffdat. Pitbull.mp3",)),
    "plain_emails/raw_email_bad_time.eml":
        M("yusuf75thu@auracom.net", '[0]: XXXXXXX XXXXX XXXXX', ()),
    "plain_emails/raw_email_double_at_in_header.eml":
        M("jamis@37signals.com", 'NOTE: 한국말로 하는 것', ()),
    "plain_emails/raw_email_incorrect_header.eml":
        M("xxx@xxx.xxx", 'Stop adware/spyware once', ()),
    "plain_emails/raw_email_multiple_from.eml":
        M("tim@powerupdev.com", '/home/svn/public/minebox', ()),
    "plain_emails/raw_email_quoted_with_0d0a.eml": M("foo@example.com", 'testing', ()),
    "plain_emails/raw_email_reply.eml": M("xxxxxxxx@xxx.org", 'Re: Test reply email', ()),
    "plain_emails/raw_email_simple.eml": M("mikel@nowhere.com", 'Testing outlook', ()),
    "plain_emails/raw_email_string_in_date_field.eml":
        M("mikel@me.com", 'NOTE: 한국말로 하는 것', ()),
    "plain_emails/raw_email_trailing_dot.eml":
        M("noreply@rubyforge.org", '[skynet-help][60666] How', ()),
    "plain_emails/raw_email_with_at_display_name.eml": M("test@lindsaar.net", 'Testing 123', ()),
    "plain_emails/raw_email_with_bad_date.eml":
        M("subventive@vodtravel.com", 'Microsoft Vlsta & Office', ()),
    "plain_emails/raw_email_with_partially_quoted_subject.eml":
        M("jamis@37signals.com", 'Re: Test: "漢字" mid "漢字" ', ()),
    "rfc2822/example01.eml": M("jdoe@machine.example", 'Saying Hello', ()),
    "rfc2822/example03.eml": M("john.q.public@example.com", '(no subject)', ()),
    "rfc2822/example05.eml": M("jdoe@machine.example", 'Saying Hello', ()),
    "rfc2822/example07.eml": M("jdoe@machine.example", 'Re: Saying Hello', ()),
    "rfc2822/example09.eml": M("jdoe@machine.example", 'Saying Hello', ()),
    "rfc2822/example11.eml": M("john.q.public@example.com", '(no subject)', ()),
    "rfc2822/example13.eml": M("jdoe@machine.example", 'Saying Hello', ()),
    "rfc6532/utf8_headers.eml": M("jdöe@mächine.example", 'Säying Hello', ()),
    "sample_output_multipart/sample_output_multipart": Q("empty"),
}


def test_the_table_names_every_fixture() -> None:
    assert sorted(EXPECTED) == all_mails()
    assert len(EXPECTED) == 83


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_has_its_outcome(name: str) -> None:
    raw = read(name)
    result = parse_mail(raw)
    expected = EXPECTED[name]
    if isinstance(expected, Q):
        assert isinstance(result, Quarantine), result
        assert result.code == expected.code
        assert result.raw == raw and result.reason
        return
    assert isinstance(result, ParsedMail), result
    assert result.sender.email == expected.sender
    assert result.title.startswith(expected.title)
    assert tuple(a.filename for a in result.attachments) == expected.attachments
    assert result.raw == raw
    # what a ticket shows is what Group-Office accepts
    assert not detect_xss(result.html)
    assert "<script" not in result.html.lower()
    assert len(result.title) <= 255


def mail(name: str) -> ParsedMail:
    result = parse_mail(read(name))
    assert isinstance(result, ParsedMail), result
    return result


# --- what the fixtures hold, in detail -----------------------------------------------------


def test_charsets_are_decoded() -> None:
    assert mail("multi_charset/japanese_shift_jis.eml").text.startswith("あいうえお")
    assert mail("multi_charset/japanese_iso_2022.eml").text == "すみません。"
    assert mail("multi_charset/japanese_iso_2022.eml").subject == "まみむめも"
    assert mail("multi_charset/ks_c_5601-1987.eml").text == "스티해"
    korean = mail("plain_emails/raw_email.eml")
    assert korean.subject == "NOTE: 한국말로 하는 것"
    assert "제 이름은 Jamis입니다." in korean.text
    utf8 = mail("rfc6532/utf8_headers.eml")
    assert (utf8.sender.name, utf8.sender.email) == ("Jöhn Doe", "jdöe@mächine.example")
    assert utf8.subject == "Säying Hello"
    latin = mail("error_emails/invalid_subject_characters.eml")  # raw 8-bit Latin-1 header
    assert latin.subject.startswith("Formação FrenetikPolis: Mega Campanha Final Verão")
    assert latin.sender.name == "Formação Frenetikpolis"


def test_an_unknown_charset_is_read_with_a_note() -> None:
    unknown = mail("plain_emails/raw_email10.eml")  # charset=X-UNKNOWN
    assert "Envoyé par le service de messagerie texte de Bell Mobilité." in unknown.text
    assert any("unknown charset 'X-UNKNOWN'" in note for note in unknown.notes)


def test_attachment_names_are_decoded() -> None:
    assert mail("attachment_emails/attachment_nonascii_filename.eml").attachments[0].filename \
        == "ciële.txt"
    japanese = mail("multi_charset/japanese_attachment.eml").attachments[0]
    assert (japanese.filename, japanese.content_type) == ("てすと.txt", "text/plain")
    pdf = mail("attachment_emails/attachment_pdf.eml").attachments[0]
    assert pdf.content_type == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_inline_images_keep_their_cid_references() -> None:
    result = mail("attachment_emails/attachment_message_rfc822_inline_image.eml")
    image, message = result.attachments
    assert image.inline and image.content_id == "emedfeb92f-a786-4718-a446-98db8afb53fb@kronos"
    assert image.data.startswith(b"\x89PNG")
    assert f'src="cid:{image.content_id}"' in result.html
    shown = replace_cids(result.html, {image.content_id: "https://go.example/blob/1?a=b"})
    assert shown == '<img src="https://go.example/blob/1?a=b">'
    # the attached message is kept whole, as a file a mail client opens
    assert message.content_type == "message/rfc822" and not message.inline
    inner = parse_mail(message.data)
    assert isinstance(inner, ParsedMail) and inner.subject


def test_an_image_the_body_does_not_show_is_an_attachment() -> None:
    apple = mail("attachment_emails/attachment_content_location.eml")  # inline, no cid: in text
    [photo] = apple.attachments
    assert (photo.filename, photo.content_id, photo.inline) == ("Photo25.jpg", "qbFGyPQAS8",
                                                                False)


def test_the_digest_tells_mails_with_one_message_id_apart() -> None:
    one, two = mail("mime_emails/raw_email12.eml"), mail("mime_emails/raw_email7.eml")
    assert one.message_id == two.message_id
    assert one.digest != two.digest and len(one.digest) == 64


def test_attached_messages_are_files() -> None:
    forwarded = mail("attachment_emails/attachment_message_rfc822.eml").attachments[0]
    assert forwarded.content_type == "message/rfc822"
    assert b"Subject:" in forwarded.data


def test_plain_text_becomes_html_and_flowed_lines_join() -> None:
    result = mail("plain_emails/basic_email.eml")  # format=flowed
    assert result.html == "<p>Plain email.</p>\n<p>Hope it works well!</p>\n<p>Mikel</p>"
    assert text_to_html("a <b> & c\nnext\n\nsee https://x.example/a?b=1.") == (
        '<p>a &lt;b&gt; &amp; c<br>\nnext</p>\n'
        '<p>see <a href="https://x.example/a?b=1">https://x.example/a?b=1</a>.</p>')
    assert text_to_html("one \ntwo", flowed=True) == "<p>one two</p>"


def test_threading_headers_and_dates() -> None:
    reply = mail("rfc2822/example07.eml")
    assert reply.message_id == "<abcd.1234@local.machine.tld>"
    assert reply.in_reply_to == ("<3456@example.net>",)
    assert reply.references == ("<1234@local.machine.example>", "<3456@example.net>")
    assert reply.date == datetime(1997, 11, 21, 17, 0, tzinfo=UTC)
    obsolete = mail("rfc2822/example13.eml")  # RFC 2822 obsolete syntax, comments everywhere
    assert obsolete.message_id == "<1234@local.machine.example>"
    assert obsolete.date == datetime(1997, 11, 21, 15, 55, 6, tzinfo=UTC)
    assert mail("plain_emails/raw_email_with_bad_date.eml").date is None
    assert mail("plain_emails/raw_email_bad_time.eml").date is None  # the year 3609


def test_broken_structures_are_repaired() -> None:
    boundary = mail("mime_emails/raw_email_with_illegal_boundary.eml")
    assert "Hello" in boundary.text and boundary.html
    headers = mail("plain_emails/raw_email_incorrect_header.eml")  # "quite Delivered-To: ..."
    assert headers.subject == "Stop adware/spyware once and for all."
    assert "You are infected with:" in headers.text
    semicolon = mail("error_emails/content_transfer_encoding_with_semi_colon.eml")
    assert "=3D" not in semicolon.html  # "quoted-printable;" still decoded


def test_recipients_and_several_senders() -> None:
    two = mail("plain_emails/raw_email_with_at_display_name.eml")
    assert [a.email for a in two.from_] == ["test@lindsaar.net", "jack@lindsar.com"]
    assert any("2 addresses in From" in note for note in two.notes)
    to = mail("rfc2822/example01.eml")
    assert [a.email for a in to.recipients] == ["mary@example.net"]


# --- bad input -------------------------------------------------------------------------------


def test_zero_bytes_and_blanks_are_quarantined() -> None:
    assert parse_mail(b"") == Quarantine("empty", "the mail is empty (0 bytes)", b"")
    blank = parse_mail(b"\r\n  \r\n")
    assert isinstance(blank, Quarantine) and blank.code == "empty"


def test_binary_garbage_is_not_a_mail() -> None:
    garbage = bytes(range(256)) * 16 + os.urandom(4096)
    result = parse_mail(garbage)
    assert isinstance(result, Quarantine) and result.code == "not-a-mail"
    assert result.raw == garbage
    pdf = parse_mail(read("attachment_emails/attachment_pdf.eml").split(b"\r\n\r\n", 1)[1])
    assert isinstance(pdf, Quarantine) and pdf.code in ("not-a-mail", "no-sender")


def test_oversize_is_quarantined_with_the_limit() -> None:
    raw = read("plain_emails/basic_email.eml")
    result = parse_mail(raw, max_bytes=1000)
    assert isinstance(result, Quarantine) and result.code == "too-large"
    assert result.reason == (
        f"the mail has {len(raw):,} bytes, over the size limit of 1,000 bytes "
        "(mail.max_size_mb)")
    assert isinstance(parse_mail(raw, max_bytes=len(raw)), ParsedMail)
    assert DEFAULT_MAX_BYTES == 25 * 1024 * 1024


def test_a_charset_that_does_not_exist() -> None:
    raw = (b"From: a@example.org\r\nSubject: =?x-no-such-charset?Q?caf=C3=A9?=\r\n"
           b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n") + (
        "Grüße".encode("latin-1"))
    result = parse_mail(raw)
    assert isinstance(result, ParsedMail)
    assert result.subject == "café" and result.text == "Grüße"
    assert any("x-no-such-charset" in note for note in result.notes)


@pytest.mark.parametrize("name", [n for n, e in EXPECTED.items() if isinstance(e, M)])
def test_every_fixture_truncated_anywhere_still_has_an_outcome(name: str) -> None:
    raw = read(name)
    for cut in sorted({1, 7, 40, len(raw) // 3, len(raw) // 2, len(raw) - 3}):
        result = parse_mail(raw[:cut])
        assert isinstance(result, ParsedMail | Quarantine)
        if isinstance(result, Quarantine):  # a reason, not the parser's safety net
            assert result.code in ("not-a-mail", "no-sender"), (cut, result)


def test_a_truncated_multipart_is_kept_with_a_note() -> None:
    raw = read("attachment_emails/attachment_pdf.eml")
    result = parse_mail(raw[: int(len(raw) * 0.8)])
    assert isinstance(result, ParsedMail)
    assert result.subject.startswith("Another PDF")
    assert any("truncated" in note for note in result.notes)


def test_no_sender_is_quarantined_with_what_from_said() -> None:
    result = parse_mail(b"From: nobody at all\r\nSubject: hi\r\n\r\nbody\r\n")
    assert isinstance(result, Quarantine) and result.code == "no-sender"
    assert result.reason == "no sender address: From 'nobody at all' is not an address"


def test_non_bytes_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="bytes"):
        parse_mail("From: a@b.c\r\n\r\n")  # type: ignore[arg-type]


# --- HTML ------------------------------------------------------------------------------------


def html_mail(body: str) -> ParsedMail:
    raw = ("From: a@example.org\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           + body).encode()
    result = parse_mail(raw)
    assert isinstance(result, ParsedMail)
    return result


def test_html_is_cleaned_before_group_office_sees_it() -> None:
    result = html_mail(
        '<html><head><title>T</title><style>p{}</style><script>alert(1)</script></head>'
        '<body><p onclick="x()" style="color:red;position:fixed">Hi '
        '<a href="javascript:alert(1)">click</a> <a href="https://ok.example/">ok</a>'
        '<img src="cid:logo@x" onerror="y()"><iframe src="https://evil"></iframe></p></body>')
    assert result.html == (
        '<p style="color:red">Hi <a rel="noopener noreferrer">click</a> '
        '<a href="https://ok.example/" rel="noopener noreferrer">ok</a>'
        '<img src="cid:logo@x"></p>')
    assert not detect_xss(result.html)
    assert result.text == "Hi click ok"


def test_words_that_look_like_scripts_survive() -> None:
    result = html_mail("<p>type javascript: in the address bar</p>")
    assert not detect_xss(result.html)
    assert "javascript" in result.text.replace("\u200b", "")


# --- headers ----------------------------------------------------------------------------------


def test_header_decoding() -> None:
    # a multi-byte character split across two encoded words
    assert decode_header_text("=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?=") == "café"
    assert decode_header_text("=?utf-8?B?w6k=?= x =?utf-8?B?w6k=?=") == "é x é"
    assert decode_header_text("=?UTF-8?B?4pyT?=\r\n =?UTF-8?Q?_done?=") == "✓ done"
    assert decode_header_text("=?NONE?B?VEVTVA=?=") == "TEST"  # bad padding, no charset
    assert decode_header_text("plain =?iso-8859-1?q?caf=E9?= bar") == "plain café bar"
    assert normalise_message_id(" <a@b> (comment)") == "<a@b>"
    assert normalise_message_id("a@b") == "<a@b>"
    assert normalise_message_id("<>") is None


@pytest.mark.parametrize(("what", "raw"), [
    ("a From of one long word", b"From: " + b"a" * 300_000 + b"\r\nSubject: x\r\n\r\nbody"),
    ("an X-Loop of one long word", b"From: a@b.example\r\nX-Loop: " + b"a" * 300_000
     + b"\r\n\r\nbody"),
    ("a bounce of blank lines", b"From: MAILER-DAEMON@b.example\r\nSubject: failure notice"
     b"\r\n\r\n" + b" \n" * 300_000),
    ("a tag that never closes", b"From: a@b.example\r\nContent-Type: text/html\r\n\r\n<p "
     + b"a " * 300_000),
    ("50,000 parameters", b"From: a@b.example\r\nContent-Type: text/plain; "
     + b"a=b; " * 50_000 + b"\r\n\r\nx"),
    ("2,000 nested multiparts", b"From: a@b.example\r\n" + b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(2000)) + b"\r\nx"),
])
def test_hostile_mail_takes_linear_time(what: str, raw: bytes) -> None:
    """A regex that backtracks quadratically turns one such mail into minutes of CPU (the
    first of these took 275 s before the address search went word by word)."""
    from go_support.mail.loops import classify

    start = time.perf_counter()
    result = parse_mail(raw)
    if isinstance(result, ParsedMail):
        classify(result)
    assert time.perf_counter() - start < 15, what
