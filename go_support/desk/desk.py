"""The :class:`SupportDesk` facade."""

from __future__ import annotations

from go_support.desk._core import DeskCore, Shared
from go_support.desk.categories import CategoryManager
from go_support.desk.config import DeskConfig, SettingsLike
from go_support.desk.convert import is_id
from go_support.desk.discovery import DeskLayout
from go_support.desk.messages import MessageManager
from go_support.desk.retry import WriteRetry
from go_support.desk.roles import RoleManager, StatusManager
from go_support.desk.ticket_types import TypeManager
from go_support.desk.tickets import TicketManager
from go_support.jmap import GroupOfficeClient

__all__ = ["SupportDesk"]


class SupportDesk:
    """The help desk on one Group-Office, acting as the API key's user (or, through
    :meth:`as_user`, as another user).

    ::

        desk = SupportDesk(client, settings)
        page = desk.tickets.list(TicketFilter(status="Needs action"))

    ``settings`` is a :class:`go_support.settings.Settings` (or anything with the same
    ``desk`` section and ``customer_groups(type_name)``, such as a :class:`DeskConfig`);
    ``None`` means no managers group, no customer groups, no closing feedback.

    The desk tells ``client`` to send API calls without fetching the session first
    (:meth:`GroupOfficeClient.defer_session`): the session is fetched only when the desk
    needs the key user's id. ``write_retry`` says how often a write is tried again after
    Group-Office failed it transiently (:class:`WriteRetry`, see docs/library.md).
    """

    def __init__(
        self,
        client: GroupOfficeClient,
        settings: SettingsLike | None = None,
        *,
        write_retry: WriteRetry | None = None,
        _shared: Shared | None = None,
        _actor_id: str | None = None,
    ) -> None:
        if _shared is None:
            client.defer_session()
            _shared = Shared(client, settings if settings is not None else DeskConfig(),
                             write_retry)
        self._shared = _shared
        self._core = DeskCore(_shared, _actor_id)
        self.types = TypeManager(self._core)
        self.categories = CategoryManager(self._core)
        self.statuses = StatusManager()
        self.tickets = TicketManager(self._core)
        self.messages = MessageManager(self._core, self.tickets)
        self.roles = RoleManager(self._core)

    def __repr__(self) -> str:
        who = "the API key's user" if self._core.actor_id is None else (
            f"user {self._core.actor_id}")
        return f"<SupportDesk on {self._shared.client.base_url} as {who}>"

    @property
    def client(self) -> GroupOfficeClient:
        return self._shared.client

    @property
    def settings(self) -> SettingsLike:
        return self._shared.settings

    @property
    def retries(self) -> int:
        """How many writes were tried again after a transient failure (this desk and its
        :meth:`as_user` views), for monitoring."""
        return self._shared.retries

    @property
    def actor_id(self) -> str | None:
        """The user this desk acts for (``None``: the API key's user)."""
        return self._core.actor_id

    def as_user(self, user_id: str | int) -> SupportDesk:
        """The same desk acting for ``user_id``, for a trusted front end with an admin key.

        Role checks and what tickets and messages are visible follow that user; the layout
        is shared with this desk. Group-Office still records the key's user as the author of
        what is written (it ignores ``createdBy``, groupoffice-wire 16).
        """
        text = str(user_id).strip()
        if isinstance(user_id, bool) or not is_id(text) or int(text) <= 0:
            raise ValueError(f"as_user needs a user id (a positive number), got {user_id!r}")
        return SupportDesk(self._shared.client, _shared=self._shared, _actor_id=str(int(text)))

    @property
    def layout(self) -> DeskLayout:
        """The Group-Office objects the desk is made of (discovered on first use)."""
        return self._core.layout()

    def refresh(self) -> DeskLayout:
        """Read the layout again now (it is also refreshed whenever a check sees a change)."""
        self._core.forget_layout()
        return self._core.discover()
