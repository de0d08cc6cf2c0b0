"""The contract between a pipeline stage and the runtime that drives it.

A stage is a :class:`Handler`: it takes the raw key/value bytes of one Kafka
record and returns what to emit. It knows nothing of faust or aiokafka, so it
is tested with plain calls and reused by the one-shot CLI. The runtime (faust
agents in :mod:`cspm_stream.app`) decodes nothing itself: a handler raising
:class:`~cspm_stream.errors.DecodeError` (or anything else) makes the runtime
write a dead letter with the reason and the original bytes, then move on.

Stateful handlers receive a ``state`` mapping: a faust Table in the daemon
(changelogged, restored on restart and rebalance), a dict in tests. Values
stored there must be JSON-able plain data.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class Emit:
    """One record to produce. ``topic`` is the logical name (``findings``, ...)."""

    topic: str
    key: str | None
    value: bytes | None  # None = tombstone
    headers: dict[str, str] = field(default_factory=dict)

    def wire_key(self) -> bytes | None:
        """The key as Kafka carries it (UTF-8)."""
        return self.key.encode("utf-8") if self.key is not None else None

    def wire_headers(self) -> list[tuple[str, bytes]]:
        """The headers as Kafka carries them (values UTF-8)."""
        return header_bytes(self.headers)


def header_bytes(headers: dict[str, str]) -> list[tuple[str, bytes]]:
    return [(k, v.encode("utf-8")) for k, v in headers.items()]


@dataclass(slots=True)
class RecordMeta:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Handler(Protocol):
    """One pipeline stage. ``name`` is the stage label used in logs, metrics and DLQ records."""

    name: str
    #: logical input topics
    inputs: tuple[str, ...]
    # Optional: ``assigns_changes = True`` declares that the handler re-assigns every state value it
    # changes (never relies on an in-place mutation being saved), so the runtime need not snapshot
    # the containers it reads to detect such mutations.

    async def handle(
        self, key: bytes | None, value: bytes | None, meta: RecordMeta, state: MutableMapping[str, Any]
    ) -> list[Emit]: ...


def headers_for(schema: str, trace_id: str = "", **extra: str) -> dict[str, str]:
    h = {"content-type": "application/json", "schema": schema}
    if trace_id:
        h["trace-id"] = trace_id
    h.update(extra)
    return h
