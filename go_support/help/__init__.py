"""The help page: end users sign in with their Group-Office account, open requests and follow
their own tickets in a web page.

::

    from go_support.help import create_app

    app = create_app()                       # settings from load_settings(), options from env
    # a WSGI application: waitress, gunicorn 'go_support.help:create_app()', ...

``go-support help --host 127.0.0.1 --port 8000`` serves it with waitress. The page is built
only on :mod:`go_support.desk`'s public API (``SupportDesk.as_user``); see
:mod:`go_support.help.app` for what it guarantees, :mod:`go_support.help.signin` for signing in
and docs/sysadmin.md for running it behind a reverse proxy.
"""

from go_support.help.app import HelpState, create_app
from go_support.help.options import HelpOptions, OptionsError

__all__ = ["HelpOptions", "HelpState", "OptionsError", "create_app"]
