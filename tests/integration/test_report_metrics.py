"""The report's numbers reach /metrics: gauges refreshed from the real broker's findings topic."""

from __future__ import annotations

import pytest

from cspm_stream.kafka import Producer
from cspm_stream.models.codec import dumps
from cspm_stream.models.enums import FindingStatus
from cspm_stream.observability import create_metrics
from cspm_stream.observability.report_metrics import refresh_report_gauges
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit
from cspm_stream.testing.findings import compliance_finding
from cspm_stream.topic_admin import ensure_topics
from cspm_stream.topics import BY_NAME

pytestmark = pytest.mark.integration


async def test_gauges_follow_the_findings_topic(kafka_settings: Settings) -> None:
    await ensure_topics(kafka_settings.kafka, [BY_NAME["findings"], BY_NAME["detections"]])
    acct = "444455556666"
    findings = [
        compliance_finding("p1", "arn:1", state=FindingStatus.PASSED, account=acct, requirements=("cis-x:1",)),
        compliance_finding("p1", "arn:2", state=FindingStatus.FAILING, account=acct, requirements=("cis-x:1",)),
        compliance_finding("p2", "arn:3", state=FindingStatus.FAILING, account=acct),
        compliance_finding("p2", "arn:4", state=FindingStatus.RESOLVED, account=acct),
    ]
    async with Producer(kafka_settings.kafka) as producer:
        await producer.send_many([Emit("findings", f["finding_info"]["uid"], dumps(f)) for f in findings])
    metrics = create_metrics()
    report = await refresh_report_gauges(kafka_settings, metrics, now_ms=1_800_000_000_000, timeout_s=30)
    assert report.summary.checks.total == 4
    text = metrics.exposition().decode()
    assert f'cspm_posture_score_percent{{account="{acct}",framework=""}} 50.0' in text
    assert f'cspm_posture_score_percent{{account="{acct}",framework="cis-x"}} 50.0' in text
    assert 'cspm_report_checks{account="",framework="",outcome="fail"} 2.0' in text
    # the failing p2 resource is fixed: the next refresh moves the gauge
    fixed = compliance_finding("p2", "arn:3", state=FindingStatus.RESOLVED, account=acct)
    async with Producer(kafka_settings.kafka) as producer:
        await producer.send(Emit("findings", fixed["finding_info"]["uid"], dumps(fixed)))
    await refresh_report_gauges(kafka_settings, metrics, now_ms=1_800_000_000_000, timeout_s=30)
    text = metrics.exposition().decode()
    assert f'cspm_posture_score_percent{{account="{acct}",framework=""}} 75.0' in text
