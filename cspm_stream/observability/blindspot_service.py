"""The self-monitoring side service: watches ``activity`` and ``scan-status``, reports blind spots.

It reads every partition of both topics itself (no consumer group): a blind
spot is a property of the whole stream, which a partitioned agent could not
see. ``scan-status`` is compacted, so it is read from the beginning (the last
completion per account|region|service); ``activity`` from its end at start,
silence being measured from the start for pairs not heard from since.

* A CloudTrail record counts at the time Kafka stamped it (when it reached
  ``activity``); a scan counts at its ``finished_at`` when ``complete`` is true
  (any service of the pair; a pair none of whose services completes goes stale).
* Every ``check_interval_s`` it runs :func:`~cspm_stream.observability.blindspots.blind_spots`
  and produces each finding it has not produced yet (by uid) to ``detections``;
  the finding uid is stable for one silence, so a restart re-sends at most one
  copy, which the alert router deduplicates.
* It also sets ``cspm_last_full_scan_timestamp_seconds`` per account/region and, every
  ``report_interval_s``, refreshes the report gauges (posture score per framework and
  account, ...) from the compacted findings topic
  (:func:`~cspm_stream.observability.report_metrics.refresh_report_gauges`).

Run it in one role only (the daemon puts it in ``process``); with several ``process``
workers each runs one, and their identical findings are deduplicated downstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from cspm_stream.errors import DecodeError
from cspm_stream.kafka import Producer, client_options
from cspm_stream.models import ocsf
from cspm_stream.models.codec import decode, dumps, loads_object
from cspm_stream.models.inventory import ScanStatus
from cspm_stream.observability.blindspots import Pair, blind_spots, freshness, note
from cspm_stream.observability.metrics import Metrics
from cspm_stream.report.reader import partitions
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit, RoleContext, headers_for
from cspm_stream.timeutil import to_ms

log = structlog.get_logger(__name__)


class MonitorService:
    """start()/stop() side service; :meth:`check_once` is the periodic step (public for tests)."""

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics | None = None,
        *,
        check_interval_s: float = 60.0,
        report_interval_s: float = 300.0,
        clock: Callable[[], float] = time.time,
        producer: Producer | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        #: a producer handed in is the caller's to start and stop; otherwise the service makes its own
        self._shared_producer = producer
        self.check_interval_s = check_interval_s
        self.report_interval_s = report_interval_s
        self._clock = clock
        self.state: dict[str, Any] = {}
        self.since_ms = 0
        self._sent: set[str] = set()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: Producer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._activity = settings.kafka.topic("activity")
        self._scans = settings.kafka.topic("scan-status")

    def expected(self) -> list[Pair]:
        """Configured accounts × regions (both must be configured to be expected)."""
        return [(a.id, r) for a in self.settings.aws.accounts for r in self.settings.aws.regions]

    async def start(self) -> None:
        self.since_ms = int(self._clock() * 1000)
        k = self.settings.kafka
        tps = [TopicPartition(self._activity, p) for p in await partitions(k, self._activity)]
        scan_tps = [TopicPartition(self._scans, p) for p in await partitions(k, self._scans)]
        consumer = AIOKafkaConsumer(**client_options(k), group_id=None, enable_auto_commit=False)
        await consumer.start()
        consumer.assign(tps + scan_tps)
        await consumer.seek_to_end(*tps)
        await consumer.seek_to_beginning(*scan_tps)
        self._consumer = consumer
        if self._shared_producer is not None:
            self._producer = self._shared_producer
        else:
            self._producer = Producer(k)
            await self._producer.start()
        self._tasks = [asyncio.create_task(self._consume()), asyncio.create_task(self._check_loop())]
        if self.metrics is not None and self.report_interval_s > 0:
            self._tasks.append(asyncio.create_task(self._report_loop(self.metrics)))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks = []
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        if self._producer is not None and self._producer is not self._shared_producer:
            await self._producer.stop()
        self._producer = None

    def observe(self, record: ConsumerRecord[Any, Any]) -> None:
        """Fold one consumed record into the freshness state."""
        if record.topic == self._activity and record.value is not None:
            try:
                acct, region = _activity_pair(record.value)
            except DecodeError:
                return  # the detection stage dead-letters bad activity records; nothing to learn here
            note(self.state, "activity", acct, region, int(record.timestamp))
        elif record.topic == self._scans and record.value is not None:
            try:
                status = decode(record.value, ScanStatus)
                finished = to_ms(status.finished_at)
            except (DecodeError, ValueError):
                return
            if status.complete:
                note(self.state, "scan", status.account_id, status.region, finished)
                if self.metrics is not None:
                    _, scans = freshness(self.state)
                    last = scans[(status.account_id, status.region)]
                    self.metrics.full_scan_completed(status.account_id, status.region, last / 1000)

    async def check_once(self, now_ms: int | None = None) -> list[dict[str, Any]]:
        """Produce the blind spots not produced yet; returns every current one."""
        now = now_ms if now_ms is not None else int(self._clock() * 1000)
        activity, scans = freshness(self.state)
        found = blind_spots(
            last_activity_ms=activity,
            last_scan_ms=scans,
            now_ms=now,
            settings=self.settings.monitor,
            since_ms=self.since_ms,
            expected=self.expected(),
        )
        new = [f for f in found if ocsf.uid_of(f) not in self._sent]
        if new and self._producer is not None:
            schema = ocsf.SCHEMA_BY_CLASS[ocsf.DETECTION_FINDING]
            await self._producer.send_many(
                [Emit("detections", ocsf.uid_of(f), dumps(f), headers_for(schema)) for f in new]
            )
            self._sent.update(ocsf.uid_of(f) for f in new)
            for f in new:
                log.warning("blind spot", title=f["finding_info"]["title"], uid=ocsf.uid_of(f))
        return found

    async def _consume(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batch.values():
                for r in records:
                    self.observe(r)

    async def _check_loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval_s)
            try:
                await self.check_once()
            except Exception:  # keep monitoring; the failure is logged with its traceback
                log.exception("self-monitoring check failed")

    async def _report_loop(self, metrics: Metrics) -> None:
        from cspm_stream.observability.report_metrics import refresh_report_gauges

        while True:
            try:
                await refresh_report_gauges(self.settings, metrics, now_ms=int(self._clock() * 1000))
            except Exception:  # keep serving the last figures; the failure is logged with its traceback
                log.exception("report gauges refresh failed")
            await asyncio.sleep(self.report_interval_s)


def _activity_pair(value: bytes) -> tuple[str, str]:
    obj = loads_object(value)
    acct, region = obj.get("account_id"), obj.get("region")
    if not isinstance(acct, str) or not isinstance(region, str) or not acct or not region:
        raise DecodeError("activity record without account_id/region")
    return acct, region


def build_monitor_service(ctx: RoleContext) -> MonitorService:
    """Factory for :mod:`cspm_stream.services` (run it in exactly one role, e.g. ``process``): the
    context's registry, clock and producer."""
    return MonitorService(ctx.settings, ctx.metrics, clock=ctx.time, producer=ctx.producer)
