"""What a seed can be derived from a corpus file automatically.

- ``cacheClearedAt``: the first segment of the first state string the file's responses show
  (or the session's ``cacheClearedAt``), so that state prefixes, Module icon ``mtime`` and the
  core setting ``cacheClearedAt`` come out as recorded.
- ``counters``: for every ``Foo/set`` answer, the smallest id in ``created`` is the next id the
  real server allocated for ``Foo`` when the file started (later failed inserts may skip ids, the
  emulator has to do that itself). Nested objects give more counters: a TaskList's ``aclId``
  (``acl``), a User's ``personalGroup.id`` (``Group``) and ``profile.id`` (``Contact``), a
  Comment's attachment ids (``CommentAttachment``), and the per-user defaults a new User gets
  (``tasksSettings.defaultTasklistId`` -> ``TaskList``, ``addressBookSettings.defaultAddressBookId``
  -> ``AddressBook``, ``calendarPreferences.personalCalendarId`` -> ``Calendar``,
  ``notesSettings.defaultNoteBookId`` -> ``NoteBook``; 11 #1). A user created through
  ``auth.php`` (``action: register``) counts for ``User``.

Every derived value comes with the step that implies it (``provenance``), shown by
``python -m tests.contract.replay NN --seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .corpus import CorpusFile
from .normalise import STATE, is_jmap_response

# A new User comes with its own task list, address book, calendar and note book (11 #1).
USER_DEFAULTS = [
    ("tasksSettings", "defaultTasklistId", "TaskList"),
    ("addressBookSettings", "defaultAddressBookId", "AddressBook"),
    ("calendarPreferences", "personalCalendarId", "Calendar"),
    ("notesSettings", "defaultNoteBookId", "NoteBook"),
]


@dataclass
class Derived:
    seed: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)


def _created_items(created: Any) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(created, dict):
        return [(str(k), v) for k, v in created.items() if isinstance(v, dict)]
    if isinstance(created, list):  # numeric creation ids give a JSON list (15 #4)
        return [(str(i), v) for i, v in enumerate(created) if isinstance(v, dict)]
    return []


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def derive(corpus: CorpusFile) -> Derived:
    out = Derived()
    counters: dict[str, int] = {}

    def note(name: str, value: Any, step: int, what: str) -> None:
        v = _int(value)
        if v is None:
            return
        if name not in counters or v < counters[name]:
            counters[name] = v
            out.provenance[f"counters.{name}"] = f"step {step}: {what} -> {v}"

    for step in corpus.steps:
        resp = step.response
        if "cacheClearedAt" not in out.seed:
            cca = _first_cache_cleared_at(resp)
            if cca is not None:
                out.seed["cacheClearedAt"] = cca
                out.provenance["cacheClearedAt"] = f"step {step.index}: first state / session"
        if isinstance(resp, dict) and step.path.startswith("/api/auth.php"):
            body = step.body if isinstance(step.body, dict) else {}
            if body.get("action") == "register" and resp.get("userId") is not None:
                note("User", resp["userId"], step.index, "auth.php register userId")
        if not is_jmap_response(resp):
            continue
        for name, args, call_id in resp:
            if not name.endswith("/set") or not isinstance(args, dict):
                continue
            entity = name.split("/")[-2]
            for cid, obj in _created_items(args.get("created")):
                where = f"{name} {call_id} created[{cid}]"
                note(entity, obj.get("id"), step.index, f"{where}.id")
                if "aclId" in obj:
                    note("acl", obj["aclId"], step.index, f"{where}.aclId")
                group = obj.get("personalGroup")
                if isinstance(group, dict):
                    note("Group", group.get("id"), step.index, f"{where}.personalGroup.id")
                profile = obj.get("profile")
                if isinstance(profile, dict):
                    note("Contact", profile.get("id"), step.index, f"{where}.profile.id")
                for prop, sub, counter in USER_DEFAULTS:
                    holder = obj.get(prop)
                    if isinstance(holder, dict):
                        note(counter, holder.get(sub), step.index, f"{where}.{prop}.{sub}")
                for att in obj.get("attachments") or []:
                    if isinstance(att, dict):
                        note(
                            "CommentAttachment",
                            att.get("id"),
                            step.index,
                            f"{where}.attachments[].id",
                        )
    if counters:
        out.seed["counters"] = dict(sorted(counters.items()))
    return out


def _first_cache_cleared_at(resp: Any) -> int | None:
    if isinstance(resp, dict) and isinstance(resp.get("cacheClearedAt"), int):
        return int(resp["cacheClearedAt"])
    if not is_jmap_response(resp):
        return None
    for _name, args, _cid in resp:
        if not isinstance(args, dict):
            continue
        for key in ("state", "oldState", "queryState", "newState"):
            value = args.get(key)
            if isinstance(value, str) and STATE.fullmatch(value):
                return int(value.split(":")[0])
    return None


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` wins; nested dicts are merged key by key (lists are replaced)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out
