"""The report's numbers as Prometheus gauges, refreshed from the compacted findings topic.

The daemon calls :func:`refresh_report_gauges` on a timer (every few minutes is
plenty: it reads the whole current posture). The gauges are those of
:func:`cspm_stream.observability.metrics.record_report`: posture score per
framework and account, checks per outcome, open detections per severity, MTTR.
"""

from __future__ import annotations

import asyncio

from cspm_stream.observability.metrics import Metrics, record_report
from cspm_stream.report import Report, build_report, collect, load_dirs
from cspm_stream.report.reader import read_latest
from cspm_stream.settings import Settings


async def refresh_report_gauges(
    settings: Settings, metrics: Metrics, *, now_ms: int, timeout_s: float = 120.0
) -> Report:
    """Read ``findings`` and ``detections`` to their end, build the report, set the gauges."""
    frameworks = await asyncio.to_thread(load_dirs, settings.policy.framework_dirs)
    findings, detections = await asyncio.gather(
        read_latest(settings.kafka, "findings", timeout_s=timeout_s),
        read_latest(settings.kafka, "detections", timeout_s=timeout_s),
    )
    inputs = collect([*findings.values.values(), *detections.values.values()])
    report = build_report(inputs, frameworks, now_ms=now_ms)
    record_report(metrics, report, now_ms / 1000.0)
    return report
