"""Seed for 03-errors.json: error shapes.

- TaskList 52 exists and the admin may create tasks in it: #3 creates task "59" in it with
  ``permissionLevel`` 50; ``Task/query {tasklistId: "52"}`` in #3 returns ``[]``, so it holds no
  task. Its name, colour and aclId are never shown (aclId 200 is any value below later ones).
- Task 1 does not exist (#1 and #3: ``Task/get ["1"]`` -> notFound).
- Counter Task = 59 is derived from #3.
"""

from ._common import tasklist, ticketref_records

SEED = {
    "records": {
        **ticketref_records(),
        "TaskList": [tasklist(52, "wire-errors-1125235104", acl_id=200)],
    },
}
