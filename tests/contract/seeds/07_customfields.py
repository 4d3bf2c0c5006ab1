"""Seed for 07-customfields.json: FieldSet/Field, customFields on Task, state prefix change.

Derived counters: TaskList 61 / acl 219 (#0), Task 62 (#1), FieldSet 4 (#2), Field 10 (#3).
The failed inserts of #11 show the Task ids 65 and 66 in their SQL text (``'value' => '65'``),
which the emulator has to use up itself.
The pre-existing field ``ticketRef`` (``_common.TICKETREF_*``) is listed first in #5.
"""

from ._common import ticketref_records

SEED = {"records": ticketref_records()}
