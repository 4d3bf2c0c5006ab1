"""Behaviour first seen on the real Group-Office (not in the recorded corpus), checked on both
the emulator and the real server so that the emulator's rule cannot drift from it."""

from __future__ import annotations

import pytest

from go_support.jmap import GroupOfficeClient
from go_support.jmap.errors import InvalidArgumentException

pytestmark = pytest.mark.live


def test_comment_query_refuses_an_empty_entity_id_list(client: GroupOfficeClient) -> None:
    """Group-Office builds ``entityId IN (...)`` and refuses an empty list; a caller asking for
    the comments of no tickets must not send the query at all."""
    with pytest.raises(InvalidArgumentException, match="IN condition can not be empty!"):
        client.call("Comment/query", {"filter": {"entity": "Task", "entityId": []}})


def test_task_query_takes_an_empty_list_of_task_lists(client: GroupOfficeClient) -> None:
    """``tasklistId: []`` is no error for Task/query: it matches no task."""
    assert client.call("Task/query", {"filter": {"tasklistId": []}})["ids"] == []
