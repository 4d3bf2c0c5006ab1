"""The root of the client's exceptions, and what they share (credentials scrubbed)."""

from __future__ import annotations

from go_support.errors import GoSupportError, redact

__all__ = ["MAX_LISTED", "JMAPError", "shorten"]

#: How many objects a message names before "and N more".
MAX_LISTED = 10


def shorten(text: str, limit: int = 300) -> str:
    """``text`` on one line, cut at ``limit`` characters (server bodies can be pages)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class JMAPError(GoSupportError):
    """Base class of everything the JMAP client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def scrub(self, *secrets: str | None) -> None:
        """Redact ``secrets`` from the message and every string attribute, in place.

        Why: messages quote URLs and server texts, and the client must guarantee that
        no credential survives into logs whatever the server echoed back.
        """
        for name, value in list(vars(self).items()):
            if isinstance(value, str):
                setattr(self, name, redact(value, *secrets))
        self.args = (self.message,)
        # Tracebacks print the whole chain: scrub the JMAP errors this one wraps, too.
        seen = {id(self)}
        link = self.__cause__ or self.__context__
        while link is not None and id(link) not in seen:
            seen.add(id(link))
            if isinstance(link, JMAPError):
                link.scrub(*secrets)
                break
            link = link.__cause__ or link.__context__


# --- transport and HTTP ---------------------------------------------------------------


