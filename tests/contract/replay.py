"""Replay one corpus file against a fresh emulator and compare every step.

Library use (``test_wire_corpus.py``): ``replay_file(corpus_file)`` -> one ``StepResult`` per step.

Command line, for whoever implements the emulator::

    .venv/bin/python -m tests.contract.replay 08            # every step of 08, diffs of failures
    .venv/bin/python -m tests.contract.replay 08 --step 13  # replay up to #13, show #13 in full
    .venv/bin/python -m tests.contract.replay 08 --show     # also show the passing steps
    .venv/bin/python -m tests.contract.replay all           # every file, one summary line each
    .venv/bin/python -m tests.contract.replay 11 --seed     # print the seed (derived + by hand)

How a step is replayed (README.md has the reasons):

- requests are sent verbatim with ``requests`` over real HTTP to the emulator, cookies off;
- ``Authorization`` placeholders become real tokens: ``<api-key>`` is the admin's key, or the
  key of the ``as`` user (seeded, or captured from an earlier replayed answer); ``<login-token>``
  the captured login token; ``<invalid>`` an unknown token;
- ``"<redacted>"`` in a request body becomes the seed module's password for that step;
- ``"<N bytes of binary data: T>"`` becomes a generated file of N bytes and type T;
- state strings and regenerated blob ids that a request copies from an earlier answer are
  translated from the recorded value to the emulator's value (learnt from earlier answers).
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import http.cookiejar
import inspect
import json
import re
import struct
import sys
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from . import corpus as corpus_mod
from .corpus import CorpusFile, Step
from .derive import deep_merge, derive
from .normalise import (
    STATE_KEYS,
    NormContext,
    is_state,
    normalise,
    normalise_headers,
    normalise_text,
    substitute,
)
from .seeds import SeedSpec, load_spec
from .seeds._common import INVALID_TOKEN

RECORDED_BASE = "127.0.0.1:8080"  # the recorded server (apiUrl, URL, contact uid, 01 #0, 11 #1)
BINARY = re.compile(r"<(\d+) bytes of binary data: ([^>]+)>")
MAX_DIFF_LINES = 80
TIMEOUT = 60


# -- results --------------------------------------------------------------------------------------


@dataclass
class StepResult:
    file: str
    index: int
    note: str
    ok: bool
    expected: Any = None
    actual: Any = None
    request: str = ""
    error: str | None = None

    @property
    def case_id(self) -> str:
        return f"{self.file}#{self.index}"

    def diff(self, max_lines: int = MAX_DIFF_LINES) -> str:
        if self.error:
            return self.error
        lines = list(
            difflib.unified_diff(
                pretty(self.expected).splitlines(),
                pretty(self.actual).splitlines(),
                "expected (corpus, normalised)",
                "actual (emulator, normalised)",
                lineterm="",
                n=3,
            )
        )
        if len(lines) > max_lines:
            rest = len(lines) - max_lines
            lines = [*lines[:max_lines], f"... ({rest} more diff lines; run the CLI with --step)"]
        return "\n".join(lines)

    def report(self, max_lines: int = MAX_DIFF_LINES) -> str:
        return f"{self.case_id}: {self.note}\nrequest: {self.request}\n{self.diff(max_lines)}"


def pretty(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False, default=str)


# -- request building -----------------------------------------------------------------------------


def one_pixel_png(size: int) -> bytes:
    """A valid 1x1 PNG of exactly ``size`` bytes (the corpus's is 71 and not stored, 10 #1).

    Grey+alpha, 8 bit, stored (level-0) zlib data gives 71 bytes; a tEXt chunk pads larger sizes.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 4, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"\x00\x80\xff", 0))
    png = b"\x89PNG\r\n\x1a\n" + ihdr + idat + chunk(b"IEND", b"")
    if len(png) < size:
        pad = size - len(png) - 12
        if pad < 2:
            raise ValueError(f"cannot make a {size}-byte PNG")
        text = b"c\x00" + b"x" * (pad - 2)
        png = png[:-12] + chunk(b"tEXt", text) + png[-12:]
    if len(png) != size:
        raise ValueError(f"cannot make a {size}-byte PNG")
    return png


def binary_body(size: int, mime: str) -> bytes:
    if mime == "image/png":
        return one_pixel_png(size)
    return bytes(i % 251 for i in range(size))


@dataclass
class FileRun:
    """The per-file state of a replay."""

    corpus: CorpusFile
    spec: SeedSpec
    base_url: str
    tokens: dict[str, str]
    norm: NormContext
    # recorded -> emulator values that later requests copy (state strings, blob ids)
    request_map: dict[str, str] = field(default_factory=dict)
    # emulator -> recorded substrings applied to answers before normalising (host, blob ids)
    response_map: dict[str, str] = field(default_factory=dict)


def _replace_exact(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _replace_exact(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_exact(v, mapping) for v in value]
    if isinstance(value, str):
        return mapping.get(value, value)
    return value


def _fill_passwords(value: Any, password: str | None, where: str) -> Any:
    if isinstance(value, dict):
        return {k: _fill_passwords(v, password, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_passwords(v, password, where) for v in value]
    if value == "<redacted>":
        if password is None:
            raise LookupError(
                f"{where}: the request has a redacted password but the seed "
                f"module has no PASSWORDS entry for this step"
            )
        return password
    return value


def build_request(run: FileRun, step: Step) -> tuple[str, str, dict[str, str], bytes | None]:
    where = f"{run.corpus.stem}#{step.index}"
    headers = {k: v for k, v in step.headers.items() if k.lower() != "authorization"}
    auth = step.headers.get("Authorization")
    if auth is not None:
        token = auth.removeprefix("Bearer ")
        if token == "<api-key>":
            name = step.as_user
            if name is None:
                headers["Authorization"] = f"Bearer {run.tokens['admin']}"
            elif name in run.tokens:
                headers["Authorization"] = f"Bearer {run.tokens[name]}"
            else:
                raise LookupError(f"{where}: no token for as={name!r} (seed it or CAPTURE it)")
        elif token == "<login-token>":
            name = step.as_user or "login"
            if name not in run.tokens:
                raise LookupError(f"{where}: no login token {name!r} captured yet")
            headers["Authorization"] = f"Bearer {run.tokens[name]}"
        elif token == "<invalid>":
            headers["Authorization"] = f"Bearer {INVALID_TOKEN}"
        else:
            headers["Authorization"] = auth
    path = step.path
    if "?" in path:
        base, query = path.split("?", 1)
        params = urllib.parse.parse_qsl(query, keep_blank_values=True)
        params = [(k, run.request_map.get(v, v)) for k, v in params]
        path = base + "?" + urllib.parse.urlencode(params, safe="")
    body = step.body
    data: bytes | None
    if body is None:
        data = None
    elif isinstance(body, str):
        m = BINARY.fullmatch(body)
        data = binary_body(int(m.group(1)), m.group(2)) if m else body.encode("utf-8")
    else:
        body = _replace_exact(body, run.request_map)
        body = _fill_passwords(body, run.spec.passwords.get(step.index), where)
        data = json.dumps(body).encode("utf-8")
    return step.method, run.base_url + path, headers, data


def describe_request(step: Step) -> str:
    body = step.body
    if body is None:
        shown = ""
    else:
        shown = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        if len(shown) > 300:
            shown = shown[:300] + "..."
    who = f" as {step.as_user}" if step.as_user else ""
    return f"{step.method} {step.path}{who} {shown}".rstrip()


# -- learning from answers ------------------------------------------------------------------------


def learn_states(
    recorded: Any, actual: Any, mapping: dict[str, str], key: str | None = None
) -> None:
    """Record recorded-state -> emulator-state pairs found at the same place of both answers."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for k, v in recorded.items():
            if k in actual:
                learn_states(v, actual[k], mapping, k)
    elif isinstance(recorded, list) and isinstance(actual, list):
        for r, a in zip(recorded, actual, strict=False):
            learn_states(r, a, mapping, key)
    elif (
        isinstance(recorded, str)
        and isinstance(actual, str)
        and key in STATE_KEYS
        and is_state(recorded)
    ):
        mapping[recorded] = actual  # the latest answer wins


def dig(value: Any, path: list[Any]) -> Any:
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


# -- one step -------------------------------------------------------------------------------------


def send_unrecorded(run: FileRun, session: requests.Session, step: Step) -> str | None:
    """Send the seed's ``UNRECORDED`` calls of ``step`` as the admin; the reason they failed."""
    calls = run.spec.unrecorded.get(step.index)
    if not calls:
        return None
    resp = session.post(
        run.base_url + "/api/jmap.php",
        json=calls,
        headers={"Authorization": f"Bearer {run.tokens['admin']}"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    session.cookies.clear()
    answers = resp.json() if resp.status_code == 200 else None
    failed = answers is None or any(
        name == "error" or args.get("notCreated") or args.get("notUpdated")
        for name, args, _ in answers
    )
    return f"the unrecorded calls before this step failed: {resp.text[:500]}" if failed else None


def run_step(run: FileRun, session: requests.Session, step: Step) -> StepResult:
    result = StepResult(
        run.corpus.stem, step.index, step.note, ok=False, request=describe_request(step)
    )
    try:
        result.error = send_unrecorded(run, session, step)
    except (requests.RequestException, ValueError) as exc:
        result.error = f"the unrecorded calls before this step failed: {exc!r}"
    if result.error:
        return result
    try:
        method, url, headers, data = build_request(run, step)
    except LookupError as exc:
        result.error = str(exc)
        return result
    try:
        resp = session.request(
            method, url, headers=headers, data=data, allow_redirects=False, timeout=TIMEOUT
        )
    except requests.RequestException as exc:
        result.error = f"request failed: {exc!r}"
        return result
    finally:
        session.cookies.clear()
    raw = resp.content

    # N10: a regenerated binary upload has another SHA-1 than the recorded one.
    if isinstance(step.body, str) and BINARY.fullmatch(step.body):
        recorded_id = step.response.get("id") if isinstance(step.response, dict) else None
        actual_id = hashlib.sha1(data or b"").hexdigest()
        if recorded_id and recorded_id != actual_id:
            run.request_map[recorded_id] = actual_id
            run.response_map[actual_id] = recorded_id

    # The answer, parsed like the recorded one.
    recorded = step.response
    actual: Any
    if recorded is None:
        actual = None
    elif isinstance(recorded, str):
        actual = raw.decode("utf-8", "replace")
    else:
        try:
            actual = json.loads(raw.decode("utf-8")) if raw else ""
        except (UnicodeDecodeError, json.JSONDecodeError):
            actual = {"<not JSON>": raw[:2000].decode("utf-8", "replace")}
    actual = substitute(actual, run.response_map)  # N9, N10

    learn_states(recorded, actual, run.request_map)
    capture = run.spec.capture.get(step.index)
    if capture is not None:
        name, path = capture
        token = dig(json.loads(raw) if raw.startswith((b"{", b"[")) else None, path)
        if isinstance(token, str) and token:
            run.tokens[name] = token

    expected_view: dict[str, Any] = {"status": step.status, "reason": step.reason}
    actual_view: dict[str, Any] = {"status": resp.status_code, "reason": resp.reason}
    if recorded is None and step.response_headers is not None:
        # N12: a download's body was not recorded; check size and SHA-1 against the blob id.
        blob = dict(urllib.parse.parse_qsl(step.path.partition("?")[2])).get("blob", "")
        length = step.response_headers.get("Content-Length", "?")
        expected_view["body"] = f"<{length} bytes, sha1 {blob}>"
        digest = hashlib.sha1(raw).hexdigest()
        digest = run.response_map.get(digest, digest)
        actual_view["body"] = f"<{len(raw)} bytes, sha1 {digest}>"
    elif isinstance(recorded, str):
        expected_view["body"] = normalise_text(recorded, run.norm)
        actual_view["body"] = normalise_text(actual, run.norm)
    else:
        expected_view["body"] = normalise(recorded, run.norm)
        actual_view["body"] = normalise(actual, run.norm)
    if step.response_headers is not None:
        exp_h, act_h = normalise_headers(step.response_headers, resp.headers, run.response_map)
        expected_view["headers"] = exp_h
        actual_view["headers"] = act_h
    result.expected = expected_view
    result.actual = actual_view
    result.ok = expected_view == actual_view
    return result


# -- one file -------------------------------------------------------------------------------------


def build_seed(cf: CorpusFile, spec: SeedSpec) -> tuple[dict[str, Any], dict[str, str]]:
    """The seed passed to the emulator and the ``as`` tokens of its users."""
    seed = deep_merge(derive(cf).seed, spec.seed)
    tokens: dict[str, str] = {}
    users = []
    for user in seed.get("users", []):
        user = dict(user)
        name = user.pop("as", None)
        if name and user.get("apiKey"):
            tokens[name] = user["apiKey"]
        users.append(user)
    if users:
        seed["users"] = users
    return seed, tokens


def _new_emulator(spec: SeedSpec) -> Any:
    from go_support.emulator import Emulator

    if spec.admin_password is None:
        return Emulator()
    if "admin_password" not in inspect.signature(Emulator).parameters:
        raise TypeError("the seed needs Emulator(admin_password=...), which this emulator lacks")
    return Emulator(admin_password=spec.admin_password)


@contextmanager
def frozen_clock() -> Iterator[Callable[[int], None]]:
    """R7: the emulator's clock stands still while one corpus file is replayed.

    Every corpus file was recorded within one second (all server timestamps of 08 read
    23:51:06, of 16 00:03:24, ...), and some answers depend on that: ``createdAt`` sorts are
    ties broken by id (08 #17), and ``Task/set`` does not echo a ``progressUpdated`` that did
    not change (08 #9). The emulator's clock hook (``filters.set_clock``) holds the second the
    replay started. The yielded function moves it to that second plus N (a seed's ``CLOCK``:
    18 waited between steps, and its answers show it).
    """
    from go_support.emulator import filters

    start = datetime.now(UTC).replace(microsecond=0)
    instant = [start]

    def set_offset(seconds: int) -> None:
        instant[0] = start + timedelta(seconds=seconds)

    filters.set_clock(lambda: instant[0])
    try:
        yield set_offset
    finally:
        filters.set_clock(None)


def replay_file(cf: CorpusFile, upto: int | None = None) -> list[StepResult]:
    """Replay ``cf`` (up to step ``upto`` included) against a fresh emulator."""
    with frozen_clock() as set_offset:
        return _replay_file(cf, upto, set_offset)


def _replay_file(
    cf: CorpusFile, upto: int | None, set_offset: Callable[[int], None]
) -> list[StepResult]:
    steps = [s for s in cf.steps if upto is None or s.index <= upto]
    try:
        spec = load_spec(cf.stem)
        seed, tokens = build_seed(cf, spec)
        emu = _new_emulator(spec)
        emu.seed(seed)
        server = emu.start()
    except Exception as exc:  # every step fails with the same, clear reason
        import traceback

        message = f"emulator could not be set up for {cf.stem}: {exc!r}\n{traceback.format_exc()}"
        return [
            StepResult(
                cf.stem, s.index, s.note, ok=False, request=describe_request(s), error=message
            )
            for s in steps
        ]
    try:
        port = urllib.parse.urlsplit(server.base_url).port
        netloc = urllib.parse.urlsplit(server.base_url).netloc
        run = FileRun(
            corpus=cf,
            spec=spec,
            base_url=server.base_url.rstrip("/"),
            tokens={"admin": server.admin_api_key, **tokens},
            norm=NormContext.from_requests(s.body for s in cf.steps),
            # N9: the emulator's host and port read as the recorded server's.
            response_map={netloc: RECORDED_BASE, f"127.0.0.1-{port}": "127.0.0.1-8080"},
        )
        session = requests.Session()
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        session.trust_env = False  # no proxies from the environment for loopback
        results = []
        for step in steps:
            if step.index in spec.clock:
                set_offset(spec.clock[step.index])
            results.append(run_step(run, session, step))
        session.close()
        return results
    finally:
        emu.stop()


# -- command line ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.contract.replay",
        description="Replay wire corpus files against the emulator and show the differences.",
    )
    parser.add_argument("files", nargs="+", help="corpus file numbers or names, or 'all'")
    parser.add_argument("--step", type=int, help="replay up to this step and show only it")
    parser.add_argument(
        "--show",
        action="store_true",
        help="show passing steps too, and the full normalised answers",
    )
    parser.add_argument("--seed", action="store_true", help="print the seed and its provenance")
    parser.add_argument("--lines", type=int, default=200, help="max diff lines per step")
    args = parser.parse_args(argv)

    try:
        paths = corpus_mod.list_files()
    except corpus_mod.CorpusMissing as exc:
        print(exc, file=sys.stderr)
        return 2
    files = (
        [corpus_mod.load(p) for p in paths]
        if args.files == ["all"]
        else [corpus_mod.find(f) for f in args.files]
    )
    failed_total = 0
    for cf in files:
        if args.seed:
            spec = load_spec(cf.stem)
            seed, tokens = build_seed(cf, spec)
            derived = derive(cf)
            print(f"== seed of {cf.stem}")
            for key, why in derived.provenance.items():
                print(f"  derived {key}: {why}")
            shown = dict(seed)
            for entity, records in (shown.get("records") or {}).items():
                if len(records) > 20:
                    shown.setdefault("records", {})[entity] = [
                        *records[:3],
                        f"... {len(records) - 3} more",
                    ]
            print(pretty(shown))
            print(
                f"  tokens (as): {sorted(tokens)}; passwords for steps "
                f"{sorted(spec.passwords)}; captures {spec.capture}"
            )
            continue
        results = replay_file(cf, upto=args.step)
        if args.step is not None:
            results = [r for r in results if r.index == args.step]
        passed = sum(r.ok for r in results)
        for r in results:
            if r.ok and not args.show and args.step is None:
                continue
            mark = "PASS" if r.ok else "FAIL"
            print(f"--- {mark} {r.case_id}: {r.note}")
            print(f"    request: {r.request}")
            if args.show or args.step is not None:
                print("    expected:\n" + pretty(r.expected))
                print("    actual:\n" + pretty(r.actual))
            if not r.ok:
                print(r.diff(args.lines))
        failed = len(results) - passed
        failed_total += failed
        print(f"=== {cf.stem}: {passed} passed, {failed} failed")
    return 1 if failed_total else 0


if __name__ == "__main__":
    sys.exit(main())
