"""Seed for 01-session.json: GET the session with the admin key / no token / an unknown token.

Nothing besides a fresh install is needed. ``cacheClearedAt`` (1795650651, #0 session) is
derived. The Task custom field ``ticketRef`` is part of the recorded server in every file.
"""

from ._common import ticketref_records

SEED = {"records": ticketref_records()}
