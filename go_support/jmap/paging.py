"""Reading every row of a query in pages, several pages to a request.

The first page asks for ``total``; the other pages then go out together, as many to a
request as ``maxCallInRequest`` allows. Pages are no snapshot: rows created meanwhile push
others further, so paging goes on while Group-Office says ``hasMore``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from go_support.jmap.request import Batch, Call
from go_support.jmap.results import GetResult, QueryResult, dedupe

if TYPE_CHECKING:
    from go_support.jmap.managers import EntityManager, SortSpec

__all__ = ["read_pages"]


def read_pages(
    manager: EntityManager,
    filter: Mapping[str, Any] | None,
    sort: SortSpec | None,
    page_size: int,
    properties: Sequence[str] | None,
    with_objects: bool,
) -> tuple[list[str], list[dict[str, Any]]]:
    """The ids (and with ``with_objects`` the objects) of every row, each once."""
    ids: list[str] = []
    objects: list[dict[str, Any]] = []
    totals: list[int | None] = []

    def run(positions: Sequence[int], first: bool) -> bool:
        """Fetch the pages at ``positions`` in one batch; whether more rows follow."""
        batch = Batch()
        pairs: list[tuple[Call, Call | None]] = []
        for pos in positions:
            if with_objects:
                pairs.append(manager._add_query_get(batch, filter, sort, page_size, pos,
                                                 properties, first, calculate_has_more=True))
            else:
                args = manager._query_args(filter, sort, page_size, pos, first, True)
                pairs.append((batch.call(f"{manager.name}/query", args), None))
        responses = manager.client.execute(batch)
        more = False
        for q, g in pairs:
            page = QueryResult.from_json(responses.get(q))
            ids.extend(page.ids)
            if g is not None:
                objects.extend(GetResult.from_json(responses.get(g)).objects)
            if first:
                totals.append(page.total)
            # Without hasMore (older servers) a full page may hide more rows.
            more = page.has_more or (len(page.ids) == page_size and page.total is None)
        return more

    more = run([0], first=True)
    total = totals[0] if totals else None
    position = page_size
    if more and total is not None and total > page_size:
        positions = list(range(page_size, total, page_size))
        more = run(positions, first=False)
        position = positions[-1] + page_size
    while more:  # objects created meanwhile pushed rows further
        more = run([position], first=False)
        position += page_size
    seen: set[str] = set()
    unique_objects = []
    for obj in objects:
        key = str(obj.get("id"))
        if key not in seen:
            seen.add(key)
            unique_objects.append(obj)
    return dedupe(ids), unique_objects
