"""No credential ever reaches a log record or an exception message, even at DEBUG.

The client logs every HTTP exchange at DEBUG and every retry at WARNING, and its errors
quote URLs and server answers. This test runs a password login, ordinary calls, blob
transfers and several failing calls against the emulator with every logger at DEBUG,
and searches all records (messages, formatted tracebacks) and all raised exceptions
(messages, arguments, chained causes) for the API key, the password and the login tokens.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from go_support.emulator import Emulator
from go_support.jmap import (
    AuthenticationError,
    GroupOfficeClient,
    InvalidObjectError,
    JMAPError,
    SetFailed,
    UnsupportedFilter,
)

PASSWORD = "Tr0ub4dor&3-correct-horse"
USER_PASSWORD = "An0ther-S3cret-for-jdoe"


@pytest.fixture
def server() -> Iterator[tuple[Emulator, str, str]]:
    emu = Emulator(admin_password=PASSWORD)
    running = emu.start()
    try:
        yield emu, running.base_url, running.admin_api_key
    finally:
        emu.stop()


def _texts(exc: BaseException) -> str:
    """Everything a traceback or a log line could show of an exception."""
    return "".join(traceback.format_exception(exc)) + repr(exc.args) + repr(vars(exc))


def test_no_secret_in_logs_or_errors_at_debug(
    server: tuple[Emulator, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    emu, url, api_key = server
    tokens: set[str] = set()
    raised: list[BaseException] = []

    def expect(kind: type[JMAPError], action: Callable[[], Any]) -> None:
        with pytest.raises(kind) as info:
            action()
        raised.append(info.value)

    caplog.set_level(logging.DEBUG)
    with GroupOfficeClient(url, username="admin", password=PASSWORD) as login:
        assert login.user_id == "1"
        tokens.add(login._access_token or "")
        list_id = login.task_lists.create({"name": "log test"})
        login.tasks.create_many([{"tasklistId": list_id, "title": f"t{i}"} for i in range(3)])
        login.tasks.query_all_objects({"tasklistId": list_id}, properties=["title"])
        blob = login.upload_blob(b"attachment", "a.txt", "text/plain")
        assert login.download_blob(blob.id) == b"attachment"
        expect(UnsupportedFilter, lambda: login.tasks.query({"noSuchFilter": 1}))
        expect(SetFailed, lambda: login.tasks.update("987654321", {"title": "x"}))
        expect(InvalidObjectError, lambda: login.users.create({
            "username": "jdoe", "displayName": "J", "email": "not-an-address",
            "password": USER_PASSWORD}))
        # the server forgets the token: the client logs in again by itself
        emu.store.meta.tokens.clear()
        assert login.tasks.get(["987654321"]).not_found == ["987654321"]
        tokens.add(login._access_token or "")
        login.task_lists.destroy([list_id])
    tokens.update(emu.store.meta.tokens)
    tokens.discard("")
    assert len(tokens) >= 2

    with GroupOfficeClient(url, api_key=api_key) as keyed:
        keyed.tasks.query({"tasklistId": "any"}, limit=1)
        expect(UnsupportedFilter, lambda: keyed.tasks.query({"nope": 1}))
    expect(AuthenticationError,
           lambda: GroupOfficeClient(url, username="admin", password=PASSWORD[::-1]).session)
    expect(AuthenticationError,
           lambda: GroupOfficeClient(url, api_key=api_key[::-1]).session)

    secrets = {api_key, PASSWORD, PASSWORD[::-1], api_key[::-1], USER_PASSWORD, *tokens}
    client_lines = [r for r in caplog.records if r.name.startswith("go_support.jmap")]
    assert len(client_lines) > 10, "DEBUG logging of the client did not happen"
    assert any("login token was refused" in r.getMessage() for r in client_lines)
    formatter = logging.Formatter()
    for record in caplog.records:
        text = record.getMessage()
        if record.exc_info:
            text += formatter.formatException(record.exc_info)
        for secret in secrets:
            assert secret not in text, f"a secret in a log record of {record.name}"
    assert len(raised) == 6
    for exc in raised:
        for secret in secrets:
            assert secret not in _texts(exc), f"a secret in {type(exc).__name__}"
