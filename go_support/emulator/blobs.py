"""``api/upload.php`` and ``api/download.php``: blobs as the recorded Group-Office stores them (10).

Upload (``www/api/upload.php``, ``go\\core\\fs\\Blob``):

- the body is the raw file; a ``multipart/form-data`` body reaches PHP's ``php://input`` empty,
  so it becomes the empty blob (size 0, ``application/x-empty``) and is still a 201 (10 #4);
- the blob id is the SHA-1 of the content (10 #0, #4); uploading known content again keeps the
  blob's ``createdAt``/``staleAt`` and its file (10 #1: ``createdAt`` a minute before
  ``modifiedAt``) but stores the new name, type and ``modifiedAt``;
- ``X-File-Name`` is RFC 5987 (``UTF-8''notes%20x.txt``); without ``''`` in its first 65
  characters, or without the header, the name is ``false`` (10 #2);
- the type comes from the server's own detection (libmagic), not from ``Content-Type``; only the
  file extensions css, js, json, csv and eml are trusted;
- no valid token: the 401 the script sets first is replaced by its catch block's 500 "Upload
  failed" with a problem+json body (10 #3).

Download (``www/api/download.php``, ``File::output``):

- errors are JSON arrays ``[[null, message, null]]`` with jmap.php's no-cache headers: 401
  without a token, 400 without a ``blob`` parameter, 404 for an unknown id (10 #11-#13);
- found: ``ETag``, ``Content-Type``, ``Expires`` (a year ahead, day without leading zero, no zone),
  ``Content-Disposition: attachment;filename="…"`` (``inline`` with a non-empty ``inline``),
  ``Content-Length``, ``Content-Transfer-Encoding``, ``Cache-Control: PRIVATE``,
  ``Last-Modified`` (the file's mtime: the first upload), ``Accept-Ranges`` (10 #9, #10);
- PHP appends ``;charset=UTF-8`` to ``text/*`` types and then spells the header ``Content-type``
  (10 #9); HTML, SVG and XML types are served as ``text/plain`` attachments.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from .context import Context
from .filters import utc_now
from .store import Blob

MAX_UPLOAD = 67108864
STALE_AFTER = 3600

#: The headers of ``go\core\jmap\Response`` (download errors: 10 #11-#13).
JMAP_HEADERS = [
    ("Content-Type", "application/json;charset=utf-8"),
    ("Cache-Control", "no-cache, no-store, must-revalidate"),
    ("Pragma", "no-cache"),
    ("Expires", "01-07-2003 12:00:00 GMT"),
]
#: upload.php sets the no-cache headers itself; ``Response::output`` adds the JSON type.
UPLOAD_HEADERS = [
    ("Cache-Control", "no-cache, no-store, must-revalidate"),
    ("Pragma", "no-cache"),
    ("Expires", "01-07-2003 12:00:00 GMT"),
]

META_DATA_KEYS = (
    "blobId", "title", "author", "description", "keywords", "copyright", "uri", "creator",
    "date", "encoding", "thumbnail", "data1", "data2", "data3", "data4", "data5", "data6",
    "data7", "data8",
)

INSECURE_MIME_TYPES = frozenset({
    "text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml",
    "text/xsl", "application/xslt+xml",
})

#: ``File::getContentType``: extensions that bypass content detection.
EXTENSION_TYPES = {
    "css": "text/css",
    "js": "application/javascript",
    "json": "application/json",
    "csv": "text/csv",
    "eml": "message/rfc822",
}


@dataclass
class Answer:
    """An HTTP answer for server.py to send."""

    status: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def php_json(value: Any) -> bytes:
    """json_encode without flags: ``/`` escaped as ``\\/``, non-ASCII as ``\\uXXXX``."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/").encode()


# -- upload ---------------------------------------------------------------------------------


def upload(
    ctx: Context,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> Answer:
    """``POST /api/upload.php``. ``headers`` uses WSGI names (``CONTENT_TYPE``, ``HTTP_X_…``)."""
    if not ctx.authenticated:
        # Response::setStatus(401) is overwritten by the catch block's 500 (10 #3).
        problem = {"title": "Upload failed", "detail": "go\\core\\http\\Exception", "status": 500}
        return Answer(
            "500 Upload failed",
            [*UPLOAD_HEADERS, ("Content-Type", "application/problem+json")],
            php_json(problem),
        )
    content_type = headers.get("CONTENT_TYPE") or ""
    if content_type.lower().startswith("multipart/form-data"):
        body = b""  # PHP parses multipart bodies into $_FILES: php://input is empty (10 #4)
    json_type = ("Content-Type", "application/json; charset=UTF-8")
    if len(body) > MAX_UPLOAD:
        error = {"error": f"File exceeds maximum size of {MAX_UPLOAD} bytes"}
        return Answer("413 Request Entity Too Large", [*UPLOAD_HEADERS, json_type], php_json(error))
    name = decode_file_name(headers.get("HTTP_X_FILE_NAME"))
    now = utc_now().timestamp() if now is None else now
    modified = _last_modified(headers.get("HTTP_X_FILE_LASTMODIFIED"), now)
    blob_id = hashlib.sha1(body).hexdigest()
    mime = content_type_of(body, name)
    store = ctx.store
    existing = store.get_blob(blob_id)
    # A known blob keeps its row's createdAt (and staleAt) and its file on disk (10 #1).
    created = existing.created_at if existing is not None else now
    store.put_blob(Blob(blob_id, body, mime, name, created, modified))
    answer = {
        "metaData": {key: None for key in META_DATA_KEYS},
        # orm\Entity: admins MANAGE, everyone else READ on a saved blob.
        "permissionLevel": 50 if ctx.is_admin else 10,
        "id": blob_id,
        "type": mime,
        "name": name,
        "size": len(body),
        "modifiedAt": _iso(modified),
        "createdAt": _iso(created),
        "staleAt": _iso(created + STALE_AFTER),
        "blobId": blob_id,  # "deprecated", but always there
    }
    return Answer("201 Created", [*UPLOAD_HEADERS, json_type], php_json(answer))


def decode_file_name(header: str | None) -> str | bool:
    """``Request::headerDecode``: ``charset''percent-encoded``, else ``false`` (10 #0, #2)."""
    if header is None:
        return False
    pos = header.find("''")
    if pos < 0 or pos > 64:
        return False
    charset = header[:pos] or "UTF-8"
    raw = urllib.parse.unquote_to_bytes(header[pos + 2 :])  # rawurldecode: "+" stays "+"
    try:
        return raw.decode(_codec(charset), errors="ignore")
    except LookupError:
        return raw.decode("utf-8", errors="ignore")


def _codec(charset: str) -> str:
    lowered = charset.strip().lower()
    return "utf-8" if lowered in ("utf8", "utf-8") else lowered


def _last_modified(header: str | None, now: float) -> float:
    if header is None:
        return now
    try:
        return float(int(header.strip()))
    except ValueError:
        return now


def content_type_of(data: bytes, name: str | bool) -> str:
    """``File::getContentType`` of the temporary file ``<uniqid>.<name>``.

    Its extension is the text after the name's last dot (the whole name without a dot, nothing
    without a name), case-sensitive; only a few extensions bypass the content detection.
    """
    extension = (name if isinstance(name, str) else "").rsplit(".", 1)[-1].strip()
    return EXTENSION_TYPES.get(extension) or sniff(data)


_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"%PDF-", "application/pdf"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/x-rar"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BM", "image/bmp"),
    (b"\x00\x00\x01\x00", "image/vnd.microsoft.icon"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"ID3", "audio/mpeg"),
    (b"\x1aE\xdf\xa3", "video/webm"),
    (b"{\\rtf", "text/rtf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/vnd.ms-office"),
    (b"BEGIN:VCARD", "text/vcard"),
    (b"BEGIN:VCALENDAR", "text/calendar"),
)

_HTML_START = re.compile(
    rb"\s*<(!doctype\s+html|html|head|body|title|script|style|table|iframe|h1)\b", re.IGNORECASE
)
_MAIL_HEADER = re.compile(rb"(received|return-path|from|message-id|mime-version):\s", re.IGNORECASE)


def sniff(data: bytes) -> str:
    """A small libmagic: the types ``mime_content_type`` gives for common uploads."""
    if not data:
        return "application/x-empty"
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            if mime == "image/bmp" and len(data) < 14:
                continue
            return mime
    if data.startswith(b"RIFF") and len(data) >= 12:
        kind = data[8:12]
        return {b"WEBP": "image/webp", b"WAVE": "audio/x-wav", b"AVI ": "video/x-msvideo"}.get(
            kind, "application/octet-stream"
        )
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    if b"\x00" in data[:8192]:
        return "application/octet-stream"
    head = data[:8192]
    if not _is_text(head):
        return "application/octet-stream"
    stripped = head.lstrip()
    if stripped.startswith(b"<?xml"):
        return "image/svg+xml" if b"<svg" in head else "text/xml"
    if stripped.lower().startswith(b"<svg"):
        return "image/svg+xml"
    if stripped.startswith(b"<?php"):
        return "text/x-php"
    if _HTML_START.match(head):
        return "text/html"
    if head.startswith(b"#!"):
        line = head.split(b"\n", 1)[0]
        if b"python" in line:
            return "text/x-script.python"
        if b"perl" in line:
            return "text/x-perl"
        if b"sh" in line:
            return "text/x-shellscript"
        return "text/plain"
    if stripped[:1] in (b"{", b"[") and _is_json(data):
        return "application/json"
    if _MAIL_HEADER.match(head):
        return "message/rfc822"
    return "text/plain"


def _zip_type(data: bytes) -> str:
    if b"mimetypeapplication/vnd.oasis.opendocument.text" in data[:100]:
        return "application/vnd.oasis.opendocument.text"
    if b"[Content_Types].xml" in data[:4096] or b"word/" in data[:4096]:
        if b"word/" in data:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if b"xl/" in data:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if b"ppt/" in data:
            return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    return "application/zip" if len(data) >= 30 else "application/octet-stream"


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as e:
        if e.start >= len(head) - 3:  # a character cut off by the 8 KiB window
            return True
    # ISO-8859 text: no C0 controls besides the usual whitespace
    return all(b >= 0x20 or b in (0x09, 0x0A, 0x0C, 0x0D, 0x1B) for b in head)


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


# -- download -------------------------------------------------------------------------------


def download(
    ctx: Context,
    query_string: str,
    headers: Mapping[str, str],
    now: float | None = None,
) -> Answer:
    """``GET /api/download.php?blob=<id>[&inline=1]``."""
    if not ctx.authenticated:
        return _jmap_error("401 Unauthorized", "Unauthorized.")
    query = urllib.parse.parse_qs(query_string, keep_blank_values=True)
    if "blob" not in query:
        return _jmap_error("400 Bad Request", "Bad request. Param 'blob' must be given.")
    blob_param = query["blob"][0]
    if "/" in blob_param:
        return _module_download(ctx, blob_param)
    blob = ctx.store.get_blob(blob_param)  # "?blob=" is set, and simply not found
    if blob is None:
        return _jmap_error("404 Not Found", "Not found")
    inline = query.get("inline", [""])[0] not in ("", "0")  # PHP's empty()
    mime = blob.type
    if mime in INSECURE_MIME_TYPES:
        # never render HTML on the server's own domain
        inline = False
        mime = "text/plain"
    now = utc_now().timestamp() if now is None else now
    name = blob.name if isinstance(blob.name, str) else ""  # PHP prints false as ""
    out: list[tuple[str, str]] = [("ETag", blob.id), _content_type_header(mime)]
    out.append(("Expires", _php_expires(now)))
    disposition = "inline" if inline else "attachment"
    out.append(("Content-Disposition", f'{disposition};filename="{name}"'))
    out.append(("Content-Length", str(len(blob.data))))
    out.append(("Content-Transfer-Encoding", "binary"))
    out.append(("Cache-Control", "PRIVATE"))
    # File::output: Last-Modified is the file's mtime, written at the first upload (10 #10).
    out.append(("Last-Modified", formatdate(blob.created_at, usegmt=True)))
    if _is_cached(headers, blob):
        return Answer("304 Not Modified", [h for h in out if h[0] != "Content-Length"])
    range_header = headers.get("HTTP_RANGE")
    if range_header is not None:
        return _range(out, blob.data, range_header)
    out.append(("Accept-Ranges", "bytes"))
    return Answer("200 OK", out, blob.data)


def _jmap_error(status: str, message: str) -> Answer:
    # download.php hands the text to the JMAP Response, which wraps it as one triple (10).
    return Answer(status, list(JMAP_HEADERS), php_json([[None, message, None]]))


def _module_download(ctx: Context, blob_param: str) -> Answer:
    """``blob=package/module/method/args`` routes to ``Module::download<Method>()``.

    None of the modules the emulator knows has download methods, so every route ends in a 404
    with the message download.php would give.
    """
    parts = blob_param.split("/")
    package = parts.pop(0)
    if package == "core":
        method = "download" + (parts.pop(0) if parts else "")
        return _jmap_error(
            "404 Not Found", f"Controller method '{method}' not found in 'go\\core\\App'"
        )
    module = parts.pop(0) if parts else ""
    method = "download" + (parts.pop(0) if parts else "")
    cls = f"go\\modules\\{package}\\{module}\\Module"
    installed = any(
        m.get("package") == package and m.get("name") == module for m in ctx.store.all("Module")
    )
    if not installed:
        return _jmap_error("404 Not Found", f"Class '{cls}' not found")
    return _jmap_error("404 Not Found", f"Controller method '{method}' not found in '{cls}'")


def _content_type_header(mime: str) -> tuple[str, str]:
    """PHP rewrites a ``text/*`` type without charset to ``Content-type: …;charset=UTF-8``."""
    if mime.lower().startswith("text/") and "charset=" not in mime.lower():
        return ("Content-type", f"{mime};charset=UTF-8")
    return ("Content-Type", mime)


def _php_expires(now: float) -> str:
    """``(new DateTime("1 year"))->format("D, j M Y H:i:s")``: no zone, no leading zero."""
    moment = datetime.fromtimestamp(now, UTC)
    try:
        moment = moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February: PHP rolls over to 1 March
        moment = moment.replace(year=moment.year + 1, month=3, day=1)
    return f"{moment:%a}, {moment.day} {moment:%b %Y %H:%M:%S}"


def _is_cached(headers: Mapping[str, str], blob: Blob) -> bool:
    """``Response::isCached``: a matching ETag, or any If-Modified-Since PHP finds ``>=``.

    PHP compares the header text with the Unix time as strings, so a date such as
    "Wed, 25 Nov 2026 …" is always "newer" and the answer is 304.
    """
    etag = headers.get("HTTP_IF_NONE_MATCH")
    if etag is not None and etag.strip() == blob.id:
        return True
    since = headers.get("HTTP_IF_MODIFIED_SINCE")
    if since is None:
        return False
    mtime = str(int(blob.created_at))
    if re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", since):
        return float(since) >= float(mtime)
    return since >= mtime


def _range(out: list[tuple[str, str]], data: bytes, header: str) -> Answer:
    """``File::rangeDownload``: one range, 206; several or an invalid one, 416."""
    size = len(data)
    end = size - 1
    base = [h for h in out if h[0] != "Content-Length"]
    _, _, spec = header.partition("=")
    if "," in spec or not spec:
        return Answer("416 Requested Range Not Satisfiable",
                      [*base, ("Content-Range", f"bytes 0-{end}/{size}")])
    try:
        if spec.startswith("-"):
            start, stop = size - int(spec[1:]), end
        else:
            first, _, last = spec.partition("-")
            start = int(first)
            stop = int(last) if last.strip().isdigit() else size
    except ValueError:
        start, stop = 0, -1
    stop = min(stop, end)
    if start > stop or start > size - 1 or stop >= size:
        return Answer("416 Requested Range Not Satisfiable",
                      [*base, ("Content-Range", f"bytes 0-{end}/{size}")])
    chunk = data[start : stop + 1]
    return Answer(
        "206 Partial Content",
        [*base, ("Content-Range", f"bytes {start}-{stop}/{size}"),
         ("Content-Length", str(len(chunk)))],
        chunk,
    )


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts))
