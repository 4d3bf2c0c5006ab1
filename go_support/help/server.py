"""The help page's own server: waitress, a production-grade pure-Python WSGI server."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from waitress.server import create_server

__all__ = ["make_server", "serving"]


def make_server(app: Any, host: str = "127.0.0.1", port: int = 8000, threads: int = 8) -> Any:
    """A waitress server for ``app`` (``.run()`` serves; ``.effective_port`` is the port).

    waitress passes ``X-Forwarded-*`` through untouched: the app alone decides whether to
    believe them (``HelpOptions.trusted_proxies``), the same under waitress and gunicorn.
    """
    return create_server(app, host=host, port=port, threads=threads, ident="go-support",
                         clear_untrusted_proxy_headers=False)


@contextlib.contextmanager
def serving(app: Any, host: str = "127.0.0.1", port: int = 0,
            threads: int = 4) -> Iterator[str]:
    """``app`` served by :func:`make_server` in a background thread (tests, benchmarks, demos);
    yields its base URL and stops cleanly on leaving. The loop runs in short steps so that it
    ends in its own thread (waitress has no stop call for a server run elsewhere)."""
    server = make_server(app, host=host, port=port, threads=threads)
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.is_set():
                server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        finally:
            server.close()
            server.task_dispatcher.shutdown()

    thread = threading.Thread(target=run, name="help-page", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=10)
