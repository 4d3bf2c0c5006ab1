"""Exceptions of the Group-Office JMAP client.

One class per way a request can fail, so that callers can react precisely (``except
CannotCalculateChanges: resync()``) and users get a message that says what to check.
Group-Office reports most failures as method errors inside an HTTP 200 answer, with
non-RFC ``type`` values taken from PHP exception class names; each known type has its
own subclass of :class:`MethodError`, and anything else falls back to
:class:`MethodError` itself.

No message may contain a credential: the client passes its secrets to
:meth:`JMAPError.scrub` before an exception leaves it.
"""

from go_support.jmap.errors.base import (
    JMAPError,
)
from go_support.jmap.errors.http import (
    AuthenticationError,
    BlobNotFoundError,
    BlobTooLargeError,
    HTTPStatusError,
    IncompleteBatchError,
    OutcomeUnknownError,
    PendingWrite,
    ProtocolError,
    SecondFactorRequired,
    TransportError,
)
from go_support.jmap.errors.methods import (
    CannotCalculateChanges,
    ChangesTruncated,
    DbException,
    Forbidden,
    InvalidArgumentException,
    InvalidArguments,
    InvalidObject,
    InvalidObjectError,
    InvalidProperty,
    InvalidResultReference,
    JsonPointerException,
    LogicException,
    MethodError,
    NotFound,
    ServerException,
    ServerFail,
    ServerTypeError,
    SetError,
    SetFailed,
    StateMismatch,
    Unauthorized,
    UnknownPropertiesError,
    UnsupportedFilter,
    UnsupportedSort,
    method_error,
)

__all__ = [
    "AuthenticationError",
    "BlobNotFoundError",
    "BlobTooLargeError",
    "CannotCalculateChanges",
    "ChangesTruncated",
    "DbException",
    "Forbidden",
    "HTTPStatusError",
    "IncompleteBatchError",
    "InvalidArgumentException",
    "InvalidArguments",
    "InvalidObject",
    "InvalidObjectError",
    "InvalidProperty",
    "InvalidResultReference",
    "JMAPError",
    "JsonPointerException",
    "LogicException",
    "MethodError",
    "NotFound",
    "OutcomeUnknownError",
    "PendingWrite",
    "ProtocolError",
    "SecondFactorRequired",
    "ServerException",
    "ServerFail",
    "ServerTypeError",
    "SetError",
    "SetFailed",
    "StateMismatch",
    "TransportError",
    "Unauthorized",
    "UnknownPropertiesError",
    "UnsupportedFilter",
    "UnsupportedSort",
    "method_error",
]
