"""Migration from Group-Office's legacy Tickets module (the ``ti_*`` tables).

Not to be confused with ``go_support.migrations``, the steps ``go-support install`` applies to
a Group-Office instance. The pieces, in the order a migration uses them:

* :mod:`~go_support.legacy.config`: Group-Office's ``config.php`` read without PHP, ``-c``;
* :mod:`~go_support.legacy.reader`: the legacy tables streamed from MariaDB/MySQL;
* :mod:`~go_support.legacy.mapping`: legacy records as the values the desk writes;
* :mod:`~go_support.legacy.writer`: the migration itself, idempotent and resumable;
* :mod:`~go_support.legacy.acting`: ``--userId``, a short-lived API key of that user;
* :mod:`~go_support.legacy.synthetic`: legacy data generated for tests and benchmarks.
"""

from go_support.legacy.config import (
    DatabaseSettings,
    GroupOfficeConfig,
    config_path,
    config_path_from_argv,
    load_config,
)
from go_support.legacy.errors import (
    LegacyConfigError,
    LegacyDatabaseError,
    LegacyError,
    LegacySchemaError,
)
from go_support.legacy.mapping import (
    MappedMessage,
    MappedTicket,
    MappedType,
    map_ticket,
    map_types,
    select_types,
)
from go_support.legacy.reader import LegacyDatabase, LegacyMessage, LegacyTicket, MessageKind
from go_support.legacy.writer import Migration, Summary

__all__ = [
    "DatabaseSettings",
    "GroupOfficeConfig",
    "LegacyConfigError",
    "LegacyDatabase",
    "LegacyDatabaseError",
    "LegacyError",
    "LegacyMessage",
    "LegacySchemaError",
    "LegacyTicket",
    "MappedMessage",
    "MappedTicket",
    "MappedType",
    "MessageKind",
    "Migration",
    "Summary",
    "config_path",
    "config_path_from_argv",
    "load_config",
    "map_ticket",
    "map_types",
    "select_types",
]
