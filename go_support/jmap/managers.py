"""One manager per entity type: ``client.tasks.get(...)``, ``client.comments.set(...)``.

Managers hide the limits: ``get`` splits ids into chunks of ``maxObjectsInGet`` packed into
one HTTP request; ``set`` splits into calls of at most ``maxObjectsInSet`` objects;
``query_all`` pages and packs pages into few requests (:mod:`go_support.jmap.paging`).
They return the typed results of :mod:`go_support.jmap.results`; objects read stay
plain dicts (parse them with the read models of ``jmap_schema``).

Writes are checked first: ``create``, ``create_many``, ``update`` and ``set`` validate every
object (dicts in wire form, or the write models) against the strict write model of
``jmap_schema`` and raise :class:`~go_support.jmap.errors.InvalidObjectError` before anything
is sent, because Group-Office silently ignores many bad values. ``validate=False`` sends them
unchecked; :mod:`go_support.jmap.validation` has the rules (result-reference keys, JSON-pointer
patch keys, entities without a model).

Reads are checked too: ``properties`` must be properties of the entity's read model
(:func:`~go_support.jmap.validation.check_properties`), since Group-Office answers a get with
an unknown one by calling every id ``notFound`` (groupoffice-wire 18). ``changes`` never hands
out a state Group-Office would refuse (:class:`~go_support.jmap.errors.ChangesTruncated`);
``sync`` follows changes and resyncs when it must (:mod:`go_support.jmap.sync`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from go_support.jmap.errors import ChangesTruncated, MethodError, SetError, SetFailed
from go_support.jmap.paging import read_pages
from go_support.jmap.request import Batch, Call
from go_support.jmap.results import (
    ChangesResult,
    GetResult,
    QueryGetResult,
    QueryResult,
    SetResult,
    dedupe,
)
from go_support.jmap.validation import (
    WriteObject,
    check_properties,
    validate_set,
    write_model,
)

if TYPE_CHECKING:
    from go_support.jmap.client import GroupOfficeClient
    from go_support.jmap.sync import SyncResult
    from jmap_schema import WireInput

__all__ = ["EntityManager", "ModuleManager", "SortSpec", "chunked", "normalise_sort"]

SortSpec = Sequence[Mapping[str, Any] | str]
DEFAULT_ID_PAGE = 1000


def chunked(items: Sequence[Any], size: int) -> list[list[Any]]:
    """Split ``items`` into consecutive lists of at most ``size`` items."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def normalise_sort(sort: SortSpec | None) -> list[dict[str, Any]] | None:
    """Accept ``["title", "-createdAt"]`` as well as JMAP comparators."""
    if sort is None:
        return None
    if isinstance(sort, str):
        sort = [sort]
    result: list[dict[str, Any]] = []
    for item in sort:
        if isinstance(item, str):
            descending = item.startswith("-")
            result.append({"property": item.lstrip("-+"), "isAscending": not descending})
        else:
            result.append(dict(item))
    return result


class EntityManager:
    """Generic ``get``/``query``/``set``/``changes`` for one Group-Office entity type."""

    def __init__(self, client: GroupOfficeClient, name: str) -> None:
        if not name or "/" in name:
            raise ValueError(f"not an entity name: {name!r}")
        self._client = client
        self.name = name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    @property
    def client(self) -> GroupOfficeClient:
        """The client this manager sends through."""
        return self._client

    @property
    def create_model(self) -> type[WireInput] | None:
        """The write model new objects are checked against (``TaskCreate``), if any."""
        return write_model(self.name, "create")

    @property
    def patch_model(self) -> type[WireInput] | None:
        """The write model patches are checked against (``TaskPatch``), if any."""
        return write_model(self.name, "update")

    # --- get ----------------------------------------------------------------------------

    def _get_args(
        self, ids: list[str] | None, properties: Sequence[str] | None
    ) -> dict[str, Any]:
        args: dict[str, Any] = {"ids": ids}
        if properties is not None:
            args["properties"] = list(properties)
        return args

    def get(
        self,
        ids: Iterable[str | int] | None,
        properties: Sequence[str] | None = None,
        *,
        validate: bool = True,
    ) -> GetResult:
        """Fetch objects by id (``None``: every object the user can read).

        Ids are de-duplicated, split into chunks of ``maxObjectsInGet`` and sent as
        several ``Foo/get`` calls per HTTP request. ``state`` is the first chunk's.
        ``properties`` must be the entity's (:class:`UnknownPropertiesError` before
        sending, unless ``validate=False``).
        """
        with self._client._guard():
            properties = check_properties(self.name, properties, validate=validate)
        if ids is None:
            return GetResult.from_json(self._client.call(f"{self.name}/get",
                                                         self._get_args(None, properties)))
        wanted = dedupe(str(i) for i in ids if i is not None and str(i) != "")
        if not wanted:
            return GetResult()
        limits = self._client.limits
        batch = Batch()
        handles = [
            batch.call(f"{self.name}/get", self._get_args(chunk, properties))
            for chunk in chunked(wanted, limits.max_objects_in_get)
        ]
        responses = self._client.execute(batch)
        result = GetResult()
        for handle in handles:
            result.merge(GetResult.from_json(responses.get(handle)))
        return result

    def get_one(
        self,
        id: str | int,
        properties: Sequence[str] | None = None,
        *,
        validate: bool = True,
    ) -> dict[str, Any] | None:
        """One object, or ``None`` if it does not exist or the user cannot read it."""
        found = self.get([id], properties, validate=validate).objects
        return found[0] if found else None

    def state(self) -> str | None:
        """The current state string, cheaply (``Foo/get`` with no ids)."""
        args = self._client.call(f"{self.name}/get", {"ids": []})
        state = args.get("state")
        return None if state is None else str(state)

    # --- query --------------------------------------------------------------------------

    def _query_args(
        self,
        filter: Mapping[str, Any] | None,
        sort: SortSpec | None,
        limit: int | None,
        position: int | None,
        calculate_total: bool,
        calculate_has_more: bool = False,
    ) -> dict[str, Any]:
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0 (0 means no limit)")
        if position is not None and position < 0:
            raise ValueError("Group-Office does not support negative positions")
        args: dict[str, Any] = {}
        if filter is not None:
            args["filter"] = dict(filter)
        comparators = normalise_sort(sort)
        if comparators is not None:
            args["sort"] = comparators
        if limit is not None:
            args["limit"] = limit
        if position:
            args["position"] = position
        if calculate_total:
            args["calculateTotal"] = True
        if calculate_has_more:
            args["calculateHasMore"] = True
        return args

    def query(
        self,
        filter: Mapping[str, Any] | None = None,
        sort: SortSpec | None = None,
        limit: int | None = None,
        position: int | None = None,
        calculate_total: bool = False,
        *,
        calculate_has_more: bool = False,
    ) -> QueryResult:
        """One ``Foo/query``. ``limit`` 0 or ``None`` means no limit on Group-Office
        (``position`` is then ignored by the server)."""
        args = self._query_args(filter, sort, limit, position, calculate_total,
                                calculate_has_more)
        return QueryResult.from_json(
            self._client.call(f"{self.name}/query", args), position=position or 0, limit=limit
        )

    def query_get(
        self,
        filter: Mapping[str, Any] | None = None,
        sort: SortSpec | None = None,
        *,
        limit: int | None = None,
        position: int | None = None,
        properties: Sequence[str] | None = None,
        calculate_total: bool = False,
        validate: bool = True,
    ) -> QueryGetResult:
        """Query and get the matching objects in one request (a ``#ids`` reference).

        ``limit`` defaults to ``maxObjectsInGet``; use :meth:`query_all_objects` for more.
        """
        with self._client._guard():
            properties = check_properties(self.name, properties, validate=validate)
        if limit is None:
            limit = self._client.limits.max_objects_in_get
        batch = Batch()
        query, get = self._add_query_get(batch, filter, sort, limit, position or 0,
                                         properties, calculate_total)
        responses = self._client.execute(batch)
        return QueryGetResult(
            query=QueryResult.from_json(responses.get(query), position=position or 0,
                                        limit=limit),
            get=GetResult.from_json(responses.get(get)),
        )

    def _add_query_get(
        self,
        batch: Batch,
        filter: Mapping[str, Any] | None,
        sort: SortSpec | None,
        limit: int,
        position: int,
        properties: Sequence[str] | None,
        calculate_total: bool,
        *,
        calculate_has_more: bool = False,
    ) -> tuple[Call, Call]:
        query = batch.call(
            f"{self.name}/query",
            self._query_args(filter, sort, limit, position, calculate_total, calculate_has_more),
        )
        get_args = self._get_args(None, properties)
        del get_args["ids"]
        get_args["#ids"] = query.ref("/ids")
        return query, batch.call(f"{self.name}/get", get_args)

    def query_all(
        self,
        filter: Mapping[str, Any] | None = None,
        sort: SortSpec | None = None,
        page_size: int | None = None,
    ) -> list[str]:
        """Every matching id, paged with ``position``/``limit``.

        The first page also asks for ``total``; the remaining pages then go out together
        in as few requests as ``maxCallInRequest`` allows. Pages are not a snapshot: sort
        on something stable, and expect objects created meanwhile to be missed.
        ``page_size=0`` fetches everything in one unlimited query instead.
        """
        if page_size == 0:
            return self.query(filter, sort, limit=0).ids
        ids, _ = read_pages(self, filter, sort, page_size or DEFAULT_ID_PAGE, None, False)
        return ids

    def query_all_objects(
        self,
        filter: Mapping[str, Any] | None = None,
        sort: SortSpec | None = None,
        page_size: int | None = None,
        properties: Sequence[str] | None = None,
        *,
        validate: bool = True,
    ) -> list[dict[str, Any]]:
        """Every matching object: each page is a query plus a ``#ids`` get in one request.

        ``page_size`` defaults to (and should not exceed) ``maxObjectsInGet``.
        """
        with self._client._guard():
            properties = check_properties(self.name, properties, validate=validate)
        size = page_size or self._client.limits.max_objects_in_get
        _, objects = read_pages(self, filter, sort, size, properties, True)
        return objects

    # --- set ----------------------------------------------------------------------------

    def set(
        self,
        create: Mapping[str, WriteObject] | None = None,
        update: Mapping[str | int, WriteObject] | None = None,
        destroy: Iterable[str | int] | None = None,
        *,
        if_in_state: str | None = None,
        validate: bool = True,
    ) -> SetResult:
        """``Foo/set``, split into calls of at most ``maxObjectsInSet`` objects.

        Every object of ``create`` and ``update`` (a dict in wire form or a ``jmap_schema``
        write model) is first checked against the entity's write model; if any is
        refused, :class:`InvalidObjectError` names them all and **nothing is sent**.
        ``validate=False`` skips the check (models still go through ``to_wire()``).

        Creates go first, then updates, then destroys (the server's own order). The
        calls share as few HTTP requests as possible; a set is never retried after an
        unknown outcome (:class:`OutcomeUnknownError`). ``if_in_state`` goes on the first
        call only. Per-object failures are in the result (``not_created``…); a failed
        call raises its :class:`MethodError` with ``partial_result`` set.
        """
        with self._client._guard():
            creates, updates = validate_set(
                self.name,
                create=create,
                update={str(oid): patch for oid, patch in (update or {}).items()},
                validate=validate,
            )
        entries: list[tuple[str, str, Any]] = []
        entries += [("create", cid, obj) for cid, obj in creates.items()]
        entries += [("update", oid, patch) for oid, patch in updates.items()]
        entries += [("destroy", str(oid), None) for oid in (destroy or [])]
        if not entries:
            raise ValueError(f"{self.name}/set needs something to create, update or destroy")
        limit = self._client.limits.max_objects_in_set
        batch = Batch()
        calls: list[tuple[Call, list[str], list[str]]] = []
        for index, chunk in enumerate(chunked(entries, limit)):
            args: dict[str, Any] = {}
            chunk_creates = {oid: obj for op, oid, obj in chunk if op == "create"}
            chunk_updates = {oid: obj for op, oid, obj in chunk if op == "update"}
            destroys = [oid for op, oid, _ in chunk if op == "destroy"]
            if chunk_creates:
                args["create"] = chunk_creates
            if chunk_updates:
                args["update"] = chunk_updates
            if destroys:
                args["destroy"] = destroys
            if index == 0 and if_in_state is not None:
                args["ifInState"] = if_in_state
            calls.append((batch.call(f"{self.name}/set", args), list(chunk_creates),
                          list(chunk_updates)))
        responses = self._client.execute(batch)
        result = SetResult()
        first_error: MethodError | None = None
        for handle, create_ids, update_ids in calls:
            error = responses.error(handle)
            if error is not None:
                first_error = first_error or error
                continue
            result.merge(SetResult.from_json(responses.get(handle), create_ids=create_ids,
                                             update_ids=update_ids))
        if first_error is not None:
            first_error.partial_result = result
            raise first_error
        return result

    def create_many(
        self, objects: Sequence[WriteObject], *, prefix: str = "new", validate: bool = True
    ) -> list[str]:
        """Create objects; returns their ids in the same order.

        Objects are dicts or write models (``TaskCreate``). Raises
        :class:`InvalidObjectError` before sending if any object breaks the write model
        (unless ``validate=False``; creation ids are ``<prefix>1``, ``<prefix>2``...),
        and :class:`SetFailed` (with the whole result) if the server refused any.
        """
        if not prefix or prefix[0].isdigit():
            raise ValueError("the creation-id prefix must start with a letter")
        cids = [f"{prefix}{i}" for i in range(1, len(objects) + 1)]
        if not cids:
            return []
        result = self.set(create=dict(zip(cids, objects, strict=True)), validate=validate)
        self._raise_for_errors(result)
        missing = [cid for cid in cids if result.created.get(cid, {}).get("id") is None]
        if missing:
            self._raise(SetFailed(
                method=f"{self.name}/set",
                errors=[SetError(id=cid, operation="create", type="noId",
                                 description="the server reported neither an id nor an error")
                        for cid in missing],
                result=result,
            ))
        return [result.created_id(cid) for cid in cids]

    def _raise(self, error: SetFailed) -> None:
        error.scrub(*self._client._secrets())
        raise error

    def _raise_for_errors(self, result: SetResult) -> None:
        try:
            result.raise_for_errors(f"{self.name}/set")
        except SetFailed as error:
            self._raise(error)

    def create(self, obj: WriteObject, *, validate: bool = True) -> str:
        """Create one object; returns its id.

        Raises :class:`InvalidObjectError` (nothing sent; creation id ``new1``) or
        :class:`SetFailed`. ``validate=False`` skips the client-side check.
        """
        return self.create_many([obj], validate=validate)[0]

    def update(
        self, id: str | int, patch: WriteObject, *, validate: bool = True
    ) -> dict[str, Any] | None:
        """Patch one object; returns what the server changed beyond the patch, if anything.

        ``patch`` is a dict (JSON-pointer keys such as ``"acl/31"`` allowed) or a write
        model (``TaskPatch``). Raises :class:`InvalidObjectError` before sending if it
        breaks the patch model, unless ``validate=False``; :class:`SetFailed` if the
        server refused it.
        """
        result = self.set(update={str(id): patch}, validate=validate)
        self._raise_for_errors(result)
        return result.updated.get(str(id))

    def destroy(self, ids: Iterable[str | int]) -> list[str]:
        """Destroy objects; returns the destroyed ids or raises :class:`SetFailed`."""
        wanted = [str(i) for i in ids]
        if not wanted:
            return []
        result = self.set(destroy=wanted)
        self._raise_for_errors(result)
        return result.destroyed

    # --- changes ------------------------------------------------------------------------

    def changes(self, since_state: str, max_changes: int | None = None) -> ChangesResult:
        """What changed since ``since_state``, with ``changed``/``removed`` normalised.

        The answer's ``new_state`` is always usable: when Group-Office pages
        (``hasMoreChanges``, after ``max_changes`` or its default of changes, ACL changes
        included) it raises :class:`ChangesTruncated`, because Group-Office refuses its own
        intermediate states (groupoffice-wire 17). A state too old or foreign (e.g. after a
        custom field was created) raises :class:`CannotCalculateChanges`, of which
        ``ChangesTruncated`` is a kind: catch that one to resync, or use :meth:`sync`.
        """
        args: dict[str, Any] = {"sinceState": since_state}
        if max_changes is not None:
            ceiling = self._client.limits.max_objects_in_get
            if not 1 <= max_changes <= ceiling:
                raise ValueError(f"max_changes must be between 1 and {ceiling}")
            args["maxChanges"] = max_changes
        batch = Batch()
        handle = batch.call(f"{self.name}/changes", args)
        responses = self._client.execute(batch)
        with self._client._guard():
            result = ChangesResult.from_json(responses.get(handle))
            if result.has_more_changes:
                raise ChangesTruncated(method=handle.method, call_id=handle.call_id,
                                       partial=result)
        return result

    def sync(
        self,
        since_state: str | None,
        *,
        filter: Mapping[str, Any] | None = None,
        properties: Sequence[str] | None = None,
        max_changes: int | None = None,
        validate: bool = True,
    ) -> SyncResult:
        """The objects changed since ``since_state`` and a state to continue from.

        Falls back to query + get (``filter``) when Group-Office cannot answer the changes
        in one page; see :func:`go_support.jmap.sync.sync`.
        """
        from go_support.jmap.sync import sync

        return sync(self, since_state, filter=filter, properties=properties,
                    max_changes=max_changes, validate=validate)


class ModuleManager(EntityManager):
    """``Module``: an explicit ``properties`` list must include ``package`` and ``name``,
    otherwise Group-Office returns wrong answers (``settings`` null, ``notFound``)."""

    def _get_args(
        self, ids: list[str] | None, properties: Sequence[str] | None
    ) -> dict[str, Any]:
        if properties is not None:
            properties = dedupe(["package", "name", *properties])
        return super()._get_args(ids, properties)
