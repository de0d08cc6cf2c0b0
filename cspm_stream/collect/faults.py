"""Classify a failed AWS call: not configured, denied, throttled, not implemented, transient.

Every failure maps to a :class:`Fault` with the AWS error code; the collector turns
it into ``None`` (not configured), a retry (throttled), or an
:class:`~cspm_stream.models.AttributeFailure` (everything else). Nothing is dropped.
"""

from __future__ import annotations

import asyncio
import enum
import re
from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from botocore.parsers import ResponseParserError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
        "AuthorizationErrorException",
        "AllAccessDisabled",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "OptInRequired",
        "SubscriptionRequiredException",
    }
)
NOT_IMPLEMENTED_CODES = frozenset(
    {"NotImplemented", "NotImplementedException", "NotImplementedError", "UnsupportedOperation", "InvalidAction"}
)


class FaultKind(enum.StrEnum):
    NOT_CONFIGURED = "not-configured"
    DENIED = "denied"
    THROTTLED = "throttled"
    NOT_IMPLEMENTED = "not-implemented"
    TRANSIENT = "transient"  # 5xx, timeouts, connection errors
    ERROR = "error"  # any other client error (validation, not found ...)


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    code: str
    message: str


def classify(exc: BaseException, not_configured: frozenset[str] = frozenset()) -> Fault:
    """Map an exception raised by an aiobotocore call to a :class:`Fault`."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        msg = scrub_urls(str(err.get("Message") or exc))
        if code in not_configured:
            return Fault(FaultKind.NOT_CONFIGURED, code, msg)
        if code in THROTTLING_CODES or status == 429:
            return Fault(FaultKind.THROTTLED, code or "Throttling", msg)
        if code in DENIED_CODES or status == 403:
            return Fault(FaultKind.DENIED, code or "AccessDenied", msg)
        if code in NOT_IMPLEMENTED_CODES or status == 501:
            return Fault(FaultKind.NOT_IMPLEMENTED, code or "NotImplemented", msg)
        if status >= 500:
            return Fault(FaultKind.TRANSIENT, code or f"HTTP{status}", msg)
        return Fault(FaultKind.ERROR, code or f"HTTP{status}", msg)
    if isinstance(exc, ResponseParserError):
        # moto answers an unimplemented action with an HTML 500 page that no parser reads.
        return Fault(FaultKind.NOT_IMPLEMENTED, "NotImplemented", _short(exc))
    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError | asyncio.TimeoutError | TimeoutError):
        return Fault(FaultKind.TRANSIENT, "Timeout", _short(exc))
    if isinstance(exc, BotoConnectionError | OSError):
        return Fault(FaultKind.TRANSIENT, "ConnectionError", _short(exc))
    if isinstance(exc, BotoCoreError):
        return Fault(FaultKind.ERROR, type(exc).__name__, _short(exc))
    return Fault(FaultKind.ERROR, type(exc).__name__, _short(exc))


def _short(exc: BaseException) -> str:
    return scrub_urls(str(exc).split("\n", 1)[0])[:300]


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")


def scrub_urls(text: str) -> str:
    """Every URL in ``text`` cut to ``scheme://host[:port]``: botocore quotes the endpoint URL whole,
    and an endpoint override's path, query or user info may carry a token (``aws.endpoint_url`` is
    a sensitive setting); such a message reaches the CLI, logs and ERROR findings."""
    from cspm_stream.delivery.sinks.http import url_origin

    return _URL.sub(lambda m: url_origin(m.group(0)), text)


class CallFailed(Exception):
    """Raised by the collector's call wrapper with the classified fault."""

    def __init__(self, operation: str, fault: Fault) -> None:
        self.operation = operation
        self.fault = fault
        super().__init__(f"{operation}: {fault.code}: {fault.message}")
