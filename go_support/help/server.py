"""The help page's own server: waitress, a production-grade pure-Python WSGI server."""

from __future__ import annotations

from typing import Any

from waitress.server import create_server

__all__ = ["make_server"]


def make_server(app: Any, host: str = "127.0.0.1", port: int = 8000, threads: int = 8) -> Any:
    """A waitress server for ``app`` (``.run()`` serves; ``.effective_port`` is the port).

    waitress passes ``X-Forwarded-*`` through untouched: the app alone decides whether to
    believe them (``HelpOptions.trusted_proxies``), the same under waitress and gunicorn.
    """
    return create_server(app, host=host, port=port, threads=threads, ident="go-support",
                         clear_untrusted_proxy_headers=False)
