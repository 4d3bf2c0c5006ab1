"""Seed for 15-limits-paging.json: batch create, limit/position/total/hasMore, numeric ids.

Derived counters: TaskList 75 / acl 262 (#0), Task 80 (#1).
"""

from ._common import ticketref_records

SEED = {"records": ticketref_records()}
