"""Seed for 04-tasklist.json: TaskList CRUD, acl merging, a read-only user, a support list.

- Users: the writer's personal group is 31 (#0 acl {"31": 30}) and the reader's 32 (#3
  {"32": 10}); ``reader4`` reads the list with level 10 (#6), so it is user 32 (11 #7 lists both
  users, wire-w4-1125235104 = 31 and wire-r4-1125235104 = 32, each with its personal group of the
  same id).
- Task lists that already existed, from #2: ``TaskList/query {role: list}`` sorted by id desc,
  limit 5 -> ["55", "54", "53", "51", "46"] (55 is created in #0), so lists 54, 53, 51 and 46
  have role ``list`` and 52, 47-50 do not exist (52 was removed after 03); ``{role: support}``
  -> ["2"]: list 2 has role ``support``. Lists below 46 are hidden by the limit and left out.
  None of them matches the text "wire-list-1125235104" (#2 c3). Names, colours and aclIds are
  never shown.
- Counter Task = 60: #9's task in the support list gets an id that is never shown; 03 created
  task 59 and 06 creates 61, so it was 60 (not observable, kept for consistency).
"""

from ._common import tasklist, ticketref_records, user

SEED = {
    "users": [
        user(31),  # the writer; never acts in this file
        user(32, as_name="reader4"),
    ],
    "records": {
        **ticketref_records(),
        "TaskList": [
            tasklist(2, "Support", role="support", acl_id=20),
            tasklist(46, "wire-earlier-46", acl_id=190),
            tasklist(51, "wire-earlier-51", acl_id=195),
            tasklist(53, "wire-earlier-53", acl_id=205),
            tasklist(54, "wire-earlier-54", acl_id=210),
        ],
    },
    "counters": {"Task": 60},
}
