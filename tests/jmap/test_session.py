"""Session parsing from the recorded session (no server needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from go_support.jmap import Limits, Session


@pytest.fixture
def recorded(wire: Any) -> Callable[..., Session]:
    def load(step: int = 0, file: str = "01-session.json") -> Session:
        return Session.from_json(wire(file)["steps"][step]["response"])

    return load


def test_session_fields(recorded: Callable[..., Session]) -> None:
    s = recorded()
    assert s.api_url.endswith("/api/jmap.php")
    assert s.upload_url.endswith("/api/upload.php")
    assert "{blobId}" in s.download_url
    assert s.user_id == "1" and s.version == "26.0.42"
    assert isinstance(s.cache_cleared_at, int)
    assert s.event_source_url is None  # null on the recorded server
    assert s.state == {}  # [] on the wire


def test_limits(recorded: Callable[..., Session]) -> None:
    limits = recorded().limits
    assert limits == Limits(
        max_call_in_request=10, max_objects_in_get=100, max_objects_in_set=1000,
        max_size_upload=67108864, max_size_request=67108864, max_concurrent_upload=4,
        max_concurrent_requests=4,
    )
    assert Session.from_json({"apiUrl": "a", "downloadUrl": "d", "uploadUrl": "u"}).limits \
        == Limits()


def test_module_rights(recorded: Callable[..., Session]) -> None:
    s = recorded()
    assert s.module_rights("community", "tasks") == {
        "mayRead": True, "mayChangeTasklists": True, "mayChangeCategories": True}
    assert s.module_rights("legacy", "files") is not None
    assert s.module_rights("business", "support") is None
    assert s.has_module("community", "comments") and not s.has_module("business", "support")


def test_login_session_keeps_no_secrets(recorded: Callable[..., Session]) -> None:
    s = recorded(0, "02-auth.json")
    for key in ("accessToken", "CSRFToken", "debug"):
        assert key not in s.raw
    assert "CSRF" not in repr(s)


def test_blob_download_url(recorded: Callable[..., Session]) -> None:
    s = recorded()
    assert s.blob_download_url("ab/c") == s.download_url.replace("{blobId}", "ab%2Fc")
