"""Seed for 09-comments.json: comments as ticket messages and their side effects.

- ``writer9`` is user 34 / personal group 34 (#0 acl {"34": 30}; #8 createdBy "34") and
  ``reader9`` user 35 / group 35 (#0 acl {"35": 10}; #16 createdBy "35"); 11 #7 confirms both.
- Derived counters: TaskList 66 / acl 237 (#0), Task 71 (#1), Comment 31 (#1).
"""

from ._common import ticketref_records, user

SEED = {
    "users": [user(34, as_name="writer9"), user(35, as_name="reader9")],
    "records": ticketref_records(),
}
