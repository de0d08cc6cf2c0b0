"""The one generic async collector: runs :class:`ResourceSpec` s for a :class:`ScanJob`.

Lifecycle: ``async with Collector(aws_settings) as c:`` — every aiobotocore client
lives in one :class:`contextlib.AsyncExitStack`, created on first use per
(account, region, service) and reused until :meth:`Collector.stop`.

Politeness: each call waits on three semaphores (per account, per
(account, region), per (account, region, service)) and on the adaptive token bucket of
its (account, region, service[, operation]) in the :class:`~cspm_stream.collect.ratelimit.RateGovernor`
(pass one governor to every collector of a process to share the budgets). Every throttled
response — also the ones botocore's ``standard`` retries absorb — cuts that bucket's rate;
successes grow it back. A call still throttled after botocore's retries is retried here
with capped exponential backoff — throttling slows a scan, it never fails it. S3 calls
about a bucket go to the bucket's region (client and budget).

Failures are data:

* a detail call that fails (AccessDenied, 5xx, not implemented, timeout) leaves its
  attribute key absent and adds ``AttributeFailure(attribute=<key>, code, message)``
  to that resource's snapshot; legitimately "not configured" codes store ``None``;
* a failed **list** call yields a *collection-error snapshot* for the type:
  ``resource_id="*"``, ``arn="arn:aws:<svc>:<region>:<account>:collection-error/<type>"``,
  empty attributes and one ``AttributeFailure(attribute="*", ...)``; the type is then
  marked incomplete in the :class:`ScanOutcome`, so no deletion is inferred from it;
* "not implemented" (HTTP 501 / moto's HTML 500) is never retried for long: botocore
  is told not to retry it, and the operation is short-circuited for the rest of the
  collector's life on that client.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import jmespath
from botocore import xform_name
from botocore.config import Config

from cspm_stream.collect.accounts import SessionPool
from cspm_stream.collect.faults import THROTTLING_CODES, CallFailed, Fault, FaultKind, classify
from cspm_stream.collect.normalize import plain
from cspm_stream.collect.ratelimit import RateGovernor
from cspm_stream.collect.run import ScanOutcome, run_specs
from cspm_stream.collect.spec import GLOBAL, Item, ResourceSpec
from cspm_stream.models import AttributeFailure, ResourceSnapshot, ScanJob
from cspm_stream.settings import AwsSettings
from cspm_stream.timeutil import now_iso

EventHook = tuple[str, Callable[..., Any]]


_ACCOUNT_HOST = re.compile(r"^(https?://)\d{12}\.")


def _strip_account_host(request: Any, **_: Any) -> None:
    """before-send hook for S3 Control on a custom endpoint: the endpoint ruleset puts the
    account id in the host (``<account>.127.0.0.1``); moto routes by path, so drop it."""
    request.url = _ACCOUNT_HOST.sub(r"\1", request.url)


async def _no_retry_not_implemented(response: Any = None, **_: Any) -> None:
    """needs-retry hook: an HTML 500 (moto's 'not implemented') becomes a 501 botocore won't retry."""
    if not response:
        return
    http = response[0]
    if getattr(http, "status_code", 0) != 500:
        return
    body = await http.content or b""  # read (and kept) by the parser already
    if body[:200].lower().lstrip().startswith((b"<!doctype html", b"<html")) or b"not been implemented" in body:
        http.status_code = 501


def _throttle_observer(governor: RateGovernor, account: str, region: str, service: str) -> Callable[..., None]:
    """needs-retry hook: every throttled response (retried by botocore or not) feeds the governor."""

    def observe(response: Any = None, operation: Any = None, **_: Any) -> None:
        if not response:
            return
        http, parsed = response
        status = getattr(http, "status_code", 0)
        code = (parsed or {}).get("Error", {}).get("Code", "") if isinstance(parsed, dict) else ""
        if status == 429 or code in THROTTLING_CODES:
            op = xform_name(operation.name) if operation is not None else ""
            governor.bucket(account, region, service, op).on_throttle()

    return observe


class Collector:
    """Collect snapshots for scan jobs. See the module docstring for the failure contract."""

    def __init__(
        self,
        aws: AwsSettings,
        *,
        specs: Mapping[str, Sequence[ResourceSpec]] | None = None,
        event_hooks: Sequence[EventHook] = (),
        page_size: int | None = None,
        throttle_retries: int = 8,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 20.0,
        clock: Callable[[], str] = now_iso,
        sessions: SessionPool | None = None,
        governor: RateGovernor | None = None,
    ) -> None:
        if specs is None:
            from cspm_stream.collect.services import SPECS

            specs = SPECS
        self.aws = aws
        self.specs = specs
        self._hooks = list(event_hooks)
        self.page_size = page_size
        self._throttle_retries = throttle_retries
        self._backoff_base = backoff_base_s
        self._backoff_cap = backoff_cap_s
        self._clock = clock
        self.sessions = sessions or SessionPool(aws)
        self._stack: contextlib.AsyncExitStack | None = None
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._client_locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        self._sems: dict[tuple[str, ...], asyncio.Semaphore] = {}
        #: the call budgets; ``aws.rate_per_second`` > 0 fixes them, 0 (default) adapts them
        self.governor = governor or RateGovernor(aws.rate_per_second or None)
        self._broken: dict[tuple[str, str, str, str], Fault] = {}
        self.calls_made = 0
        self.calls_by_operation: Counter[str] = Counter()  # "service.operation" -> calls sent
        self.throttle_retries_done = 0
        self._paginator_models: dict[str, Any] = {}

    # lifecycle -------------------------------------------------------------------------------
    async def start(self) -> Collector:
        if self._stack is None:
            self._stack = contextlib.AsyncExitStack()
            await self._stack.__aenter__()
        return self

    async def stop(self) -> None:
        stack, self._stack = self._stack, None
        self._clients.clear()
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> Collector:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # clients ---------------------------------------------------------------------------------
    def api_region(self, region: str) -> str:
        return self.aws.global_region if region == GLOBAL else region

    async def client(self, account_id: str, role_arn: str | None, region: str, service: str) -> Any:
        region = self.api_region(region)
        k = (account_id, region, service)
        c = self._clients.get(k)
        if c is not None:
            return c
        lock = self._client_locks.setdefault(k, asyncio.Lock())
        async with lock:
            c = self._clients.get(k)
            if c is not None:
                return c
            if self._stack is None:
                raise RuntimeError("Collector used outside 'async with' (call start() first)")
            session = await self.sessions.session(account_id, role_arn)
            cfg = Config(
                # standard, not adaptive: the governor is the one client-side rate limiter
                retries={"mode": "standard", "max_attempts": self.aws.max_attempts},
                read_timeout=self.aws.call_timeout_s,
                connect_timeout=min(10.0, self.aws.call_timeout_s),
                max_pool_connections=max(10, self.aws.max_concurrency_per_service * 2),
                user_agent_extra="cspm-stream",
            )
            new: Any = await self._stack.enter_async_context(
                session.create_client(service, region_name=region, endpoint_url=self.aws.endpoint_url, config=cfg)
            )
            c = new
            c.meta.events.register_first("needs-retry.*", _no_retry_not_implemented)
            c.meta.events.register("needs-retry.*", _throttle_observer(self.governor, account_id, region, service))
            if self.aws.endpoint_url and service == "s3control":
                c.meta.events.register("before-send.s3-control.*", _strip_account_host)
            for event, hook in self._hooks:
                c.meta.events.register(event, hook)
            self._clients[k] = c
            return c

    def _sem(self, key: tuple[str, ...], size: int) -> asyncio.Semaphore:
        s = self._sems.get(key)
        if s is None:
            s = self._sems[key] = asyncio.Semaphore(size)
        return s

    # calls -----------------------------------------------------------------------------------
    async def call(
        self, account_id: str, role_arn: str | None, region: str, service: str, operation: str, **params: Any
    ) -> dict[str, Any]:
        """One AWS call, budgeted and retried; raises :class:`CallFailed` with the classified fault."""
        region = self.api_region(region)
        k = (account_id, region, service)
        broken = self._broken.get((*k, operation))
        if broken is not None:
            raise CallFailed(operation, broken)
        client = await self.client(account_id, role_arn, region, service)
        method = getattr(client, operation)
        attempt = 0
        while True:
            fault = await self._attempt(k, operation, method, params)
            if isinstance(fault, dict):
                return fault
            if fault.kind is FaultKind.THROTTLED:
                self.governor.bucket(*k, operation).on_throttle()
            if fault.kind is FaultKind.THROTTLED and attempt < self._throttle_retries:
                delay = min(self._backoff_cap, self._backoff_base * 2**attempt) * (0.5 + random.random() / 2)
                await asyncio.sleep(delay)
                self.throttle_retries_done += 1
                attempt += 1
                continue
            if fault.kind is FaultKind.TRANSIENT and attempt < 2:
                await asyncio.sleep(min(self._backoff_cap, self._backoff_base * 2**attempt))
                attempt += 1
                continue
            if fault.kind is FaultKind.NOT_IMPLEMENTED:
                self._broken[(*k, operation)] = fault
            raise CallFailed(operation, fault)

    async def _attempt(
        self,
        k: tuple[str, str, str],
        operation: str,
        method: Callable[..., Awaitable[dict[str, Any]]],
        params: dict[str, Any],
    ) -> dict[str, Any] | Fault:
        account, region, service = k
        bucket = self.governor.bucket(account, region, service, operation)
        # Lock order is always account → region → service, so the semaphores cannot deadlock.
        async with (
            self._sem((account,), self.aws.max_concurrency_per_account),
            self._sem((account, region), self.aws.max_concurrency_per_region),
            self._sem(k, self.aws.max_concurrency_per_service),
        ):
            await bucket.acquire()
            self.calls_made += 1
            self.calls_by_operation[f"{service}.{operation}"] += 1
            try:
                resp = await method(**params)
            except Exception as exc:  # classified below, never swallowed
                return classify(exc)
            bucket.on_success()
            return resp

    async def pages(
        self,
        account_id: str,
        role_arn: str | None,
        region: str,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        page_size: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of a paginated operation, each page fetched through :meth:`call`."""
        client = await self.client(account_id, role_arn, region, service)
        if not client.can_paginate(operation):
            yield await self.call(account_id, role_arn, region, service, operation, **params)
            return
        # botocore's paginator config (tokens, limit key) drives our own loop, so every page
        # goes through call(): budget, semaphores and retries apply per page.
        cfg = self._pagination(client, service, operation)
        in_toks = cfg["input_token"] if isinstance(cfg["input_token"], list) else [cfg["input_token"]]
        out_toks = cfg["output_token"] if isinstance(cfg["output_token"], list) else [cfg["output_token"]]
        more = cfg.get("more_results")
        limit_key = cfg.get("limit_key")
        req = dict(params)
        if page_size and limit_key and limit_key not in req:
            req[limit_key] = page_size
        seen_tokens: set[str] = set()
        while True:
            page = await self.call(account_id, role_arn, region, service, operation, **req)
            yield page
            if more and not jmespath.search(more, page):
                return
            nxt = [jmespath.search(t, page) for t in out_toks]
            if not any(nxt):
                return
            marker = repr(nxt)
            if marker in seen_tokens:  # a server that repeats its token would loop forever
                return
            seen_tokens.add(marker)
            for name, value in zip(in_toks, nxt, strict=False):
                if value is None:
                    req.pop(name, None)
                else:
                    req[name] = value

    def _pagination(self, client: Any, service: str, operation: str) -> dict[str, Any]:
        """botocore's pagination config (tokens, limit key, more-results) of one operation."""
        model = self._paginator_models.get(service)
        if model is None:
            model = self._paginator_models[service] = self.sessions.base.get_paginator_model(service)
        config: dict[str, Any] = model.get_paginator(client.meta.method_to_api_mapping[operation])
        return config

    # collection ------------------------------------------------------------------------------
    def specs_for(self, job: ScanJob) -> list[ResourceSpec]:
        if job.service not in self.specs:
            known = ", ".join(sorted(self.specs))
            raise ValueError(f"scan job {job.job_id}: unknown service {job.service!r} (known: {known})")
        specs = list(self.specs[job.service])
        want_global = job.region == GLOBAL
        specs = [s for s in specs if s.global_ == want_global]
        if job.resource_types:
            specs = [s for s in specs if s.resource_type in job.resource_types]
        return specs

    async def collect(self, job: ScanJob, outcome: ScanOutcome | None = None) -> AsyncIterator[ResourceSnapshot]:
        """Yield a snapshot per resource of ``job``; ``outcome`` records completeness per type."""
        async for snap in run_specs(self, job, self.specs_for(job), outcome or ScanOutcome()):
            yield snap

    async def collect_one(
        self, job: ScanJob, *, arn: str | None = None, resource_id: str | None = None
    ) -> tuple[list[ResourceSnapshot], bool]:
        """Fresh snapshot(s) of one resource; returns (snapshots, listing_complete)."""
        outcome = ScanOutcome()
        found: list[ResourceSnapshot] = []
        async for snap in run_specs(self, job, self.specs_for(job), outcome, only_arn=arn, only_id=resource_id):
            found.append(snap)
        return found, outcome.complete

    def now(self) -> str:
        return self._clock()

    def failure(self, attribute: str, fault: Fault) -> AttributeFailure:
        return AttributeFailure(attribute=attribute, code=fault.code, message=fault.message)


def normalise_item(spec: ResourceSpec, item: Item) -> Item:
    data: Item = plain(item)
    return spec.post(data) if spec.post else data
