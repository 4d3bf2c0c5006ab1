"""A mailbox on a JMAP mail server (RFC 8621), read through ``jmapc``: ``kind = "jmap"``.

The same contract as the IMAP source (:class:`~go_support.mail.sources.MailSource`):
:meth:`JmapMailSource.fetch` changes nothing (``Email/query`` of the inbox, ``Email/get`` of
``blobId`` and size, the raw bytes downloaded by blob); a mail leaves the inbox only through
:meth:`~JmapMailSource.done` once Group-Office holds it (one ``Email/set`` that takes it out of
the inbox and into the processed mailbox, or sets the processed keyword), or through
:meth:`~JmapMailSource.quarantine`. A mail's key is its JMAP id, which the server never
reuses, so no UIDVALIDITY is needed. TLS is verified (with ``ca_bundle`` if given) and the
server is polled every ``poll_seconds``.

``jmapc`` (and ``requests`` with it) is imported when a JMAP mailbox first connects, so that
``go-support ingest`` and IMAP-only daemons do not pay for it.
"""

from __future__ import annotations

import functools
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from go_support.errors import redact
from go_support.mail.config import MailboxSettings
from go_support.mail.parse import DEFAULT_MAX_BYTES
from go_support.mail.sources import IncomingMail, SourceError

if TYPE_CHECKING:
    import jmapc
    import jmapc.session
    import requests

__all__ = ["JmapMailSource"]

log = logging.getLogger("go_support.mail")

_PAGE = 256  # ids per Email/query page (and Email/get): bounded responses, few round trips
_SET_CHUNK = 500  # updates per Email/set (a server caps it; the session says by how much)
# jmapc's Comparator sends its paging fields inside the comparator, which Cyrus refuses as
# invalidArguments: the comparator is given as plain JSON instead.
_OLDEST_FIRST: Any = [{"property": "receivedAt", "isAscending": True}]


class JmapMailSource:
    """One JMAP mailbox (``[mail.mailboxes.<name>]``, ``kind = "jmap"``)."""

    def __init__(self, name: str, settings: MailboxSettings, password: str, *,
                 max_bytes: int = DEFAULT_MAX_BYTES,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if settings.kind != "jmap":
            raise ValueError(f"mailbox {name!r} is a {settings.kind} mailbox, not JMAP")
        self.name = name
        self.settings = settings
        self.max_bytes = max_bytes
        self._password = password
        self._sleep = sleep
        self._client: jmapc.Client | None = None
        self._inbox = ""
        self._move_to: str | None = None
        self._quarantine = ""

    def __repr__(self) -> str:
        return f"JmapMailSource({self.name!r}, {self.settings.user}@{self.settings.url}/" \
               f"{self.settings.folder})"

    @property
    def poll_seconds(self) -> float:
        return self.settings.poll_seconds

    # -- connection ---------------------------------------------------------------------

    def _where(self) -> str:
        return f"mailbox {self.name!r} ({self.settings.user} at {self.settings.url})"

    def _fail(self, exc: BaseException, doing: str) -> SourceError:
        """``exc`` as a :class:`SourceError` that says whether trying again may help; never
        with the password."""
        import requests

        temporary = True
        text = str(exc) or type(exc).__name__
        if isinstance(exc, requests.exceptions.SSLError):
            temporary = False
            doing += " (the server's TLS certificate does not verify: give the CA in ca_bundle)"
        elif isinstance(exc, requests.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            text = f"HTTP {status} {exc.response.reason}"
            if status in (401, 403):
                temporary = False
                doing = (f"the server refused the login of {self.settings.user!r} (check the "
                         "user and its password variable)")
            elif status == 404:
                temporary = False
                doing += f" (no JMAP session at {self.settings.url}/.well-known/jmap)"
            elif status < 500 and status != 429:
                temporary = False
        elif isinstance(exc, (ValueError, KeyError, TypeError)):  # not JSON, or not JMAP
            temporary = False
            doing += " (the server's answer is not JMAP)"
        return SourceError(f"{self._where()}: {doing}: {redact(text, self._password)}",
                           temporary=temporary)

    def _session(self) -> jmapc.Client:
        if self._client is None:
            self.connect()
        assert self._client is not None
        return self._client

    def connect(self) -> None:
        """Read the JMAP session, find the inbox, create the mailboxes we move to."""
        if self._client is not None:
            return
        s = self.settings
        client = _client_class().create_with_password(s.jmap_host, s.user or "", self._password)
        session = client.requests_session
        session.verify = (s.ca_bundle or True) if s.verify_tls else False
        setattr(session, "timeout", s.timeout)  # noqa: B010 - our Session subclass reads it
        try:
            client.jmap_session  # noqa: B018 - logs in and reads the session
            self._client = client
            boxes = self._mailboxes()
            inbox = _find(boxes, s.folder)
            if inbox is None:
                raise SourceError(f"{self._where()}: there is no mailbox {s.folder!r}",
                                  temporary=False)
            self._inbox = inbox
            if s.move_to is not None:
                self._move_to = self._ensure(boxes, s.move_to)
            self._quarantine = self._ensure(boxes, s.quarantine_folder)
        except SourceError:
            self._client = None
            client.requests_session.close()
            raise
        except Exception as exc:
            self._client = None
            client.requests_session.close()
            raise self._fail(exc, "the JMAP session failed") from None
        log.info("%s: connected (polling every %g s)", self._where(), s.poll_seconds)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.requests_session.close()

    def _call(self, doing: str, calls: Any) -> list[Any]:
        """Run JMAP method calls; a failed call, or a failed connection (which is closed so
        that the next call reconnects), is a :class:`SourceError`."""
        from jmapc.errors import Error

        client = self._session()
        try:
            answers = client.request(calls if isinstance(calls, list) else [calls])
        except Exception as exc:
            self.close()
            raise self._fail(exc, doing) from None
        responses = [a.response for a in answers]
        for response in responses:
            if isinstance(response, Error):
                said = getattr(response, "description", None) or ""
                raise SourceError(f"{self._where()}: {doing}: the server answered "
                                  f"{response.type or 'an error'} {said}".rstrip(),
                                  temporary=True)
        return responses

    def _mailboxes(self) -> dict[str, tuple[str, str | None, str | None]]:
        """Mailbox id -> (name, parent id, role)."""
        from jmapc.methods import MailboxGet

        got, = self._call("reading the mailboxes failed", MailboxGet(ids=None))
        return {b.id: (b.name or "", b.parent_id, b.role) for b in got.data if b.id}

    def _ensure(self, boxes: dict[str, tuple[str, str | None, str | None]], path: str) -> str:
        """The id of the mailbox ``path`` ("Archive/Support" is nested), created if missing."""
        from jmapc.methods import MailboxSet
        from jmapc.models import Mailbox

        parent: str | None = None
        for depth, part in enumerate(p for p in path.split("/") if p):
            found = next((i for i, (n, up, _) in boxes.items() if n == part and up == parent),
                         None)
            if found is None:
                got, = self._call(f"creating the mailbox {path!r} failed", MailboxSet(
                    create={"box": Mailbox(name=part, parent_id=parent)}))
                created = (got.created or {}).get("box")
                if created is None or not created.id:
                    problem = (got.not_created or {}).get("box")
                    raise SourceError(f"{self._where()}: the server did not create the mailbox "
                                      f"{path!r}: {getattr(problem, 'type', 'no reason')}",
                                      temporary=False)
                found = created.id
                boxes[found] = (part, parent, None)
                log.info("%s: created the mailbox %r", self._where(),
                         "/".join(path.split("/")[:depth + 1]))
            parent = found
        if parent is None:
            raise SourceError(f"{self._where()}: {path!r} is not a mailbox name",
                              temporary=False)
        return parent

    # -- the mailbox --------------------------------------------------------------------

    def _pages(self, limit: int | None) -> Iterator[list[Any]]:
        """The inbox's waiting mails (id, blobId, size, receivedAt), oldest first."""
        from jmapc import Ref
        from jmapc.methods import EmailGet, EmailQuery
        from jmapc.models import EmailQueryFilterCondition

        self._session()  # the inbox's id is known once connected
        keyword = self.settings.processed_flag
        where = EmailQueryFilterCondition(in_mailbox=self._inbox, not_keyword=keyword)
        position = 0
        while limit is None or position < limit:
            page = _PAGE if limit is None else min(_PAGE, limit - position)
            query, got = self._call("fetching mail failed", [
                EmailQuery(filter=where, sort=_OLDEST_FIRST, position=position, limit=page),
                EmailGet(ids=Ref("/ids"), properties=["id", "blobId", "size", "receivedAt"])])
            if not query.ids:
                return
            yield got.data
            position += len(query.ids)
            if len(query.ids) < min(page, query.limit or page):
                return

    def fetch(self, limit: int | None = None) -> list[IncomingMail]:
        if limit == 0:
            return []
        mails = []
        for page in self._pages(limit):
            for email in page:
                raw = None
                if email.size is not None and email.size <= self.max_bytes:
                    raw = self._download(email.blob_id)
                    if raw is None:
                        continue  # gone meanwhile (another daemon took it)
                received = email.received_at
                mails.append(IncomingMail(
                    source=self.name, key=str(email.id), raw=raw, size=int(email.size or 0),
                    received_at=received.astimezone(UTC) if isinstance(received, datetime)
                    else None))
        return mails

    def _download(self, blob_id: str) -> bytes | None:
        client = self._session()
        quote = functools.partial(urllib.parse.quote, safe="")
        url = client.jmap_session.download_url.format(
            accountId=quote(client.account_id), blobId=quote(blob_id), name="mail.eml",
            type=quote("message/rfc822"))
        try:
            answer = client.requests_session.get(url)
            if answer.status_code == 404:
                return None
            answer.raise_for_status()
        except Exception as exc:
            self.close()
            raise self._fail(exc, "downloading a mail failed") from None
        return answer.content

    def _update(self, mails: tuple[IncomingMail, ...], patch: dict[str, Any],
                doing: str) -> None:
        from jmapc.methods import EmailSet

        ids = []
        for mail in mails:
            if mail.source != self.name or not mail.key:
                raise ValueError(f"{mail.key!r} is not a mail of {self._where()}")
            ids.append(mail.key)
        for start in range(0, len(ids), _SET_CHUNK):
            chunk = ids[start:start + _SET_CHUNK]
            got, = self._call(f"{doing} {len(chunk)} mail(s) failed",
                              EmailSet(update={i: patch for i in chunk}))
            for email_id, problem in (got.not_updated or {}).items():
                if problem.type == "notFound":
                    log.info("%s: mail %s was already taken", self._where(), email_id)
                    continue
                raise SourceError(f"{self._where()}: {doing} mail {email_id} failed: "
                                  f"{problem.type} {problem.description or ''}".rstrip(),
                                  temporary=True)

    def _move(self, mails: tuple[IncomingMail, ...], target: str, doing: str) -> None:
        self._session()
        self._update(mails, {f"mailboxIds/{self._inbox}": None,
                             f"mailboxIds/{target}": True}, doing)

    def done(self, *mails: IncomingMail) -> None:
        """Take ``mails`` out of the inbox into the processed mailbox, or set the processed
        keyword; one ``Email/set`` per 500 mails. Call it only once Group-Office holds them."""
        if not mails:
            return
        self._session()
        if self._move_to is None:
            assert self.settings.processed_flag is not None
            self._update(mails, {f"keywords/{self.settings.processed_flag}": True}, "flagging")
        else:
            self._move(mails, self._move_to, f"moving to {self.settings.move_to!r}:")

    def quarantine(self, *mails: IncomingMail) -> None:
        if mails:
            self._session()
            self._move(mails, self._quarantine,
                       f"moving to {self.settings.quarantine_folder!r}:")

    def wait(self, timeout: float) -> bool:
        """Polling: sleep ``poll_seconds`` (at most ``timeout``)."""
        self._sleep(min(timeout, self.settings.poll_seconds))
        return True


def _find(boxes: dict[str, tuple[str, str | None, str | None]], path: str) -> str | None:
    """The id of ``path``; "INBOX" (any case) is the mailbox whose role is ``inbox``."""
    if path.upper() == "INBOX":
        return next((i for i, (_, _, role) in boxes.items() if role == "inbox"), None)
    parent: str | None = None
    for part in (p for p in path.split("/") if p):
        parent = next((i for i, (n, up, _) in boxes.items() if n == part and up == parent),
                      None)
        if parent is None:
            return None
    return parent


@functools.cache
def _client_class() -> type[jmapc.Client]:
    """``jmapc.Client`` with what a JMAP server may need beyond it: the session's URLs
    resolved against the session's own (Cyrus gives ``/jmap/``, a relative URL), the
    settings' timeout on every request, and the configured CA even when
    ``REQUESTS_CA_BUNDLE`` is set (``requests`` would otherwise let it win)."""
    import jmapc
    import requests

    class Session(requests.Session):
        timeout: float = 30.0

        def request(self, method: str | bytes, url: str | bytes,
                    *args: Any, **kwargs: Any) -> requests.Response:
            kwargs["timeout"] = self.timeout
            return super().request(method, url, *args, **kwargs)

        def merge_environment_settings(self, url: str | bytes | None, proxies: Any,
                                       stream: Any, verify: Any, cert: Any) -> Any:
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
            merged["verify"] = self.verify
            return merged

    class Client(jmapc.Client):
        @functools.cached_property
        def requests_session(self) -> requests.Session:
            session = Session()
            session.auth = self._auth
            return session

        @functools.cached_property
        def jmap_session(self) -> jmapc.session.Session:
            session = jmapc.Client.jmap_session.func(self)  # type: ignore[attr-defined]
            base = f"https://{self._host}/.well-known/jmap"
            for key in ("api_url", "download_url", "upload_url", "event_source_url"):
                setattr(session, key, urllib.parse.urljoin(base, getattr(session, key)))
            return session  # type: ignore[no-any-return]

    return Client
