"""The one AWS client path of the AWS sinks (Security Hub, SNS).

A sink owns one aiobotocore client in an ``AsyncExitStack`` (``start``/``stop``), built
from the process's default credential chain (in Kubernetes: the alerts role's IRSA
role, never the reader's). :func:`sink_error` turns botocore failures into
:class:`~cspm_stream.errors.SinkError`: throttling, 5xx and connection problems are
retriable; access denied, invalid input and missing resources are permanent, so the
runner dead-letters them at once. Messages name the service, operation and AWS error
code; the endpoint override is shown as ``scheme://host:port`` only.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from cspm_stream.delivery.sinks.http import url_origin
from cspm_stream.errors import SinkError

#: AWS error codes worth another attempt (besides any 5xx)
RETRIABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalException",
        "InternalFailure",
        "KMSThrottlingException",
    }
)


def sink_error(name: str, service: str, operation: str, exc: BaseException) -> SinkError:
    """A scrubbed SinkError for a failed AWS call (retriable when another attempt could pass)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code", "Unknown"))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = " ".join(str(err.get("Message", "")).split())[:200]
        retriable = code in RETRIABLE_CODES or status >= 500 or status == 429
        return SinkError(f"sink {name}: {service}:{operation} failed: {code}: {message}", retriable=retriable)
    if isinstance(exc, BotoCoreError):
        # connection, timeout and credential-resolution errors: a later attempt may pass
        return SinkError(f"sink {name}: {service}:{operation} failed: {type(exc).__name__}", retriable=True)
    return SinkError(f"sink {name}: {service}:{operation} failed: {type(exc).__name__}", retriable=True)


class AwsClient:
    """One aiobotocore client of ``service`` in ``region`` (``endpoint_url`` for tests)."""

    def __init__(self, name: str, service: str, region: str, endpoint_url: str = "", timeout_s: float = 5.0) -> None:
        self.name = name
        self.service = service
        self.region = region
        self.endpoint_url = endpoint_url
        self.timeout_s = timeout_s
        self._stack = AsyncExitStack()
        self.client: Any = None

    @property
    def target(self) -> str:
        return url_origin(self.endpoint_url) if self.endpoint_url else f"{self.service}.{self.region}"

    async def start(self) -> None:
        if self.client is not None:
            return
        from aiobotocore.config import AioConfig
        from aiobotocore.session import AioSession

        cfg = AioConfig(
            retries={"max_attempts": 1, "mode": "standard"},  # the sink runner retries, with backoff
            connect_timeout=self.timeout_s,
            read_timeout=self.timeout_s,
        )
        kw: dict[str, Any] = {"region_name": self.region, "config": cfg}
        if self.endpoint_url:
            kw["endpoint_url"] = self.endpoint_url
        self.client = await self._stack.enter_async_context(AioSession().create_client(self.service, **kw))

    async def stop(self) -> None:
        await self._stack.aclose()
        self._stack = AsyncExitStack()
        self.client = None

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Make one call; any failure becomes a SinkError (see :func:`sink_error`)."""
        if self.client is None:
            raise SinkError(f"sink {self.name} not started", retriable=False)
        try:
            resp = await getattr(self.client, operation)(**params)
        except Exception as exc:
            raise sink_error(self.name, self.service, operation, exc) from None
        out = dict(resp)
        out.pop("ResponseMetadata", None)
        return out
