"""Execution of specs for one job: list (paginated), derive id/ARN, detail calls, snapshots.

Snapshots are handed over through a bounded queue, so a slow consumer (Kafka) slows
collection instead of piling snapshots up in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import jmespath

from cspm_stream.collect.faults import CallFailed, Fault, FaultKind
from cspm_stream.collect.normalize import plain
from cspm_stream.collect.spec import GLOBAL, Detail, Item, ResourceSpec, Scope
from cspm_stream.models import AttributeFailure, ResourceSnapshot, ScanJob

_DONE = object()
ITEM_CONCURRENCY = 32  # items of one type whose details are fetched at once
QUEUE_SIZE = 256


class CallSource(Protocol):
    """What running specs needs of a collector (:class:`~cspm_stream.collect.collector.Collector`):
    budgeted, retried, failure-classified AWS calls and pages, and the clock."""

    page_size: int | None

    def api_region(self, region: str) -> str: ...

    def now(self) -> str: ...

    async def call(
        self, account_id: str, role_arn: str | None, region: str, service: str, operation: str, **params: Any
    ) -> dict[str, Any]: ...

    def pages(
        self,
        account_id: str,
        role_arn: str | None,
        region: str,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        page_size: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]: ...


@dataclass
class ScanOutcome:
    """Filled while a job runs: what was seen and whether each type was listed completely."""

    resources: int = 0
    errors: int = 0
    complete_types: set[str] = field(default_factory=set)
    failed_types: set[str] = field(default_factory=set)
    seen: dict[str, set[str]] = field(default_factory=dict)  # resource_type -> ARNs

    @property
    def complete(self) -> bool:
        return not self.failed_types


class JobCalls:
    """The :class:`~cspm_stream.collect.spec.Calls` handle given to custom details."""

    def __init__(self, collector: CallSource, account_id: str, role_arn: str | None, region: str) -> None:
        self._c = collector
        self._account = account_id
        self._role = role_arn
        self.scope = Scope(account_id=account_id, region=region)
        self._cache: dict[str, asyncio.Future[Any]] = {}

    async def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        return await self._c.call(self._account, self._role, self.scope.region, service, operation, **params)

    async def call_in(self, region: str, service: str, operation: str, **params: Any) -> dict[str, Any]:
        return await self._c.call(self._account, self._role, region, service, operation, **params)

    def in_region(self, region: str) -> JobCalls:
        """The same job's calls made in ``region`` (an S3 bucket's own region); the cache is shared."""
        if region == self.scope.region:
            return self
        other = JobCalls(self._c, self._account, self._role, region)
        other._cache = self._cache
        return other

    async def paginate(self, service: str, operation: str, items: str, **params: Any) -> list[Any]:
        out: list[Any] = []
        async for page in self._c.pages(self._account, self._role, self.scope.region, service, operation, params):
            out.extend(jmespath.search(items, page) or [])
        return out

    async def cached(self, key: str, factory: Callable[[], Awaitable[Any]]) -> Any:
        """Share one expensive result (e.g. the credential report) between the items of one job.

        The cache lives as long as this handle (one job), so every scan reads fresh data; a
        failure is cached too, so N items do not repeat a failing call N times.
        """
        fut = self._cache.get(key)
        if fut is None:
            fut = self._cache[key] = asyncio.ensure_future(factory())
        return await asyncio.shield(fut)


_API_NAMES: dict[str, dict[str, str]] = {}


def api_name(service: str, operation: str) -> str:
    """The AWS API name of a botocore snake_case operation (``get_bucket_policy`` → ``GetBucketPolicy``),
    from botocore's service model (loaded once per service, only when a call failed)."""
    names = _API_NAMES.get(service)
    if names is None:
        try:
            import botocore.session
            from botocore import xform_name

            model = botocore.session.get_session().get_service_model(service)
            names = {xform_name(n): n for n in model.operation_names}
        except Exception:  # an unknown service name: fall back to the mechanical form
            names = {}
        _API_NAMES[service] = names
    return names.get(operation) or "".join(w[:1].upper() + w[1:] for w in operation.split("_"))


def failure_of(service: str, exc: CallFailed, attribute: str) -> AttributeFailure:
    """An attribute failure whose message starts with the AWS operation that failed (``GetBucketPolicy: ...``)."""
    return AttributeFailure(
        attribute=attribute, code=exc.fault.code, message=f"{api_name(service, exc.operation)}: {exc.fault.message}"
    )


def error_snapshot(job: ScanJob, spec: ResourceSpec, region: str, fault: Fault, observed_at: str) -> ResourceSnapshot:
    """The collection-error record of a type whose listing failed (see collector docstring)."""
    svc = spec.service_name
    return ResourceSnapshot(
        arn=f"arn:aws:{svc}:{region}:{job.account_id}:collection-error/{spec.resource_type}",
        resource_type=spec.resource_type,
        resource_id="*",
        account_id=job.account_id,
        region=region,
        observed_at=observed_at,
        scan_id=job.scan_id,
        attributes={},
        errors=[AttributeFailure(attribute="*", code=fault.code, message=fault.message)],
    )


async def run_specs(
    c: CallSource,
    job: ScanJob,
    specs: list[ResourceSpec],
    outcome: ScanOutcome,
    *,
    only_arn: str | None = None,
    only_id: str | None = None,
) -> AsyncIterator[ResourceSnapshot]:
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=QUEUE_SIZE)
    calls = JobCalls(c, job.account_id, job.role_arn, c.api_region(job.region))
    async for snap in merged(
        (_run_spec(c, job, spec, calls, queue, outcome, only_arn, only_id) for spec in specs), queue
    ):
        yield snap


async def merged(producers: Iterable[Coroutine[Any, Any, None]], queue: asyncio.Queue[Any]) -> AsyncIterator[Any]:
    """Run ``producers`` concurrently (each puts items on ``queue``) and yield the items as they come.

    Ends when every producer is done (re-raising the first failure); stopping early cancels them.
    """

    async def produce() -> None:
        try:
            async with asyncio.TaskGroup() as tg:
                for coro in producers:
                    tg.create_task(coro)
        finally:
            await queue.put(_DONE)

    task = asyncio.create_task(produce())
    try:
        while (got := await queue.get()) is not _DONE:
            yield got
        await task
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _run_spec(
    c: CallSource,
    job: ScanJob,
    spec: ResourceSpec,
    calls: JobCalls,
    queue: asyncio.Queue[Any],
    outcome: ScanOutcome,
    only_arn: str | None,
    only_id: str | None,
) -> None:
    region_label = job.region
    sem = asyncio.Semaphore(ITEM_CONCURRENCY)
    failures: list[Fault] = []

    async def one(item: Item) -> None:
        async with sem:
            try:
                await _one(c, job, spec, calls, queue, outcome, item, only_arn, only_id)
            except Exception as exc:  # a bug in a spec must still surface as an error record
                failures.append(Fault(FaultKind.ERROR, type(exc).__name__, str(exc)[:300]))

    try:
        async with asyncio.TaskGroup() as tg:
            async for item in _items(c, job, spec, calls, only_id):
                await sem.acquire()  # bound the number of pending item tasks
                sem.release()
                tg.create_task(one(item))
    except Exception as exc:  # an error record, never a silent gap
        leaf = _leaf(exc)
        if isinstance(leaf, CallFailed):
            if leaf.fault.code not in spec.list_not_configured:
                op = api_name(spec.service, leaf.operation)
                failures.append(Fault(leaf.fault.kind, leaf.fault.code, f"{op}: {leaf.fault.message}"))
        else:
            failures.append(Fault(FaultKind.ERROR, type(leaf).__name__, str(leaf)[:300]))
    if failures:
        outcome.failed_types.add(spec.resource_type)
        outcome.errors += 1
        await queue.put(error_snapshot(job, spec, region_label, failures[0], c.now()))
        return
    outcome.complete_types.add(spec.resource_type)


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups raised by a TaskGroup."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def _items(
    c: CallSource, job: ScanJob, spec: ResourceSpec, calls: JobCalls, only_id: str | None
) -> AsyncIterator[Item]:
    if spec.list_fn is not None:
        async for item in spec.list_fn(calls):
            if spec.item_filter is None or spec.item_filter(item, calls.scope):
                yield item
        return
    if spec.list_op is None:
        yield {}
        return
    params = dict(spec.list_params)
    one = bool(only_id and spec.one_params and not only_id.startswith("arn:"))
    if one and spec.one_params and only_id:
        params.update(spec.one_params(only_id))
    region = calls.scope.region
    if spec.paginated:
        pages = c.pages(job.account_id, job.role_arn, region, spec.service, spec.list_op, params, page_size=c.page_size)
    else:
        pages = _single(c, job, spec, region, params)
    try:
        async for page in pages:
            for item in jmespath.search(spec.items, page) or [] if spec.items else [page]:
                if spec.item_filter is None or spec.item_filter(item, calls.scope):
                    yield item
    except CallFailed as exc:
        # Fetching one id that no longer exists (InvalidInstanceID.NotFound, DBInstanceNotFound ...)
        # is a complete, empty answer: the rescan reports the resource deleted.
        if one and "NotFound" in exc.fault.code:
            return
        raise


async def _single(
    c: CallSource, job: ScanJob, spec: ResourceSpec, region: str, params: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    assert spec.list_op is not None
    yield await c.call(job.account_id, job.role_arn, region, spec.service, spec.list_op, **params)


async def _one(
    c: CallSource,
    job: ScanJob,
    spec: ResourceSpec,
    calls: JobCalls,
    queue: asyncio.Queue[Any],
    outcome: ScanOutcome,
    item: Item,
    only_arn: str | None,
    only_id: str | None,
) -> None:
    scope = calls.scope
    attrs: Item = plain(item)
    rid = spec.id(attrs, scope)
    arn = spec.arn(attrs, scope)
    # A rescan names its target by ARN when it can; the id is then only a hint (CloudTrail
    # often carries an ARN where the API's id goes), so it must not veto an ARN match.
    if only_arn:
        if arn != only_arn:
            return
    elif only_id and rid != only_id and not (spec.parent_id and spec.parent_id(attrs) == only_id):
        return
    errors: list[AttributeFailure] = []
    wanted = [d for d in spec.details if d.when is None or d.when(attrs)]
    phases = [wanted]
    if spec.item_region_calls and spec.region_of is not None:
        phases = [[d for d in wanted if d.locates], [d for d in wanted if not d.locates]]
    detail_calls = calls
    for i, phase in enumerate(phases):
        if i and spec.region_of is not None:  # later phases run in the item's own region
            detail_calls = calls.in_region(spec.region_of(attrs, scope))
        results = await asyncio.gather(*(_detail(spec, d, detail_calls, attrs) for d in phase))
        for d, (value, failure) in zip(phase, results, strict=True):
            if failure is None:
                attrs[d.key] = value
            else:
                errors.append(failure)
    if spec.post is not None:
        attrs = spec.post(attrs)
    region = spec.region_of(attrs, scope) if spec.region_of else (GLOBAL if spec.global_ else scope.region)
    snap = ResourceSnapshot(
        arn=arn,
        resource_type=spec.resource_type,
        resource_id=rid,
        account_id=job.account_id,
        region=region,
        observed_at=c.now(),
        scan_id=job.scan_id,
        attributes=attrs,
        tags=spec.tags(attrs) if spec.tags else {},
        errors=errors,
    )
    outcome.resources += 1
    outcome.errors += len(errors)
    outcome.seen.setdefault(spec.resource_type, set()).add(arn)
    await queue.put(snap)


async def _detail(spec: ResourceSpec, d: Detail, calls: JobCalls, item: Item) -> tuple[Any, AttributeFailure | None]:
    try:
        if d.fn is not None:
            return plain(await d.fn(calls, item)), None
        params = d.params(item)
        service = d.service or spec.service
        if d.paginate_items:
            return plain(await calls.paginate(service, d.operation, d.paginate_items, **params)), None
        resp = await calls.call(service, d.operation, **params)
        return plain(d.extract(resp)), None
    except CallFailed as exc:
        if exc.fault.kind is FaultKind.NOT_CONFIGURED or exc.fault.code in d.not_configured:
            return None, None
        return None, failure_of(d.service or spec.service, exc, d.key)
    except Exception as exc:  # a bug in a detail is an error record, never a pass
        return None, AttributeFailure(attribute=d.key, code=type(exc).__name__, message=str(exc)[:300])
