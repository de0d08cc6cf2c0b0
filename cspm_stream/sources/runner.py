"""Start the configured CloudTrail sources (``settings.cloudtrail``) for ``run --role ingest``.

>>> # async with build_sources(settings, producer) as sources: ...   (or start()/stop())

- one :class:`~cspm_stream.sources.s3_sqs.S3SqsSource` per ``cloudtrail.sqs_queue_urls``;
- one :class:`~cspm_stream.sources.eventbridge.EventBridgeSqsSource` per
  ``cloudtrail.eventbridge_queue_urls``;
- if ``cloudtrail.lookup_events``: one :class:`~cspm_stream.sources.lookup.LookupEventsPoller`
  per account (``aws.accounts``, or the running credentials' account) and region
  (``aws.regions``, or the enabled ones), checkpointed in ``cloudtrail.lookup_checkpoint_file``.

``producer`` is anything with ``async send_many(emits)`` that returns once every record
is acknowledged (``cspm_stream.kafka.Producer``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from aiobotocore.session import AioSession, get_session

from cspm_stream.settings import Settings
from cspm_stream.sources.emits import EmitProducer
from cspm_stream.sources.eventbridge import EventBridgeSqsSource
from cspm_stream.sources.files import Limits
from cspm_stream.sources.lookup import JsonFileCheckpoints, LookupEventsPoller, RateLimiter
from cspm_stream.sources.s3_sqs import S3SqsSource
from cspm_stream.sources.sqs import SqsSourceOptions, queue_region

if TYPE_CHECKING:
    from cspm_stream.observability.metrics import Metrics

log = structlog.get_logger(__name__)


class Source(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def default_region(settings: Settings) -> str:
    if settings.aws.regions:
        return settings.aws.regions[0]
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class Sources:
    """The running sources and the AWS clients they use (one AsyncExitStack)."""

    def __init__(
        self,
        settings: Settings,
        producer: EmitProducer,
        session: AioSession | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.producer = producer
        self.session = session or get_session()
        self.sources: list[Any] = []
        self._stack = contextlib.AsyncExitStack()
        self._scope_task: asyncio.Task[None] | None = None

    async def _client(self, service: str, region: str, session: AioSession | None = None) -> Any:
        s = session or self.session
        cm = s.create_client(service, region_name=region, endpoint_url=self.settings.aws.endpoint_url)
        return await self._stack.enter_async_context(cm)

    async def start(self) -> None:
        ct = self.settings.cloudtrail
        opts = SqsSourceOptions(
            wait_time_s=ct.sqs_wait_time_s,
            visibility_timeout_s=ct.sqs_visibility_timeout_s,
            max_messages=ct.sqs_max_messages,
        )
        region = default_region(self.settings)
        try:
            for url in ct.sqs_queue_urls:
                qr = queue_region(url, region)
                sqs, s3 = await self._client("sqs", qr), await self._client("s3", qr)
                self.sources.append(
                    S3SqsSource(
                        sqs,
                        s3,
                        url,
                        self.producer,
                        opts,
                        max_concurrent_downloads=ct.max_concurrent_downloads,
                        limits=Limits.from_settings(ct),
                    )
                )
            for url in ct.eventbridge_queue_urls:
                sqs = await self._client("sqs", queue_region(url, region))
                self.sources.append(EventBridgeSqsSource(sqs, url, self.producer, opts, metrics=self.metrics))
            if ct.lookup_events:
                await self._add_lookup_pollers()
            if self.metrics is not None:  # in the background: discovery must not delay the sources
                self._scope_task = asyncio.create_task(self._scope_freshness(self.metrics), name="cspm-ct-scope")
            for s in self.sources:
                await s.start()
        except BaseException:
            await self.stop()
            raise
        log.info("sources.started", count=len(self.sources))

    async def _add_lookup_pollers(self) -> None:
        # The account/region discovery and assume-role sessions are the collectors' (shared code).
        from cspm_stream.collect.accounts import SessionPool, discover_accounts, discover_regions

        ct = self.settings.cloudtrail
        pool = SessionPool(self.settings.aws, self.session)
        path = ct.lookup_checkpoint_file or str(Path(self.settings.app.data_dir) / "lookup-checkpoint.json")
        store = JsonFileCheckpoints(path)
        for acc in await discover_accounts(self.settings.aws, pool):
            session = await pool.session(acc.account_id, acc.role_arn)
            for region in await discover_regions(self.settings.aws, pool, acc):
                client = await self._client("cloudtrail", region, session)
                self.sources.append(
                    LookupEventsPoller(
                        client,
                        acc.account_id,
                        region,
                        self.producer,
                        store,
                        lookback_s=ct.lookup_lookback_s,
                        max_window_s=ct.lookup_max_window_s,
                        interval_s=ct.lookup_interval_s,
                        limiter=RateLimiter(ct.lookup_rate_per_s),
                        metrics=self.metrics,
                    )
                )

    async def _scope_freshness(self, metrics: Metrics) -> None:
        """Which accounts x regions may have a CloudTrail freshness series (see
        :mod:`cspm_stream.observability.cloudtrail_freshness`): the configured ones, else discovered."""
        from cspm_stream.collect.accounts import SessionPool, discover_accounts
        from cspm_stream.observability.cloudtrail_freshness import known_regions

        aws = self.settings.aws
        accounts = {a.id for a in aws.accounts}
        if not accounts or aws.organization_discovery:
            try:
                accounts.update(a.account_id for a in await discover_accounts(aws, SessionPool(aws, self.session)))
            except Exception as exc:  # the sources still run; their records are counted as outside the scope
                log.warning("sources.freshness_accounts_unknown", error=f"{type(exc).__name__}: {exc}")
        excluded = set(aws.exclude_regions)
        regions = [r for r in (aws.regions or known_regions()) if r not in excluded]
        metrics.cloudtrail.scope(accounts, regions)
        log.info("sources.freshness_scope", accounts=len(metrics.cloudtrail.accounts), regions=len(regions))

    async def stop(self) -> None:
        if self._scope_task is not None:
            self._scope_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scope_task
            self._scope_task = None
        for s in reversed(self.sources):
            try:
                await s.stop()
            except Exception as exc:  # keep stopping the others; report it
                log.error("sources.stop_failed", source=type(s).__name__, error=repr(exc))
        self.sources = []
        await self._stack.aclose()

    async def __aenter__(self) -> Sources:
        await self.start()
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()


def build_sources(
    settings: Settings,
    producer: EmitProducer,
    session: AioSession | None = None,
    metrics: Metrics | None = None,
) -> Sources:
    """The configured sources, not yet started (``await sources.start()`` / ``async with``).

    With ``metrics``, they count AWS calls/errors, records produced per topic and dead letters.
    """
    return Sources(settings, producer, session, metrics)
