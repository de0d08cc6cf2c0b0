"""Self-monitoring on the real broker: silent regions become detections on the detections topic."""

from __future__ import annotations

import asyncio
import time

import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.kafka import Producer
from cspm_stream.models.activity import ActivityRecord
from cspm_stream.models.codec import dumps
from cspm_stream.models.enums import ActivitySource
from cspm_stream.models.inventory import ScanStatus
from cspm_stream.observability import Metrics, create_metrics
from cspm_stream.observability.blindspot_service import MonitorService
from cspm_stream.observability.blindspots import NO_CLOUDTRAIL, NO_SCAN
from cspm_stream.report.reader import read_latest
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit
from cspm_stream.testing.factories import cloudtrail_record
from cspm_stream.timeutil import ms_to_iso
from cspm_stream.topic_admin import ensure_topics
from cspm_stream.topics import BY_NAME

pytestmark = pytest.mark.integration
ACCT = "111111111111"
HOUR = 3_600_000


def _status(region: str, finished_ms: int) -> ScanStatus:
    iso = ms_to_iso(finished_ms)
    return ScanStatus(f"j-{region}", "s1", ACCT, region, "s3", iso, iso, 3, 0, True)


def _report_stamp(metrics: Metrics) -> float:
    text = metrics.exposition().decode()
    return float(next(ln for ln in text.splitlines() if ln.startswith("cspm_report_timestamp_seconds ")).split()[1])


async def test_blind_spots_are_produced_once(kafka_settings: Settings) -> None:
    s = settings_mod.load(
        data={
            "kafka": {"bootstrap": kafka_settings.kafka.bootstrap, "topic_prefix": kafka_settings.kafka.topic_prefix},
            "aws": {"accounts": [{"id": ACCT}], "regions": ["us-east-1", "eu-west-1"]},
            "web": {"enabled": False},
        },
        environ={},
    )
    await ensure_topics(s.kafka, [BY_NAME[t] for t in ("activity", "scan-status", "detections", "findings")])
    now = int(time.time() * 1000)
    async with Producer(s.kafka) as p:  # an old scan status, before the service starts: read from the start
        await p.send(Emit("scan-status", f"{ACCT}|eu-west-1|s3", dumps(_status("eu-west-1", now - 3 * HOUR))))
    metrics = create_metrics()
    svc = MonitorService(s, metrics, check_interval_s=3600, report_interval_s=0.2)
    await svc.start()
    try:
        rec = ActivityRecord.from_cloudtrail(
            cloudtrail_record("ListBuckets", account_id=ACCT, region="us-east-1"), ActivitySource.FILE, ms_to_iso(now)
        )
        async with Producer(s.kafka) as p:
            await p.send(Emit("activity", rec.principal, dumps(rec)))
            await p.send(Emit("activity", "garbage", b"{not json"))
            await p.send(Emit("scan-status", f"{ACCT}|us-east-1|s3", dumps(_status("us-east-1", now))))
        for _ in range(100):
            if {f"activity|{ACCT}|us-east-1", f"scan|{ACCT}|us-east-1", f"scan|{ACCT}|eu-west-1"} <= set(svc.state):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail(f"records not observed: {svc.state}")

        found = await svc.check_once(now)
        assert [(f["unmapped"]["rule_id"], f["cloud"]["region"]) for f in found] == [(NO_SCAN, "eu-west-1")]

        later = now + 2 * HOUR + 1000
        found = await svc.check_once(later)
        assert {(f["unmapped"]["rule_id"], f["cloud"]["region"]) for f in found} == {
            (NO_CLOUDTRAIL, "us-east-1"),
            (NO_CLOUDTRAIL, "eu-west-1"),  # never heard from since the service started
            (NO_SCAN, "us-east-1"),
            (NO_SCAN, "eu-west-1"),
        }
        await svc.check_once(later + 60_000)  # same silences: nothing new is produced
        for _ in range(100):  # the report gauges are refreshed on their own timer
            if _report_stamp(metrics) > 0:
                break
            await asyncio.sleep(0.1)
    finally:
        await svc.stop()
    det = await read_latest(s.kafka, "detections", timeout_s=30)
    assert det.records == 4  # eu-west-1 scan once, then the three new ones; no repeats
    assert len(det.values) == 4
    text = metrics.exposition().decode()
    assert _report_stamp(metrics) > 0  # the report gauges were refreshed too
    assert f'cspm_last_full_scan_timestamp_seconds{{account="{ACCT}",region="us-east-1"}}' in text
