"""The contract between a pipeline stage and the runtime that drives it.

A stage is a :class:`Handler`: it takes the raw key/value bytes of one Kafka
record and returns what to emit. It knows nothing of faust or aiokafka, so it
is tested with plain calls and reused by the one-shot CLI. The runtime (the
batch loop, :mod:`cspm_stream.batchloop`) decodes nothing itself: a handler raising
:class:`~cspm_stream.errors.DecodeError` (or anything else) makes the runtime
write a dead letter with the reason and the original bytes, then move on.

Stateful handlers receive a ``state`` mapping: a transactional view of the stage's
state in the daemon (changelogged, restored on restart and rebalance), a dict in
tests. Values stored there must be JSON-able plain data.

A stage is built by a factory ``build_stage(ctx: RoleContext) -> StageParts`` at the
bottom of its module: :class:`RoleContext` carries everything shared in the process
(settings, the one metrics registry, the producer, the clock, a logger), handed in
by the daemon, never looked up; :class:`StageParts` is the handler plus the side
services (scheduler, sources, sinks, ...) that belong with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import datetime as dt

    from cspm_stream.kafka import Producer
    from cspm_stream.observability.metrics import Metrics
    from cspm_stream.settings import Settings


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
    #: the headers as Kafka gave them (pairs of name and bytes), decoded only when needed
    raw_headers: Any = None

    def all_headers(self) -> dict[str, str]:
        """``headers``, or the raw headers decoded as text (undecodable values marked)."""
        return self.headers or record_headers(self.raw_headers)


def record_headers(raw: Any) -> dict[str, str]:
    """Kafka headers (list of pairs or a dict, values bytes) as text; undecodable values are marked."""
    out: dict[str, str] = {}
    if not raw:
        return out
    items = raw.items() if isinstance(raw, dict) else raw
    for k, v in items:
        try:
            out[str(k)] = v.decode("utf-8") if isinstance(v, bytes | bytearray) else str(v)
        except UnicodeDecodeError:
            out[str(k)] = "<binary>"
    return out


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


class Service(Protocol):
    """A side service run next to the stages (started before them, stopped after them)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RoleContext:
    """What every stage of a process is built from; one per process, made by the daemon.

    ``producer`` is the process's one idempotent producer (acks=all): the runtime starts it
    before any service and stops it after the last one, so a factory may keep a reference
    but must not send before its service's ``start()``. ``metrics`` is the one registry
    ``/metrics`` serves: register anything new in ``metrics.registry``. ``clock`` is the
    wall clock (UTC, aware); ``environ`` the environment secrets are read from.
    """

    settings: Settings
    metrics: Metrics
    producer: Producer
    clock: Callable[[], dt.datetime]
    log: Any
    environ: Mapping[str, str]

    def time(self) -> float:
        """The clock as Unix seconds."""
        return self.clock().timestamp()


@dataclass(frozen=True, slots=True)
class StageParts:
    """A built stage: its handler and the side services that belong with it (name, service)."""

    handler: Handler
    services: tuple[tuple[str, Service], ...] = ()
