"""Injected deadlocks: ``Emulator(fail_writes=..., fail_seed=...)`` fails ``/set`` calls as a
real Group-Office does under concurrent writers (issue 11's load run: MariaDB 1213 on
``tasks_tasklist``), over real HTTP.

What a failed call answers is groupoffice-wire 03/14's ``dbException``; what a later call
referring to it gets is groupoffice-wire 14 step 4 (a reference to an error response).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from go_support.emulator import Emulator

from ._http import DB_ERROR, Go


@contextmanager
def emulator(fail_writes: float = 0.0, seed: int | None = None) -> Iterator[tuple[Emulator, Go]]:
    emu = Emulator(fail_writes=fail_writes, fail_seed=seed)
    server = emu.start()
    try:
        yield emu, Go(server.base_url, server.admin_api_key)
    finally:
        emu.stop()


def test_a_failed_set_keeps_nothing_and_references_to_it_fail() -> None:
    with emulator() as (emu, go):
        list_id = go.new_list()
        task_id = go.new_task(list_id)
        before = {e: go.state(e) for e in ("Task", "Comment", "TaskList")}
        emu.faults.fraction = 1.0  # every write from now on
        answer = go.post(
            ["Task/set", {"create": {"t": {"tasklistId": list_id, "title": "lost"}}}, "t"],
            ["Comment/set", {"create": {"c": {
                "entity": "Task", "#entityId": {"resultOf": "t", "path": "/created/t/id"},
                "text": "<p>lost too</p>"}}}, "c"],
            ["Task/get", {"#ids": {"resultOf": "t", "path": "/created/*/id"}}, "g"],
            ["Task/query", {"filter": {"tasklistId": list_id}}, "q"],
        )
        assert answer[0] == ["error", DB_ERROR, "t"]
        unresolved = {"message": "Could not resolve path part created",
                      "type": "invalidResultReference"}
        assert answer[1] == ["error", unresolved, "c"]
        assert answer[2] == ["error", unresolved, "g"]
        assert answer[3][0] == "Task/query"  # reads go on
        assert answer[3][1]["ids"] == [task_id]
        assert go.error("Task/set", {"update": {task_id: {"title": "new"}}}) == DB_ERROR
        assert go.error("Task/set", {"destroy": [task_id]}) == DB_ERROR
        assert emu.faults.injected == 3  # the Comment/set failed on its reference first
        emu.faults.fraction = 0.0
        assert {e: go.state(e) for e in before} == before  # no write of the failed calls
        assert go.get("Task", task_id, "title")["title"] != "new"


def test_earlier_calls_of_the_request_stay() -> None:
    """Each call is its own transaction: a deadlock undoes only the call that lost it."""
    with emulator(0.5, seed=3) as (emu, go):
        list_id = None
        while list_id is None:  # until the seed lets one through
            answer = go.post(["TaskList/set", {"create": {"l": {"name": "kept"}}}, "l"])
            if answer[0][0] == "TaskList/set":
                list_id = answer[0][1]["created"]["l"]["id"]
        outcomes = []
        for n in range(30):
            answer = go.post(
                ["Task/set", {"create": {"t": {"tasklistId": list_id, "title": f"a{n}"}}}, "t"],
                ["Task/set", {"create": {"u": {"tasklistId": list_id, "title": f"b{n}"}}}, "u"],
            )
            outcomes.append(tuple(name == "error" for name, _, _ in answer))
        emu.faults.fraction = 0.0
        titles = {t["title"] for t in go.ok("Task/get", {"properties": ["title"]})["list"]}
        for n, (first_failed, second_failed) in enumerate(outcomes):
            assert (f"a{n}" in titles) is not first_failed
            assert (f"b{n}" in titles) is not second_failed
        assert (True, False) in outcomes and (False, True) in outcomes


def _pattern(seed: int) -> list[bool]:
    """Which of 40 TaskList/set calls fail with ``fail_writes=0.3`` and ``seed``."""
    with emulator(0.3, seed) as (_emu, go):
        return [go.call("TaskList/set", {"create": {"l": {"name": f"n{n}"}}}) == DB_ERROR
                for n in range(40)]


def test_the_seed_decides_which_calls_fail() -> None:
    first = _pattern(7)
    assert _pattern(7) == first
    assert _pattern(8) != first
    assert 4 <= sum(first) <= 24  # about 30 % of 40


def test_no_fraction_fails_nothing_and_a_bad_fraction_is_refused() -> None:
    with emulator() as (emu, go):
        for n in range(20):
            go.ok("TaskList/set", {"create": {"l": {"name": f"n{n}"}}})
        assert emu.faults.injected == 0
    refused = re.escape("fail_writes must be a fraction from 0 to 1, got 1.5")
    with pytest.raises(ValueError, match=refused):
        Emulator(fail_writes=1.5)


def test_the_emulator_command_takes_the_switch() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from go_support.cli.main import main; main()",
         "emulator", "--port", "0", "--fail-writes", "1", "--fail-seed", "7"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        key = proc.stdout.readline().split()[-1]
        assert proc.stdout.readline() == "Failing 100% of /set calls as deadlocked (seed 7).\n"
        answer = requests.post(
            f"{url}/api/jmap.php", headers={"Authorization": f"Bearer {key}"}, timeout=10,
            json=[["TaskList/set", {"create": {"l": {"name": "x"}}}, "l"],
                  ["TaskList/query", {}, "q"]],
        ).json()
        assert answer[0] == ["error", DB_ERROR, "l"]
        assert answer[1][0] == "TaskList/query"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
