"""Thin aiokafka adapters: client options from settings, the producer, consumers.

Topic creation and verification live in :mod:`cspm_stream.topic_admin`.

Every long-lived object here has start/stop and ``async with``.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from cspm_stream.errors import KafkaUnavailable
from cspm_stream.settings import KafkaSettings
from cspm_stream.stages.base import Emit


def refuse_topic_auto_creation() -> None:
    """Make every aiokafka metadata request ask the broker NOT to auto-create the topics it names.

    aiokafka 0.14 asks for auto-creation in every metadata request (v4+) and has no option
    to turn it off, so a consumer, a producer or even ``describe_topics`` on a missing
    topic creates it with the broker's defaults when the broker allows auto-creation
    (Kafka's default). Topics are created only by ``cspm-stream topics create``: this sets
    the request's default to False, once per process, before any client is built (every
    client gets its options from :func:`client_options`, which calls this).
    """
    from aiokafka.protocol import metadata

    cls = metadata.MetadataRequest
    original = cls.__init__
    if original is _PATCHED.get("init"):
        return

    def __init__(self: Any, topics: list[str] | None = None, allow_auto_topic_creation: bool | None = False) -> None:
        original(self, topics, allow_auto_topic_creation)

    cls.__init__ = __init__  # type: ignore[method-assign]
    _PATCHED["init"] = __init__


#: the ``MetadataRequest.__init__`` this module installed (so it is installed once per process)
_PATCHED: dict[str, Any] = {}


def client_options(k: KafkaSettings) -> dict[str, Any]:
    """aiokafka options from the settings (security, SASL, SSL); also turns topic auto-creation off."""
    refuse_topic_auto_creation()
    opts: dict[str, Any] = {"bootstrap_servers": k.bootstrap, "security_protocol": k.security_protocol}
    if k.security_protocol.startswith("SASL"):
        opts.update(
            sasl_mechanism=k.sasl_mechanism,
            sasl_plain_username=k.sasl_username,
            sasl_plain_password=k.sasl_password.get(),
        )
    if k.security_protocol in ("SSL", "SASL_SSL"):
        from aiokafka.helpers import create_ssl_context

        opts["ssl_context"] = create_ssl_context()
    return opts


class Producer:
    """An idempotent aiokafka producer (acks=all) that sends :class:`Emit` records by logical topic.

    The aiokafka client is made by :meth:`start` (it binds the running event loop), so a
    Producer can be built before the loop runs and handed around.
    """

    def __init__(self, kafka: KafkaSettings, **overrides: Any) -> None:
        self._kafka = kafka
        opts = client_options(kafka)
        opts.update(acks="all", enable_idempotence=True, linger_ms=5, max_request_size=32 * 1024 * 1024)
        opts.update(overrides)
        self._opts = opts
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(**self._opts)
        try:
            await self._producer.start()
        except KafkaConnectionError as exc:
            await self._producer.stop()
            self._producer = None
            raise KafkaUnavailable(f"cannot reach Kafka at {self._kafka.bootstrap}: {exc}") from exc

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def __aenter__(self) -> Producer:
        await self.start()
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    async def send(self, emit: Emit) -> Any:
        """Send and wait for the broker's acknowledgement."""
        return await self.raw.send_and_wait(
            self._kafka.topic(emit.topic),
            value=emit.value,
            key=emit.wire_key(),
            headers=emit.wire_headers(),
        )

    async def send_many(self, emits: Iterable[Emit]) -> None:
        """Send a batch concurrently; returns once every record is acknowledged."""
        producer = self.raw
        futs = [
            await producer.send(
                self._kafka.topic(e.topic),
                value=e.value,
                key=e.wire_key(),
                headers=e.wire_headers(),
            )
            for e in emits
        ]
        for f in futs:
            await f

    @property
    def raw(self) -> AIOKafkaProducer:
        """The started aiokafka producer."""
        if self._producer is None:
            raise KafkaUnavailable("producer not started")
        return self._producer


def consumer(kafka: KafkaSettings, *topics: str, **overrides: Any) -> AIOKafkaConsumer:
    """A consumer on logical topic names (prefix applied)."""
    opts = client_options(kafka)
    opts.update(overrides)
    return AIOKafkaConsumer(*(kafka.topic(t) for t in topics), **opts)
