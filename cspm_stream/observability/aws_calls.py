"""AWS API calls counted in the process registry, through botocore's event hooks.

:func:`aws_call_hooks` gives ``(event, handler)`` pairs to register on an aiobotocore client
(or session): every call that got a response is counted in ``cspm_aws_api_calls_total``
by service and operation, and one that failed adds its AWS error code to
``cspm_aws_api_errors_total`` (and to ``cspm_aws_api_throttles_total`` when the code means
"slow down"); a call that got no response at all (connection refused, timeout) is counted
with the exception's class name as its code. ``after-call`` fires once per call, after
botocore's own retries; a caller that retries by itself makes (and counts) new calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cspm_stream.observability.metrics import Metrics

EventHook = tuple[str, Callable[..., None]]


def aws_call_hooks(metrics: Metrics) -> list[EventHook]:
    """The hooks counting every AWS call (and its error) in ``metrics``."""

    def after_call(http_response: Any = None, parsed: Any = None, model: Any = None, **_: Any) -> None:
        if model is None:
            return
        service = str(model.service_model.service_name)
        code: str | None = None
        if getattr(http_response, "status_code", 200) >= 300:
            err = parsed.get("Error") if isinstance(parsed, dict) else None
            code = str(err.get("Code") or "Unknown") if isinstance(err, dict) else "Unknown"
        metrics.aws_call(service, str(model.name), code)

    def after_call_error(exception: Any = None, event_name: str = "", **_: Any) -> None:
        # after-call-error.<service id, hyphenised>.<Operation>: no response, so no model either
        parts = event_name.split(".")
        service, operation = (parts[1], parts[2]) if len(parts) >= 3 else ("unknown", "unknown")
        metrics.aws_call(service, operation, type(exception).__name__ if exception is not None else "Unknown")

    return [("after-call", after_call), ("after-call-error", after_call_error)]
