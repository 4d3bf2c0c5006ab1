"""The record of applied steps in the field set's description: tolerant both ways."""

from __future__ import annotations

from go_support.migrations import MANAGED_SENTENCE, format_record, parse_record


def test_parse_is_tolerant() -> None:
    assert parse_record(None) == ()
    assert parse_record("Ticket data") == ()
    assert parse_record("go-support schema: 0001_field_set 0002_groupings") == (
        "0001_field_set", "0002_groupings")
    text = ("Some words\n  GO-SUPPORT Schema :0001_field_set, 0002_groupings;junk\n"
            "go-support schema: 0002_groupings 0003_fields\n")
    assert parse_record(text) == ("0001_field_set", "0002_groupings", "0003_fields")


def test_format_keeps_other_text_and_replaces_the_record() -> None:
    first = format_record(None, ["0001_field_set"])
    assert first == f"{MANAGED_SENTENCE}\ngo-support schema: 0001_field_set"
    second = format_record(first, ["0002_groupings", "0001_field_set"])
    assert second == f"{MANAGED_SENTENCE}\ngo-support schema: 0001_field_set 0002_groupings"
    own = format_record("Ticket data\n\ngo-support schema: 0001_field_set\n",
                        ["0001_field_set", "0002_groupings"])
    assert own.splitlines() == [MANAGED_SENTENCE, "Ticket data",
                                "go-support schema: 0001_field_set 0002_groupings"]
    assert parse_record(own) == ("0001_field_set", "0002_groupings")
