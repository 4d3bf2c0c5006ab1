"""The emulator store's derived data: id order, id counters, field indexes, change rows."""

from __future__ import annotations

from go_support.emulator.store import Store


def test_all_is_in_id_order_and_sees_new_records() -> None:
    store = Store()
    for key in ("10", "9", "x", "100"):
        store.put("Thing", {"id": key})
    assert [r["id"] for r in store.all("Thing")] == ["9", "10", "100", "x"]
    store.put("Thing", {"id": "5"})
    assert next(r["id"] for r in store.all("Thing")) == "5"
    store.delete("Thing", "10")
    assert [r["id"] for r in store.all("Thing")] == ["5", "9", "100", "x"]


def test_iterating_while_adding_and_deleting() -> None:
    store = Store()
    for i in range(1, 4):
        store.put("Thing", {"id": str(i)})
    seen = []
    for rec in store.all("Thing"):
        seen.append(rec["id"])
        store.put("Thing", {"id": str(int(rec["id"]) + 10)})
        store.delete("Thing", "3")
    assert seen == ["1", "2"]


def test_next_id_never_reuses_and_respects_seeded_records() -> None:
    store = Store()
    store.put("Thing", {"id": "41"})
    assert store.next_id("Thing") == "42"
    store.put("Thing", {"id": "50"})  # e.g. seeded after the first allocation
    assert store.next_id("Thing") == "51"
    store.delete("Thing", "50")
    assert store.next_id("Thing") == "52"


def test_find_by_follows_puts_and_deletes() -> None:
    store = Store()
    store.put("Comment", {"id": "2", "entityId": "7"})
    store.put("Comment", {"id": "1", "entityId": 7})
    assert [r["id"] for r in store.find_by("Comment", "entityId", "7")] == ["1", "2"]
    store.put("Comment", {"id": "3", "entityId": "7"})
    store.put("Comment", {"id": "2", "entityId": "8"})  # moved
    assert [r["id"] for r in store.find_by("Comment", "entityId", 7)] == ["1", "3"]
    assert [r["id"] for r in store.find_by("Comment", "entityId", "8")] == ["2"]
    store.delete("Comment", "1")
    assert [r["id"] for r in store.find_by("Comment", "entityId", "7")] == ["3"]
    assert store.find_by("Comment", "entityId", None) == []


def test_one_modseq_per_call_and_last_change_per_id() -> None:
    store = Store()
    store.begin_call()
    store.log_change("Task", "2")
    store.log_change("Task", "1")
    store.end_call()
    assert store.modseq("Task") == 1
    store.log_change("Task", "2")
    store.log_change("Task", "1", destroyed=True)
    assert store.modseq("Task") == 3
    changes = store.latest_changes_since("Task", 0)
    assert [(c.id, c.modseq, c.destroyed) for c in changes] == [("1", 3, True), ("2", 2, False)]
    assert [c.id for c in store.latest_changes_since("Task", 2)] == ["1"]


def test_user_changes_are_per_user_and_survive_a_reload(tmp_path: object) -> None:
    path = f"{tmp_path}/data.sqlite"
    store = Store(path)
    first = store.log_user_change("Task", "5", "1")
    store.log_user_change("Task", "6", "33")
    store.log_user_change("Task", "4", "1")
    store.commit()
    store.close()
    again = Store(path)
    assert again.user_changes_since("Task", "1", 0) == ["4", "5"]
    assert again.user_changes_since("Task", "1", first) == ["4"]
    assert again.user_changes_since("Task", "33", 0) == ["6"]
    again.clear_cache()
    assert again.user_changes_since("Task", "1", 0) == []
    again.close()


def test_change_log_is_appended_and_reloaded(tmp_path: object) -> None:
    path = f"{tmp_path}/data.sqlite"
    store = Store(path)
    store.log_change("Task", "1")
    store.commit()
    store.log_change("Task", "2")
    store.log_change("Task", "1", destroyed=True)
    store.commit()
    store.commit()  # nothing new: nothing written twice
    store.close()
    again = Store(path)
    assert [(c.modseq, c.id, c.destroyed) for c in again.meta.changes["Task"]] == [
        (1, "1", False), (2, "2", False), (3, "1", True),
    ]
    assert again.modseq("Task") == 3
    again.clear_cache()
    again.log_change("Task", "9")
    again.commit()
    again.close()
    third = Store(path)
    assert [(c.modseq, c.id) for c in third.meta.changes["Task"]] == [(1, "9")]
    third.close()
