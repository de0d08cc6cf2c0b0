"""SinkRunner: one bounded queue and one worker task per delivery sink.

The alert handler only *enqueues* (never awaits a sink), so one slow or failing
sink cannot stall the others nor the Kafka consumer. Each worker retries a
retriable :class:`~cspm_stream.errors.SinkError` with exponential backoff and
jitter; after ``max_attempts`` (or at once for a permanent error, or when the
queue is full) the alert goes to the ``dlq`` topic as a
:class:`~cspm_stream.models.DeadLetter` with the reason, and
``cspm_alerts_dead_lettered_total{sink}`` counts it. Nothing is dropped silently.

Lifecycle: ``await runner.start()`` … ``await runner.stop()`` (drains queues
within a bound), or ``async with runner:``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram

from cspm_stream.delivery.model import Alert
from cspm_stream.delivery.sinks.base import Sink
from cspm_stream.delivery.sinks.file import FileSink
from cspm_stream.errors import SinkError
from cspm_stream.models import DeadLetter, dumps
from cspm_stream.settings import KafkaSettings, SinkSettings
from cspm_stream.timeutil import now_iso

log = structlog.get_logger(__name__)


class DeadLetterWriter(Protocol):
    async def __call__(self, letter: DeadLetter) -> None: ...


class SinkMetrics:
    """Counters for the sinks, registered in the registry passed in (never the global one by default)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        reg = registry if registry is not None else CollectorRegistry()
        self.registry = reg
        self.sent = Counter("cspm_alerts_sent", "Alerts delivered, per sink.", ["sink"], registry=reg)
        self.dead_lettered = Counter(
            "cspm_alerts_dead_lettered",
            "Alerts sent to the DLQ after failing delivery.",
            ["sink"],
            registry=reg,
        )
        self.retries = Counter("cspm_alert_sink_retries", "Delivery retries, per sink.", ["sink"], registry=reg)
        self.lost = Counter(
            "cspm_alerts_lost",
            "Alerts that could not even be dead-lettered (logged).",
            ["sink"],
            registry=reg,
        )
        self.latency = Histogram(
            "cspm_alert_delivery_seconds",
            "Enqueue-to-delivered time, per sink.",
            ["sink"],
            registry=reg,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30),
        )


@dataclass(slots=True)
class _Item:
    alert: Alert
    source_topic: str
    enqueued: float


@dataclass(slots=True)
class _Lane:
    sink: Sink
    conf: SinkSettings
    queue: asyncio.Queue[_Item]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


class SinkRunner:
    """Owns the delivery sinks' workers. ``submit`` never blocks."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        confs: Mapping[str, SinkSettings],
        dead_letter: DeadLetterWriter,
        metrics: SinkMetrics | None = None,
        *,
        stage: str = "alerts",
        clock: Callable[[], str] = now_iso,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        record_latency: bool = False,
    ) -> None:
        self.metrics = metrics or SinkMetrics()
        self._dead_letter = dead_letter
        self._stage = stage
        self._clock = clock
        self._sleep = sleep
        self._record_latency = record_latency
        self._lanes: dict[str, _Lane] = {}
        for s in sinks:
            if s.inline:
                continue
            conf = confs[s.name]
            self._lanes[s.name] = _Lane(s, conf, asyncio.Queue(maxsize=conf.queue_size))
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._started = False

    @property
    def sink_names(self) -> tuple[str, ...]:
        return tuple(self._lanes)

    def latencies(self, sink: str) -> list[float]:
        """Enqueue-to-delivered seconds (only when ``record_latency``; for benchmarks)."""
        return list(self._lanes[sink].latencies)

    async def start(self) -> None:
        if self._started:
            return
        for lane in self._lanes.values():
            await lane.sink.start()
        for name, lane in self._lanes.items():
            # several workers per lane when the sink allows concurrent deliveries (HTTP keep-alive pool);
            # alerts are independent, so their delivery order across workers does not matter
            lane.tasks = [
                asyncio.create_task(self._worker(lane), name=f"alert-sink-{name}-{i}")
                for i in range(max(1, lane.conf.concurrency if not isinstance(lane.sink, FileSink) else 1))
            ]
        self._started = True

    def submit(self, sink: str, alert: Alert, source_topic: str = "") -> None:
        """Queue one alert for ``sink``; a full queue dead-letters it (never blocks the caller)."""
        lane = self._lanes[sink]
        try:
            lane.queue.put_nowait(_Item(alert, source_topic, time.perf_counter()))
        except asyncio.QueueFull:
            reason = f"sink {sink} queue full ({lane.conf.queue_size}); not delivered"
            self._spawn(self._to_dlq(sink, _Item(alert, source_topic, time.perf_counter()), reason))

    async def join(self) -> None:
        """Wait until every queued alert is delivered or dead-lettered."""
        for lane in self._lanes.values():
            await lane.queue.join()
        while self._side_tasks:
            await asyncio.gather(*list(self._side_tasks))

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Drain within ``timeout_s``, then cancel workers and stop the sinks."""
        if not self._started:
            return
        try:
            await asyncio.wait_for(self.join(), timeout_s)
        except TimeoutError:
            left = {n: lane.queue.qsize() for n, lane in self._lanes.items() if lane.queue.qsize()}
            log.error("alert sinks not drained before stop", pending=left)
        for lane in self._lanes.values():
            for task in lane.tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            lane.tasks = []
            await lane.sink.flush()
            await lane.sink.stop()
        self._started = False

    async def __aenter__(self) -> SinkRunner:
        await self.start()
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _worker(self, lane: _Lane) -> None:
        while True:
            item = await lane.queue.get()
            try:
                await self._deliver(lane, item)
            except Exception as exc:  # the per-message boundary: a bug must not kill the lane
                await self._to_dlq(lane.sink.name, item, _scrub(lane.sink, f"unexpected {type(exc).__name__}: {exc}"))
            finally:
                lane.queue.task_done()

    def backoff(self, conf: SinkSettings, attempt: int) -> float:
        """Delay before attempt ``attempt + 1``: doubling, capped, with ±25% jitter."""
        base: float = min(conf.backoff_max_s, conf.backoff_s * (2 ** (attempt - 1)))
        return base * (0.75 + random.random() / 2)

    async def _deliver(self, lane: _Lane, item: _Item) -> None:
        name = lane.sink.name
        last = ""
        for attempt in range(1, lane.conf.max_attempts + 1):
            try:
                await lane.sink.send(item.alert)
            except SinkError as exc:
                last = _scrub(lane.sink, str(exc))
                log.warning("alert sink failed", sink=name, attempt=attempt, retriable=exc.retriable, error=last)
                if not exc.retriable:
                    await self._to_dlq(name, item, f"permanent failure: {last}")
                    return
                if attempt < lane.conf.max_attempts:
                    self.metrics.retries.labels(name).inc()
                    await self._sleep(self.backoff(lane.conf, attempt))
                continue
            elapsed = time.perf_counter() - item.enqueued
            self.metrics.sent.labels(name).inc()
            self.metrics.latency.labels(name).observe(elapsed)
            if self._record_latency:
                lane.latencies.append(elapsed)
            return
        await self._to_dlq(name, item, f"gave up after {lane.conf.max_attempts} attempts: {last}")

    async def _to_dlq(self, sink: str, item: _Item, reason: str) -> None:
        letter = DeadLetter.build(
            stage=f"{self._stage}.sink.{sink}",
            reason=reason,
            error_type="SinkError",
            at=self._clock(),
            original=item.alert.raw,
            source_topic=item.source_topic,
            key=item.alert.uid,
            headers={"sink": sink, "severity": item.alert.severity.label, "account": item.alert.account_id},
        )
        for attempt in range(1, 4):
            try:
                await self._dead_letter(letter)
            except Exception as exc:
                log.error("dead-letter write failed", sink=sink, uid=item.alert.uid, attempt=attempt, error=str(exc))
                await self._sleep(0.2 * attempt)
                continue
            self.metrics.dead_lettered.labels(sink).inc()
            log.error("alert dead-lettered", sink=sink, uid=item.alert.uid, reason=reason)
            return
        self.metrics.lost.labels(sink).inc()
        log.critical("alert lost: delivery and dead-letter both failed", sink=sink, uid=item.alert.uid, reason=reason)


def _scrub(sink: Sink, text: str) -> str:
    """Mask the sink's secrets in ``text`` (HTTP sinks scrub their own errors; this also covers bugs)."""
    redact = getattr(sink, "redact", None)
    return redact(text) if callable(redact) else text


class KafkaDeadLetterWriter:
    """Produces DeadLetters to ``<prefix>dlq`` with its own aiokafka producer (acks=all)."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self.topic = kafka.topic("dlq")
        self._producer: Any = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer  # adapter-only import
        from aiokafka.errors import KafkaConnectionError

        from cspm_stream.errors import KafkaUnavailable
        from cspm_stream.kafka import client_options

        kw = client_options(self._kafka)
        kw.update(acks="all", request_timeout_ms=int(self._kafka.request_timeout_s * 1000))
        self._producer = AIOKafkaProducer(**kw)
        try:
            await self._producer.start()
        except KafkaConnectionError as exc:
            await self._producer.stop()
            self._producer = None
            raise KafkaUnavailable(f"cannot reach Kafka at {self._kafka.bootstrap}: {exc}") from None

    async def __call__(self, letter: DeadLetter) -> None:
        if self._producer is None:
            raise SinkError("dead-letter producer not started", retriable=True)
        await self._producer.send_and_wait(
            self.topic,
            dumps(letter),
            key=(letter.key or "").encode("utf-8"),
            headers=[("content-type", b"application/json"), ("schema", b"dlq.v1")],
        )

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
