"""Side services per role: objects with async start()/stop() run next to the faust agents.

| role      | services                                                         |
|-----------|------------------------------------------------------------------|
| ingest    | scheduler (scan jobs), CloudTrail sources (S3+SQS, EventBridge, LookupEvents) |
| process   | self-monitoring (blind spots: no CloudTrail / no completed scan)  |
| alerts    | alert sinks (webhook, Slack, file, stdout; Kafka goes through the agent) |
| remediate | —                                                                |
| every role| web: /metrics, /healthz, /readyz on 127.0.0.1 (unless web.enabled is false) |

Imports are per role, so a process never loads what it does not run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cspm_stream.kafka import Producer
from cspm_stream.settings import Settings


class SourcesService:
    """The CloudTrail sources with their own idempotent producer (acks=all)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: Producer | None = None
        self._sources: Any = None

    async def start(self) -> None:
        from cspm_stream.sources.runner import build_sources

        self._producer = Producer(self._settings.kafka)
        await self._producer.start()
        self._sources = build_sources(self._settings, self._producer)
        await self._sources.start()

    async def stop(self) -> None:
        if self._sources is not None:
            await self._sources.stop()  # stops polling; in-flight messages finish or stay on SQS
        if self._producer is not None:
            await self._producer.stop()


def _has_sources(settings: Settings) -> bool:
    ct = settings.cloudtrail
    return bool(ct.sqs_queue_urls or ct.eventbridge_queue_urls or ct.lookup_events)


def for_role(
    settings: Settings, role: str, *, metrics: Any = None, ready: Callable[[], bool] | None = None
) -> list[tuple[str, Any]]:
    roles = {"ingest", "process", "alerts", "remediate"} if role == "all" else {role}
    out: list[tuple[str, Any]] = []
    if "ingest" in roles:
        from cspm_stream.stages.ingest import build_scheduler_service

        scheduler = build_scheduler_service(settings)
        if scheduler is not None:
            out.append(("scheduler", scheduler))
        if _has_sources(settings):
            out.append(("cloudtrail", SourcesService(settings)))
    if "process" in roles:
        from cspm_stream.observability.blindspot_service import build_monitor_service

        out.append(("monitor", build_monitor_service(settings, metrics)))
    if "alerts" in roles:
        from cspm_stream.stages.alerts import build_sink_service

        sinks = build_sink_service(settings)
        if sinks is not None:
            out.append(("sinks", sinks))
    from cspm_stream.observability.web import build_web_service

    web = build_web_service(settings, metrics, ready)
    if web is not None:
        out.append(("web", web))
    return out
