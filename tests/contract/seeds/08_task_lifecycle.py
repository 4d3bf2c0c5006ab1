"""Seed for 08-task-lifecycle.json: progress, side effects, filters, sorts, paging, changes.

- ``cacheClearedAt`` 1795650666 is derived (07 changed it, #0 shows the new prefix).
- ``writer8`` is user 33 with personal group 33: #0 gives acl {"33": 30}, #10 assigns
  responsibleUserId "33", #12 (as writer8) creates a task with createdBy "33" (11 #7:
  wire-w8-1125235104 = user 33, group 33).
- TaskCategory 16 exists: #1 creates a task with ``categories: ["16"]`` and #2 reads it back.
  Nothing else about it is shown; it is a global category here.
- No other task has "1125235104" in its title in a list the admin or the writer can see (#15,
  #16: only 67, 69, 70).
- Derived counters: TaskList 63 / acl 226 (#0), Task 67 (#1).
"""

from ._common import ticketref_records, user

SEED = {
    "users": [user(33, as_name="writer8")],
    "records": {
        **ticketref_records(),
        "TaskCategory": [
            {"id": 16, "name": "wire-life-1125235104", "ownerId": None, "tasklistId": None},
        ],
    },
}
