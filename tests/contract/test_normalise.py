"""Unit tests of the contract runner itself: normaliser, seed derivation, seeds, helpers.

These do not need the emulator. Tests that read the corpus fail (not skip) when it is missing.
"""

from __future__ import annotations

import json
import struct
import time
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from . import corpus
from .derive import deep_merge, derive
from .normalise import NormContext, normalise, normalise_headers, normalise_text, substitute
from .replay import build_seed, dig, frozen_clock, learn_states, one_pixel_png
from .seeds import load_spec, module_path
from .seeds._common import KNOWN_USERS

CTX = NormContext(
    kept_datetimes=frozenset({"2024-01-02T03:04:05+00:00"}), sent_colors=frozenset({"FF0000"})
)


def jmap(name: str, args: dict[str, Any], cid: str = "c1") -> list[Any]:
    return [[name, args, cid]]


# -- N1 datetimes ---------------------------------------------------------------------------------


def test_server_datetimes_are_normalised_but_sent_ones_kept() -> None:
    body = jmap(
        "Comment/get",
        {
            "list": [
                {
                    "createdAt": "2026-11-25T23:51:07+00:00",
                    "date": "2024-01-02T03:04:05+00:00",
                }
            ]
        },
    )
    out = normalise(body, CTX)[0][1]["list"][0]
    assert out == {"createdAt": "<datetime>", "date": "2024-01-02T03:04:05+00:00"}


def test_datetime_inside_text() -> None:
    text = "Uncaught exception: Header may not contain ... at 2026-11-25T23:51:05+00:00\n\n"
    assert normalise_text(text, CTX).endswith("at <datetime>\n\n")


# -- N2 states ------------------------------------------------------------------------------------


def test_states_keep_shape_and_equality_within_one_method_response() -> None:
    moved = jmap("Task/set", {"oldState": "1795650651:29:0:51", "newState": "1795650651:30:653:51"})
    same = jmap("Task/set", {"oldState": "9:1:0:1", "newState": "9:1:0:1"})
    a = normalise(moved, CTX)[0][1]
    b = normalise(same, CTX)[0][1]
    assert a["oldState"] != a["newState"]
    assert a["oldState"].startswith("<state n:n:n:n #")
    assert b["oldState"] == b["newState"] == "<state n:n:n:n #1>"


def test_state_labels_do_not_depend_on_property_order() -> None:
    one = jmap("Task/set", {"oldState": "1:2:3", "newState": "1:3:3"})
    two = jmap("Task/set", {"newState": "5:9:9", "oldState": "5:8:9"})
    assert normalise(one, CTX) == normalise(two, CTX)


def test_three_part_and_paging_states() -> None:
    out = normalise(
        jmap("Task/changes", {"oldState": "1795650666:9:0", "newState": "1|0:0|1:7|0"}), CTX
    )[0][1]
    assert out["oldState"].startswith("<state n:n:n #")
    assert out["newState"].startswith("<state n|n:n|n:n|n #")


def test_states_are_labelled_per_method_response() -> None:
    body = [["Task/get", {"state": "1:5:0:1"}, "a"], ["TaskList/get", {"state": "1:7:0:1"}, "b"]]
    out = normalise(body, CTX)
    assert out[0][1]["state"] == out[1][1]["state"] == "<state n:n:n:n #1>"


def test_state_inside_error_message_uses_the_same_labels() -> None:
    body = jmap(
        "error",
        {
            "message": "State mismatch. The server state 1795650651:30:0:51 does "
            "not match your state nope",
            "type": "stateMismatch",
        },
    )
    msg = normalise(body, CTX)[0][1]["message"]
    assert msg == (
        "State mismatch. The server state <state n:n:n:n #1> does not match your state nope"
    )


# -- N3..N8 ---------------------------------------------------------------------------------------


def test_secrets_uuids_volatile_numbers_and_server_path() -> None:
    body = {
        "accessToken": "abc",
        "CSRFToken": "def",
        "uid": "aa5c9190-484b-40c5-840e-7e85385d274a",
        "uri": "aa5c9190-484b-40c5-840e-7e85385d274a.ics",
        "storageFreeSpace": 83263946752,
        "storageQuota": 270553174016,
    }
    assert normalise(body, CTX) == {
        "accessToken": "<redacted>",
        "CSRFToken": "<redacted>",
        "uid": "<uuid>",
        "uri": "<uuid>.ics",
        "storageFreeSpace": "<bytes>",
        "storageQuota": 270553174016,
    }
    assert normalise_text("x, called in /var/www/go/core/Foo.php on line 669", CTX) == (
        "x, called in <server-path> on line 669"
    )


def test_tasklist_colours_chosen_by_the_server() -> None:
    body = [
        [
            "TaskList/get",
            {"list": [{"color": "004488"}, {"color": "FF0000"}, {"color": None}]},
            "a",
        ],
        ["CommentLabel/get", {"list": [{"color": "243a80"}]}, "b"],
    ]
    out = normalise(body, CTX)
    assert [x["color"] for x in out[0][1]["list"]] == ["<color>", "FF0000", None]
    assert out[1][1]["list"][0]["color"] == "243a80"


def test_ids_are_not_normalised() -> None:
    body = jmap("Task/set", {"created": {"t": {"id": "59", "createdBy": "1"}}})
    assert normalise(body, CTX) == body


def test_substitute_host_and_blob_ids() -> None:
    body = {
        "apiUrl": "http://127.0.0.1:40123/api/jmap.php",
        "uid": "33-127.0.0.1-40123",
        "blobId": "aaa",
    }
    out = substitute(
        body,
        {"127.0.0.1:40123": "127.0.0.1:8080", "127.0.0.1-40123": "127.0.0.1-8080", "aaa": "bbb"},
    )
    assert out == {
        "apiUrl": "http://127.0.0.1:8080/api/jmap.php",
        "uid": "33-127.0.0.1-8080",
        "blobId": "bbb",
    }


def test_download_headers() -> None:
    recorded = {
        "Host": "127.0.0.1:8080",
        "Content-type": "text/plain;charset=UTF-8",
        "Expires": "Thu, 25 Nov 2027 23:51:08",
        "ETag": "aaa",
        "Last-Modified": "Wed, 25 Nov 2026 23:51:07 GMT",
    }
    actual = {
        "content-type": "text/plain;charset=UTF-8",
        "Expires": "Fri, 1 Jan 2027 00:00:00",
        "ETag": "zzz",
        "Last-Modified": "Thu, 1 Jan 2026 00:00:00 GMT",
    }
    exp, act = normalise_headers(recorded, actual, {"zzz": "aaa"})
    assert exp == act
    assert "host" not in exp
    exp, act = normalise_headers({"Expires": "01-07-2003 12:00:00 GMT"}, {"Expires": "x"}, {})
    assert exp != act


# -- runner helpers -------------------------------------------------------------------------------


def test_learn_states_maps_recorded_to_actual() -> None:
    mapping: dict[str, str] = {}
    rec = jmap("Task/get", {"state": "1795650666:1:0:7", "list": []})
    act = jmap("Task/get", {"state": "1700000000:4:0:2", "list": []})
    learn_states(rec, act, mapping)
    assert mapping == {"1795650666:1:0:7": "1700000000:4:0:2"}


def test_dig() -> None:
    assert (
        dig(
            [["Key/set", {"created": {"k": {"accessToken": "t"}}}, "c1"]],
            [0, 1, "created", "k", "accessToken"],
        )
        == "t"
    )
    assert dig(None, [0]) is None


def test_generated_png_is_valid_and_71_bytes() -> None:
    png = one_pixel_png(71)
    assert len(png) == 71 and png.startswith(b"\x89PNG\r\n\x1a\n")
    pos = 8
    kinds = []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        kinds.append(kind)
        pos += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    assert len(one_pixel_png(100)) == 100


def test_deep_merge() -> None:
    assert deep_merge(
        {"counters": {"Task": 1, "acl": 2}, "x": [1]}, {"counters": {"Task": 5}, "x": [2]}
    ) == {"counters": {"Task": 5, "acl": 2}, "x": [2]}


# -- corpus-dependent checks ----------------------------------------------------------------------


def test_missing_corpus_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(corpus.ENV_VAR, str(tmp_path))
    with pytest.raises(corpus.CorpusMissing, match="GO_SUPPORT_SHARED"):
        corpus.corpus_dir()


def _files() -> list[corpus.CorpusFile]:
    return [corpus.load(p) for p in corpus.list_files()]


def test_derivation_of_counters() -> None:
    d = derive(corpus.find("16"))
    assert d.seed["cacheClearedAt"] == 1795650666
    assert d.seed["counters"] == {
        "Comment": 1204,
        "CommentLabel": 5,
        "Task": 1245,
        "TaskList": 88,
        "acl": 316,
    }
    assert derive(corpus.find("11")).seed["counters"]["User"] == 36
    assert derive(corpus.find("15")).seed["counters"]["Task"] == 80  # from a created *list*


def test_every_corpus_file_has_a_consistent_seed() -> None:
    for cf in _files():
        assert module_path(cf.stem).exists(), f"no seed module for {cf.stem}"
        spec = load_spec(cf.stem)
        seed, tokens = build_seed(cf, spec)
        json.dumps(seed)  # plain data only
        captured: set[str] = set()
        for step in cf.steps:
            redacted = "<redacted>" in json.dumps(step.body)
            assert redacted == (step.index in spec.passwords), (
                f"{cf.stem}#{step.index}: PASSWORDS must cover exactly the redacted steps"
            )
            if step.as_user and step.as_user != "login":
                assert step.as_user in tokens or step.as_user in captured, (
                    f"{cf.stem}#{step.index}: no token for as={step.as_user}"
                )
            if step.index in spec.capture:
                captured.add(spec.capture[step.index][0])
            if step.as_user == "login":
                assert "login" in captured, f"{cf.stem}#{step.index}: login token not captured"


def test_known_users_match_11_group_get() -> None:
    step = corpus.find("11").steps[7]
    groups = step.response[1][1]["list"]
    personal = {
        int(g["isUserGroupFor"]): (g["name"], int(g["id"]))
        for g in groups
        if g["isUserGroupFor"] is not None
    }
    created_by_11 = {36, 37}
    expected = {uid: v for uid, v in personal.items() if uid != 1 and uid not in created_by_11}
    assert expected == KNOWN_USERS


def test_frozen_clock_stops_and_restores_the_emulator_clock() -> None:
    filters = pytest.importorskip("go_support.emulator.filters")
    real = filters.datetime
    with frozen_clock() as set_offset:
        first = filters.now_iso()
        time.sleep(1.1)
        assert filters.now_iso() == first
        set_offset(2)  # a seed's CLOCK (18 #9)
        moved = datetime.fromisoformat(filters.now_iso()) - datetime.fromisoformat(first)
        assert moved == timedelta(seconds=2)
    assert filters.datetime is real
