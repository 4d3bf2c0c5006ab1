"""Helpers shared by the benchmarks: a transport that counts HTTP requests."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from go_support.jmap import HttpResponse, RequestsTransport


class CountingTransport(RequestsTransport):
    """The default transport, counting the HTTP requests it sends.

    ``go_support.jmap`` has no hook or wrapper for transports (a ``Transport`` is anything with
    its one method, ``send``), so ``send`` is overridden here with that method's signature.
    """

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self._count_lock = threading.Lock()  # the migration's look-ahead sends from a thread

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        with self._count_lock:
            self.requests += 1
        return super().send(method, url, headers=headers, body=body, timeout=timeout)


def peak_memory_mb() -> float:
    """This process's peak resident memory in MB: ``VmHWM`` where Linux has it.

    ``ru_maxrss`` is not used there: a process started (fork, then exec) by a large one
    reports at least the memory its parent had at the fork.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
