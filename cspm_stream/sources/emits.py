"""Turn split payload items into Kafka records (pure): activity records and dead letters."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from cspm_stream.models.activity import ActivityRecord
from cspm_stream.models.codec import MAX_VALUE_BYTES, dumps
from cspm_stream.models.dlq import DeadLetter
from cspm_stream.models.enums import ActivitySource
from cspm_stream.observability.cloudtrail_freshness import record_headers
from cspm_stream.sources.files import Item, RecordError
from cspm_stream.stages.base import Emit, headers_for

if TYPE_CHECKING:
    from cspm_stream.observability.metrics import Metrics

ACTIVITY = "activity"
DLQ = "dlq"
ACTIVITY_SCHEMA = "activity.v1"
DLQ_SCHEMA = "dlq.v1"
#: Largest activity value produced (the codec refuses more; topics allow 4 MiB).
MAX_ACTIVITY_BYTES = MAX_VALUE_BYTES - 64 * 1024


class EmitProducer(Protocol):
    """What the sources need from a producer (``cspm_stream.kafka.Producer`` has it).

    ``send_many`` returns only once every record was acknowledged (acks=all) and
    raises otherwise.
    """

    async def send_many(self, emits: Iterable[Emit]) -> None: ...


def activity_emit(record: ActivityRecord, trace_id: str = "") -> Emit:
    return Emit(
        topic=ACTIVITY,
        key=record.principal,
        value=dumps(record),
        headers=headers_for(ACTIVITY_SCHEMA, trace_id, source=record.source.value)
        | record_headers(record.account_id, record.region),  # well-formed account/region only (freshness metric)
    )


def dead_letter_emit(
    *,
    stage: str,
    reason: str,
    error_type: str,
    at: str,
    original: bytes,
    key: str | None = None,
    trace_id: str = "",
) -> Emit:
    dl = DeadLetter.build(stage=stage, reason=reason, error_type=error_type, at=at, original=original, key=key)
    return Emit(topic=DLQ, key=key, value=dumps(dl), headers=headers_for(DLQ_SCHEMA, trace_id))


def emits_for_items(
    items: Iterable[Item], *, source: ActivitySource, stage: str, received_at: str, trace_id: str = ""
) -> list[Emit]:
    """One activity Emit per record and one dead-letter Emit per :class:`RecordError`, in order."""
    out: list[Emit] = []
    for it in items:
        if isinstance(it, RecordError):
            out.append(
                dead_letter_emit(
                    stage=stage,
                    reason=f"{it.where()}: {it.reason}",
                    error_type="RecordError",
                    at=received_at,
                    original=it.raw,
                    key=it.source,
                    trace_id=trace_id,
                )
            )
            continue
        try:
            rec = ActivityRecord.from_cloudtrail(it, source, received_at)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            out.append(
                dead_letter_emit(
                    stage=stage,
                    reason=f"cannot wrap record: {exc!r}",
                    error_type=type(exc).__name__,
                    at=received_at,
                    original=dumps(it),
                    trace_id=trace_id,
                )
            )
            continue
        emit = activity_emit(rec, trace_id)
        if emit.value is not None and len(emit.value) > MAX_ACTIVITY_BYTES:
            # would be refused by the broker (or by every consumer's decoder) and block the message forever
            out.append(
                dead_letter_emit(
                    stage=stage,
                    reason=f"record {rec.event_id} is {len(emit.value)} bytes > {MAX_ACTIVITY_BYTES} (activity limit)",
                    error_type="RecordTooLarge",
                    at=received_at,
                    original=dumps(it),
                    key=rec.principal,
                    trace_id=trace_id,
                )
            )
            continue
        out.append(emit)
    return out


def count_produced(
    metrics: Metrics | None, stage: str, origin: str, emits: Iterable[Emit], at_s: float | None = None
) -> None:
    """Prometheus counts for acknowledged records: produced per topic, dead letters per stage/origin, and
    the CloudTrail freshness of each account/region in scope (acknowledged at ``at_s``, default now)."""
    if metrics is None:
        return
    activity: list[dict[str, str]] = []
    for e in emits:
        metrics.events_out.labels(topic=e.topic).inc()
        if e.topic == DLQ:
            metrics.on_dead_letter(stage, origin)
        elif e.topic == ACTIVITY:
            activity.append(e.headers)
    if activity:
        metrics.cloudtrail.seen(activity, time.time() if at_s is None else at_s)
