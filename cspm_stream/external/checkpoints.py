"""Poller checkpoints kept in Kafka: the compacted ``external-checkpoints`` topic (key = poller key).

At start the whole topic is read to its end (the last value per key, :func:`read_latest`); a poll
saves its checkpoint only after every record it produced was acknowledged, so a crash replays a
window (duplicates, which the joins drop by finding uid and version) and never skips one. Values
are JSON objects with ``schema`` ``external-checkpoint.v1``::

    {"schema": "external-checkpoint.v1", "since": "<ISO time the last poll read up to>",
     "seen": {"<finding id>": "<its updated_at>", ...}}     # findings read within the overlap

:class:`MemoryCheckpoints` keeps them in a dict (tests, one-shot runs).
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson
import structlog

from cspm_stream.models.codec import dumps
from cspm_stream.settings import KafkaSettings
from cspm_stream.sources.emits import EmitProducer
from cspm_stream.stages.base import Emit, headers_for

log = structlog.get_logger("cspm_stream.external")
TOPIC = "external-checkpoints"
SCHEMA = "external-checkpoint.v1"
#: most finding ids remembered per checkpoint (those updated within the overlap window)
MAX_SEEN = 20_000


class CheckpointStore(Protocol):
    def load(self, key: str) -> dict[str, Any]: ...

    async def save(self, key: str, value: dict[str, Any]) -> None: ...


def clean(value: Any) -> dict[str, Any]:
    """A checkpoint as read back (anything malformed reads as no checkpoint)."""
    if not isinstance(value, dict):
        return {}
    since = value.get("since")
    seen = value.get("seen")
    out: dict[str, Any] = {"since": since if isinstance(since, str) else ""}
    out["seen"] = {str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else {}
    return out


class MemoryCheckpoints:
    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}

    def load(self, key: str) -> dict[str, Any]:
        return clean(self.values.get(key))

    async def save(self, key: str, value: dict[str, Any]) -> None:
        self.values[key] = clean(value)


class TopicCheckpoints:
    """Checkpoints on the compacted topic; :meth:`start` reads them all back."""

    def __init__(self, kafka: KafkaSettings, producer: EmitProducer) -> None:
        self.kafka = kafka
        self.producer = producer
        self.values: dict[str, dict[str, Any]] = {}

    async def start(self) -> None:
        from cspm_stream.report.reader import read_latest

        snap = await read_latest(self.kafka, TOPIC)
        for key, raw in snap.values.items():
            try:
                self.values[key.decode("utf-8")] = clean(orjson.loads(raw))
            except (UnicodeDecodeError, orjson.JSONDecodeError):
                log.warning("external checkpoint unreadable, ignored", key=repr(key[:100]))
        log.info("external checkpoints loaded", count=len(self.values))

    def load(self, key: str) -> dict[str, Any]:
        return clean(self.values.get(key))

    async def save(self, key: str, value: dict[str, Any]) -> None:
        value = clean(value)
        body = {"schema": SCHEMA, **value}
        await self.producer.send_many([Emit(TOPIC, key, dumps(body), headers_for(SCHEMA))])
        self.values[key] = value
