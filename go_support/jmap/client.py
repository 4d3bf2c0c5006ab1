"""The Group-Office JMAP client.

::

    client = GroupOfficeClient("https://go.example.com", api_key="...")
    tasks = client.tasks.query_get({"tasklistId": "12"}, properties=["title", "progress"])

``base_url`` is the Group-Office root (``https://host`` or ``https://host/groupoffice``).
The session (``GET <base>/api/jmap.php``) is fetched once, lazily, and its ``apiUrl``,
``uploadUrl`` and ``downloadUrl`` are used from then on, unless they would move the
credentials to another host or from HTTPS to HTTP (a reverse proxy that does not pass
``X-Forwarded-Host``/``-Proto`` makes Group-Office advertise its internal address).

:meth:`GroupOfficeClient.defer_session` lets API calls go out before the session is known
(to ``<base>/api/jmap.php``, the address every Group-Office advertises, with Group-Office's
default limits): a caller that does not need the user id or the module rights saves the
session GET, one round trip. The help desk uses it (``go_support.desk``).

Requests go out as Group-Office's bare JSON array; see :mod:`go_support.jmap.retry` for
what is retried and how a caller stays idempotent when a write's outcome is unknown.

This module holds the API calls; the client is built in layers, each in its module:
:mod:`~go_support.jmap.connection` (address, transport, errors), :mod:`~go_support.jmap.login`
(credentials and session) and :mod:`~go_support.jmap.blobs` (uploads and downloads).
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from go_support.jmap.blobs import BlobStream, BlobTransfers
from go_support.jmap.errors import (
    AuthenticationError,
    HTTPStatusError,
    IncompleteBatchError,
    JMAPError,
    OutcomeUnknownError,
    ProtocolError,
    TransportError,
)
from go_support.jmap.managers import EntityManager, ModuleManager
from go_support.jmap.request import Batch, Call, Invocation, Responses, plan_chunks
from go_support.jmap.retry import RetryPolicy, is_transient
from go_support.jmap.session import Limits
from go_support.jmap.transport import HttpResponse, Transport, safe_url

__all__ = ["BlobStream", "GroupOfficeClient"]

log = logging.getLogger("go_support.jmap")


def _json_default(value: object) -> str:
    """Serialise dates the way Group-Office writes them (ISO 8601)."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    raise TypeError(f"cannot send a {type(value).__name__} to Group-Office as JSON")


class GroupOfficeClient(BlobTransfers):
    """A client for one Group-Office installation and one user.

    Authenticate with ``api_key`` (recommended: it never expires and needs no second
    factor) or with ``username`` and ``password`` (a login through ``api/auth.php``;
    the token is renewed once if the server stops accepting it). ``timeout`` applies to
    each HTTP request; ``verify`` (``True``, ``False`` or a CA-bundle path) only to the
    default transport.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        transport: Transport | None = None,
        timeout: float = 30.0,
        verify: bool | str = True,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            base_url, api_key=api_key, username=username, password=password,
            transport=transport, timeout=timeout, verify=verify, retry=retry,
        )
        self.tasks = EntityManager(self, "Task")
        self.task_lists = EntityManager(self, "TaskList")
        self.task_list_groupings = EntityManager(self, "TaskListGrouping")
        self.task_categories = EntityManager(self, "TaskCategory")
        self.comments = EntityManager(self, "Comment")
        self.comment_labels = EntityManager(self, "CommentLabel")
        self.fields = EntityManager(self, "Field")
        self.field_sets = EntityManager(self, "FieldSet")
        self.users = EntityManager(self, "User")
        self.groups = EntityManager(self, "Group")
        self.principals = EntityManager(self, "Principal")
        self.modules: ModuleManager = ModuleManager(self, "Module")
        self.keys = EntityManager(self, "Key")

    def __repr__(self) -> str:
        how = "api_key" if self._api_key else f"login {self._username!r}"
        return f"GroupOfficeClient({self.base_url!r}, {how})"

    def __enter__(self) -> GroupOfficeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def entity(self, name: str) -> EntityManager:
        """A manager for any entity, e.g. ``client.entity("Note")`` (case-sensitive)."""
        if name == "Module":
            return self.modules
        return EntityManager(self, name)

    # --- API calls ----------------------------------------------------------------------

    def execute(self, batch: Batch, *, timeout: float | None = None) -> Responses:
        """Send a batch; returns the responses matched to its calls by call id.

        A batch longer than ``maxCallInRequest`` is sent as several HTTP requests, cut
        only where no result reference crosses the cut (see :func:`plan_chunks`). Method
        errors do not raise here: :meth:`Responses.get` raises them per call.
        """
        with self._guard():
            api_url, limits = self._api_endpoint()
            responses = Responses(
                batch.calls, url=safe_url(api_url), secrets=self._secrets()
            )
            if not len(batch):
                return responses
            chunks = plan_chunks(batch.calls, limits.max_call_in_request)
            for index, chunk in enumerate(chunks):
                unsent = [c.call_id for later in chunks[index + 1 :] for c in later]
                try:
                    invocations = self._execute_chunk(chunk, api_url, timeout)
                except OutcomeUnknownError as exc:
                    exc.completed = responses if index else None
                    exc.unsent = tuple(unsent)
                    raise
                except JMAPError as exc:
                    wrote = any(not c.is_read_only for done in chunks[:index] for c in done)
                    if not wrote:
                        raise
                    raise IncompleteBatchError(
                        f"the batch was sent in {len(chunks)} requests; request {index + 1} "
                        f"failed after earlier ones had written data (their responses are "
                        f"in .completed): {exc}",
                        completed=responses,
                        unsent=[c.call_id for c in chunk] + unsent,
                    ) from exc
                responses.extend(invocations)
            return responses

    def call(self, method: str, args: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send one method call; returns its response arguments or raises its MethodError."""
        batch = Batch()
        handle = batch.call(method, args)
        responses = self.execute(batch)
        with self._guard():
            return responses.get(handle)

    def _api_endpoint(self) -> tuple[str, Limits]:
        """Where API calls go, and the limits that apply (see :meth:`defer_session`)."""
        if self._defer_session and self._session is None:
            if self._api_key is None:
                self._token()  # a password login delivers the session
            if self._session is None:
                return f"{self.base_url}/api/jmap.php", Limits()
        session = self.session
        return session.api_url, session.limits

    def _execute_chunk(
        self, calls: Sequence[Call], api_url: str, timeout: float | None
    ) -> list[Invocation]:
        try:
            invocations = self._post_calls(calls, api_url, timeout)
        except HTTPStatusError as exc:
            # A deferred session guessed the address; 404 means nothing was executed.
            if exc.status != 404 or self._session is not None or not self._defer_session:
                raise
            api_url = self.session.api_url
            if api_url == f"{self.base_url}/api/jmap.php":
                raise
            invocations = self._post_calls(calls, api_url, timeout)
        if self._can_relogin() and self._all_unauthorized(invocations):
            # Nothing ran (the token is checked before each method): resending is safe.
            self._relogin()
            invocations = self._post_calls(calls, api_url, timeout)
        return invocations

    @staticmethod
    def _all_unauthorized(invocations: Sequence[Invocation]) -> bool:
        relevant = [i for i in invocations if i.name != "Core/echo"]
        return bool(relevant) and all(
            i.is_error and i.arguments.get("type") == "unauthorized" for i in relevant
        )

    def _post_calls(
        self, calls: Sequence[Call], url: str, timeout: float | None
    ) -> list[Invocation]:
        read_only = all(c.is_read_only for c in calls)
        body = json.dumps(
            [[c.method, c.args, c.call_id] for c in calls], ensure_ascii=False,
            separators=(",", ":"), default=_json_default,
        ).encode("utf-8")
        methods = ", ".join(dict.fromkeys(c.method for c in calls))

        def unknown(reason: str, cause: BaseException | None, status: int | None) -> NoReturn:
            writes = [c.pending_write() for c in calls if not c.is_read_only]
            exc = OutcomeUnknownError(
                f"POST {safe_url(url)} ({methods}) failed and may or may not have been "
                f"executed: {reason}. It was not resent because it changes data. Possibly "
                f"affected: {OutcomeUnknownError.describe(writes)}. Look the objects up by "
                "their natural keys before trying again (see go_support.jmap.retry)",
                url=safe_url(url), writes=writes, status=status,
            )
            raise exc from cause

        def attempt() -> list[Invocation]:
            try:
                resp = self._send(
                    "POST", url,
                    headers=self._headers({"Content-Type": "application/json; charset=utf-8"}),
                    body=body, timeout=timeout,
                )
            except TransportError as exc:
                if read_only or exc.request_sent is False:
                    raise
                unknown(str(exc), exc, None)
            if resp.status != 200:
                error = self._status_error(
                    "POST", url, resp,
                    hint="is the API URL right?" if resp.status == 404 else "",
                )
                if resp.status == 401:
                    raise AuthenticationError(str(error)) from error
                if not read_only and resp.status >= 500:
                    unknown(str(error), error, resp.status)
                raise error
            try:
                return self._parse_invocations(resp, url, expected=len(calls))
            except ProtocolError as exc:
                if read_only:
                    raise
                unknown(str(exc), exc, resp.status)

        return self._retry(
            attempt,
            retryable=lambda e: is_transient(e)
            and (read_only or isinstance(e, TransportError) or getattr(e, "status", 0) == 429),
            what=f"POST {safe_url(url)} ({methods})",
        )

    def _parse_invocations(
        self, resp: HttpResponse, url: str, *, expected: int
    ) -> list[Invocation]:
        if not resp.content.strip():
            raise self._protocol_error("POST", url, resp)
        try:
            data = json.loads(resp.content)
        except ValueError as exc:
            if resp.content.lstrip()[:1] in (b"[", b"{"):
                raise self._protocol_error(
                    "POST", url, resp,
                    detail=f"incomplete or malformed JSON ({len(resp.content)} bytes: {exc})",
                ) from exc
            raise self._protocol_error("POST", url, resp) from exc
        if not isinstance(data, list):
            keys = sorted(data)[:8] if isinstance(data, Mapping) else type(data).__name__
            raise self._protocol_error(
                "POST", url, resp, detail=f"JSON that is not an array of responses ({keys})"
            )
        invocations = []
        for item in data:
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)):
                raise self._protocol_error(
                    "POST", url, resp, detail="an array whose items are not [name, args, id]"
                )
            name, args, call_id = item
            arguments = dict(args) if isinstance(args, Mapping) else {}
            invocations.append(Invocation(name=name, arguments=arguments, call_id=str(call_id)))
        if len(invocations) < expected:
            log.warning("Group-Office answered %d of %d calls", len(invocations), expected)
        return invocations

