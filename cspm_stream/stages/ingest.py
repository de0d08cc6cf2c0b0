"""Ingest stage: scan jobs and rescan requests in, snapshots out (plus the scheduler).

Inputs (schema-dispatched, so topic naming does not matter):

* ``scan-jobs`` (:class:`ScanJob`): run the collector for one (account, region,
  service); emit every :class:`ResourceSnapshot` to ``inventory`` keyed by ARN, then a
  :class:`ScanStatus` to ``scan-status`` keyed ``account|region|service``.
  For a **full** job, per resource type whose listing was **complete**, ARNs present in
  the previous complete scan of that (account, region, type) but absent now get a
  :class:`ResourceDeleted` followed by a tombstone (value ``None``) on ``inventory``.
  The previous ARN set lives in ``state["seen|<account>|<region>|<type>"]``; a type whose
  listing failed keeps its previous set untouched and deletes nothing.
* ``rescan`` (:class:`RescanRequest`): a fresh snapshot of one resource (by ARN, or id +
  type), or — if the type's listing succeeded and the resource is not there — a
  deletion + tombstone. Requests for the same target within ``scan.rescan_dedup_s`` are
  answered once (``state["rescan|<target>"]`` holds the last answer time). The snapshot carries the
  request's ``actor`` (who changed it). A first look that finds the resource missing or unchanged
  looks again on ``scan.rescan_retry_s`` before concluding (:mod:`cspm_stream.stages.rescan_retry`).

Unchanged resources: every snapshot is re-emitted (``observed_at`` = freshness) with
the same ``content_hash`` when nothing changed. The posture stage keeps the last hash
it evaluated per ARN in its table and skips evaluation when the hash (plus the set of
failed attributes) is the same, so an unchanged estate costs one dict lookup per
resource downstream.

Memory: a job's snapshots are returned as one list (the stage contract); jobs are per
(account, region, service), which bounds the list to one service's resources.

Size: a snapshot larger than :data:`MAX_SNAPSHOT_BYTES` loses its largest attributes, each
recorded as ``AttributeFailure(code="TooLarge")`` — unreadable, so never a silent pass.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import structlog

from cspm_stream.collect import Collector, ScanOutcome
from cspm_stream.collect.accounts import SessionPool, discover_accounts, discover_regions, role_arn
from cspm_stream.collect.collector import EventHook
from cspm_stream.collect.schedule import job_key, plan_scan
from cspm_stream.collect.services import spec_for
from cspm_stream.collect.spec import GLOBAL
from cspm_stream.models import (
    AttributeFailure,
    RescanRequest,
    ResourceDeleted,
    ResourceSnapshot,
    ScanJob,
    ScanStatus,
)
from cspm_stream.models.codec import decode_any, dumps
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit, RecordMeta, RoleContext, Service, StageParts, headers_for
from cspm_stream.stages.rescan_retry import RescanRetries
from cspm_stream.timeutil import iso, now, parse_iso

if TYPE_CHECKING:
    from cspm_stream.observability.metrics import Metrics

log = structlog.get_logger("cspm_stream.ingest")

Clock = Callable[[], dt.datetime]


def seen_key(account_id: str, region: str, resource_type: str) -> str:
    return f"seen|{account_id}|{region}|{resource_type}"


#: Largest snapshot value produced (Kafka brokers refuse records above message.max.bytes, 1 MiB by default).
MAX_SNAPSHOT_BYTES = 900 * 1024


def fit(snap: ResourceSnapshot, max_bytes: int = MAX_SNAPSHOT_BYTES) -> bytes:
    """Serialise ``snap``; if too large, drop its largest attributes one by one and record each
    as an :class:`AttributeFailure` (code ``TooLarge``): policies reading them get ERROR, never PASS."""
    data = dumps(snap)
    if len(data) <= max_bytes:
        return data
    attrs = dict(snap.attributes)
    errors = list(snap.errors)
    sizes = sorted(((len(dumps({"v": v})), k) for k, v in attrs.items()), reverse=True)
    for size, key in sizes:
        del attrs[key]
        errors.append(AttributeFailure(attribute=key, code="TooLarge", message=f"{size} bytes: dropped to fit Kafka"))
        smaller = ResourceSnapshot(
            arn=snap.arn,
            resource_type=snap.resource_type,
            resource_id=snap.resource_id,
            account_id=snap.account_id,
            region=snap.region,
            observed_at=snap.observed_at,
            scan_id=snap.scan_id,
            attributes=attrs,
            tags=snap.tags,
            errors=errors,
            change=snap.change,
        )
        data = dumps(smaller)
        if len(data) <= max_bytes:
            break
    return data


def snapshot_emit(snap: ResourceSnapshot, trace: str) -> Emit:
    return Emit("inventory", snap.arn, fit(snap), headers_for("inventory.v1", trace))


def deletion_emits(
    arn: str, resource_type: str, account_id: str, region: str, at: str, scan_id: str, trace: str
) -> list[Emit]:
    """A deletion event, then the tombstone that compacts the ARN away."""
    gone = ResourceDeleted(
        arn=arn, resource_type=resource_type, account_id=account_id, region=region, observed_at=at, scan_id=scan_id
    )
    return [
        Emit("inventory", arn, dumps(gone), headers_for("inventory-deleted.v1", trace)),
        Emit("inventory", arn, None, headers_for("inventory-deleted.v1", trace, tombstone="true")),
    ]


def reconcile(job: ScanJob, outcome: ScanOutcome, state: MutableMapping[str, Any], at: str) -> list[Emit]:
    """Deletions for a finished job (pure: state in, emits out). Only complete listings count."""
    emits: list[Emit] = []
    if not job.full:
        return emits
    for rtype in sorted(outcome.complete_types):
        key = seen_key(job.account_id, job.region, rtype)
        current = outcome.seen.get(rtype, set())
        previous = set(state.get(key) or [])
        for arn in sorted(previous - current):
            emits.extend(deletion_emits(arn, rtype, job.account_id, job.region, at, job.scan_id, job.job_id))
        state[key] = sorted(current)
    return emits


class IngestHandler:
    """The ingest stage (see module docstring). Owns one long-lived :class:`Collector`."""

    name = "ingest"
    inputs: tuple[str, ...] = ("scan-jobs", "rescan")
    #: each record is AWS round trips (a job lists a service, a rescan reads one resource): the runtime
    #: handles the records of different partitions concurrently (a key's records stay in order, on its
    #: partition) and commits every few records (bench.runtime_ceiling io vs io-concurrent)
    concurrent_partitions = True
    max_batch = 8

    def __init__(
        self,
        settings: Settings,
        *,
        collector: Collector | None = None,
        clock: Clock = now,
        aws_hooks: Sequence[EventHook] = (),
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self._aws_hooks = tuple(aws_hooks)  # botocore hooks on every AWS session (the call metrics)
        self._collector = collector
        self._own_collector = collector is None
        self._clock = clock
        self._lock = asyncio.Lock()
        self._me: str | None = None
        self.retries = RescanRetries(
            settings.scan.rescan_retry_s,
            self._look,
            self._conclude_deleted,
            snapshot_emit,
            clock=lambda: self._clock().timestamp(),
            metrics=metrics,
        )
        #: the runtime calls :meth:`tick` this often (due rescan retries); 0 = no timer
        self.tick_interval_s = self.retries.tick_interval_s

    async def start(self) -> None:
        await self._get_collector()

    async def stop(self) -> None:
        if self._collector is not None and self._own_collector:
            await self._collector.stop()
            self._collector = None

    async def _get_collector(self) -> Collector:
        async with self._lock:
            if self._collector is None:
                aws = self.settings.aws
                pool = SessionPool(aws, event_hooks=self._aws_hooks)
                self._collector = Collector(aws, throttle_retries=aws.throttle_retries, sessions=pool)
            await self._collector.start()
            return self._collector

    async def handle(
        self, key: bytes | None, value: bytes | None, meta: RecordMeta, state: MutableMapping[str, Any]
    ) -> list[Emit]:
        msg = decode_any(value, (ScanJob, RescanRequest))
        if isinstance(msg, ScanJob):
            return await self.scan(msg, state)
        return await self.rescan(msg, state)

    async def scan(self, job: ScanJob, state: MutableMapping[str, Any]) -> list[Emit]:
        collector = await self._get_collector()
        started = iso(self._clock())
        outcome = ScanOutcome()
        emits = []
        async for snap in collector.collect(job, outcome):
            self.retries.remember((snap,))
            emits.append(snapshot_emit(snap, job.job_id))
        finished = iso(self._clock())
        emits.extend(reconcile(job, outcome, state, finished))
        status = ScanStatus(
            job_id=job.job_id,
            scan_id=job.scan_id,
            account_id=job.account_id,
            region=job.region,
            service=job.service,
            started_at=started,
            finished_at=finished,
            resources=outcome.resources,
            errors=outcome.errors,
            complete=outcome.complete,
        )
        emits.append(Emit("scan-status", job_key(job), dumps(status), headers_for("scan-status.v1", job.job_id)))
        log.info(
            "scan job done",
            job_id=job.job_id,
            resources=outcome.resources,
            errors=outcome.errors,
            complete=outcome.complete,
        )
        return emits

    async def _role_for(self, account_id: str) -> str | None:
        aws = self.settings.aws
        for a in aws.accounts:
            if a.id == account_id:
                return role_arn(a.id, a.role_name or aws.role_name)
        if self._me is None:
            self._me = await (await self._get_collector()).sessions.caller_account()
        if account_id == self._me:
            return None
        return role_arn(account_id, aws.role_name)

    async def rescan(self, req: RescanRequest, state: MutableMapping[str, Any]) -> list[Emit]:
        target = req.arn or f"{req.account_id}|{req.region}|{req.resource_type}|{req.resource_id}"
        dkey = f"rescan|{target}"
        now_s = self._clock().timestamp()
        last = state.get(dkey)
        # Merge a burst: skip a request only if a rescan of the same target already ran
        # after the request was made (a request made later — e.g. by the remediator right
        # after its fix — asks for a newer state than the last snapshot and is always served).
        try:
            asked_s = parse_iso(req.requested_at).timestamp()
        except ValueError:
            asked_s = now_s
        if isinstance(last, int | float) and now_s - last < self.settings.scan.rescan_dedup_s and asked_s <= last:
            return []
        state[dkey] = now_s
        snaps, complete = await self._look(req)
        emits = [snapshot_emit(s, f"rescan:{req.request_id}") for s in snaps]
        found = [s for s in snaps if s.resource_id != "*"]
        missing = not found and complete and bool(req.arn)
        if self.retries.first_look(req, found, missing, state) and missing:
            emits.extend(self._conclude_deleted(req, state))
        self.retries.remember(found)
        return emits

    def _job(self, req: RescanRequest, role: str | None) -> ScanJob:
        service, spec = spec_for(req.resource_type)
        return ScanJob(
            job_id=f"rescan:{req.request_id}",
            scan_id=f"rescan-{req.request_id}",
            account_id=req.account_id,
            region=GLOBAL if spec.global_ else req.region,
            service=service,
            requested_at=req.requested_at,
            resource_types=[req.resource_type],
            role_arn=role,
            full=False,
        )

    async def _look(self, req: RescanRequest) -> tuple[list[ResourceSnapshot], bool]:
        """One look at the request's resource: its snapshots (carrying the request's actor) and
        whether the listing was complete."""
        job = self._job(req, await self._role_for(req.account_id))
        collector = await self._get_collector()
        snaps, complete = await collector.collect_one(job, arn=req.arn, resource_id=req.resource_id)
        for s in snaps:
            s.change = req.actor
        return list(snaps), complete

    def _conclude_deleted(self, req: RescanRequest, state: MutableMapping[str, Any]) -> list[Emit]:
        """The resource is gone: its deletion (naming who deleted it) and tombstone; no longer seen."""
        assert req.arn is not None
        job = self._job(req, None)
        at = iso(self._clock())
        emits = deletion_emits(req.arn, req.resource_type, req.account_id, job.region, at, job.scan_id, job.job_id)
        gone = emits[0]
        if req.actor is not None and gone.value is not None:
            gone.value = dumps(
                ResourceDeleted(
                    arn=req.arn,
                    resource_type=req.resource_type,
                    account_id=req.account_id,
                    region=job.region,
                    observed_at=at,
                    scan_id=job.scan_id,
                    change=req.actor,
                )
            )
        skey = seen_key(req.account_id, job.region, req.resource_type)
        if skey in state:
            state[skey] = [a for a in state[skey] if a != req.arn]
        return emits

    def tick(self, state: MutableMapping[str, Any]) -> list[Emit]:
        """The runtime's timer: due rescan retries start, finished ones emit what they found."""
        return self.retries.tick(state)


class Scheduler:
    """Every ``scan.interval_s``: discover accounts and regions, plan a full scan, produce its jobs.

    ``send`` receives the list of :class:`Emit` (topic ``scan-jobs``); the daemon passes
    a producer's ``send_many``. Discovery failures are logged and retried next tick.
    """

    def __init__(
        self,
        settings: Settings,
        send: Callable[[list[Emit]], Awaitable[None]] | None = None,
        *,
        clock: Clock = now,
        aws_hooks: Sequence[EventHook] = (),
    ) -> None:
        self.settings = settings
        self._send = send
        self._clock = clock
        self._aws_hooks = tuple(aws_hooks)
        self._task: asyncio.Task[None] | None = None
        self._producer: Any = None
        self.ticks = 0

    async def plan(self) -> list[Emit]:
        """One tick's jobs as emits (does AWS discovery, no Kafka)."""
        aws = self.settings.aws
        async with Collector(aws, sessions=SessionPool(aws, event_hooks=self._aws_hooks)) as c:
            accounts = await discover_accounts(self.settings.aws, c.sessions)
            regions = {a.account_id: await discover_regions(self.settings.aws, c.sessions, a) for a in accounts}
        jobs = plan_scan(self.settings, accounts, regions, iso(self._clock()))
        return [Emit("scan-jobs", job_key(j), dumps(j), headers_for("scan-job.v1", j.job_id)) for j in jobs]

    async def tick(self) -> int:
        emits = await self.plan()
        if self._send is not None:
            await self._send(emits)
        self.ticks += 1
        return len(emits)

    async def run_forever(self) -> None:
        while True:
            try:
                n = await self.tick()
                log.info("scan scheduled", jobs=n)
            except Exception as exc:
                log.error("scheduling failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self.settings.scan.interval_s)

    async def start(self) -> None:
        if self._send is None:
            from cspm_stream.kafka import Producer

            self._producer = Producer(self.settings.kafka)
            await self._producer.start()
            self._send = self._producer.send_many
        self._task = asyncio.create_task(self.run_forever(), name="cspm-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


def build_scheduler(settings: Settings, send: Callable[[list[Emit]], Awaitable[None]] | None = None) -> Scheduler:
    return Scheduler(settings, send)


def has_sources(settings: Settings) -> bool:
    """Whether any CloudTrail source is configured."""
    ct = settings.cloudtrail
    return bool(ct.sqs_queue_urls or ct.eventbridge_queue_urls or ct.lookup_events)


def build_stage(ctx: RoleContext) -> StageParts:
    """Daemon factory (role ``ingest``): the scan-job/rescan handler, the scheduler (when
    ``scan.scheduler``) and the CloudTrail sources (when configured), on the process's producer."""
    from cspm_stream.observability.aws_calls import aws_call_hooks

    settings = ctx.settings
    hooks = aws_call_hooks(ctx.metrics)  # every AWS call counted in the process registry
    services: list[tuple[str, Service]] = []
    if settings.scan.scheduler:
        services.append(("scheduler", Scheduler(settings, ctx.producer.send_many, clock=ctx.clock, aws_hooks=hooks)))
    if has_sources(settings):
        from cspm_stream.sources.runner import build_sources

        services.append(("cloudtrail", build_sources(settings, ctx.producer, metrics=ctx.metrics)))
    from cspm_stream.external.stage import sources_service

    external = sources_service(ctx)  # GuardDuty, Security Hub, Access Analyzer (when configured)
    if external is not None:
        services.append(("external", external))
    handler = IngestHandler(settings, clock=ctx.clock, aws_hooks=hooks, metrics=ctx.metrics)
    return StageParts(handler, tuple(services))
