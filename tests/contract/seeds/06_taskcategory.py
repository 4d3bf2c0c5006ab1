"""Seed for 06-taskcategory.json: TaskCategory personal/global/per-list.

Derived counters: TaskList 60 / acl 218 (#0), TaskCategory 13 (#2), Task 61 (#5).
No category existed that the queries of #4 could return: ``{global: true}`` -> ["14"] only,
``{ownerId: "1"}`` -> ["13"] only, ``{text: "wire-%1125235104"}`` -> the three new ones.
"""

from ._common import ticketref_records

SEED = {"records": ticketref_records()}
