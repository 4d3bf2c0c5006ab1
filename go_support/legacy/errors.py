"""Errors of the legacy migration: each names the file, key, table or column at fault."""

from __future__ import annotations

from go_support.errors import GoSupportError

__all__ = ["LegacyConfigError", "LegacyDatabaseError", "LegacyError", "LegacySchemaError"]


class LegacyError(GoSupportError):
    """Something about the legacy Tickets installation keeps the migration from starting."""


class LegacyConfigError(LegacyError):
    """Group-Office's ``config.php`` is missing, unreadable, not PHP, or lacks a key."""


class LegacyDatabaseError(LegacyError):
    """The legacy database cannot be reached or refuses the login."""


class LegacySchemaError(LegacyError):
    """A table or column the migration reads is missing from the legacy database."""
