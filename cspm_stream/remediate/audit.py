"""The audit trail on ``remediation-results``, read back: what ``remediation rollback`` starts from.

:func:`history` reads the topic from its beginning to the end offsets seen at start (no
consumer group, nothing committed — the daemon's consumers are not disturbed) and keeps
the results of the command ids asked for, in topic order per partition; records that do
not decode are skipped (they were dead-lettered by nobody: the audit topic is ours).
:func:`run_rollback` is the command: find the succeeded result, refuse what is not
reversible, roll back with the remediator's own role, publish the rollback's result and a
rescan of the resource.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from cspm_stream.errors import DecodeError, KafkaUnavailable, RemediationError, UsageError
from cspm_stream.models import RemediationResult, RemediationStatus, RescanRequest, decode, dumps, ocsf
from cspm_stream.remediate.rollback import check_reversible, rollback, rollback_id
from cspm_stream.settings import KafkaSettings, Settings
from cspm_stream.stages.base import Emit, headers_for


async def history(
    kafka: KafkaSettings, command_ids: Iterable[str], *, timeout_s: float = 120.0
) -> list[RemediationResult]:
    """Every result on ``remediation-results`` whose command id is one of ``command_ids``."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from cspm_stream.kafka import client_options
    from cspm_stream.report.reader import partitions

    wanted = set(command_ids)
    topic = kafka.topic("remediation-results")
    parts = await partitions(kafka, topic)
    consumer = AIOKafkaConsumer(
        **client_options(kafka), group_id=None, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    try:
        await consumer.start()
    except Exception as exc:  # aiokafka raises several connection error types here
        await consumer.stop()
        raise KafkaUnavailable(f"cannot reach Kafka at {kafka.bootstrap}: {type(exc).__name__}") from None
    found: list[tuple[int, int, RemediationResult]] = []
    try:
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        end = await consumer.end_offsets(tps)
        begin = await consumer.beginning_offsets(tps)
        remaining = {tp for tp in tps if end[tp] > begin[tp]}
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise KafkaUnavailable(f"timed out after {timeout_s}s reading {topic}")
            batch = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, msgs in batch.items():
                for m in msgs:
                    if m.offset >= end[tp] or m.value is None or not any(w.encode() in m.value for w in wanted):
                        continue
                    try:
                        res = decode(m.value, RemediationResult)
                    except DecodeError:
                        continue
                    if res.command_id in wanted:
                        found.append((m.timestamp, m.offset, res))
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return [r for _, _, r in sorted(found, key=lambda x: (x[0], x[1]))]


@dataclass(frozen=True)
class Outcome:
    original: RemediationResult
    result: RemediationResult


async def run_rollback(settings: Settings, command_id: str, *, actor: str, at: str, dry_run: bool) -> Outcome:
    """Roll back ``command_id`` (see the module doc); the audit record is published before returning."""
    from cspm_stream.kafka import Producer
    from cspm_stream.remediate.session import RemediatorSession
    from cspm_stream.topic_admin import require

    await require(settings.kafka, ["remediation-results", "rescan"])
    past = await history(settings.kafka, [command_id, rollback_id(command_id)])
    mine = [r for r in past if r.command_id == command_id]
    if not mine:
        raise UsageError(f"no result for {command_id} on {settings.kafka.topic('remediation-results')}")
    done = [r for r in mine if r.status is RemediationStatus.SUCCEEDED]
    original = done[-1] if done else mine[-1]
    try:
        check_reversible(original, past)
    except RemediationError as exc:
        raise UsageError(str(exc)) from None
    async with RemediatorSession(settings.remediation, settings.aws) as session:
        cx = await session.for_account(original.account_id)
        result = await rollback(original, cx, actor=actor, at=at, dry_run=dry_run)
    emits = [
        Emit(
            "remediation-results",
            result.resource_arn,
            dumps(result),
            headers_for("remediation-result.v1", status=result.status.value, action=result.action),
        )
    ]
    if result.status is RemediationStatus.SUCCEEDED:
        from cspm_stream.remediate.base import get_action
        from cspm_stream.remediate.modes import resource_id_from_arn

        action = get_action(result.action)
        req = RescanRequest(
            request_id=ocsf.finding_uid("rescan", result.command_id, at),
            account_id=result.account_id,
            region=result.region,
            resource_type=action.resource_types[0] if action is not None else "",
            requested_at=at,
            reason=f"rollback of {command_id}",
            arn=result.resource_arn,
            resource_id=resource_id_from_arn(result.resource_arn, result.region),
        )
        emits.append(Emit("rescan", result.resource_arn, dumps(req), headers_for("rescan.v1")))
    async with Producer(settings.kafka, request_timeout_ms=int(settings.kafka.request_timeout_s * 1000)) as p:
        for e in emits:
            await p.send(e)
    return Outcome(original, result)
