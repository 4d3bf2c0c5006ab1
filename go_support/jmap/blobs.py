"""Files: uploads (``api/upload.php``) and downloads (``api/download.php``), streamed.

Repeating an upload is harmless (same content, same blob id), so uploads are retried like
reads; a download is opened with retries and then read piece by piece (:class:`BlobStream`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import BinaryIO
from urllib.parse import quote, unquote

from go_support.jmap.connection import json_or_none
from go_support.jmap.errors import (
    AuthenticationError,
    BlobNotFoundError,
    BlobTooLargeError,
    JMAPError,
)
from go_support.jmap.login import Authenticated
from go_support.jmap.results import Blob
from go_support.jmap.transport import (
    HttpResponse,
    StreamedResponse,
    StreamingTransport,
    safe_url,
)

__all__ = ["BlobStream", "BlobTransfers"]

_UPLOAD_AUTH_DETAIL = "go\\core\\http\\Exception"


def _download_message(resp: HttpResponse) -> str:
    """download.php's errors are JSON ``[[null, "<message>", null]]``."""
    data = json_or_none(resp.content)
    if (
        isinstance(data, list)
        and data
        and isinstance(data[0], list)
        and len(data[0]) > 1
        and isinstance(data[0][1], str)
    ):
        return data[0][1]
    return resp.reason


class BlobStream:
    """A blob download in progress: headers first, then the bytes piece by piece."""

    def __init__(self, blob_id: str, response: StreamedResponse) -> None:
        self.blob_id = blob_id
        self._response = response

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers (``Content-Type``, ``Content-Disposition``…)."""
        return self._response.headers

    def _header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self._response.headers.items():
            if key.lower() == lowered:
                return value
        return None

    @property
    def content_type(self) -> str | None:
        """The MIME type the server sent."""
        return self._header("Content-Type")

    @property
    def size(self) -> int | None:
        """``Content-Length``, when sent."""
        value = self._header("Content-Length")
        return int(value) if value and value.isdigit() else None

    @property
    def filename(self) -> str | None:
        """The file name from ``Content-Disposition``, when sent.

        Accepts RFC 5987 ``filename*=UTF-8''…`` and raw UTF-8 in ``filename="…"`` (which
        HTTP libraries hand over decoded as Latin-1).
        """
        disposition = self._header("Content-Disposition") or ""
        params: dict[str, str] = {}
        for part in disposition.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        extended = params.get("filename*")
        if extended and "''" in extended:
            charset, _, encoded = extended.partition("''")
            return unquote(encoded, encoding=charset or "utf-8", errors="replace") or None
        name = params.get("filename")
        if not name:
            return None
        try:
            return name.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return name

    def iter_bytes(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """The body in chunks; a broken connection raises :class:`TransportError`."""
        yield from self._response.iter_content(chunk_size)

    def read(self) -> bytes:
        """The whole remaining body."""
        return b"".join(self.iter_bytes())


class _BytesStream:
    """A :class:`StreamedResponse` over an already complete answer (for plain transports)."""

    def __init__(self, response: HttpResponse) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def reason(self) -> str:
        return self._response.reason

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        data = self._response.content
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]

    def close(self) -> None:
        return None


class BlobTransfers(Authenticated):
    """An :class:`Authenticated` connection that uploads and downloads blobs."""

    def upload_blob(
        self,
        data: bytes | bytearray | memoryview | BinaryIO,
        name: str,
        content_type: str = "application/octet-stream",
        *,
        timeout: float | None = None,
    ) -> Blob:
        """Upload a file; returns the blob (its id is the SHA-1 of the content).

        Repeating an upload is harmless (same content, same id), so it is retried.
        """
        with self._guard():
            if isinstance(data, bytes | bytearray | memoryview):
                payload = bytes(data)
            else:
                payload = data.read()
            session = self.session
            limit = session.limits.max_size_upload
            if limit is not None and len(payload) > limit:
                raise BlobTooLargeError(
                    f"{name!r} has {len(payload)} bytes; this Group-Office accepts at most "
                    f"{limit} (maxSizeUpload)",
                    size=len(payload), limit=limit,
                )
            url = session.upload_url
            headers = {
                "Content-Type": content_type,
                "X-File-Name": f"UTF-8''{quote(name, safe='')}",
            }

            def attempt() -> Blob:
                resp = self._send("POST", url, headers=self._headers(headers), body=payload,
                                  timeout=timeout)
                return self._read_upload(resp, url, name, len(payload), limit)

            try:
                return self._retry(attempt, what=f"upload of {name!r}")
            except AuthenticationError:
                if not self._can_relogin():
                    raise
                self._relogin()
                return self._retry(attempt, what=f"upload of {name!r}")

    def _read_upload(
        self, resp: HttpResponse, url: str, name: str, size: int, limit: int | None
    ) -> Blob:
        data = json_or_none(resp.content)
        if resp.status in (200, 201):
            if not isinstance(data, Mapping):
                raise self._protocol_error("POST", url, resp)
            try:
                return Blob.from_json(data)
            except ValueError as exc:
                raise self._protocol_error("POST", url, resp, detail=str(exc)) from exc
        if resp.status == 413:
            raise BlobTooLargeError(
                f"Group-Office refused {name!r} ({size} bytes) as too large (HTTP 413"
                f"{', limit ' + str(limit) if limit else ''})",
                size=size, limit=limit,
            )
        if resp.status == 401 or (
            isinstance(data, Mapping) and data.get("detail") == _UPLOAD_AUTH_DETAIL
        ):
            raise AuthenticationError(
                f"Group-Office refused the upload to {safe_url(url)}: not authenticated "
                "(it answers HTTP 500 'Upload failed' for that). Check the API key"
            )
        detail = data.get("detail") if isinstance(data, Mapping) else None
        raise self._status_error(
            "POST", url, resp, hint=f"upload failed: {detail}" if detail else "upload failed"
        )

    def _download_error(self, blob_id: str, url: str, resp: HttpResponse) -> JMAPError:
        message = _download_message(resp)
        if resp.status == 401:
            return AuthenticationError(
                f"Group-Office refused the download of blob {blob_id} ({message}). "
                "Check the API key"
            )
        if resp.status == 404:
            return BlobNotFoundError(
                f"Group-Office has no blob {blob_id} ({message})", blob_id=blob_id
            )
        return self._status_error("GET", url, resp, hint=message if message != resp.reason else "")

    def download_blob(self, blob_id: str, *, timeout: float | None = None) -> bytes:
        """The content of a blob, read into memory."""
        with self.download_blob_stream(blob_id, timeout=timeout) as stream:
            return stream.read()

    @contextlib.contextmanager
    def download_blob_stream(
        self, blob_id: str, *, timeout: float | None = None
    ) -> Iterator[BlobStream]:
        """Download a blob piece by piece: ``with client.download_blob_stream(i) as s:``.

        Opening is retried; a connection that breaks in the middle raises
        :class:`TransportError` from :meth:`BlobStream.iter_bytes`.
        """
        with self._guard():
            url = self.session.blob_download_url(blob_id)

            def attempt() -> StreamedResponse:
                headers = self._headers()
                stream: StreamedResponse
                if isinstance(self._transport, StreamingTransport):
                    stream = self._transport.stream(
                        "GET", url, headers=headers, timeout=timeout or self.timeout
                    )
                else:
                    stream = _BytesStream(self._send("GET", url, headers=headers, timeout=timeout))
                if stream.status == 200:
                    return stream
                try:
                    body = b"".join(stream.iter_content(64 * 1024))
                finally:
                    stream.close()
                raise self._download_error(
                    blob_id, url,
                    HttpResponse(stream.status, stream.reason, stream.headers, body),
                )

            try:
                response = self._retry(attempt, what=f"download of blob {blob_id}")
            except AuthenticationError:
                if not self._can_relogin():
                    raise
                self._relogin()
                response = self._retry(attempt, what=f"download of blob {blob_id}")
            try:
                yield BlobStream(blob_id, response)
            finally:
                response.close()
