"""Seed for 05-tasklistgrouping.json: TaskListGrouping CRUD and tasklists in a grouping.

Derived counters: TaskListGrouping 3 (#0), TaskList 58 and acl 216 (#2).
No grouping existed: ``TaskListGrouping/query {}`` returns only the new "3" (#1; the default
filter is role=list) and ``{role: support}`` returns nothing. No other list matches the text
"wire-grouped" (#6).
"""

from ._common import ticketref_records

SEED = {"records": ticketref_records()}
