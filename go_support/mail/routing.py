"""Routing: which ticket type a mail goes to.

Group-Office's own Support module ties one mailbox to one type. Here one mailbox can feed
several: a mail is routed by the address it was sent to, so ``hardware@`` and ``billing@``
(aliases delivered into the same mailbox) or ``support+hardware@`` (plus-addressing) land in
their own types. The recipients are tried in the order that says most about the delivery:
the envelope recipient (given by the MTA to ``go-support ingest``), ``Delivered-To`` and
``X-Original-To``, then To, then Cc. For each:

1. the address itself in the mailbox's ``addresses``;
2. for ``local+tag@domain``: the tag naming a ticket type (``plus_types``), then
   ``local@domain`` in ``addresses``.

Nothing matched: the mailbox's ``type``, else ``[desk] default_type``; else no type, and the
caller quarantines the mail with the reason.

``go-support ingest`` routes as ``stdin`` unless told another mailbox; without a
``[mail.mailboxes.stdin]`` section that name has no addresses of its own: plus-address tags
naming a type, then ``[desk] default_type``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from go_support.mail.config import MailboxSettings

__all__ = ["STDIN_MAILBOX", "Route", "Router", "split_plus"]

#: The mailbox name of ``go-support ingest`` when ``--mailbox`` is not given.
STDIN_MAILBOX = "stdin"


@dataclass(frozen=True)
class Route:
    """The ticket type (``None``: none could be found) and why."""

    type_name: str | None
    reason: str
    address: str | None = None


def split_plus(address: str) -> tuple[str, str | None]:
    """``("support@x.org", "hardware")`` for ``support+hardware@x.org``; no tag: ``None``."""
    local, at, domain = address.rpartition("@")
    if not at or "+" not in local:
        return address, None
    base, _, tag = local.partition("+")
    return f"{base}@{domain}", tag or None


def _fold_type(name: str) -> str:
    return "".join(c for c in name.casefold() if c.isalnum())


class Router:
    """Routes mail of the configured mailboxes; ``type_names`` are the ticket types that
    exist (for plus-address tags such as ``support+level-2@`` -> "Level 2")."""

    def __init__(self, mailboxes: dict[str, MailboxSettings], *, default_type: str | None = None,
                 type_names: Iterable[str] = ()) -> None:
        self.mailboxes = mailboxes
        self.default_type = default_type
        self._types = {_fold_type(n): n for n in type_names}

    def route(self, mailbox: str, recipients: Sequence[str], *,
              envelope_recipient: str | None = None) -> Route:
        """The ticket type of a mail that arrived in ``mailbox`` addressed to ``recipients``
        (``ParsedMail.recipients``' addresses, in that order)."""
        settings = self.mailboxes.get(mailbox)
        if settings is None and mailbox == STDIN_MAILBOX:
            settings = MailboxSettings.model_construct(kind="maildir", addresses={})
        if settings is None:
            raise KeyError(f"no mailbox {mailbox!r} in [mail.mailboxes] (known: "
                           f"{', '.join(sorted(self.mailboxes)) or 'none'})")
        ordered = ([envelope_recipient] if envelope_recipient else []) + list(recipients)
        for address in dict.fromkeys(a.strip() for a in ordered if a and a.strip()):
            found = self._by_address(settings, address)
            if found is not None:
                return found
        if settings.type:
            return Route(settings.type, f"the type of mailbox {mailbox!r}")
        if self.default_type:
            return Route(self.default_type, "[desk] default_type")
        return Route(None, f"no ticket type: mailbox {mailbox!r} has no type, no address "
                     "routes this mail and [desk] default_type is not set")

    def _by_address(self, settings: MailboxSettings, address: str) -> Route | None:
        key = address.casefold()
        if key in settings.addresses:
            return Route(settings.addresses[key], f"sent to {address}", address)
        base, tag = split_plus(key)
        if tag is None:
            return None
        if settings.plus_types and _fold_type(tag) in self._types:
            return Route(self._types[_fold_type(tag)],
                         f"sent to {address}, whose tag names the type", address)
        if base in settings.addresses:
            return Route(settings.addresses[base], f"sent to {address} (plus-address of "
                         f"{base})", address)
        return None
