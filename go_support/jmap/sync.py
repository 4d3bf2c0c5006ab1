"""Following the changes of one entity type without ever keeping an unusable state.

Group-Office pages ``Foo/changes`` after ``maxChanges`` changes (ACL changes count too, so a
busy server pages unasked) and then refuses its own intermediate ``newState`` with
``cannotCalculateChanges`` "Resync required", every time (groupoffice-wire 17). A client
that follows changes therefore needs two paths: the changes since its state when Group-Office
answers them in one page, and a resync (query and get everything again, then continue from a
state taken by ``Foo/get`` *before* reading) otherwise. :func:`sync` is both;
``EntityManager.sync`` calls it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from go_support.jmap.errors import CannotCalculateChanges
from go_support.jmap.request import Batch
from go_support.jmap.results import ChangesResult, GetResult
from go_support.jmap.validation import check_properties

if TYPE_CHECKING:
    from go_support.jmap.managers import EntityManager

__all__ = ["SyncResult", "sync"]


@dataclass
class SyncResult:
    """What changed since a state, and the state to continue from.

    ``state`` can always be passed to the next :func:`sync`. Without a resync, ``changed``
    holds the objects created or changed since (every one the user can read, whatever the
    ``filter``) and ``removed`` the ids destroyed or no longer readable. With a resync
    (``resynced``; ``reason`` says why) ``changed`` holds every object matching ``filter``
    and ``removed`` is empty: anything the caller knew that is not in ``changed`` is gone.
    """

    state: str
    changed: list[dict[str, Any]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    resynced: bool = False
    reason: str | None = None


def sync(
    manager: EntityManager,
    since_state: str | None,
    *,
    filter: Mapping[str, Any] | None = None,
    properties: Sequence[str] | None = None,
    max_changes: int | None = None,
    validate: bool = True,
) -> SyncResult:
    """The objects changed since ``since_state``, or all of them after a resync.

    One request (``Foo/changes`` and a ``Foo/get`` of its ``changed`` ids) when Group-Office
    can answer; a resync when ``since_state`` is ``None``, too old or foreign
    (:class:`CannotCalculateChanges`), or when the changes came back paged (more than
    ``max_changes``, the server's default if ``None``). The resync takes the state first,
    then queries with ``filter`` and gets every page: an object changed meanwhile is reported
    again next time, never lost. ``properties`` are checked like every get's.
    """
    props = check_properties(manager.name, properties, validate=validate)
    reason = "no state to continue from"
    if since_state:
        args: dict[str, Any] = {"sinceState": since_state}
        if max_changes is not None:
            args["maxChanges"] = max_changes
        batch = Batch()
        changes_call = batch.call(f"{manager.name}/changes", args)
        get_args: dict[str, Any] = {"#ids": changes_call.ref("/changed")}
        if props is not None:
            get_args["properties"] = props
        get_call = batch.call(f"{manager.name}/get", get_args)
        responses = manager.client.execute(batch)
        error = responses.error(changes_call)
        if error is None:
            changes = ChangesResult.from_json(responses.get(changes_call))
            if not changes.has_more_changes and changes.new_state:
                wanted = set(changes.changed)
                got = GetResult.from_json(responses.get(get_call))
                objects = [o for o in got.objects if str(o.get("id")) in wanted]
                # changed, then not found: destroyed meanwhile or no longer readable
                lost = [i for i in got.not_found if i in wanted]
                return SyncResult(state=changes.new_state, changed=objects,
                                  removed=[*changes.removed, *lost])
            reason = "Group-Office paged the changes (hasMoreChanges) and refuses its own "
            reason += "intermediate state"
        elif isinstance(error, CannotCalculateChanges):
            reason = f"{error.method}: {error.server_message}"
        else:
            raise error
    state = manager.state()
    if not state:
        raise CannotCalculateChanges(
            method=f"{manager.name}/get", call_id="-", type="cannotCalculateChanges",
            server_message="the server gave no state to continue from",
        )
    objects = manager.query_all_objects(filter, properties=props, validate=False)
    return SyncResult(state=state, changed=objects, resynced=True, reason=reason)
