"""Seed for 13-apikeys.json: Key create/get/query/rename/destroy.

- Keys that existed, from #1: ``Key/query {text: "wire-key"}`` returns every key of the server
  (the text filter does nothing): 1-8, 11-16, 18, 20-26, 28 and the new 29. Key 1 is the admin's
  key of the emulator (the one the runner uses); the others are seeded with the admin as owner
  (their owners, names and tokens are never shown).
- ``newkey`` (#2, #5) is the ``accessToken`` of the replayed #0 answer.
- Derived counter: Key 29 (#0).
"""

from ._common import ticketref_records, token_for

EARLIER_KEYS = [2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16, 18, 20, 21, 22, 23, 24, 25, 26, 28]

SEED = {
    "records": {
        **ticketref_records(),
        "Key": [
            {
                "id": kid,
                "name": f"wire-earlier-key-{kid}",
                "userId": 1,
                "accessToken": token_for(f"earlier key {kid}"),
                "createdAt": "2026-11-25T23:40:00+00:00",
            }
            for kid in EARLIER_KEYS
        ],
    },
}

CAPTURE = {0: ("newkey", [0, 1, "created", "k", "accessToken"])}
