"""Seed for 11-users.json: users, groups, principals, core settings, registration, keys.

- Every user that existed is in ``_common.KNOWN_USERS``, transcribed from #7 (Group/get of all
  groups: ``isUserGroupFor`` gives user -> personal group; Everyone (2) holds every user,
  Internal (3) every user but the admin). #0 confirms the count: ``User/query {email:
  "%@example.com"}`` has ``total`` 25 = the admin + these 24, so they all have an
  ``@example.com`` address (``<username>@example.com``; the real addresses are never shown).
  #20 (``User/query {}`` as a plain user) lists exactly these ids plus 36, 37, 39.
  Display names are never shown; the username is used.
- No pre-existing user or contact matches "With Password 1125235104" or its address (#8).
- Passwords (#2, #3, #6, #14, #17): #2 creates wire-u11-1125235104 with a valid password that
  #6 logs in with; #3 ``shortpw`` must be shorter than 6 characters (its SetError says
  "Minimum password length is 6 chars"); #14 and #17 register with any valid password.
- ``u11`` (#20) uses the key the admin creates for user 37 in #19: the runner takes the
  ``accessToken`` of the replayed #19 answer.
- Derived counters: User 36 / Group 36 / Contact 33 (#1: user 36, personal group 36, profile
  contact 33), Key 27 (#19). The emulator itself has to use up id 38 (#3's failing creates;
  #14 registers user 39).
- Core setting ``allowRegistration`` starts as ``""`` (#10).
"""

from ._common import KNOWN_USERS, ticketref_records, user

SEED = {
    "users": [
        user(uid, display_name="John Doe" if uid == 2 else None) for uid in sorted(KNOWN_USERS)
    ],
    "records": ticketref_records(),
    "settings": {"allowRegistration": ""},
}

PASSWORDS = {
    2: "wire-u11-password",
    3: "abc",  # too short on purpose
    6: "wire-u11-password",
    14: "wire-reg-password",
    17: "wire-reg2-password",
}

CAPTURE = {19: ("u11", [0, 1, "created", "k", "accessToken"])}
