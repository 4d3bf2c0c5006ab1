"""Seed for 10-blobs.json: upload, attachments, download.

- Task 75 exists and the admin may comment on it (#5 attaches blobs to a comment on entityId
  "75"). No step shows its list or title; it sits in a list 67 of the admin (09 ended with list
  66 and task 74, so both are the next ids of the recording run; not observable).
- Derived counters: Comment 43 and CommentAttachment 7 (#5).
- #1 uploads a PNG the corpus does not contain (``"<71 bytes of binary data: image/png>"``);
  the runner sends another valid 71-byte 1x1 PNG and maps its SHA-1 to the recorded blob id
  (README, rule N10). The text blobs are sent byte-exact, so their ids (SHA-1) must match.
"""

from ._common import task, tasklist, ticketref_records

SEED = {
    "records": {
        **ticketref_records(),
        "TaskList": [tasklist(67, "wire-blobs-1125235104", acl_id=238)],
        "Task": [task(75, 67, "blob target 1125235104")],
    },
}
