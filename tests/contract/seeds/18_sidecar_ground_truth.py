"""Seed for 18-sidecar-ground-truth.json: what the sidecar (mail, expiry, migration) relies on.

Recorded on a fresh Group-Office (cacheClearedAt 1796593479, no custom fields: every Task shows
``"customFields": []``), so nothing of the common ``ticketRef`` field is seeded.

- ``agent18`` is user 2 with personal group 5: #0 gives group 5 WRITE, #7 (as agent18) comments
  with createdBy "2", and #11 finds user 2 by the e-mail ``wire-a18-1206221607@example.com``.
- The recorder waited between steps: #0-#8 read 22:16:08, #9 22:16:10, #10 22:16:12, and
  ``updated`` shows ``modifiedAt`` only when it moved to a later second; ``CLOCK`` says so.
- Derived counters: TaskList 3 / acl 38 (#0), Task 1 (#1), Comment 1 (#3).
"""

from ._common import user

SEED = {
    "users": [
        user(
            2,
            "wire-a18-1206221607",
            personal_group=5,
            as_name="agent18",
            email="wire-a18-1206221607@example.com",
        ),
    ],
}

CLOCK = {9: 2, 10: 4}
