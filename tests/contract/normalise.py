"""Normalisation of recorded and replayed responses before they are compared.

Only what is specific to one run is normalised; everything else, ids included, must match
exactly (the seeds make the emulator allocate the ids the real server allocated). Each rule is
listed in README.md ("Normalisation rules") with the corpus step that justifies it; the rule
numbers N1..N12 below refer to that list.

Both sides go through the same function. Before that, the replayed side gets the substitutions
of ``substitute`` (N9 host and port, N10 blob ids of regenerated binary bodies), which turn the
emulator's run-specific values into the recorded ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# N1: ISO-8601 timestamps chosen by the server (createdAt, modifiedAt, progressUpdated, staleAt,
# date, the time inside "Uncaught exception: ... at <datetime>", ...).
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
DATETIME = "<datetime>"

# N2: state strings. Normal form "cacheClearedAt:modseq[:...]" (3 or 4 parts, the first one a
# Unix time); Foo/changes with maxChanges answers an intermediate paging state "1|0:0|1:7|0".
STATE_KEYS = frozenset({"state", "queryState", "oldState", "newState", "sinceState"})
STATE = re.compile(r"\d+(?::\d+)+")
PAGING_STATE = re.compile(r"\d+(?:[:|]\d+)*\|\d+(?:[:|]\d+)*")
EMBEDDED_STATE = re.compile(r"(?<![\d:|])\d{9,}(?::\d+)+(?![\d:|])")

# N3: secrets; the corpus has them redacted, the emulator sends real ones.
SECRET_KEYS = frozenset({"accessToken", "CSRFToken"})
REDACTED = "<redacted>"

# N4: random UUIDs (Task uid, uri = uid + ".ics").
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# N6: the free space of the server's disk (User.storageFreeSpace) changes between two calls.
VOLATILE_NUMBERS = frozenset({"storageFreeSpace"})

# N8: a PHP TypeError names the calling file; the corpus redacted it to <server-path> (11 #15).
SERVER_PATH = re.compile(r"called in (?!<server-path>)\S+ on line")

# N11: download headers. These say nothing about Group-Office's behaviour (the PHP built-in
# server's Host/Connection/X-Powered-By) or depend on the clock (Last-Modified, Expires one year
# ahead). The constant Expires of PHP's no-cache error answers is compared.
IGNORED_HEADERS = frozenset({"host", "connection", "x-powered-by", "date", "server"})
CLOCK_HEADERS = frozenset({"last-modified", "expires"})
CONSTANT_EXPIRES = "01-07-2003 12:00:00 GMT"
HTTP_DATE = "<http-date>"


@dataclass
class NormContext:
    """What a corpus file's requests tell the normaliser (collected over the whole file)."""

    # N1: datetimes the requests themselves sent (a Comment ``date`` of 2024, 09 #1) are data,
    # not server clock, and are compared as they are.
    kept_datetimes: frozenset[str] = frozenset()
    # N5: TaskList colours the requests sent; other TaskList colours were chosen at random.
    sent_colors: frozenset[str] = frozenset()

    @classmethod
    def from_requests(cls, bodies: Iterable[Any]) -> NormContext:
        datetimes: set[str] = set()
        colors: set[str] = set()
        for body in bodies:
            for key, value in _walk(body):
                if isinstance(value, str):
                    datetimes.update(ISO_DATETIME.findall(value))
                    if key == "color":
                        colors.add(value)
        return cls(frozenset(datetimes), frozenset(colors))


@dataclass
class _Labeler:
    """N2: equal state strings get equal labels within one method response."""

    labels: dict[str, int] = field(default_factory=dict)

    def __call__(self, state: str) -> str:
        number = self.labels.setdefault(state, len(self.labels) + 1)
        shape = re.sub(r"\d+", "n", state)
        return f"<state {shape} #{number}>"


def is_state(value: str) -> bool:
    return bool(STATE.fullmatch(value) or PAGING_STATE.fullmatch(value))


def is_jmap_response(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) for item in value
        )
    )


def normalise(value: Any, ctx: NormContext) -> Any:
    """The normal form of a response body (parsed JSON or raw text)."""
    if is_jmap_response(value):
        # N2: states are labelled per method response ([name, args, callId]).
        return [
            [name, _norm(args, None, name, _Labeler(), ctx), call_id]
            for name, args, call_id in value
        ]
    return _norm(value, None, "", _Labeler(), ctx)


def _norm(value: Any, key: str | None, method: str, label: _Labeler, ctx: NormContext) -> Any:
    if isinstance(value, dict):
        # Keys in sorted order, so that state labels do not depend on the property order.
        out = {k: _norm(value[k], k, method, label, ctx) for k in sorted(value, key=str)}
        return {k: out[k] for k in value}
    if isinstance(value, list):
        return [_norm(v, key, method, label, ctx) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        if key in VOLATILE_NUMBERS:
            return "<bytes>"  # N6
        return value
    if not isinstance(value, str):
        return value
    if key in SECRET_KEYS:
        return REDACTED  # N3
    if (key in STATE_KEYS and is_state(value)) or EMBEDDED_STATE.fullmatch(value):
        return label(value)  # N2
    if key == "color" and method.startswith("TaskList/") and value not in ctx.sent_colors:
        return "<color>"  # N5
    return normalise_text(value, ctx, label)


def normalise_text(text: str, ctx: NormContext, label: _Labeler | None = None) -> str:
    """Rules that apply inside any string (also raw text bodies)."""
    text = UUID.sub("<uuid>", text)  # N4
    text = ISO_DATETIME.sub(
        lambda m: m.group(0) if m.group(0) in ctx.kept_datetimes else DATETIME, text
    )  # N1
    text = SERVER_PATH.sub("called in <server-path> on line", text)  # N8
    if label is None:
        label = _Labeler()
    return EMBEDDED_STATE.sub(lambda m: label(m.group(0)), text)  # N2 (e.g. "State mismatch")


def substitute(value: Any, replacements: Mapping[str, str]) -> Any:
    """Replace substrings in every string (keys included) of a parsed body."""
    if not replacements:
        return value
    if isinstance(value, dict):
        return {substitute(k, replacements): substitute(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, replacements) for v in value]
    if isinstance(value, str):
        for old, new in replacements.items():
            if old in value:
                value = value.replace(old, new)
        return value
    return value


def normalise_headers(
    recorded: Mapping[str, str], actual: Mapping[str, str], replacements: Mapping[str, str]
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """N11: the recorded download headers and the same headers of the replayed answer.

    Header names are compared case-insensitively (the corpus has ``Content-type`` from PHP's
    ``header()`` next to ``Content-Type``); values exactly.
    """
    actual_lower = {k.lower(): v for k, v in actual.items()}
    expected: dict[str, str | None] = {}
    got: dict[str, str | None] = {}
    for name, value in recorded.items():
        low = name.lower()
        if low in IGNORED_HEADERS:
            continue
        act = actual_lower.get(low)
        if act is not None:
            act = substitute(act, replacements)
        if low in CLOCK_HEADERS and value != CONSTANT_EXPIRES:
            expected[low] = HTTP_DATE
            got[low] = HTTP_DATE if act else act
            continue
        expected[low] = value
        got[low] = act
    return expected, got


def _walk(value: Any, key: str | None = None) -> Iterable[tuple[str | None, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value
