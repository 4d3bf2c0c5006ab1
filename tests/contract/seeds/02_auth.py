"""Seed for 02-auth.json: api/auth.php login, errors, the login token, logout.

- #0 logs the admin in: the runner starts the emulator with ``admin_password=ADMIN_PASSWORD``
  and puts it where #0 says ``"<redacted>"``. The ``accessToken`` of the replayed #0 answer is
  the ``login`` token of #7-#9 (README: ``login`` is the admin's login token).
- #1 is a *wrong* password ("wrong password", 401), #2 an unknown user ("nobody-1125235104",
  any password).
"""

from ._common import ticketref_records

ADMIN_PASSWORD = "admin-password-02"

SEED = {"records": ticketref_records()}

PASSWORDS = {
    0: ADMIN_PASSWORD,
    1: "not-the-admin-password",
    2: "some-password-2",
}

CAPTURE = {0: ("login", ["accessToken"])}
