"""go-support: a help desk for Group-Office, on top of its JMAP API."""

from go_support.errors import GoSupportError

__all__ = ["GoSupportError", "__version__"]

__version__ = "0.1.0"
