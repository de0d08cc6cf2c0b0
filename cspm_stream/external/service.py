"""The external-findings sources of ``run --role ingest`` (``external.*`` settings).

- one poller per enabled product (``external.securityhub``, ``guardduty``, ``accessanalyzer``),
  account (``aws.accounts``, or the running credentials' account; the collectors' roles) and
  region (``external.regions``, else ``aws.regions``, else the enabled ones), checkpointed on the
  compacted ``external-checkpoints`` topic;
- one EventBridge → SQS source per ``external.eventbridge_queue_urls``.

The join data (:func:`equivalents_from_settings`: policies, rules, mapping file) is loaded once at
start, so a finding leaves the source already naming our equivalent policy or rules.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import structlog
from aiobotocore.session import AioSession, get_session

from cspm_stream.external import model as m
from cspm_stream.external.checkpoints import CheckpointStore, TopicCheckpoints
from cspm_stream.external.mapping import Equivalents, load_equivalents, rule_ids_of
from cspm_stream.external.pollers import (
    AccessAnalyzerPoller,
    FindingPoller,
    GuardDutyPoller,
    PollOptions,
    SecurityHubPoller,
)
from cspm_stream.settings import Settings
from cspm_stream.sources.emits import EmitProducer

if TYPE_CHECKING:
    from cspm_stream.observability.metrics import Metrics

log = structlog.get_logger("cspm_stream.external")


def equivalents_from_settings(settings: Settings, *, with_controls: bool = True) -> Equivalents:
    """The join data for these settings: the configured policies' control ids (unless
    ``with_controls`` is off), the configured rules' names, the mapping file."""
    from cspm_stream.detect.catalog import load_rules
    from cspm_stream.policy.catalog import dirs_for
    from cspm_stream.policy.loader import load_policies

    rules = load_rules(settings.detection, ())
    policies = load_policies(dirs_for(settings.policy)[0], errors=[]) if with_controls else []
    return load_equivalents(policies, rule_ids_of(rules.infos()), settings.external.mapping_file or None)


def poll_options(settings: Settings) -> PollOptions:
    ext = settings.external
    skip = {m.GUARDDUTY} if ext.guardduty else set()
    if ext.accessanalyzer:
        skip.add(m.ACCESSANALYZER)
    return PollOptions(ext.interval_s, ext.lookback_s, ext.overlap_s, frozenset(skip))


class ExternalSources:
    """The running pollers and event sources, and the AWS clients they use."""

    def __init__(
        self,
        settings: Settings,
        producer: EmitProducer,
        *,
        session: AioSession | None = None,
        metrics: Metrics | None = None,
        eq: Equivalents | None = None,
        store: CheckpointStore | None = None,
    ) -> None:
        self.settings = settings
        self.producer = producer
        self.session = session or get_session()
        self.metrics = metrics
        self.eq = eq
        self.store = store
        self.sources: list[Any] = []
        self._stack = contextlib.AsyncExitStack()

    async def _client(self, service: str, region: str, session: AioSession) -> Any:
        cm = session.create_client(service, region_name=region, endpoint_url=self.settings.aws.endpoint_url)
        return await self._stack.enter_async_context(cm)

    async def start(self) -> None:
        ext = self.settings.external
        try:
            eq = self.eq if self.eq is not None else equivalents_from_settings(self.settings)
            if ext.polling:
                await self._add_pollers(eq)
            await self._add_event_sources(eq)
            for s in self.sources:
                await s.start()
        except BaseException:
            await self.stop()
            raise
        log.info("external.sources_started", count=len(self.sources))

    async def _add_pollers(self, eq: Equivalents) -> None:
        from cspm_stream.collect.accounts import SessionPool, discover_accounts, discover_regions

        ext = self.settings.external
        store = self.store
        if store is None:
            topic_store = TopicCheckpoints(self.settings.kafka, self.producer)
            await topic_store.start()
            store = self.store = topic_store
        pool = SessionPool(self.settings.aws, self.session)
        opts = poll_options(self.settings)
        kinds: list[tuple[str, type[FindingPoller]]] = [
            (name, cls)
            for name, cls, on in (
                ("securityhub", SecurityHubPoller, ext.securityhub),
                ("guardduty", GuardDutyPoller, ext.guardduty),
                ("accessanalyzer", AccessAnalyzerPoller, ext.accessanalyzer),
            )
            if on
        ]
        for acc in await discover_accounts(self.settings.aws, pool):
            session = await pool.session(acc.account_id, acc.role_arn)
            regions = list(ext.regions) or await discover_regions(self.settings.aws, pool, acc)
            for region in regions:
                for service, cls in kinds:
                    client = await self._client(service, region, session)
                    self.sources.append(
                        cls(
                            client, acc.account_id, region, self.producer, store, opts=opts, eq=eq, metrics=self.metrics
                        )
                    )

    async def _add_event_sources(self, eq: Equivalents) -> None:
        from cspm_stream.external.events import ExternalEventsSqsSource
        from cspm_stream.sources.runner import default_region
        from cspm_stream.sources.sqs import SqsSourceOptions, queue_region

        ct = self.settings.cloudtrail
        opts = SqsSourceOptions(
            wait_time_s=ct.sqs_wait_time_s,
            visibility_timeout_s=ct.sqs_visibility_timeout_s,
            max_messages=ct.sqs_max_messages,
        )
        for url in self.settings.external.eventbridge_queue_urls:
            sqs = await self._client("sqs", queue_region(url, default_region(self.settings)), self.session)
            self.sources.append(ExternalEventsSqsSource(sqs, url, self.producer, opts, metrics=self.metrics, eq=eq))

    async def stop(self) -> None:
        for s in reversed(self.sources):
            try:
                await s.stop()
            except Exception as exc:  # keep stopping the others; report it
                log.error("external.stop_failed", source=type(s).__name__, error=repr(exc))
        self.sources = []
        await self._stack.aclose()
