"""One ``Comment/set`` of 1,000 comments on 1,000 different tasks, in the emulator's process.

Every new comment runs ``Task::onCommentAdded``, which needs the number of comments of its task;
the emulator counts them through the store's ``entityId`` index, so the call stays linear. The
figure printed is the time of ``router.run`` for that one call (no HTTP), with 1,000 older
comments already in the store; the HTTP round trip of a second such call is printed beside it.

    .venv/bin/python -m benchmarks.emulator_comments
    .venv/bin/python -m benchmarks.emulator_comments --count 5000
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import requests

from go_support.emulator import Emulator, router
from go_support.emulator.context import Context, RequestState


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="tasks and comments per call")
    count = parser.parse_args().count

    emu = Emulator()
    server = emu.start()
    http = requests.Session()
    http.trust_env = False
    http.headers["Authorization"] = f"Bearer {server.admin_api_key}"

    def post(calls: list[Any]) -> list[Any]:
        answer: list[Any] = http.post(f"{server.base_url}/api/jmap.php", json=calls).json()
        return answer

    try:
        created = post([["TaskList/set", {"create": {"l": {"name": "bench"}}}, "c"]])
        tasklist = created[0][1]["created"]["l"]["id"]
        ids: list[str] = []
        for start in range(0, count, 1000):  # maxObjectsInSet
            chunk = {f"t{i}": {"tasklistId": tasklist, "title": f"task {i}"}
                     for i in range(start, min(count, start + 1000))}
            answer = post([["Task/set", {"create": chunk}, "c"]])
            ids += [t["id"] for t in answer[0][1]["created"].values()]

        def comments(tag: str) -> dict[str, Any]:
            return {f"{tag}{i}": {"entity": "Task", "entityId": tid, "text": f"<p>{tag} {i}</p>"}
                    for i, tid in enumerate(ids[:1000])}

        post([["Comment/set", {"create": comments("old")}, "c"]])  # earlier comments exist
        with emu.store.lock:
            ctx = Context(store=emu.store, registry=emu.registry,
                          request=RequestState(base_url=server.base_url), user_id="1")
            started = time.perf_counter()
            result = router.run(ctx, [["Comment/set", {"create": comments("new")}, "c"]])
            in_process = time.perf_counter() - started
            emu.store.commit()
        assert len(result[0][1]["created"]) == min(count, 1000), result[0][1]
        started = time.perf_counter()
        post([["Comment/set", {"create": comments("http")}, "c"]])
        over_http = time.perf_counter() - started
        print(f"Comment/set of {min(count, 1000)} comments on as many tasks "
              f"({count} tasks, {emu.store.count('Comment')} comments in the store):")
        print(f"  in process (router.run): {in_process * 1000:.0f} ms")
        print(f"  over HTTP, commit included: {over_http * 1000:.0f} ms")
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
