"""The one-shot scan's collection: bounded in time, and telling the operator it is alive.

:func:`collect_bounded` runs every (account, region, service) job like
:func:`cspm_stream.collect.collect_all`, but within ``deadline_s`` seconds. When time
runs out — typically because AWS keeps throttling — collection stops and every job
that did not finish yields one collection-error snapshot per resource type
(code ``ScanDeadline``): the policies of those types become ERROR findings, so the
results so far are kept and what could not be read is reported, never silently
missing. :class:`Ticker` prints a progress line to stderr every ``every_s`` seconds
once the scan has run that long (a quick scan prints nothing).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, cast

from cspm_stream.collect.faults import Fault, FaultKind
from cspm_stream.errors import CollectionError
from cspm_stream.models import ResourceSnapshot, ScanJob
from cspm_stream.settings import Settings
from cspm_stream.timeutil import now_iso

DEADLINE_CODE = "ScanDeadline"


@dataclass
class ScanState:
    """What the ticker reports and what the deadline needs: jobs planned and jobs done."""

    started: float = field(default_factory=time.monotonic)
    jobs: list[ScanJob] = field(default_factory=list)
    done: set[str] = field(default_factory=set)
    resources: int = 0
    errors: int = 0
    calls: Callable[[], int] = lambda: 0
    timed_out: bool = False

    def job_done(self, job: ScanJob, outcome: Any) -> None:
        self.done.add(job.job_id)

    def line(self) -> str:
        pending = [j for j in self.jobs if j.job_id not in self.done]
        waiting = sorted({f"{j.service}@{j.region}" for j in pending})
        more = f" (waiting on {', '.join(waiting[:4])}{' ...' if len(waiting) > 4 else ''})" if waiting else ""
        return (
            f"scan: {time.monotonic() - self.started:.0f}s, {len(self.done)}/{len(self.jobs) or '?'} jobs done, "
            f"{self.resources} resources, {self.errors} errors, {self.calls()} AWS calls{more}"
        )


class Ticker:
    """Prints :meth:`ScanState.line` to ``stream`` every ``every_s`` seconds, starting after ``every_s``."""

    def __init__(self, state: ScanState, stream: IO[str], every_s: float = 10.0) -> None:
        self.state = state
        self.stream = stream
        self.every_s = every_s
        self.printed = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            self.stream.write(self.state.line() + "\n")
            self.stream.flush()
            self.printed += 1

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


async def _bounded(aw: Any, deadline: float, what: str) -> Any:
    remaining = deadline - time.monotonic()
    try:
        return await asyncio.wait_for(aw, max(0.001, remaining))
    except TimeoutError:
        raise CollectionError(f"{what} did not finish before the scan deadline", code=DEADLINE_CODE) from None


async def collect_bounded(
    settings: Settings,
    regions: Sequence[str] | None,
    services: Sequence[str] | None,
    state: ScanState,
    deadline_s: float,
) -> AsyncIterator[ResourceSnapshot]:
    """Snapshots of every job, then collection-error snapshots for what the deadline cut off."""
    from cspm_stream.collect import Collector, discover_accounts, discover_regions, plan_scan, run_jobs
    from cspm_stream.collect.run import error_snapshot

    deadline = state.started + deadline_s
    async with Collector(settings.aws, throttle_retries=settings.aws.throttle_retries) as c:
        state.calls = lambda: int(c.calls_made)
        accounts = await _bounded(discover_accounts(settings.aws, c.sessions), deadline, "account discovery")
        per_account: dict[str, list[str]] = {}
        for acc in accounts:
            per_account[acc.account_id] = (
                list(regions)
                if regions
                else await _bounded(discover_regions(settings.aws, c.sessions, acc), deadline, "region discovery")
            )
        state.jobs = plan_scan(settings, accounts, per_account, now_iso(), services=services)
        stream = cast(AsyncGenerator[ResourceSnapshot, None], run_jobs(c, state.jobs, state.job_done))
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                state.timed_out = True
                break
            try:
                snap = await asyncio.wait_for(anext(stream), remaining)
            except StopAsyncIteration:
                break
            except TimeoutError:  # the pending read was cancelled: its jobs stop (merged cancels them)
                state.timed_out = True
                break
            state.resources += 1
            yield snap
        await stream.aclose()
        if not state.timed_out:
            return
        fault = Fault(
            FaultKind.TRANSIENT,
            DEADLINE_CODE,
            f"not collected within the scan's time limit ({deadline_s:g}s, scan.max_duration_s / --max-duration): "
            "AWS throttling or slow calls; the results so far are kept",
        )
        observed = now_iso()
        for job in state.jobs:
            if job.job_id in state.done:
                continue
            for spec in c.specs_for(job):
                yield error_snapshot(job, spec, job.region, fault, observed)
