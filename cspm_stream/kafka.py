"""Thin aiokafka adapters: client options from settings, producer, admin (topics).

Every long-lived object here has start/stop and ``async with``.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from cspm_stream.errors import KafkaUnavailable
from cspm_stream.settings import KafkaSettings
from cspm_stream.stages.base import Emit
from cspm_stream.topics import TOPICS, TopicSpec


def client_options(k: KafkaSettings) -> dict[str, Any]:
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


async def ensure_topics(kafka: KafkaSettings, specs: Iterable[TopicSpec] = TOPICS) -> list[tuple[str, str]]:
    """Create missing topics, verify existing ones. Returns (topic, 'created'|'ok'|problem)."""
    return await ensure_named_topics(kafka, [(kafka.topic(s.name), s) for s in specs])


async def ensure_named_topics(kafka: KafkaSettings, wanted: list[tuple[str, TopicSpec]]) -> list[tuple[str, str]]:
    """:func:`ensure_topics` for topics named in full (no prefix applied: a stage's changelog)."""
    admin = AIOKafkaAdminClient(**client_options(kafka))
    try:
        await admin.start()
    except KafkaConnectionError as exc:
        raise KafkaUnavailable(f"cannot reach Kafka at {kafka.bootstrap}: {exc}") from exc
    out: list[tuple[str, str]] = []
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(
                name=name,
                num_partitions=s.partitions or kafka.partitions,
                replication_factor=kafka.replication_factor,
                topic_configs=s.configs(),
            )
            for name, s in wanted
            if name not in existing
        ]
        created: set[str] = set()
        if new:
            try:
                await admin.create_topics(new)
                created = {t.name for t in new}
            except TopicAlreadyExistsError:  # raced with another creator: verify below
                pass
        described = await admin.describe_topics([name for name, _ in wanted if name not in created])
        partitions = {d["topic"]: len(d.get("partitions", [])) for d in described}
        for name, s in wanted:
            if name in created:
                out.append((name, "created"))
                continue
            status = await _verify(admin, name, s)
            want = s.partitions or kafka.partitions
            if status == "ok" and s.partitions and partitions.get(name, want) != want:
                status = f"MISMATCH partitions={partitions.get(name)}, expected {want}"
            out.append((name, status))
    finally:
        await admin.close()
    return out


async def _verify(admin: AIOKafkaAdminClient, name: str, spec: TopicSpec) -> str:
    configs = await _describe(admin, name)
    policy = configs.get("cleanup.policy", "")
    want = "compact" if spec.compacted else "delete"
    if policy and policy != want:
        return f"MISMATCH cleanup.policy={policy}, expected {want}"
    return "ok"


async def _describe(admin: AIOKafkaAdminClient, name: str) -> dict[str, str]:
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    res = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    configs: dict[str, str] = {}
    for r in res:
        for resource in r.resources:
            for entry in resource[4]:
                configs[entry[0]] = entry[1]
    return configs


async def topic_configs(kafka: KafkaSettings, logical: str) -> dict[str, str]:
    """Describe one topic's configs (used by tests and `topics verify`)."""
    admin = AIOKafkaAdminClient(**client_options(kafka))
    await admin.start()
    try:
        return await _describe(admin, kafka.topic(logical))
    finally:
        await admin.close()
