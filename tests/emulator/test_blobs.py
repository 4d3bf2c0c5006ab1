"""``api/upload.php`` and ``api/download.php`` of the emulator over real HTTP (corpus file 10).

Raw ``http.client`` is used where header names matter (PHP spells ``Content-type`` for text).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from go_support.emulator import blobs

from ._http import WRITER_KEY, clock_at, running

META_KEYS = [
    "blobId", "title", "author", "description", "keywords", "copyright", "uri", "creator",
    "date", "encoding", "thumbnail", "data1", "data2", "data3", "data4", "data5", "data6",
    "data7", "data8",
]
JSON_ERROR_HEADERS = {
    "Content-Type": "application/json;charset=utf-8",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "01-07-2003 12:00:00 GMT",
}


class Raw:
    """Requests with exact header names in the answer."""

    def __init__(self, base_url: str, token: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.token = token

    def request(
        self, method: str, path: str, body: bytes | None = None,
        headers: dict[str, str] | None = None, auth: bool = True,
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        sent = dict(headers or {})
        if auth:
            sent["Authorization"] = f"Bearer {self.token}"
        conn.request(method, path, body=body, headers=sent)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        hidden = ("Date", "Server", "Content-Length") if method == "POST" else ("Date", "Server")
        return resp.status, resp.reason, [h for h in resp.getheaders() if h[0] not in hidden], data

    def upload(self, data: bytes, name: str | None = None, content_type: str = "text/plain",
               **headers: str) -> dict[str, Any]:
        sent = {"Content-Type": content_type, **headers}
        if name is not None:
            sent["X-File-Name"] = name
        status, reason, _, body = self.request("POST", "/api/upload.php", data, sent)
        assert (status, reason) == (201, "Created"), body
        answer: dict[str, Any] = json.loads(body)
        return answer

    def jmap(self, calls: list[Any]) -> list[Any]:
        status, _, _, body = self.request(
            "POST", "/api/jmap.php", json.dumps(calls).encode(),
            {"Content-Type": "application/json"},
        )
        assert status == 200
        answer: list[Any] = json.loads(body)
        return answer


@pytest.fixture
def clock() -> Iterator[list[datetime]]:
    with clock_at(datetime(2026, 11, 25, 23, 51, 7, tzinfo=UTC)) as now:
        yield now


@pytest.fixture
def raw(clock: Any) -> Iterator[Raw]:
    with running({"users": [{"id": 34, "username": "writer", "apiKey": WRITER_KEY}]}) as go:
        yield Raw(go.base_url, go.admin_key)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00")) + chunk(b"IEND", b""))


# -- upload -----------------------------------------------------------------------------------


def test_upload_a_text_file(raw: Raw) -> None:
    # 10 #0
    data = b"hello from record_wire 1125235104\n"
    answer = raw.upload(data, "UTF-8''notes%201125235104.txt")
    blob_id = hashlib.sha1(data).hexdigest()
    assert answer == {
        "metaData": {key: None for key in META_KEYS},
        "permissionLevel": 50,
        "id": blob_id,
        "type": "text/plain",
        "name": "notes 1125235104.txt",
        "size": 34,
        "modifiedAt": "2026-11-25T23:51:07+00:00",
        "createdAt": "2026-11-25T23:51:07+00:00",
        "staleAt": "2026-11-26T00:51:07+00:00",
        "blobId": blob_id,
    }
    assert list(answer) == ["metaData", "permissionLevel", "id", "type", "name", "size",
                            "modifiedAt", "createdAt", "staleAt", "blobId"]


def test_upload_names_types_and_known_content(raw: Raw, clock: list[datetime]) -> None:
    # 10 #1: the type is detected from the content; uploading known content again keeps the
    # blob's createdAt and staleAt
    image = png()
    first = raw.upload(image, "UTF-8''pixel.png", content_type="text/plain")
    assert first["type"] == "image/png"
    clock[0] += timedelta(minutes=1)
    again = raw.upload(image, "UTF-8''pixel.png", content_type="image/png")
    assert again["createdAt"] == "2026-11-25T23:51:07+00:00"
    assert again["staleAt"] == "2026-11-26T00:51:07+00:00"
    assert again["modifiedAt"] == "2026-11-25T23:52:07+00:00"
    # 10 #2: no X-File-Name, or one without charset'' -> name false
    assert raw.upload(b"no name header", None)["name"] is False
    assert raw.upload(b"plain name", "plain.txt")["name"] is False
    assert raw.upload(b"x", "UTF8''caf%C3%A9.txt")["name"] == "café.txt"
    assert raw.upload(b"x", "ISO-8859-1''caf%E9+1.txt")["name"] == "café+1.txt"
    # X-File-LastModified sets modifiedAt
    stamped = raw.upload(b"stamped", "UTF-8''s.txt", **{"X-File-LastModified": "1700000000"})
    assert stamped["modifiedAt"] == "2023-11-14T22:13:20+00:00"
    # extensions trusted over the content, others detected
    assert raw.upload(b"a,b\n1,2\n", "UTF-8''t.csv")["type"] == "text/csv"
    assert raw.upload(b"not json", "UTF-8''t.json")["type"] == "application/json"
    assert raw.upload(b'{"a": 1}', "UTF-8''t.txt")["type"] == "application/json"
    assert raw.upload(b"<!DOCTYPE html><html></html>", "UTF-8''t")["type"] == "text/html"


def test_multipart_is_an_empty_blob(raw: Raw) -> None:
    # 10 #4
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="m.txt"\r\n\r\n'
            b"multipart body\r\n--b--\r\n")
    answer = raw.upload(body, None, content_type="multipart/form-data; boundary=b")
    assert answer["id"] == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert (answer["type"], answer["size"], answer["name"]) == ("application/x-empty", 0, False)


def test_upload_errors(raw: Raw, monkeypatch: pytest.MonkeyPatch) -> None:
    # 10 #3: no token -> 500 problem JSON, not 401
    status, reason, headers, body = raw.request(
        "POST", "/api/upload.php", b"x", {"Content-Type": "text/plain"}, auth=False
    )
    assert (status, reason) == (500, "Upload failed")
    assert ("Content-Type", "application/problem+json") in headers
    assert json.loads(body) == {
        "title": "Upload failed", "detail": "go\\core\\http\\Exception", "status": 500,
    }
    monkeypatch.setattr(blobs, "MAX_UPLOAD", 4)
    status, reason, _, body = raw.request("POST", "/api/upload.php", b"12345")
    assert (status, reason) == (413, "Request Entity Too Large")
    assert json.loads(body) == {"error": "File exceeds maximum size of 4 bytes"}


def test_a_non_admin_upload_reads_level_10(raw: Raw) -> None:
    writer = Raw(f"http://{raw.host}:{raw.port}", WRITER_KEY)
    assert writer.upload(b"mine", "UTF-8''m.txt")["permissionLevel"] == 10


def test_no_blob_get(raw: Raw) -> None:
    # 10 #8
    [answer] = raw.jmap([["Blob/get", {"ids": ["x"]}, "c1"]])
    assert answer == ["error", {
        "message": 'Bad request. Method "get" not found in controller "go\\core\\fs\\Blob".',
        "type": "serverFail",
    }, "c1"]


# -- download ---------------------------------------------------------------------------------


def test_download_headers(raw: Raw) -> None:
    # 10 #9: a text blob; PHP appends the charset and spells "Content-type"
    data = b"hello from record_wire 1125235104\n"
    blob_id = raw.upload(data, "UTF-8''notes%201125235104.txt")["id"]
    status, reason, headers, body = raw.request("GET", f"/api/download.php?blob={blob_id}")
    assert (status, reason, body) == (200, "OK", data)
    assert headers == [
        ("ETag", blob_id),
        ("Content-type", "text/plain;charset=UTF-8"),
        ("Expires", "Thu, 25 Nov 2027 23:51:07"),
        ("Content-Disposition", 'attachment;filename="notes 1125235104.txt"'),
        ("Content-Length", "34"),
        ("Content-Transfer-Encoding", "binary"),
        ("Cache-Control", "PRIVATE"),
        ("Last-Modified", "Wed, 25 Nov 2026 23:51:07 GMT"),
        ("Accept-Ranges", "bytes"),
    ]
    # 10 #10: inline; other types keep their header name
    image = raw.upload(png(), "UTF-8''pixel.png")["id"]
    _, _, headers, _ = raw.request("GET", f"/api/download.php?blob={image}&inline=1")
    assert ("Content-Type", "image/png") in headers
    assert ("Content-Disposition", 'inline;filename="pixel.png"') in headers
    # HTML is never rendered: text/plain, attachment even with inline=1
    page = raw.upload(b"<html><body>x</body></html>", "UTF-8''p.html")["id"]
    _, _, headers, _ = raw.request("GET", f"/api/download.php?blob={page}&inline=1")
    assert ("Content-type", "text/plain;charset=UTF-8") in headers
    assert ("Content-Disposition", 'attachment;filename="p.html"') in headers
    # a blob without a name: PHP prints false as ""
    nameless = raw.upload(b"nameless", None)["id"]
    _, _, headers, _ = raw.request("GET", f"/api/download.php?blob={nameless}")
    assert ("Content-Disposition", 'attachment;filename=""') in headers


def test_download_errors(raw: Raw) -> None:
    # 10 #11-#13: JSON bodies with jmap.php's headers
    cases = [
        ("/api/download.php?blob=" + "0" * 40, True, 404, "Not Found", "Not found"),
        ("/api/download.php?blob=", True, 404, "Not Found", "Not found"),
        ("/api/download.php", True, 400, "Bad Request", "Bad request. Param 'blob' must be given."),
        ("/api/download.php?blob=abc", False, 401, "Unauthorized", "Unauthorized."),
    ]
    for path, auth, code, reason, message in cases:
        status, got_reason, headers, body = raw.request("GET", path, auth=auth)
        assert (status, got_reason) == (code, reason), path
        assert {k: v for k, v in headers if k != "Content-Length"} == JSON_ERROR_HEADERS
        assert json.loads(body) == [[None, message, None]]
    _, _, _, body = raw.request("GET", "/api/download.php?blob=community/nosuch/vcard/1")
    assert json.loads(body) == [
        [None, "Class 'go\\modules\\community\\nosuch\\Module' not found", None]
    ]


def test_download_cache_and_ranges(raw: Raw) -> None:
    blob_id = raw.upload(b"0123456789", "UTF-8''digits.txt")["id"]
    path = f"/api/download.php?blob={blob_id}"
    assert raw.request("GET", path, headers={"If-None-Match": blob_id})[0] == 304
    # PHP compares the date text with the Unix time as strings: any date is "newer"
    assert raw.request("GET", path, headers={"If-Modified-Since": "Mon, 01 Jan 1990"})[0] == 304
    status, _, headers, body = raw.request("GET", path, headers={"Range": "bytes=2-4"})
    assert (status, body) == (206, b"234")
    assert ("Content-Range", "bytes 2-4/10") in headers
    assert raw.request("GET", path, headers={"Range": "bytes=0-1,4-5"})[0] == 416


def test_sniffing() -> None:
    assert blobs.sniff(b"") == "application/x-empty"
    assert blobs.sniff(png()) == "image/png"
    assert blobs.sniff(b"%PDF-1.4\n") == "application/pdf"
    assert blobs.sniff(b"plain text\n") == "text/plain"
    assert blobs.sniff("café\n".encode("latin-1")) == "text/plain"
    assert blobs.sniff(b"\x00\x01binary") == "application/octet-stream"
    assert blobs.sniff(b'<?xml version="1.0"?><a/>') == "text/xml"
    assert blobs.sniff(b'<svg xmlns="http://www.w3.org/2000/svg"/>') == "image/svg+xml"
    assert blobs.sniff(b"#!/bin/sh\necho\n") == "text/x-shellscript"
    assert blobs.decode_file_name(None) is False
    assert blobs.decode_file_name("x" * 65 + "''a") is False
