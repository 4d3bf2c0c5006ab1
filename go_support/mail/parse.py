"""A mail's bytes into a :class:`ParsedMail`, or a :class:`Quarantine` with the reason.

Real mail is often broken: wrong or unknown charsets, 8-bit bytes in headers, dates that are
not dates, headers in obsolete syntax, boundaries that never close, a ``From`` no parser
understands. A help desk must not lose such a mail and must not crash on it, so
:func:`parse_mail` never raises for bad input: what it can read becomes a :class:`ParsedMail`
(with ``notes`` saying what was repaired), and what it cannot (nothing at all, no header, no
sender address, over the size limit) becomes a :class:`Quarantine` that keeps the original
bytes and says why in words a sysadmin understands.

The body is offered as HTML, cleaned twice: first by ``nh3`` (a well-kept allow-list
sanitiser), then by the desk's rule for what Group-Office accepts in a comment
(:func:`go_support.desk.html.sanitize_html`, on :mod:`go_support.htmlrules`), so that what a
ticket shows is what Group-Office stores. A mail without an HTML part has its text converted
(``format=flowed`` joined). Inline images keep their ``cid:`` references; the caller replaces
them with the stored blobs' addresses (:func:`replace_cids`).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import dataclasses
import functools
import hashlib
import html
import mimetypes
import quopri
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import errors as email_errors
from email import policy as email_policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from io import BytesIO
from typing import Literal

import nh3

from go_support.desk.errors import InvalidMessage
from go_support.desk.html import html_to_text, sanitize_html

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Address",
    "Attachment",
    "ParsedMail",
    "Quarantine",
    "QuarantineCode",
    "decode_header_text",
    "loose_addresses",
    "normalise_message_id",
    "parse_mail",
    "replace_cids",
    "text_to_html",
    "too_large",
]

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
"""The default size limit: what most mail providers accept (a 25 MB message)."""

QuarantineCode = Literal["empty", "too-large", "not-a-mail", "no-sender", "unparsable"]


# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """A mailbox: ``email`` as written (compare with :attr:`key`), ``name`` decoded."""

    email: str
    name: str = ""

    @property
    def key(self) -> str:
        """The address for comparisons: the domain is case-insensitive, and so, in practice,
        is the local part."""
        return self.email.casefold()

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True)
class Attachment:
    """A file of the mail: a real attachment, an inline image (``inline``: the HTML shows it
    through ``cid:<content_id>``), or an attached message (``message/rfc822``, an ``.eml``)."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)
    content_id: str | None = None
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Quarantine:
    """A mail that cannot become a ticket as it is: the reason, and its original bytes."""

    code: QuarantineCode
    reason: str
    raw: bytes = field(repr=False)

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class ParsedMail:
    """What a help desk needs of a mail. ``message`` is the parsed MIME tree (for the loop
    and bounce checks), ``raw`` the original bytes, ``notes`` what had to be repaired."""

    raw: bytes = field(repr=False)
    message: Message = field(repr=False, compare=False)
    sender: Address
    from_: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    delivered_to: tuple[Address, ...]
    subject: str
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date: datetime | None
    html: str = field(repr=False)
    text: str = field(repr=False)
    attachments: tuple[Attachment, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The subject as a ticket title: one line, at most 255 characters, never empty."""
        text = " ".join(self.subject.split()) or "(no subject)"
        return text if len(text) <= 255 else text[:254] + "…"

    @property
    def digest(self) -> str:
        """SHA-256 of the original bytes: tells apart two mails that share a Message-ID, and
        names a mail that has none."""
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def recipients(self) -> tuple[Address, ...]:
        """Where the mail was addressed: ``Delivered-To``/``X-Original-To``, then To, then Cc."""
        return self.delivered_to + self.to + self.cc

    def headers(self, name: str) -> list[str]:
        """Every value of header ``name`` (any case), unfolded and decoded."""
        return [decode_header_text(value) for value in _raw_values(self.message, name)]


# --- the entry point -----------------------------------------------------------------------


def too_large(size: int, max_bytes: int, raw: bytes = b"") -> Quarantine | None:
    """The quarantine for a mail of ``size`` bytes over the limit, else ``None`` (shared with
    the sources, which can refuse a mail before downloading it)."""
    if size <= max_bytes:
        return None
    return Quarantine(
        "too-large",
        f"the mail has {size:,} bytes, over the size limit of {max_bytes:,} bytes "
        "(mail.max_size_mb)", raw)


def parse_mail(
    raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, now: datetime | None = None
) -> ParsedMail | Quarantine:
    """Parse ``raw``; never raises for bad input (a :class:`Quarantine` says what is wrong).

    ``now`` (default: the current time) bounds plausible dates: a ``Date`` more than a day in
    the future or before 1980 is dropped with a note, and the caller uses the arrival time.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"parse_mail takes the mail's bytes (got {type(raw).__name__})")
    raw = bytes(raw)
    if not raw.strip():
        return Quarantine("empty", "the mail is empty (0 bytes)" if not raw else
                          f"the mail holds only {len(raw)} bytes of white space", raw)
    oversize = too_large(len(raw), max_bytes, raw)
    if oversize is not None:
        return oversize
    try:
        return _parse(raw, now or datetime.now(UTC))
    except Exception as exc:  # the safety net: a mail never escapes as an exception
        return Quarantine(
            "unparsable", f"the mail could not be parsed ({type(exc).__name__}: {exc})", raw)


# compat32: no header objects (we decode headers ourselves, leniently), several times faster
_PARSER = BytesParser(policy=email_policy.compat32)


def _parse(raw: bytes, now: datetime) -> ParsedMail | Quarantine:
    notes: list[str] = []
    message = _PARSER.parsebytes(raw)
    if _header_damaged(message):
        repaired = _repair_headers(raw)
        if repaired is not None:
            again = _PARSER.parsebytes(repaired)
            if len(list(again.keys())) > len(list(message.keys())):
                message = again
                notes.append("header lines that are not headers were dropped or repaired")
    if _multipart_broken(message):
        quoted = re.sub(rb'(?i)(boundary[ \t]*=[ \t]*)([^"\s;][^\s;]*)', rb'\1"\2"', raw)
        if quoted != raw:
            again = _PARSER.parsebytes(quoted)
            if not _multipart_broken(again):
                message = again
                notes.append("a MIME boundary that needed quotes was read as written")
    if not list(message.keys()):
        return Quarantine(
            "not-a-mail", "not a mail: no header fields (binary data, or a file that is not "
            "an e-mail)", raw)

    hint = next((c for c in (_param(p, "charset") for p in message.walk()) if c), None)
    from_ = _addresses(message, "From", notes, hint)
    sender_header = _addresses(message, "Sender", notes)
    reply_to = _addresses(message, "Reply-To", notes)
    sender = (from_[:1] or sender_header[:1] or reply_to[:1]
              or _addresses(message, "Return-Path", notes)[:1])
    if not sender:
        shown = ", ".join(decode_header_text(v) for v in _raw_values(message, "From"))
        return Quarantine(
            "no-sender",
            f"no sender address: From {shown!r} is not an address" if shown else
            "no sender address: the mail has no From, Sender, Reply-To or Return-Path", raw)
    if len(from_) > 1:
        notes.append(f"{len(from_)} addresses in From: the first, {from_[0].email}, is the "
                     "sender")

    subject = " ".join(decode_header_text(v, hint) for v in _raw_values(message, "Subject")[:1])
    subject = " ".join(subject.split())
    message_id = _first_id(message, "Message-ID")
    body = _Body(notes)
    body.walk(message)
    if _closing_boundary_missing(message):
        notes.append("a MIME part never ends (a missing closing boundary: truncated mail?)")
    html_body, text_body = body.result()
    return ParsedMail(
        raw=raw,
        message=message,
        sender=sender[0],
        from_=tuple(from_),
        reply_to=tuple(reply_to),
        to=tuple(_addresses(message, "To", notes)),
        cc=tuple(_addresses(message, "Cc", notes)),
        delivered_to=tuple(_addresses(message, "Delivered-To", notes)
                           + _addresses(message, "X-Original-To", notes)),
        subject=subject,
        message_id=message_id,
        in_reply_to=tuple(_ids(message, "In-Reply-To")),
        references=tuple(_ids(message, "References")),
        date=_date(message, now, notes),
        html=html_body,
        text=text_body,
        attachments=_mark_inline(body.attachments, html_body),
        notes=tuple(dict.fromkeys(notes)),
    )


# --- header repair ---------------------------------------------------------------------------

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_OBSOLETE_HEADER = re.compile(rb"^([!-9;-~]+)[ \t]+:")  # RFC 5322 obs-optional: "From  : x"
_CONTINUATION = re.compile(rb"^[ \t]")


def _header_damaged(message: Message) -> bool:
    return any(isinstance(d, email_errors.MissingHeaderBodySeparatorDefect | email_errors.
                          InvalidHeaderDefect) for d in message.defects) or (
        not list(message.keys()) and _OBSOLETE_HEADER.match(_first_line(message)) is not None)


def _multipart_broken(message: Message) -> bool:
    broken = (email_errors.NoBoundaryInMultipartDefect, email_errors.StartBoundaryNotFoundDefect)
    return any(
        _content_type(part).startswith("multipart/")
        and (not part.is_multipart() or any(isinstance(d, broken) for d in part.defects))
        for part in message.walk())


def _first_line(message: Message) -> bytes:
    payload = message.get_payload()
    if isinstance(payload, str):
        return payload.lstrip("\r\n").split("\n", 1)[0].encode("ascii", "surrogateescape")
    return b""


def _repair_headers(raw: bytes) -> bytes | None:
    """The header section with obsolete ``Name :`` fixed and lines that are neither a header
    nor a continuation dropped; ``None`` when there is no header section to speak of."""
    match = re.search(rb"\r?\n\r?\n", raw)
    head, rest = (raw[:match.start()], raw[match.start():]) if match else (raw, b"")
    lines = head.splitlines()
    kept: list[bytes] = []
    for line in lines:
        fixed = _OBSOLETE_HEADER.sub(rb"\1:", line)
        if _HEADER_LINE.match(fixed) or (kept and _CONTINUATION.match(fixed)):
            kept.append(fixed)
    if not kept or len(kept) < len(lines) // 2:
        return None
    return b"\r\n".join(kept) + (rest if rest else b"\r\n\r\n")


# --- header decoding -------------------------------------------------------------------------


def _raw_values(message: Message, name: str) -> list[str]:
    """The unparsed values of a header (policy objects may raise on odd values)."""
    wanted = name.lower()
    return [str(value) for key, value in message.raw_items() if key.lower() == wanted]


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]", " ", value).replace("\r", "").replace("\n", " ")


_SURROGATE = re.compile("[\udc80-\udcff]")


def _fix_8bit(value: str, hint: str | None = None) -> str:
    """8-bit header bytes (kept as surrogate escapes): UTF-8 (RFC 6532), else the charset of
    the mail's text (``hint``: what such senders mean), else Windows-1252."""
    if not _SURROGATE.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    for codec in ("utf-8", _codec(hint)):
        if codec is not None:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
    return data.decode("cp1252", "replace")


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def decode_header_text(value: str, charset: str | None = None) -> str:
    """A header value as text: unfolded, 8-bit bytes and RFC 2047 encoded words decoded.

    Adjacent encoded words in one charset are joined before decoding (a multi-byte character
    may be split between them); unknown charsets and bad base64 padding are read anyway.
    ``charset`` is the guess for raw 8-bit bytes (after UTF-8).
    """
    text = _fix_8bit(_unfold(value), charset)
    pieces: list[str] = []
    pending: tuple[str, bytearray] | None = None
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position:match.start()]
        if pending is not None and between.strip():
            pieces.append(_decode_bytes(bytes(pending[1]), pending[0], None)[0])
            pending = None
        if pending is None:
            pieces.append(between)
        charset = match.group(1).split("*", 1)[0]
        data = _decode_word(match.group(2), match.group(3))
        if pending is not None and pending[0].lower() == charset.lower():
            pending[1].extend(data)
        else:
            if pending is not None:
                pieces.append(_decode_bytes(bytes(pending[1]), pending[0], None)[0])
            pending = (charset, bytearray(data))
        position = match.end()
    if pending is not None:
        pieces.append(_decode_bytes(bytes(pending[1]), pending[0], None)[0])
    pieces.append(text[position:])
    return "".join(pieces).strip()


def _decode_word(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        return _base64(payload.encode("ascii", "replace"))
    data = payload.replace("_", " ").encode("ascii", "replace")
    return quopri.decodestring(data, header=True)


def _base64(data: bytes) -> bytes:
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4 if len(cleaned) % 4 == 1 else None]
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return b""


def _addresses(
    message: Message, name: str, notes: list[str], charset: str | None = None
) -> list[Address]:
    found: list[Address] = []
    for value in _raw_values(message, name):
        raw = _fix_8bit(_unfold(value), charset)
        try:
            pairs = getaddresses([raw])
        except Exception:  # an address parser failure is as good as no address
            pairs = []
        usable = [(n, a.strip()) for n, a in pairs if _ADDRESS.match(a.strip())]
        if not usable:
            usable = [("", a) for a in loose_addresses(raw)]
            if usable:
                notes.append(f"{name} {raw[:80]!r} is not valid: read as {usable[0][1]}")
        for display, address in usable:
            found.append(Address(address, " ".join(decode_header_text(display).split())))
    return found


_ADDRESS = re.compile(r'^(?:[^@\s<>()\[\],;:"]+|"[^"\r\n]+")@[^@\s<>()\[\],;:"]+$')
_LOOSE_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*")
_SEPARATORS = re.compile(r'[\s<>,;:"()\[\]]+')


def loose_addresses(text: str) -> list[str]:
    """The words of ``text`` that look like addresses. Word by word, not a regex search over
    the whole text: a search backtracks quadratically on a long run without ``@``."""
    return [w for w in _SEPARATORS.split(text) if "@" in w and _LOOSE_ADDRESS.fullmatch(w)]


def normalise_message_id(value: str) -> str | None:
    """``<id@host>`` from a Message-ID as found (brackets, blanks, comments), or ``None``."""
    text = re.sub(r"\([^()]*\)", "", _unfold(value)).strip()
    match = re.search(r"<([^<>]+)>", text)
    inner = "".join((match.group(1) if match else text).split())
    if (not inner or len(inner) > 250 or not inner.isascii() or not inner.isprintable()
            or "<" in inner or ">" in inner):
        return None
    return f"<{inner}>"


def _first_id(message: Message, name: str) -> str | None:
    for value in _raw_values(message, name):
        found = normalise_message_id(value)
        if found:
            return found
    return None


def _ids(message: Message, name: str) -> list[str]:
    ids: list[str] = []
    for value in _raw_values(message, name):
        text = re.sub(r"\([^()]*\)", "", _unfold(value))
        for match in re.findall(r"<[^<>]+>", text):
            found = normalise_message_id(match)
            if found and found not in ids:
                ids.append(found)
    return ids


def _date(message: Message, now: datetime, notes: list[str]) -> datetime | None:
    values = _raw_values(message, "Date")
    if not values:
        return None
    text = " ".join(_unfold(values[0]).split())
    try:
        value = parsedate_to_datetime(
            re.sub(r"\s*:\s*", ":", re.sub(r"\([^()]*\)", "", text)))
    except (TypeError, ValueError, IndexError, OverflowError):
        notes.append(f"Date {text[:60]!r} is not a date: the time of arrival counts")
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value > now + timedelta(days=1) or value.year < 1980:
        notes.append(f"Date {text[:60]!r} is implausible: the time of arrival counts")
        return None
    return value.astimezone(UTC)


# --- charsets --------------------------------------------------------------------------------

# Labels that mail clients mean as a larger charset (as browsers read them, WHATWG Encoding)
_CHARSET_ALIASES = {
    "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-1": "cp1252", "latin1": "cp1252",
    "latin-1": "cp1252", "iso-8859-9": "cp1254", "iso-8859-11": "cp874", "tis-620": "cp874",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949", "gb2312": "gb18030",
    "gbk": "gb18030", "x-gbk": "gb18030", "shift_jis": "cp932", "sjis": "cp932",
    "x-sjis": "cp932", "big5": "big5hkscs", "iso-2022-jp": "iso2022_jp_ext",
    "iso-8859-8-i": "iso-8859-8", "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
}


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def _decode_bytes(data: bytes, charset: str | None, notes: list[str] | None) -> tuple[str, str]:
    """``(text, codec used)``: the declared charset if it decodes, else UTF-8, else
    Windows-1252 (which reads every byte); a note says when the declaration was not used."""
    codec = _codec(charset)
    if charset and codec is None and notes is not None:
        notes.append(f"unknown charset {charset!r}: read as UTF-8 or Windows-1252")
    if codec is not None:
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            if codec not in ("cp1252", "utf-8", "ascii"):
                if notes is not None:
                    notes.append(f"bytes that are not {charset} were replaced")
                return data.decode(codec, "replace"), codec
    try:
        text = data.decode("utf-8")
        if codec is not None and notes is not None:
            notes.append(f"text declared as {charset} is UTF-8")
        return text, "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace"), "cp1252"


# --- bodies and attachments -----------------------------------------------------------------

_SIGNATURES = frozenset({"application/pgp-signature", "application/pkcs7-signature",
                         "application/x-pkcs7-signature"})


def _content_type(part: Message) -> str:
    try:
        value = part.get_content_type()
    except Exception:
        return "text/plain"
    return value if re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", value) else (
        "application/octet-stream")


_PARAMETER = re.compile(r';\s*([^=;\s"]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_CONTINUED = re.compile(r"^(.*?)\*(\d+)(\*?)$")


@functools.lru_cache(maxsize=64)
def _params(value: str) -> dict[str, str]:
    """A header's parameters as text, read leniently: unquoted values with blanks or ``=``,
    RFC 2231 (``name*=charset''%xx``, continuations ``name*0*``) and encoded words. Cached:
    a part's parameters are asked for several times (callers only read the result)."""
    text = _fix_8bit(_unfold(value))
    simple: dict[str, str] = {}
    pieces: dict[str, dict[int, tuple[str, bool]]] = {}
    for key, raw in _PARAMETER.findall(text):
        key = key.lower()
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        continued = _CONTINUED.match(key)
        if continued:
            pieces.setdefault(continued.group(1), {})[int(continued.group(2))] = (
                raw, bool(continued.group(3)))
        elif key.endswith("*"):
            pieces.setdefault(key[:-1], {})[0] = (raw, True)
        else:
            simple.setdefault(key, decode_header_text(raw))
    for key, parts in pieces.items():
        ordered = [parts[i] for i in sorted(parts)]
        charset = ""
        data = bytearray()
        for index, (raw, encoded) in enumerate(ordered):
            if encoded:
                if index == 0 and raw.count("'") >= 2:
                    charset, _, raw = raw.split("'", 2)
                data.extend(urllib.parse.unquote_to_bytes(raw))
            else:
                data.extend(raw.encode("utf-8"))
        simple[key] = _decode_bytes(bytes(data), charset or "utf-8", None)[0]
    return simple


def _param(part: Message, name: str, header: str = "Content-Type") -> str | None:
    values = _raw_values(part, header)
    value = _params(values[0]).get(name) if values else None
    return value if value else None


def _disposition(part: Message) -> str | None:
    values = _raw_values(part, "Content-Disposition")
    if not values:
        return None
    first = values[0].split(";", 1)[0].strip().lower()
    return first if first in ("inline", "attachment") else None


def _payload(part: Message, notes: list[str]) -> bytes:
    """The part's content as bytes, transfer encoding undone (also when misspelt)."""
    if isinstance(part.get_payload(), list):
        return b""
    decoded = part.get_payload(decode=True)
    data = decoded if isinstance(decoded, bytes) else b""
    try:
        exact = str(part.get("content-transfer-encoding", "")).strip().lower()
    except Exception:
        exact = ""
    if exact in ("base64", "quoted-printable", "x-uuencode", "uuencode", "uue", "x-uue"):
        return data  # the standard library decoded it
    values = _raw_values(part, "Content-Transfer-Encoding")
    cte = re.sub(r"[\s_;-]", "", values[0].lower()) if values else ""
    if cte.startswith("base64"):
        return _base64(data)
    if cte.startswith("quoted"):
        return quopri.decodestring(data)
    if cte not in ("", "7bit", "8bit", "binary"):
        notes.append(f"unknown Content-Transfer-Encoding {values[0].strip()[:40]!r}: content "
                     "taken as it is")
    return data


def _serialise(message: Message) -> bytes:
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=email_policy.compat32).flatten(message)
    return out.getvalue()


def _safe_filename(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip().strip(".") or ""
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:200]
    return name


class _Body:
    """Walks the MIME tree: the body (HTML preferred) and the attachments, like a mail client
    shows them."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        self.html_parts: list[str] = []
        self.text_parts: list[str] = []
        self.attachments: list[Attachment] = []
        self._counter = 0

    def walk(self, part: Message, *, alternative: bool = False) -> None:
        ctype = _content_type(part)
        maintype = ctype.split("/", 1)[0]
        if ctype in _SIGNATURES:
            return
        if maintype == "multipart" and not part.is_multipart():
            # a multipart whose boundary never shows: a client shows its text as it is
            if str(part.get_payload()).strip():
                self.notes.append("a multipart without its boundary is shown as text")
                self._text(part, "text/plain")
            return
        if part.is_multipart() and maintype == "multipart":
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/alternative":
                self._alternative(children)
            elif ctype == "multipart/related" and children:
                root = self._related_root(part, children)
                self.walk(root)
                for child in children:
                    if child is not root:
                        self._attach(child, inline=True)
            else:
                for child in children:
                    self.walk(child)
            return
        disposition = _disposition(part)
        named = self._filename(part) is not None
        if (maintype == "text" and ctype in ("text/plain", "text/html")
                and disposition != "attachment" and not named):
            self._text(part, ctype)
            return
        self._attach(part, inline=disposition == "inline")

    def _alternative(self, children: list[Message]) -> None:
        # the richest alternative a client would show: the last HTML, else the last text
        ranked = [c for c in children if _content_type(c) in ("text/html", "multipart/related",
                                                               "multipart/mixed")]
        best = ranked[-1] if ranked else None
        plain = [c for c in children if _content_type(c) == "text/plain"]
        if best is None:
            best = plain[-1] if plain else (children[-1] if children else None)
        if best is None:
            return
        before = len(self.html_parts)
        self.walk(best)
        if plain and best is not plain[-1] and len(self.html_parts) > before:
            text = self._decode(plain[-1]).replace("\r\n", "\n").replace("\r", "\n")
            self.text_parts.append(text)

    @staticmethod
    def _related_root(part: Message, children: list[Message]) -> Message:
        start = _param(part, "start")
        if start:
            wanted = normalise_message_id(start)
            for child in children:
                if _first_id(child, "Content-ID") == wanted:
                    return child
        return children[0]

    def _decode(self, part: Message) -> str:
        data = _payload(part, self.notes)
        return _decode_bytes(data, _param(part, "charset"), self.notes)[0]

    def _text(self, part: Message, ctype: str) -> None:
        text = self._decode(part).replace("\r\n", "\n").replace("\r", "\n")
        if ctype == "text/html":
            self.html_parts.append(text)
        else:
            flowed = (_param(part, "format") or "").lower() == "flowed"
            delsp = (_param(part, "delsp") or "").lower() == "yes"
            self.html_parts.append(text_to_html(text, flowed=flowed, delsp=delsp))
            self.text_parts.append(_unflow(text, delsp) if flowed else text)

    def _filename(self, part: Message) -> str | None:
        name = _param(part, "filename", "Content-Disposition") or _param(part, "name")
        if name:
            return name
        location = _raw_values(part, "Content-Location")
        # a text part is a body unless something says otherwise (MHTML names its HTML)
        if location and (_disposition(part) is not None
                         or not _content_type(part).startswith("text/")):
            return decode_header_text(location[0]).rsplit("/", 1)[-1] or None
        return None

    def _attach(self, part: Message, *, inline: bool) -> None:
        ctype = _content_type(part)
        self._counter += 1
        if ctype.startswith("message/") or part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                data = b"\r\n".join(_serialise(p) for p in payload if isinstance(p, Message))
            else:
                data = _payload(part, self.notes)
        else:
            data = _payload(part, self.notes)
        name = _safe_filename(self._filename(part) or "")
        if not name:
            name = self._default_name(part, ctype)
        taken = {a.filename.casefold() for a in self.attachments}
        stem, dot, extension = name.rpartition(".")
        number = 1
        while name.casefold() in taken:
            number += 1
            name = f"{stem}-{number}.{extension}" if dot else f"{extension}-{number}"
        content_id = _first_id(part, "Content-ID")
        self.attachments.append(Attachment(
            filename=name, content_type=ctype, data=data,
            content_id=content_id[1:-1] if content_id else None,
            inline=inline or (content_id is not None and ctype.startswith("image/"))))

    def _default_name(self, part: Message, ctype: str) -> str:
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            subject = (decode_header_text(_raw_values(inner, "Subject")[0])
                       if isinstance(inner, Message) and _raw_values(inner, "Subject") else "")
            stem = _safe_filename(re.sub(r'[<>:"/\\|?*]', "_", subject))[:80]
            return f"{stem or f'message-{self._counter}'}.eml"
        extension = {"message/delivery-status": ".txt", "text/rfc822-headers": ".txt",
                     "text/plain": ".txt", "image/jpg": ".jpg", "image/pjpeg": ".jpg"}.get(
            ctype) or mimetypes.guess_extension(ctype) or (
            ".bin")
        stem = {"message/delivery-status": "delivery-status",
                "text/rfc822-headers": "returned-headers"}.get(ctype, f"part-{self._counter}")
        return stem + extension

    def result(self) -> tuple[str, str]:
        """``(clean HTML, plain text)`` of the body."""
        html_text = "\n".join(p for p in self.html_parts if p.strip())
        clean = clean_html(html_text, self.notes) if html_text else ""
        text = "\n\n".join(t.strip() for t in self.text_parts if t.strip())
        if not text and clean:
            text = html_to_text(clean)
        return clean, text


def _mark_inline(attachments: list[Attachment], html_body: str) -> tuple[Attachment, ...]:
    """``inline`` exactly for the files the body shows through ``cid:``; every other file
    (an image a client would show below the text, say) is listed as an attachment."""
    shown = {html.unescape(c) for c in re.findall(r'src="cid:([^"]+)"', html_body, re.I)}
    return tuple(
        a if a.inline == (a.content_id in shown) else dataclasses.replace(
            a, inline=a.content_id in shown)
        for a in attachments)


def _closing_boundary_missing(message: Message) -> bool:
    return any(isinstance(d, email_errors.CloseBoundaryNotFoundDefect)
               for part in message.walk() for d in part.defects)


# --- HTML --------------------------------------------------------------------------------------

_TAGS = frozenset({
    "a", "abbr", "address", "b", "bdi", "bdo", "blockquote", "br", "caption", "center",
    "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "tt", "u", "ul", "var",
})
_DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "title", "head", "noscript", "template", "xml", "iframe", "object",
    "embed", "applet", "frameset", "noframes", "svg", "math", "select", "textarea",
})
_ATTRIBUTES = {
    "*": {"style", "title", "dir", "lang", "align", "valign", "width", "height", "class"},
    "a": {"href", "name"},
    "img": {"src", "alt", "border"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing", "bgcolor"},
    "td": {"colspan", "rowspan", "bgcolor", "nowrap"},
    "th": {"colspan", "rowspan", "bgcolor", "nowrap"},
    "tr": {"bgcolor"},
    "ol": {"start", "type"},
    "li": {"value"},
    "blockquote": {"cite", "type"},
}
_STYLE_PROPERTIES = frozenset({
    "background-color", "border", "border-bottom", "border-collapse", "border-color",
    "border-left", "border-right", "border-style", "border-top", "border-width", "color",
    "font", "font-family", "font-size", "font-style", "font-weight", "height", "line-height",
    "list-style-type", "margin", "margin-bottom", "margin-left", "margin-right", "margin-top",
    "padding", "padding-bottom", "padding-left", "padding-right", "padding-top", "text-align",
    "text-decoration", "vertical-align", "white-space", "width",
})
_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})


def clean_html(text: str, notes: list[str] | None = None) -> str:
    """Mail HTML as a comment: ``nh3``'s allow-list, then the desk's Group-Office rule. If
    Group-Office would still refuse it, the mail's words are kept as escaped text."""
    cleaned = nh3.clean(
        text, tags=set(_TAGS), clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={k: set(v) for k, v in _ATTRIBUTES.items()}, url_schemes=set(_URL_SCHEMES),
        filter_style_properties=set(_STYLE_PROPERTIES), strip_comments=True,
        link_rel="noopener noreferrer")
    try:
        return sanitize_html(cleaned, what="the mail's HTML")
    except InvalidMessage:
        if notes is not None:
            notes.append("the HTML still looked like a script to Group-Office: kept as text")
        return text_to_html(html_to_text(cleaned))


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 ``format=flowed``: soft line breaks (a line ending in a space) joined."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    current: str | None = None
    for line in lines:
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if current is None:
            current = ""
        if line.endswith(" ") and line != "-- ":
            current += line[:-1] if delsp else line
        else:
            out.append(current + line)
            current = None
    if current is not None:
        out.append(current)
    return "\n".join(out)


_URL = re.compile(r"\b(https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]])")


def text_to_html(text: str, *, flowed: bool = False, delsp: bool = False) -> str:
    """Plain text as HTML: escaped, paragraphs on blank lines, line breaks kept, web links
    made links; ``flowed`` joins the soft line breaks of ``format=flowed``."""
    if flowed:
        text = _unflow(text, delsp)
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    out = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph, quote=False)
        linked = _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)
        out.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)


def replace_cids(html_text: str, urls: Mapping[str, str]) -> str:
    """``cid:<content id>`` references replaced by ``urls[content id]`` (the stored blobs)."""

    def swap(match: re.Match[str]) -> str:
        cid = html.unescape(match.group(2))
        url = urls.get(cid) or urls.get(cid.strip("<>"))
        return f"{match.group(1)}{html.escape(url, quote=True)}{match.group(3)}" if url else (
            match.group(0))

    return re.sub(r'(\bsrc=")cid:([^"]+)(")', swap, html_text, flags=re.I)

