"""The daemon's runtime inside a test's event loop, on the real broker.

:class:`LocalRuntime` runs handlers exactly as ``cspm-stream run`` does — one
:class:`~cspm_stream.batchloop.StageLoop` per handler on the process's producer, the same
guard, dead letters, state changelog and group commit — without a subprocess::

    async with LocalRuntime(settings, [handler]) as rt:
        ... produce inputs, read outputs ...
        await rt.wait_processed(12)
        await rt.loop("remediate").step(handler.sweep)   # work no record triggers

Never a mock: every record goes through Kafka.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from cspm_stream.settings import Settings
from cspm_stream.stages.base import Handler


class LocalRuntime:
    """Start the handlers' stage loops on ``async with``; stop them (settled) on exit."""

    def __init__(self, settings: Settings, handlers: Sequence[Handler], *, ready_timeout_s: float = 30.0) -> None:
        from cspm_stream.app import role_context

        self.ctx = role_context(settings, environ={})
        self.handlers = list(handlers)
        self._ready_timeout = ready_timeout_s
        self._loops: dict[str, Any] = {}
        self.failure: BaseException | None = None

    async def __aenter__(self) -> LocalRuntime:
        from cspm_stream.batchloop import StageLoop

        await self.ctx.producer.start()
        try:
            for h in self.handlers:
                loop = StageLoop(self.ctx, h, on_fatal=self._fatal, ready_timeout_s=self._ready_timeout)
                await loop.start()
                self._loops[h.name] = loop
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self._stop()

    async def _stop(self) -> None:
        for loop in reversed(list(self._loops.values())):
            await loop.stop()
        self._loops.clear()
        await self.ctx.producer.stop()

    def _fatal(self, exc: BaseException) -> None:
        self.failure = exc

    def loop(self, name: str) -> Any:
        """The running :class:`~cspm_stream.batchloop.StageLoop` of stage ``name``."""
        return self._loops[name]

    @property
    def processed(self) -> int:
        """Input records settled so far (handled or dead-lettered), every stage."""
        return int(
            sum(
                sample.value
                for metric in self.ctx.metrics.events_in.collect()
                for sample in metric.samples
                if sample.name.endswith("_total")
            )
            + sum(
                sample.value
                for metric in self.ctx.metrics.dlq.collect()
                for sample in metric.samples
                if sample.name.endswith("_total")
            )
        )

    async def wait_processed(self, count: int, timeout_s: float = 30.0) -> int:
        """Wait until at least ``count`` input records are settled; returns how many are."""
        deadline = time.monotonic() + timeout_s
        while self.processed < count and time.monotonic() < deadline:
            if self.failure is not None:
                raise self.failure
            await asyncio.sleep(0.05)
        return self.processed
