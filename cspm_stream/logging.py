"""structlog configuration: JSON (orjson) when not a TTY, readable console otherwise.

Context (account, region, arn, ...) is bound with ``structlog.contextvars.bound_contextvars``.
The record a runtime is processing (topic, partition, offset) is one context variable set per
record (:func:`processing`): three structlog context variables per record cost more than the
detection itself, and this one is read only when something is logged. Secrets are masked by
a processor.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from typing import Any

import orjson
import structlog

_SECRET_KEYS = re.compile(r"(password|secret|token|credential|authorization|signature|private_key)", re.I)


def _mask_secrets(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for k in list(event):
        if k != "event" and _SECRET_KEYS.search(k):
            event[k] = "**********"
    return event


#: (topic, partition, offset) of the record being processed, set by the runtimes
RECORD: contextvars.ContextVar[tuple[str, int, int] | None] = contextvars.ContextVar("cspm_record", default=None)


def _add_record(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    rec = RECORD.get()
    if rec is not None:
        event.setdefault("topic", rec[0])
        event.setdefault("partition", rec[1])
        event.setdefault("offset", rec[2])
    return event


def configure(level: str = "INFO", fmt: str = "auto") -> None:
    """Configure structlog and route stdlib logging (faust, aiokafka) through it."""
    json_out = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_record,
        structlog.processors.add_log_level,
        _mask_secrets,
        structlog.processors.format_exc_info if json_out else structlog.processors.StackInfoRenderer(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if json_out:
        renderer = structlog.processors.JSONRenderer(serializer=lambda o, **_: orjson.dumps(o, default=str).decode())
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # stdlib loggers (faust, aiokafka, botocore) → same output, less chatty
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)


def get_logger(name: str = "cspm_stream", **ctx: Any) -> Any:
    """A lazy logger: safe to create at import time, configured on first use."""
    return structlog.get_logger(name, **ctx)
