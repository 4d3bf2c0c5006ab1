"""Exit codes of every ``go-support`` command; scripts and cron may rely on them."""

from __future__ import annotations

OK = 0
#: an error not covered below (a bug: please report it)
FAILURE = 1
#: wrong command-line usage (click's own code)
USAGE = 2
#: bad configuration: a missing or invalid setting, a file that cannot be read
CONFIG = 3
#: Group-Office could not be reached, or did not answer like Group-Office
CONNECTION = 4
#: Group-Office refused the credentials
AUTHENTICATION = 5
#: Group-Office refused an operation (permission, validation, unknown object)
REFUSED = 6
#: some of the work failed: the report names what was and was not done (``expire``,
#: ``migrate``; a rerun retries the rest)
PARTIAL = 7

TABLE = """\
Exit codes:
  0  success
  1  unexpected error (a bug: please report it)
  2  wrong usage of the command
  3  bad configuration
  4  Group-Office unreachable, or not answering like Group-Office
  5  Group-Office refused the credentials
  6  Group-Office refused the operation
  7  part of the work failed (expire, migrate: the report names the tickets; run it again)"""
