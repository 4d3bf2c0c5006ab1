"""Names of the Group-Office objects that make up the help desk.

``go-support install`` (``migrations/``) creates them; the desk finds them by these names.
They are part of the contract between go-support versions and of what agents see in the
Group-Office web client, so change them only together with a migration.
"""

from __future__ import annotations

#: The task-list grouping whose lists are the ticket types (``role: "list"``).
GROUPING_NAME = "Support"
#: Where archived ticket types go: still readable, out of the agents' way.
ARCHIVE_GROUPING_NAME = "Support archive"
#: The custom-field set on Task that holds what Group-Office's task lacks.
FIELD_SET_NAME = "Support"
FIELD_SET_ENTITY = "Task"
#: The comment label that makes a comment a private note (never mailed to the requester).
PRIVATE_LABEL_NAME = "Private"
PRIVATE_LABEL_COLOR = "C62828"

# Custom fields on Task (databaseName -> (type, label, options)).
REQUESTER_ID = "supportRequesterId"
REQUESTER_EMAIL = "supportRequesterEmail"
REQUESTER_NAME = "supportRequesterName"
FIRST_MESSAGE_ID = "supportFirstMessageId"
LEGACY_TICKET_ID = "supportLegacyTicketId"

FIELDS: dict[str, tuple[str, str, dict[str, int]]] = {
    REQUESTER_ID: ("User", "Requester", {}),
    REQUESTER_EMAIL: ("Text", "Requester e-mail", {"maxLength": 190}),
    REQUESTER_NAME: ("Text", "Requester name", {"maxLength": 190}),
    FIRST_MESSAGE_ID: ("Text", "First Message-ID", {"maxLength": 255}),
    LEGACY_TICKET_ID: ("Text", "Legacy ticket id", {"maxLength": 50}),
}
