"""Seed for 17-live-divergences.json: changes paging, empty titles, ACL owner, progress reset.

Recorded on a fresh Group-Office (cacheClearedAt 1796593479, no custom fields: every Task shows
``"customFields": []``), so nothing of the common ``ticketRef`` field is seeded.

- ``manager17`` is user 2 with personal group 5: #10 (as manager17) creates a list whose
  ``createdBy`` is 2 and whose ACL gains ``{"5": 50}``; #9 puts user 2 in the new group 8.
- ``agent17`` is user 3 with personal group 6: #0 gives groups 6 and 7 WRITE, #13 assigns
  responsibleUserId 3, #16 (as agent17) creates a task with createdBy "3".
- ``agent17b`` is user 4 with personal group 7 (#14 responsibleUserId 4); no step uses its key.
- On a fresh install the admin's personal group is 4, so users 2-4 get 5-7 (#0, #10).
- Task 6, which #7 empties the title of, was created without being recorded: the Task state
  moved once between #6 (newState) and #7 (oldState), and #8 creates task 7. ``UNRECORDED``
  creates it right before #7 (its title is never shown).
- Derived counters: TaskList 5 / acl 50 (#0), Task 1 (#2), Group 8 (#9), Comment 1 (#17).
"""

from ._common import user

RUN = "1206215406"

SEED = {
    "users": [
        user(2, f"wire-m17-{RUN}", personal_group=5, as_name="manager17"),
        user(3, f"wire-a17-{RUN}", personal_group=6, as_name="agent17"),
        user(4, f"wire-b17-{RUN}", personal_group=7, as_name="agent17b"),
    ],
}

UNRECORDED = {
    7: [["Task/set", {"create": {"t": {"tasklistId": "5", "title": f"titled {RUN}"}}}, "u1"]],
}
