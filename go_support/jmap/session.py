"""The Group-Office JMAP session (``GET <base>/api/jmap.php``).

Group-Office's session is not RFC 8620's: no ``username`` or ``primaryAccounts``, no
URN capabilities (the core limits sit flat in ``capabilities`` next to one
``go:<package>:<module>`` rights object per readable module), ``state`` is a list or a
map rather than a string, and ``eventSourceUrl`` may be ``null``. This module parses it
leniently and keeps the secrets it contains (``CSRFToken``, ``accessToken``) out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["Limits", "Session"]

_SECRET_KEYS = frozenset({"CSRFToken", "accessToken", "rememberMeToken", "debug"})


def _int_or(value: Any, default: int | None) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return default


@dataclass(frozen=True)
class Limits:
    """Request limits the server advertises.

    Group-Office enforces only ``max_objects_in_set``; the client respects the others
    anyway, because a future version or a proxy (``max_size_request``) may not be as
    lenient.
    """

    max_call_in_request: int = 10
    max_objects_in_get: int = 100
    max_objects_in_set: int = 1000
    max_size_upload: int | None = None
    max_size_request: int | None = None
    max_concurrent_upload: int | None = None
    max_concurrent_requests: int | None = None

    @classmethod
    def from_capabilities(cls, caps: Mapping[str, Any]) -> Limits:
        """Read the flat limits; missing or odd values fall back to Group-Office's defaults."""

        def positive(key: str, default: int) -> int:
            value = _int_or(caps.get(key), default)
            return value if value is not None and value > 0 else default

        return cls(
            max_call_in_request=positive("maxCallInRequest", 10),
            max_objects_in_get=positive("maxObjectsInGet", 100),
            max_objects_in_set=positive("maxObjectsInSet", 1000),
            max_size_upload=_int_or(caps.get("maxSizeUpload"), None),
            max_size_request=_int_or(caps.get("maxSizeRequest"), None),
            max_concurrent_upload=_int_or(caps.get("maxConcurrentUpload"), None),
            max_concurrent_requests=_int_or(caps.get("maxConcurrentRequests"), None),
        )


@dataclass(frozen=True)
class Session:
    """What the server said about itself and the authenticated user."""

    api_url: str
    download_url: str
    upload_url: str
    user_id: str
    version: str | None = None
    cache_cleared_at: int | None = None
    event_source_url: str | None = None
    page_url: str | None = None
    capabilities: Mapping[str, Any] = field(default_factory=dict)
    accounts: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Session:
        """Parse a session object; raises ``ValueError`` naming a missing required key."""
        missing = [k for k in ("apiUrl", "downloadUrl", "uploadUrl") if not isinstance(
            data.get(k), str) or not data.get(k)]
        if missing:
            raise ValueError(f"the session lacks {', '.join(missing)}")
        caps = data.get("capabilities")
        accounts = data.get("accounts")
        state = data.get("state")
        event_source = data.get("eventSourceUrl")
        page_url = data.get("pageUrl")
        version = data.get("version")
        user_id = data.get("userId")
        return cls(
            api_url=str(data["apiUrl"]),
            download_url=str(data["downloadUrl"]),
            upload_url=str(data["uploadUrl"]),
            user_id="" if user_id is None else str(user_id),
            version=str(version) if version is not None else None,
            cache_cleared_at=_int_or(data.get("cacheClearedAt"), None),
            event_source_url=event_source if isinstance(event_source, str) and event_source
            else None,
            page_url=page_url if isinstance(page_url, str) else None,
            # PHP encodes an empty map as []: accept both.
            capabilities=dict(caps) if isinstance(caps, Mapping) else {},
            accounts=dict(accounts) if isinstance(accounts, Mapping) else {},
            state=dict(state) if isinstance(state, Mapping) else {},
            raw={k: v for k, v in data.items() if k not in _SECRET_KEYS},
        )

    @property
    def limits(self) -> Limits:
        """The request limits from ``capabilities``."""
        return Limits.from_capabilities(self.capabilities)

    def module_rights(self, package: str, module: str) -> dict[str, bool] | None:
        """Rights of the current user on a module, or ``None`` if it cannot read it.

        Example: ``module_rights("community", "tasks")`` →
        ``{"mayRead": True, "mayChangeTasklists": True, "mayChangeCategories": True}``.
        Modules without a package are listed under ``"legacy"``.
        """
        rights = self.capabilities.get(f"go:{package}:{module}")
        if not isinstance(rights, Mapping):
            return None
        return {str(k): bool(v) for k, v in rights.items()}

    def has_module(self, package: str, module: str) -> bool:
        """Whether the module is installed and readable by the current user."""
        rights = self.module_rights(package, module)
        return bool(rights and rights.get("mayRead", True))

    def blob_download_url(self, blob_id: str) -> str:
        """``downloadUrl`` with ``{blobId}`` filled in (its only placeholder)."""
        encoded = quote(blob_id, safe="")
        if "{blobId}" in self.download_url:
            return self.download_url.replace("{blobId}", encoded)
        separator = "&" if "?" in self.download_url else "?"
        return f"{self.download_url}{separator}blob={encoded}"
