"""The value grammars of Group-Office query filters (reference: groupoffice-entities.md §0.2).

- text: SQL LIKE with the value exactly as given (no wildcards added), case-insensitive, the
  backslash escaping ``%``, ``_`` and itself (MariaDB's default); a list of values is OR-ed
  (08: ``title: "other%"``, 11: ``email: "%@example.com"``);
- number: ``"5"``, ``">=5"``, ``"!=3"``, ``"<>3"``, ``"1..4"`` (07, 08);
- date: a comparator and any date expression, or a range ``a..b`` whose end without a time
  includes that whole day (08, 09).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

_LIKE_CACHE: dict[str, re.Pattern[str]] = {}


def like(value: Any, pattern: Any) -> bool:
    """SQL LIKE: ``%`` any run, ``_`` one character, case-insensitive (MariaDB's collation).

    The backslash is the escape character, as in MariaDB by default: ``\\%``, ``\\_`` and
    ``\\\\`` match a literal ``%``, ``_`` and backslash, a backslash before any other character
    matches that character, and a backslash that ends the pattern matches itself.
    """
    if value is None:
        return False
    regex = _LIKE_CACHE.get(str(pattern))
    if regex is None:
        text = str(pattern)
        parts = []
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                i += 1
                parts.append(re.escape(text[i]))
            elif ch == "%":
                parts.append(".*")
            elif ch == "_":
                parts.append(".")
            else:
                parts.append(re.escape(ch))
            i += 1
        regex = re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
        _LIKE_CACHE[str(pattern)] = regex
    return regex.fullmatch(str(value)) is not None


def text_filter(value: Any, query: Any) -> bool:
    patterns = query if isinstance(query, list) else [query]
    return any(like(value, p) for p in patterns)


_NUM = re.compile(r"^\s*(>=|<=|!=|<>|>|<|=)?\s*(-?\d+(?:\.\d+)?)\s*$")


def number_filter(value: Any, query: Any) -> bool:
    if isinstance(query, list):
        return any(number_filter(value, q) for q in query)
    if value is None:
        return query is None
    if query is None:
        return False
    text = str(query)
    if ".." in text:
        lo, hi = text.split("..", 1)
        return float(lo) <= float(value) <= float(hi)
    m = _NUM.match(text)
    if not m:
        return False
    op, num = m.group(1) or "=", float(m.group(2))
    v = float(value)
    return {
        "=": v == num,
        ">=": v >= num,
        "<=": v <= num,
        ">": v > num,
        "<": v < num,
        "!=": v != num,
        "<>": v != num,
    }[op]


@functools.lru_cache(maxsize=4096)  # a query compares many rows stamped in the same second
def parse_iso(value: str) -> datetime:
    text = value.strip()
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


# "-30 days", "+1 week", and strtotime's "now-30days" (groupoffice-wire 18 #5: a commentedAt
# filter "<now-30days").
_RELATIVE = re.compile(
    r"^(?:now\s*)?([+-]?)\s*(\d+)\s*(day|days|week|weeks|hour|hours|minute|minutes)$"
)


def parse_date_expression(text: str, now: datetime | None = None) -> tuple[datetime, bool]:
    """Parse a strtotime-like expression; the flag says whether it carried a time of day."""
    now = now or utc_now()
    t = text.strip().lower()
    if t in ("now", ""):
        return now, True
    if t == "today":
        return now.replace(hour=0, minute=0, second=0, microsecond=0), False
    if t == "tomorrow":
        return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1), False
    if t == "yesterday":
        return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1), False
    m = _RELATIVE.match(t)
    if m:
        n, unit = int(m.group(1) + m.group(2)), m.group(3).rstrip("s")
        delta = {
            "day": timedelta(days=n),
            "week": timedelta(weeks=n),
            "hour": timedelta(hours=n),
            "minute": timedelta(minutes=n),
        }[unit]
        return now + delta, True
    return parse_iso(text), len(text.strip()) > 10


_DATE_OP = re.compile(r"^\s*(>=|<=|!=|<>|>|<|=)?\s*(.*)$", re.DOTALL)


@functools.lru_cache(maxsize=256)  # a query tests every row against the same expression
def _operator(text: str) -> tuple[str | None, str]:
    m = _DATE_OP.match(text)
    assert m is not None
    return m.group(1), m.group(2)


@functools.lru_cache(maxsize=256)
def _fixed_point(text: str) -> tuple[datetime, bool] | None:
    """:func:`parse_date_expression` of an expression that does not depend on the clock
    (a date or a date and time); None for one that does."""
    t = text.strip().lower()
    if t in ("now", "", "today", "tomorrow", "yesterday") or _RELATIVE.match(t):
        return None
    return parse_date_expression(text)


def _point(text: str) -> tuple[datetime, bool]:
    fixed = _fixed_point(text)
    return fixed if fixed is not None else parse_date_expression(text)


def date_filter(value: Any, query: Any) -> bool:
    """Compare a stored date or datetime with a filter expression."""
    if query is None:
        return value is None
    if value is None:
        return False
    stored = value if isinstance(value, datetime) else parse_iso(str(value))
    text = str(query)
    if ".." in text:
        lo_text, hi_text = text.split("..", 1)
        lo, _ = _point(lo_text)
        hi, has_time = _point(hi_text)
        if not has_time:
            return lo <= stored < hi + timedelta(days=1)
        return lo <= stored <= hi
    op, expr = _operator(text)
    point, has_time = _point(expr)
    if op is None or op == "=":
        if has_time:
            return stored == point
        return point <= stored < point + timedelta(days=1)
    return {
        ">=": stored >= point,
        "<=": stored <= point,
        ">": stored > point,
        "<": stored < point,
        "!=": stored != point,
        "<>": stored != point,
    }[op]


_last_ids: tuple[list[Any], frozenset[str], bool, list[list[Any]]] | None = None


def _id_set(query: list[Any]) -> tuple[frozenset[str], bool, list[list[Any]]]:
    """A list filter's ids as text, whether it holds ``None``, and its nested lists: made
    once per filter rather than once per record (a filter such as ``entityId: [500 ids]`` is
    matched against every comment)."""
    global _last_ids
    cached = _last_ids  # read once: emulators in other threads may replace it meanwhile
    if cached is None or cached[0] is not query:
        cached = (query,
                  frozenset(str(q) for q in query if q is not None and not isinstance(q, list)),
                  any(q is None for q in query), [q for q in query if isinstance(q, list)])
        _last_ids = cached
    return cached[1:]


def id_filter(value: Any, query: Any) -> bool:
    """Equality on an id, or membership when the query is a list; ids compare loosely."""
    if isinstance(query, list):
        ids, has_none, nested = _id_set(query)
        if value is None:
            return has_none or any(id_filter(value, q) for q in nested)
        return str(value) in ids or any(id_filter(value, q) for q in nested)
    if query is None:
        return value is None
    return value is not None and str(value) == str(query)


def any_id_in(values: Iterable[Any] | None, query: Any) -> bool:
    wanted = {str(q) for q in (query if isinstance(query, list) else [query])}
    return any(str(v) in wanted for v in values or [])


_clock: Callable[[], datetime] | None = None


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Replace the emulator's clock (``None``: the real one again); process-wide.

    Group-Office reports ``modifiedAt`` in ``updated`` only when a save falls in a later second
    than the previous one (08 #3-#10 all ran within one second). A test that compares answers
    with a recording can freeze the clock so that a second boundary never shows.
    """
    global _clock
    _clock = clock


def utc_now() -> datetime:
    return _clock() if _clock is not None else datetime.now(UTC)


_last_second: tuple[int, str] = (-1, "")


def now_iso() -> str:
    """Timestamps as Group-Office writes them: UTC, seconds, explicit offset (08, 09).

    Formatted once per second of the real clock (a write stamps several of them)."""
    global _last_second
    if _clock is not None:
        return utc_now().replace(microsecond=0).isoformat()
    second = int(time.time())
    cached = _last_second  # read once: other threads may replace it meanwhile
    if cached[0] != second:
        cached = (second, datetime.fromtimestamp(second, UTC).isoformat())
        _last_second = cached
    return cached[1]


def today() -> date:
    return utc_now().date()
