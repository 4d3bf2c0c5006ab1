"""The local quarantine keeps bytes and reasons, once per mail, privately."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from go_support.mail.parse import Quarantine, parse_mail
from go_support.mail.quarantine import QuarantineStore, UnknownQuarantineId

T1 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_quarantined_mail_keeps_its_bytes_and_reason(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path / "q")
    raw = b"From: nobody at all\r\n\r\nbody"
    outcome = parse_mail(raw)
    assert isinstance(outcome, Quarantine)
    entry = store.put(outcome.raw, code=outcome.code, reason=outcome.reason, source="support",
                      key="7:12", now=T1)
    assert (entry.code, entry.reason, entry.size, entry.at, entry.has_bytes) == (
        "no-sender", "no sender address: From 'nobody at all' is not an address", len(raw),
        "2026-01-02T03:04:05+00:00", True)
    assert store.read(entry.id) == raw
    assert store.list() == [entry]
    assert store.get(entry.id) == entry
    for path in (tmp_path / "q").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "q").stat().st_mode) == 0o700


def test_the_same_mail_twice_is_one_entry(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    first = store.put(b"x", code="not-a-mail", reason="one", source="s", key="1", now=T1)
    again = store.put(b"x", code="not-a-mail", reason="two", source="s", key="1")
    assert again.id == first.id and again.at == first.at and again.reason == "two"
    other = store.put(b"y", code="not-a-mail", reason="three", source="s", key="2")
    assert [e.id for e in store.list()] == [first.id, other.id]


def test_a_mail_not_downloaded_says_where_it_is(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    entry = store.put(None, code="too-large", reason="the mail has 99 bytes", source="support",
                      key="7:13", size=99)
    assert (entry.has_bytes, entry.size) == (False, 99)
    with pytest.raises(UnknownQuarantineId, match="quarantine folder of mailbox 'support'"):
        store.read(entry.id)


def test_remove_and_unknown_ids(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    entry = store.put(b"x", code="empty", reason="r", source="s", key="k")
    store.remove(entry.id)
    assert store.list() == [] and list(tmp_path.iterdir()) == []
    for bad in (entry.id, "../../etc/passwd", ""):
        with pytest.raises(UnknownQuarantineId, match="quarantine list shows the ids"):
            store.get(bad)
    (tmp_path / ("0" * 20 + ".json")).write_text("{not json")
    assert store.list() == []
