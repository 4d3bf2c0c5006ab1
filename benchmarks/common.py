"""Helpers shared by the benchmarks: a transport that counts HTTP requests."""

from __future__ import annotations

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

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        self.requests += 1
        return super().send(method, url, headers=headers, body=body, timeout=timeout)
