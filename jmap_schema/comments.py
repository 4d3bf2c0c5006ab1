"""Comment, its attachments, and CommentLabel (reference §6)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AfterValidator, StringConstraints, model_validator

from .common import (
    AwareDateTime,
    HexColor,
    Id,
    MailStatus,
    NotNull,
    RefId,
    ResultReference,
    ServerDateTime,
    ServerObject,
    ServerPart,
    WireInput,
    WirePart,
    ascii_only,
)

__all__ = [
    "Comment",
    "CommentAttachment",
    "CommentAttachmentInput",
    "CommentCreate",
    "CommentLabel",
    "CommentLabelCreate",
    "CommentPatch",
]

MimeMessageId = Annotated[
    str, StringConstraints(min_length=1, max_length=255), AfterValidator(ascii_only)
]
"""A Message-ID as stored: at most 255 ASCII characters, angle brackets kept as sent (09)."""
Section = Annotated[str, StringConstraints(min_length=1, max_length=50)]
BlobId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
"""A blob id is the SHA-1 of the content (10-blobs.json); an unknown one fails the whole call."""
AttachmentName = Annotated[str, StringConstraints(min_length=1, max_length=190)]
LabelName = Annotated[str, StringConstraints(min_length=1, max_length=127)]
EntityName = Annotated[str, StringConstraints(min_length=1)]

DEFAULT_LABEL_COLOR = "243a80"
"""The server's default ``CommentLabel.color`` (16-labels-and-access.json)."""


# =========================================================================== read models


class CommentAttachment(ServerPart):
    """An attachment as read back; ``id`` is a JSON integer, ``commentId`` a string (10)."""

    id: Id | None = None
    commentId: Id | None = None
    blobId: str | None = None
    name: str | None = None


class Comment(ServerObject):
    """A comment on an entity (for us: a message on a ticket).

    ``createdBy`` is a principal id (a user id, or ``"Contact:<n>"``); it is always the caller,
    whatever is sent (16). ``entityTypeId`` is a JSON integer (47 for Task, 09).
    """

    entity_name = "Comment"

    entity: str | None = None
    """The parent's client name, e.g. ``"Task"``."""
    entityTypeId: Id | None = None
    entityId: Id | None = None
    text: str | None = None
    section: str | None = None
    """``None`` is the normal thread; a query without a ``section`` filter sees only those (09)."""
    date: ServerDateTime | None = None
    """May be set in the past; the Task ``commentedAt`` filter compares the newest comment's
    ``date`` (not its ``createdAt``). ``Comment/query`` sorts by it but has no ``date`` filter
    (18)."""
    createdAt: ServerDateTime | None = None
    modifiedAt: ServerDateTime | None = None
    """Moves with every update, also the service's own (``mailStatus``, ``mimeMessageId``), and
    ``modifiedBy`` with it: it cannot tell an agent's edit from bookkeeping (18)."""
    createdBy: Id | None = None
    modifiedBy: Id | None = None
    labels: list[Id] = []
    """CommentLabel ids as strings (16-labels-and-access.json)."""
    attachments: list[CommentAttachment] = []
    mimeMessageId: str | None = None
    """Not unique (two comments may share one), and not a ``Comment/query`` filter (18)."""
    mailStatus: MailStatus | None = None
    validateXSS: bool = True


class CommentLabel(ServerObject):
    """A comment label, e.g. "Private". Names are not unique; ``createdBy`` is always null (16)."""

    entity_name = "CommentLabel"

    name: str | None = None
    color: str = DEFAULT_LABEL_COLOR
    createdBy: Id | None = None


# =========================================================================== write models


class CommentAttachmentInput(WirePart):
    """An attachment to send: ``{blobId, name}``; add ``id`` to keep an existing one on update
    (``attachments`` is an array relation: items left out are deleted)."""

    id: Annotated[RefId | None, NotNull] = None
    blobId: BlobId
    name: AttachmentName


class CommentCreate(WireInput):
    """A new comment. Give ``entity`` (e.g. ``"Task"``) or ``entityTypeId``, and ``entityId``.

    Not accepted, on purpose: ``createdBy`` (silently ignored by the server, 16) and
    ``validateXSS`` (turning it off only skips the ``javascript:`` check, 09).
    ``mailStatus`` is checked here as the server does (code 2, 09).
    """

    entity_name = "Comment"

    entity: Annotated[EntityName | None, NotNull] = None
    entityTypeId: Annotated[RefId | None, NotNull] = None
    entityId: RefId | ResultReference
    text: str
    """HTML; the server strips ``<script>`` and ``on*`` and rejects ``javascript:`` (09)."""
    section: Section | None = None
    date: Annotated[AwareDateTime | None, NotNull] = None
    """Defaults to now on the server; a past date (an imported mail) is kept (09)."""
    labels: Annotated[list[RefId] | None, NotNull] = None
    attachments: Annotated[list[CommentAttachmentInput] | None, NotNull] = None
    mimeMessageId: MimeMessageId | None = None
    mailStatus: MailStatus | None = None

    @model_validator(mode="after")
    def _parent_type_given(self) -> Self:
        if self.entity is None and self.entityTypeId is None:
            raise ValueError("entity (e.g. 'Task') or entityTypeId is required")
        return self


class CommentPatch(WireInput):
    """An update of a comment. ``labels`` and ``attachments`` replace the whole list (16, 10)."""

    entity_name = "Comment"

    text: Annotated[str | None, NotNull] = None
    section: Section | None = None
    date: Annotated[AwareDateTime | None, NotNull] = None
    labels: Annotated[list[RefId] | None, NotNull] = None
    attachments: Annotated[list[CommentAttachmentInput] | None, NotNull] = None
    mimeMessageId: MimeMessageId | None = None
    mailStatus: MailStatus | None = None


class CommentLabelCreate(WireInput):
    """A new label; ``color`` defaults to ``243a80`` on the server (16)."""

    entity_name = "CommentLabel"

    name: LabelName
    color: HexColor = DEFAULT_LABEL_COLOR
