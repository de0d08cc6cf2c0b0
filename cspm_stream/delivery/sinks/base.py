"""The one interface every alert sink implements: start / send / flush / stop.

``send`` delivers one alert or raises :class:`~cspm_stream.errors.SinkError`
whose ``retriable`` flag tells the :class:`~cspm_stream.delivery.runner.SinkRunner`
whether another attempt could succeed. Sinks never retry themselves and never
swallow a failure: retries, backoff and dead-lettering live in the runner.
"""

from __future__ import annotations

from typing import Protocol

from cspm_stream.delivery.model import Alert


class Sink(Protocol):
    """An alert destination. ``inline`` sinks (Kafka) are drained by the handler as Emits."""

    name: str
    inline: bool

    async def start(self) -> None: ...

    async def send(self, alert: Alert) -> None: ...

    async def flush(self) -> None: ...

    async def stop(self) -> None: ...
