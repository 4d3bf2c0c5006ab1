"""Checking what callers pass in before anything is sent: subjects, messages, people,
Message-IDs, dates, attachments. Every refusal names the value."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Union

from go_support.desk.convert import is_id
from go_support.desk.errors import InvalidMessage, InvalidTicket, UnknownUser
from go_support.desk.html import html_to_text, sanitize_html
from go_support.desk.models import Attachment, Person
from go_support.jmap import GroupOfficeClient

__all__ = [
    "AttachmentSource",
    "PersonSpec",
    "check_address",
    "check_date",
    "check_message",
    "check_message_id",
    "check_sender",
    "check_subject",
    "parse_person",
    "prepare_attachments",
    "unknown_user",
    "upload_attachments",
]

AttachmentSource = Union[
    Attachment, tuple[str, bytes], tuple[str, bytes, str], "os.PathLike[str]"
]
"""An attachment to send: an :class:`Attachment` already on the server, ``(name, data)``,
``(name, data, content_type)``, or a path to a file."""

MAX_SUBJECT = 255
MAX_TEXT_FIELD = 190
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"%]+@[^@\s<>()\[\],;:\"%]+\.[^@\s<>()\[\],;:\".%]+$")
_LOCAL_PART = 64


# --- values --------------------------------------------------------------------------------


def check_subject(subject: Any) -> str:
    if not isinstance(subject, str):
        raise InvalidTicket(f"the subject must be text (got {subject!r})")
    text = " ".join(subject.split())
    if not any(unicodedata.category(c)[0] not in "CZ" for c in text):
        raise InvalidTicket(f"the subject must not be empty (got {subject!r})")
    if len(text) > MAX_SUBJECT:
        raise InvalidTicket(
            f"the subject has {len(text)} characters; Group-Office keeps at most {MAX_SUBJECT} "
            f"(subject {text[:40]!r}...)")
    return text


def check_message(html_text: Any, *, what: str, attachments: Sequence[Any] = ()) -> str:
    cleaned = sanitize_html(html_text, what=what)
    if not html_to_text(cleaned) and not attachments and "<img" not in cleaned:
        raise InvalidMessage(f"{what} is empty (got {str(html_text)[:60]!r})")
    return cleaned


def check_address(address: str, *, role: str) -> str:
    text = address.strip()
    local = text.split("@", 1)[0]
    if (not _ADDRESS.match(text) or len(local) > _LOCAL_PART or len(text) > MAX_TEXT_FIELD
            or ".." in text):
        raise InvalidTicket(f"the {role} {address!r} is not an e-mail address")
    return text


def check_sender(sender: object) -> Person | None:
    """``sender`` of a received message checked: ``None``, or a :class:`Person` with an
    address (checked) or a name."""
    if sender is None:
        return None
    if not isinstance(sender, Person):
        raise InvalidMessage(
            f"the sender must be a Person with an address or a name (got {sender!r})")
    if not (sender.email or "").strip() and not (sender.name or "").strip():
        raise InvalidMessage(f"the sender {sender!r} has neither an address nor a name")
    if (sender.email or "").strip():
        try:
            check_address(sender.email or "", role="sender address")
        except InvalidTicket as exc:
            raise InvalidMessage(str(exc)) from None
    return sender


def check_message_id(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > 255 or not text.isascii() or any(c.isspace() for c in text):
        raise InvalidMessage(f"{value!r} is not a Message-ID (ASCII, no spaces, at most 255)")
    return text


def check_date(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise InvalidMessage(f"the date must be a datetime (got {value!r})")


@dataclass(frozen=True)
class PersonSpec:
    """A person as the caller named them: a user id, or an address (with a name)."""

    user_id: str | None = None
    email: str | None = None
    name: str | None = None


def parse_person(value: Any, *, role: str, me: str | None = None) -> PersonSpec:
    """``37``, ``"37"``, ``"me"``, ``Person(...)``, ``"a@b.c"``, ``"Ann <a@b.c>"``."""
    if isinstance(value, Person):
        if value.id:
            return parse_person(value.id, role=role, me=me)
        if value.email:
            return PersonSpec(None, check_address(value.email, role=f"{role} address"),
                              _name(value.name))
        raise InvalidTicket(f"the {role} {value!r} has neither a user id nor an address")
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise InvalidTicket(f"the {role} {value!r} is not a user id")
        return PersonSpec(str(value))
    if not isinstance(value, str):
        raise InvalidTicket(
            f"the {role} must be a user id or an e-mail address (got {value!r})")
    text = value.strip()
    if is_id(text) and int(text) > 0:
        return PersonSpec(str(int(text)))
    if text.lower() == "me" and me is not None:
        return PersonSpec(me)
    if "@" in text:
        name, address = _one_address(text, value, role)
        return PersonSpec(None, check_address(address, role=role), _name(name))
    raise InvalidTicket(
        f"the {role} {value!r} is neither a user id nor an e-mail address")


_NAMED = re.compile(r"(?P<name>[^<>]*?)\s*<(?P<address>[^<>]*)>", re.DOTALL)
_QUOTED = re.compile(r'"(?P<inner>(?:[^"\\]|\\.)*)"', re.DOTALL)


def _one_address(text: str, value: Any, role: str) -> tuple[str | None, str]:
    """``a@b.c`` or ``Name <a@b.c>`` (``"Doe, Ann" <a@b.c>``), exactly one address and
    nothing else: lists, trailing text and stray brackets are refused (``parseaddr`` would
    quietly pick one address out of them)."""
    refused = InvalidTicket(f"the {role} {value!r} is not exactly one e-mail address "
                            "(a@b.c or Name <a@b.c>)")
    if "<" not in text and ">" not in text:
        return None, text
    named = _NAMED.fullmatch(text)
    if named is None:
        raise refused
    name = named.group("name").strip()
    quoted = _QUOTED.fullmatch(name)
    if quoted is not None:
        name = re.sub(r"\\(.)", r"\1", quoted.group("inner"), flags=re.DOTALL)
    elif any(c in name for c in '"@,;'):
        raise refused
    address = named.group("address").strip()
    if not address:
        raise refused
    return name or None, address


def unknown_user(role: str, spec: PersonSpec) -> UnknownUser:
    """The error for a person who is no Group-Office user (that the actor can read)."""
    if spec.user_id:
        return UnknownUser(f"the {role}, user {spec.user_id}, does not exist")
    return UnknownUser(f"the {role} {spec.email!r}: there is no Group-Office user with that "
                       "address")


def _name(name: str | None) -> str | None:
    if not name:
        return None
    text = " ".join(name.split())
    return text[:MAX_TEXT_FIELD] or None


# --- attachments --------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    name: str
    data: bytes
    content_type: str


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidMessage(f"an attachment needs a file name (got {name!r})")
    text = name.strip()
    if len(text) > MAX_TEXT_FIELD:
        raise InvalidMessage(f"the attachment name {text[:40]!r}... is longer than "
                             f"{MAX_TEXT_FIELD} characters")
    return text


def prepare_attachments(items: Iterable[Any]) -> list[Attachment | _File]:
    """Check attachments (and read files) before anything is uploaded or sent."""
    prepared: list[Attachment | _File] = []
    for item in items:
        if isinstance(item, Attachment):
            if not re.fullmatch(r"[0-9a-f]{40}", item.blob_id or ""):
                raise InvalidMessage(f"{item.blob_id!r} is not a Group-Office blob id")
            prepared.append(Attachment(item.blob_id, _check_name(item.name), item.id))
        elif isinstance(item, tuple) and len(item) in (2, 3):
            data = item[1]
            if not isinstance(data, bytes | bytearray):
                raise InvalidMessage(f"the content of attachment {item[0]!r} must be bytes")
            ctype = item[2] if len(item) == 3 else "application/octet-stream"
            prepared.append(_File(_check_name(item[0]), bytes(data), str(ctype)))
        elif isinstance(item, os.PathLike | str):
            path = Path(item)
            if not path.is_file():
                raise InvalidMessage(f"the attachment {str(path)!r} is not a readable file")
            prepared.append(_File(_check_name(path.name), path.read_bytes(),
                                  "application/octet-stream"))
        else:
            raise InvalidMessage(
                f"an attachment must be an Attachment, (name, bytes) or a path (got {item!r})")
    return prepared


def upload_attachments(client: GroupOfficeClient,
                       prepared: Sequence[Attachment | _File]) -> list[dict[str, str]]:
    """Upload the files (one HTTP request each); ``[{blobId, name}]`` for ``Comment/set``.

    A blob that no comment refers to is harmless: Group-Office removes unused blobs itself.
    """
    refs: list[dict[str, str]] = []
    for item in prepared:
        if isinstance(item, Attachment):
            refs.append({"blobId": item.blob_id, "name": item.name})
        else:
            blob = client.upload_blob(item.data, item.name, item.content_type)
            refs.append({"blobId": blob.blob_id, "name": item.name})
    return refs
