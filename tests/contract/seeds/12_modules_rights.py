"""Seed for 12-modules-rights.json: Module rights, a non-admin's session, permission grants.

- ``u12`` is user 42 with personal group 41: its session says ``userId`` "42" (#2), the list it
  creates gets acl {"41": 50} (#3) and #5 grants module rights to group 41. Its username follows
  the recorder's pattern with this run's tag (1125235210); it is never shown. It is a member of
  Everyone and Internal (its session has ``go:community:tasks`` with mayChangeTasklists, which
  only Internal (3) has, #0/#4 permissions).
- Module ids, permissions and sort order are those of a fresh install (emulator defaults).
- Derived counters: TaskList 80 / acl 275 (#3), TaskCategory 19 (#7).
"""

from ._common import ticketref_records, user

SEED = {
    "users": [user(42, "wire-u12-1125235210", personal_group=41, as_name="u12")],
    "records": ticketref_records(),
}
