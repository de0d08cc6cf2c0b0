"""A minimal stage driver on the REAL broker for integration tests and benchmarks.

Consumes a handler's logical input topics, calls ``handle`` per record with a dict
state, produces the returned Emits (acks=all) and dead-letters what raises — the
same contract the faust runtime (cspm_stream.app) applies, without faust's start-up
time. Never a mock: every record goes through Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

from cspm_stream.kafka import Producer, consumer
from cspm_stream.models import DeadLetter, dumps
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit, Handler, RecordMeta, headers_for
from cspm_stream.timeutil import now_iso


class StageDriver:
    def __init__(self, settings: Settings, handlers: Sequence[Handler]) -> None:
        self.settings = settings
        self.handlers = list(handlers)
        self.states: dict[str, dict[str, Any]] = {h.name: {} for h in handlers}
        self.by_topic = {settings.kafka.topic(t): h for h in handlers for t in h.inputs}
        self.logical = {settings.kafka.topic(t): t for h in handlers for t in h.inputs}
        self.errors: list[str] = []
        self.processed = 0
        self.seen: list[tuple[str, int, int, bytes | None]] = []
        self._task: asyncio.Task[None] | None = None
        self._producer = Producer(settings.kafka)

    async def __aenter__(self) -> StageDriver:
        await self._producer.start()
        self._consumer = consumer(
            self.settings.kafka,
            *self.logical.values(),
            group_id=f"driver-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=True,
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._consumer.stop()
        await self._producer.stop()

    async def send(self, emits: list[Emit]) -> None:
        for e in emits:
            await self._producer.send(e)

    async def sweep(self) -> None:
        for h in self.handlers:
            fn = getattr(h, "sweep", None)
            if fn is not None:
                await self.send(fn(self.states[h.name]))

    async def _loop(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for msgs in batch.values():
                for m in msgs:
                    await self._one(m)

    async def _one(self, m: Any) -> None:
        h = self.by_topic[m.topic]
        meta = RecordMeta(m.topic, m.partition, m.offset, m.timestamp)
        try:
            emits = await h.handle(m.key, m.value, meta, self.states[h.name])
        except Exception as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
            letter = DeadLetter.build(
                stage=h.name,
                reason=f"{type(exc).__name__}: {exc}",
                error_type=type(exc).__name__,
                at=now_iso(),
                original=m.value,
                source_topic=m.topic,
                partition=m.partition,
                offset=m.offset,
                key=m.key,
            )
            emits = [Emit("dlq", letter.key, dumps(letter), headers_for("dlq.v1"))]
        await self.send(emits)
        self.processed += 1
        self.seen.append((m.topic, m.partition, m.offset, m.key))
