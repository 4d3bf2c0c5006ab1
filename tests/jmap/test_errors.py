"""Error mapping, messages and redaction (no server needed)."""

from __future__ import annotations

import pytest

from go_support.errors import GoSupportError, redact
from go_support.jmap import errors as E
from go_support.jmap.errors import SetError, SetFailed, method_error

SECRET = "5b7576e5c50ac30f0e53373f0fa614cedbdbe49df7637"


def test_redact_replaces_every_secret_and_ignores_empty_ones() -> None:
    text = f"token {SECRET} and pw hunter2 and {SECRET}"
    assert redact(text, SECRET, "hunter2", None, "") == (
        "token <redacted> and pw <redacted> and <redacted>"
    )


def test_redact_longest_secret_first() -> None:
    assert redact("abcdef", "abc", "abcdef") == "<redacted>"


def test_redact_url_userinfo_and_bearer_without_being_told() -> None:
    text = "GET https://admin:s3cret@go.example.com/api and Authorization: Bearer abc.def-1"
    out = redact(text)
    assert "s3cret" not in out and "admin" not in out and "abc.def-1" not in out
    assert "https://<redacted>@go.example.com/api" in out
    assert "Bearer <redacted>" in out


def test_hierarchy() -> None:
    assert issubclass(E.JMAPError, GoSupportError)
    for cls in (E.TransportError, E.HTTPStatusError, E.ProtocolError, E.AuthenticationError,
                E.MethodError, E.SetFailed):
        assert issubclass(cls, E.JMAPError)
    assert issubclass(E.OutcomeUnknownError, E.TransportError)
    assert issubclass(E.SecondFactorRequired, E.AuthenticationError)
    assert issubclass(E.Unauthorized, E.AuthenticationError)
    assert issubclass(E.Unauthorized, E.MethodError)


@pytest.mark.parametrize(
    ("type_", "cls"),
    [
        ("unauthorized", E.Unauthorized),
        ("forbidden", E.Forbidden),
        ("notFound", E.NotFound),
        ("invalidArguments", E.InvalidArguments),
        ("invalidArgumentException", E.InvalidArgumentException),
        ("unsupportedFilter", E.UnsupportedFilter),
        ("unsupportedSort", E.UnsupportedSort),
        ("stateMismatch", E.StateMismatch),
        ("cannotCalculateChanges", E.CannotCalculateChanges),
        ("serverFail", E.ServerFail),
        ("invalidResultReference", E.InvalidResultReference),
        ("dbException", E.DbException),
        ("exception", E.ServerException),
        ("jsonPointerException", E.JsonPointerException),
        ("typeError", E.ServerTypeError),
        ("logicException", E.LogicException),
    ],
)
def test_each_server_type_has_its_class(type_: str, cls: type[E.MethodError]) -> None:
    err = method_error(method="Task/get", call_id="c1",
                       payload={"message": "boom", "type": type_})
    assert type(err) is cls
    assert err.type == type_
    assert err.server_message == "boom"
    assert err.method == "Task/get" and err.call_id == "c1"


def test_unknown_and_missing_type_fall_back_to_method_error() -> None:
    # core/Settings/sendTestMessage answered an error without any type (corpus 11).
    err = method_error(method="core/Settings/sendTestMessage", call_id="c1",
                       payload={"message": "SMTP Error: Could not connect"})
    assert type(err) is E.MethodError and err.type is None
    assert "SMTP Error" in str(err)
    other = method_error(method="User/set", call_id="c2",
                         payload={"message": "Typed property", "type": "error"})
    assert type(other) is E.MethodError and other.type == "error"
    weird = method_error(method="X/y", call_id="c3", payload=[])
    assert type(weird) is E.MethodError and weird.server_message == ""


def test_message_names_method_object_and_server_message() -> None:
    err = method_error(method="Task/set", call_id="c4", object_id="987654321",
                       payload={"message": "The path a/b doesn't exist",
                                "type": "jsonPointerException"})
    text = str(err)
    assert "Task/set" in text and "Task 987654321" in text
    assert "The path a/b doesn't exist" in text and "jsonPointerException" in text


def test_unsupported_filter_message_from_the_corpus() -> None:
    err = method_error(method="Task/query", call_id="c1", payload={
        "message": "The filter 'nosuchfilter' is not supported for entity 'Task' by the server.",
        "type": "unsupportedFilter"})
    assert isinstance(err, E.UnsupportedFilter)
    assert str(err).startswith("Task/query failed: The filter 'nosuchfilter'")


def test_scrub_removes_secrets_from_server_messages() -> None:
    err = method_error(method="User/set", call_id="c1", payload={
        "message": f"Database exception: INSERT INTO core_user VALUES ('{SECRET}')",
        "type": "exception"})
    err.scrub(SECRET)
    assert SECRET not in str(err) and SECRET not in err.server_message
    assert SECRET not in repr(err.args)


def test_transport_error_scrub_covers_attributes() -> None:
    err = E.TransportError(f"GET https://h/x?k={SECRET} failed", url=f"https://h/x?k={SECRET}")
    err.scrub(SECRET)
    assert SECRET not in str(err) and SECRET not in err.url


def test_set_error_parsing_from_the_corpus() -> None:
    # 03-errors.json: a required property is missing.
    err = SetError.from_json("t1", "create", {
        "type": "invalidProperties", "description": None, "properties": ["tasklistId"],
        "validationErrors": {"tasklistId": {"code": 1, "description": "Property is required"}}})
    assert err.type == "invalidProperties" and err.properties == ("tasklistId",)
    assert err.validation_errors["tasklistId"]["code"] == 1
    assert str(err) == "create t1: invalidProperties (tasklistId: Property is required [code 1])"
    nf = SetError.from_json("12", "update", {"type": "notFound", "description": "Item not found",
                                               "properties": None, "validationErrors": None})
    assert str(nf) == "update 12: notFound (Item not found)"
    assert SetError.from_json("x", "destroy", None).type == "unknown"


def test_set_failed_lists_every_error_and_ids() -> None:
    errors = [SetError(id=f"n{i}", operation="create", type="forbidden",
                       description="Permission denied") for i in range(12)]
    failed = SetFailed(method="Comment/set", errors=errors)
    assert failed.ids == [f"n{i}" for i in range(12)]
    text = str(failed)
    assert text.startswith("Comment/set: 12 object(s) failed: create n0: forbidden")
    assert "and 2 more" in text


def test_outcome_unknown_lists_creation_ids() -> None:
    writes = [E.PendingWrite("c0", "Task/set", create=("t1", "t2")),
              E.PendingWrite("c1", "Comment/set", create=("m1",), update=("5",))]
    err = E.OutcomeUnknownError("x", url="https://h", writes=writes)
    assert err.creation_ids == {"Task/set": ["t1", "t2"], "Comment/set": ["m1"]}
    summary = E.OutcomeUnknownError.describe(writes)
    assert "Task/set [create t1, t2]" in summary and "Comment/set [create m1; update 5]" in summary


def test_scrub_follows_the_exception_chain() -> None:
    inner = E.HTTPStatusError("body echoes " + SECRET, url="u", status=500, reason="x",
                              body_excerpt=SECRET)
    try:
        try:
            raise inner
        except E.HTTPStatusError as exc:
            raise E.OutcomeUnknownError(f"wraps {exc}", url="u", writes=[]) from exc
    except E.OutcomeUnknownError as outer:
        outer.scrub(SECRET)
        assert SECRET not in str(outer)
        assert SECRET not in str(inner) and SECRET not in inner.body_excerpt


def test_set_failed_scrub_covers_descriptions() -> None:
    failed = SetFailed(method="User/set", errors=[SetError(
        id="u1", operation="create", type="invalidProperties",
        validation_errors={"password": {"code": 2, "description": f"{SECRET} is weak"}})])
    failed.scrub(SECRET)
    assert SECRET not in str(failed)
    assert SECRET not in str(failed.errors[0])
