"""Seed for 14-result-references.json: result references and their errors.

- TaskList 73 "wire-refs-1125235104" with tasks 76 "ref A" and 77 "ref B", both created by the
  admin: #0 (Task/query {tasklistId: "73"} sorted by title -> 76, 77 and their titles), #1
  (their tasklistId "73" and createdBy "1", the list's name). The recorder made them before #0
  without recording it. aclId 260 is an unseen value just below 74's 261.
- Derived counters: TaskList 74 / acl 261 (#2), Task 78 (#2).
"""

from ._common import task, tasklist, ticketref_records

SEED = {
    "records": {
        **ticketref_records(),
        "TaskList": [tasklist(73, "wire-refs-1125235104", acl_id=260)],
        "Task": [task(76, 73, "ref A"), task(77, 73, "ref B")],
    },
}
