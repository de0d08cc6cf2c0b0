"""Inventory collection: declarative specs run by one async collector.

Public API::

    async with Collector(settings.aws) as c:
        async for snap in c.collect(job, outcome):      # one ScanJob
            ...
    async for snap in collect(job, settings):           # same, collector opened for you
        ...
    async for snap in collect_all(settings, regions=None, services=None, progress=cb):
        ...                                             # every account, region and service

``progress(job, outcome)`` is called after each job finishes (``outcome.complete``,
``outcome.resources``, ``outcome.errors``). See :mod:`cspm_stream.collect.collector`
for how failures become data (attribute failures, collection-error snapshots).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from cspm_stream.collect.accounts import AccountRef, SessionPool, discover_accounts, discover_regions
from cspm_stream.collect.collector import Collector, EventHook
from cspm_stream.collect.run import ScanOutcome, merged
from cspm_stream.collect.schedule import plan_scan
from cspm_stream.collect.spec import GLOBAL, Detail, ResourceSpec
from cspm_stream.models import ResourceSnapshot, ScanJob
from cspm_stream.settings import Settings
from cspm_stream.timeutil import now_iso

__all__ = [
    "GLOBAL",
    "AccountRef",
    "Collector",
    "Detail",
    "ResourceSpec",
    "ScanOutcome",
    "SessionPool",
    "collect",
    "collect_all",
    "discover_accounts",
    "discover_regions",
    "plan_scan",
]

Progress = Callable[[ScanJob, ScanOutcome], Any]


async def collect(
    job: ScanJob,
    settings: Settings,
    *,
    outcome: ScanOutcome | None = None,
    event_hooks: Sequence[EventHook] = (),
) -> AsyncIterator[ResourceSnapshot]:
    """Snapshots of one job, with a collector opened and closed around it."""
    async with Collector(settings.aws, event_hooks=event_hooks, throttle_retries=settings.aws.throttle_retries) as c:
        async for snap in c.collect(job, outcome):
            yield snap


async def collect_all(
    settings: Settings,
    regions: Sequence[str] | None = None,
    services: Sequence[str] | None = None,
    progress: Progress | None = None,
    *,
    event_hooks: Sequence[EventHook] = (),
    max_parallel_jobs: int = 16,
) -> AsyncIterator[ResourceSnapshot]:
    """Every resource of every account, region and service (the one-shot ``scan``)."""
    async with Collector(settings.aws, event_hooks=event_hooks, throttle_retries=settings.aws.throttle_retries) as c:
        accounts = await discover_accounts(settings.aws, c.sessions)
        per_account: dict[str, list[str]] = {}
        for acc in accounts:
            per_account[acc.account_id] = (
                list(regions) if regions else await discover_regions(settings.aws, c.sessions, acc)
            )
        jobs = plan_scan(settings, accounts, per_account, now_iso(), services=services)
        async for snap in run_jobs(c, jobs, progress, max_parallel_jobs):
            yield snap


async def run_jobs(
    c: Collector, jobs: Sequence[ScanJob], progress: Progress | None = None, max_parallel_jobs: int = 16
) -> AsyncIterator[ResourceSnapshot]:
    """Run jobs concurrently on one collector, merging their snapshots into one stream."""
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=512)
    gate = asyncio.Semaphore(max_parallel_jobs)

    async def one(job: ScanJob) -> None:
        async with gate:
            outcome = ScanOutcome()
            async for snap in c.collect(job, outcome):
                await queue.put(snap)
            if progress is not None:
                progress(job, outcome)

    async for snap in merged((one(job) for job in jobs), queue):
        yield snap
