"""The daemon runtime: a faust app built by :func:`create_app` from settings and stage handlers.

Nothing happens at import time. Each :class:`~cspm_stream.stages.base.Handler`
becomes one faust agent on its input topics, with one changelogged table for its
state. The agent body is the per-message guard: whatever the handler raises, the
record goes to the dead-letter topic with the reason and the original bytes, and
the stream moves on (faust acks a message whose agent raised, so catching here
is what keeps the input from being lost).

Delivery is at-least-once: faust flushes the producer before committing offsets,
so an offset is committed only after every record emitted for it was acknowledged
(acks=all). Handlers are idempotent (deterministic ids) so a replay after a crash
duplicates nothing downstream.

Values use faust's ``raw`` serializer (bytes in, bytes out) and tables use
``json``: the pickle codec is never enabled.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import faust
import structlog
from aiokafka.errors import MessageSizeTooLargeError
from faust.streams import _current_event

from cspm_stream.logging import RECORD
from cspm_stream.stages import guard
from cspm_stream.stages.base import Emit, Handler, RecordMeta
from cspm_stream.stages.guard import TrackedState

__all__ = ["ROLES", "ROLE_HANDLERS", "TrackedState", "create_app", "handlers_for_role"]
from cspm_stream.settings import Settings
from cspm_stream.topics import input_partitions

log = structlog.get_logger("cspm_stream.app")

#: Roles and the handler factories they run ("module:function"), resolved lazily.
ROLE_HANDLERS: dict[str, tuple[str, ...]] = {
    "ingest": ("cspm_stream.stages.ingest:build_ingest_handler",),
    "process": (
        "cspm_stream.stages.posture:build_handler",
        "cspm_stream.stages.detect:build_detect_handler",
    ),
    "alerts": ("cspm_stream.stages.alerts:build_alert_handler",),
    "remediate": ("cspm_stream.stages.remediate:build_remediate_handler",),
}
ROLES = (*ROLE_HANDLERS, "all")


def handlers_for_role(role: str, settings: Settings) -> list[Handler]:
    """Build the handlers a role runs (``all`` = every role)."""
    import importlib

    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (one of: {', '.join(ROLES)})")
    roles = list(ROLE_HANDLERS) if role == "all" else [role]
    out: list[Handler] = []
    for r in roles:
        for ref in ROLE_HANDLERS[r]:
            mod_name, fn = ref.split(":")
            factory = getattr(importlib.import_module(mod_name), fn)
            out.append(factory(settings))
    return out


@contextlib.contextmanager
def _as_current_event(event: Any) -> Iterator[None]:
    """Make faust route table changelog writes to ``event``'s partition."""
    if event is None:
        yield
        return
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def create_app(
    settings: Settings,
    handlers: Sequence[Handler],
    *,
    on_processed: Callable[[str, RecordMeta, list[Emit], float], None] | None = None,
    on_dead_letter: Callable[[str, str], None] | None = None,
) -> faust.App:
    """A faust app with one guarded agent per handler. Nothing connects until it starts."""
    k = settings.kafka
    app = faust.App(
        settings.app.id,
        broker=[f"kafka://{b.strip()}" for b in k.bootstrap.split(",")],
        broker_credentials=_credentials(settings),
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        datadir=settings.app.data_dir,
        web_enabled=False,  # our own /metrics /healthz server binds 127.0.0.1; faust's /table stays off
        processing_guarantee="at_least_once",
        producer_acks=-1,
        producer_linger=0.005,  # batch changelog + output records (one request per record otherwise)
        producer_max_request_size=32 * 1024 * 1024,  # dead letters of oversize inputs
        topic_partitions=k.partitions,
        topic_replication_factor=k.replication_factor,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        broker_commit_every=5000,  # commits are time-driven (broker_commit_interval); each flushes the producer
        broker_commit_interval=1.0,
        stream_buffer_maxsize=settings.app.stream_buffer,
        table_cleanup_interval=60.0,
        autodiscover=False,
    )
    outputs: dict[str, Any] = {}

    def out_topic(logical: str) -> Any:
        if logical not in outputs:
            outputs[logical] = app.topic(k.topic(logical), value_serializer="raw", key_serializer="raw")
        return outputs[logical]

    out_topic("dlq")
    for h in handlers:
        _add_agent(app, settings, h, out_topic, on_processed, on_dead_letter)
    return app


def _credentials(settings: Settings) -> Any:
    k = settings.kafka
    if k.security_protocol.startswith("SASL"):
        from faust.auth import SASLCredentials

        return SASLCredentials(username=k.sasl_username, password=k.sasl_password.get(), mechanism=k.sasl_mechanism)
    if k.security_protocol == "SSL":
        import ssl

        return faust.SSLCredentials(ssl.create_default_context())
    return None


def _add_agent(
    app: faust.App,
    settings: Settings,
    handler: Handler,
    out_topic: Callable[[str], Any],
    on_processed: Callable[[str, RecordMeta, list[Emit], float], None] | None,
    on_dead_letter: Callable[[str, str], None] | None,
) -> None:
    k = settings.kafka
    source = app.topic(*(k.topic(t) for t in handler.inputs), value_serializer="raw", key_serializer="raw")
    table = app.Table(
        f"{handler.name}-state",
        default=None,
        partitions=input_partitions(k, handler.name, handler.inputs),
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
    )
    dlq = out_topic("dlq")
    stage_log = log.bind(stage=handler.name)

    batch_max, within = settings.app.batch_max, settings.app.batch_within_s
    track = not getattr(handler, "assigns_changes", False)

    async def dead_letter(event: Any, meta: RecordMeta, exc: Exception) -> Any:
        msg = event.message
        reason, value, headers = guard.dead_letter(
            handler.name,
            exc,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
            value=msg.value,
            headers=meta.headers,
        )
        stage_log.warning(
            "dead-letter", topic=msg.topic, partition=msg.partition, offset=msg.offset, reason=reason[:300]
        )
        if on_dead_letter:
            on_dead_letter(handler.name, msg.topic)
        return await dlq.send(key=msg.key, value=value, headers=headers)

    async def guarded(stream: Any) -> None:
        # Records are taken in small batches (at most batch_max, or what arrived within
        # batch_within_s). Per batch: each record's handler runs against a private
        # overlay of the batch state (discarded if it fails → dead letter); every output
        # is sent; all are awaited (acks=all); only then the state is written to the
        # table, each key's changelog going to the partition of the record that wrote it.
        # A crash therefore loses state, never an output; replays re-emit the same ids.
        async for events in stream.take_events(batch_max, within):
            batch = TrackedState(table, track_reads=False)  # each record view tracks its own reads
            pending: list[tuple[Any, Any, RecordMeta]] = []
            done: list[tuple[RecordMeta, list[Emit], float]] = []
            for event in events:
                msg = event.message
                meta = RecordMeta(
                    topic=msg.topic,
                    partition=msg.partition,
                    offset=msg.offset,
                    timestamp_ms=int(msg.timestamp * 1000) if msg.timestamp else None,
                    headers=guard.record_headers(msg.headers),
                )
                started = time.perf_counter()
                record_state = TrackedState(batch, track_reads=track)
                token = RECORD.set((msg.topic, msg.partition, msg.offset))
                try:  # the one per-message boundary: never lose the input
                    emits = await handler.handle(msg.key, msg.value, meta, record_state)
                    sends = [
                        await out_topic(e.topic).send(key=e.wire_key(), value=e.value, headers=e.wire_headers())
                        for e in emits
                    ]
                except Exception as exc:
                    pending.append((await dead_letter(event, meta, exc), None, meta))
                    continue
                finally:
                    RECORD.reset(token)
                pending.extend((fut, event, meta) for fut in sends)
                batch.owner = event
                record_state.commit()
                done.append((meta, emits, started))
            for fut, event, meta in pending:  # every output acknowledged before the state moves on
                try:
                    await fut
                except MessageSizeTooLargeError as exc:
                    if event is None:  # a dead letter itself was refused
                        raise
                    # the broker refused this output (larger than the topic allows): its input is dead-lettered
                    await (await dead_letter(event, meta, exc))
            batch.commit(_as_current_event)
            if on_processed:
                for meta, emits, started in done:
                    on_processed(handler.name, meta, emits, time.perf_counter() - started)

    guarded.__name__ = f"{handler.name.replace('-', '_')}_agent"
    guarded.__qualname__ = guarded.__name__
    app.agent(source, name=f"cspm.{handler.name}")(guarded)
