"""External findings through the real broker, Security Hub served by moto: one problem, one alert.

The Security Hub poller (checkpointed on the compacted topic) reads a failed S3.8 control on a
bucket our posture check also fails, an Inspector vulnerability no check of ours equals, and a
GuardDuty finding forwarded to Security Hub about the same StopLogging our rule detects. On the
topics: the control and our check are one record (our uid) listing both sources and one alert;
the vulnerability is its own record; the GuardDuty finding is an update of our detection listing
both sources, never a second new alert.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.delivery.model import alert_from_bytes
from cspm_stream.delivery.router import is_duplicate
from cspm_stream.external.asff import from_asff
from cspm_stream.external.ocsf import external_uid
from cspm_stream.external.service import ExternalSources
from cspm_stream.external.stage import build_stage as external_stage
from cspm_stream.models import ActivityRecord, ActivitySource, dumps
from cspm_stream.policy.catalog import catalog_from_settings
from cspm_stream.policy.ocsf import finding_uid
from cspm_stream.report.reader import read_latest
from cspm_stream.settings import RouteSettings, Settings
from cspm_stream.stages.detect import build_detect_handler
from cspm_stream.stages.posture import PostureHandler
from cspm_stream.testing import snapshot
from cspm_stream.testing.factories import cloudtrail_record
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from cspm_stream.testing.ocsf_models import ocsf_errors
from cspm_stream.testing.runtime import LocalRuntime
from cspm_stream.timeutil import iso
from cspm_stream.topic_admin import ensure_topics
from tests.kafka_util import drain, produce, wait_for
from tests.unit.external import samples as s

pytestmark = [pytest.mark.integration, pytest.mark.moto]
REGION = "ap-southeast-3"
ATTACKER = f"arn:aws:iam::{ACCOUNT_ID}:user/mallory"
POLICY = "s3_bucket_public_access_block"


def settings_for(base: Settings, moto: MotoServer) -> Settings:
    return settings_mod.load(
        data={
            "app": {"id": base.app.id, "data_dir": base.app.data_dir, "log_format": "console"},
            "kafka": {
                "bootstrap": base.kafka.bootstrap,
                "topic_prefix": base.kafka.topic_prefix,
                "partitions": base.kafka.partitions,
            },
            "aws": {"endpoint_url": moto.endpoint_url, "regions": ["us-east-1"], "rate_per_second": 1000.0},
            "external": {"securityhub": True, "regions": [REGION], "interval_s": 10, "lookback_s": 3600},
            "web": {"enabled": False},
        },
        environ={},
    )


def _now(f: dict[str, Any], at: str) -> dict[str, Any]:
    for k in ("FirstObservedAt", "LastObservedAt", "CreatedAt", "UpdatedAt"):
        f[k] = at
    f["Region"] = REGION
    for r in f["Resources"]:
        r["Region"] = REGION
    return f


#: the states a route sends by default (alerts.routes[].states)
ROUTED = set(RouteSettings(name="all", sink="x").states)


def alerts(records: list[Any]) -> list[Any]:
    """What the alert router sends on a default route: routed states, deduplicated by uid and state."""
    seen: dict[str, Any] = {}
    out = []
    for m in records:
        a = alert_from_bytes(m.value)
        if a.state in ROUTED and not is_duplicate(a, seen, 86400, a.time_ms):
            out.append(a)
    return out


async def test_one_problem_one_alert_with_every_source_listed(
    kafka_settings: Settings, moto_server: MotoServer
) -> None:
    st = settings_for(kafka_settings, moto_server)
    await ensure_topics(st.kafka)
    now = iso(dt.datetime.now(dt.UTC))
    bucket = f"arn:aws:s3:::reports-{uuid.uuid4().hex[:8]}"
    control = _now(s.control("S3.8", bucket, "AwsS3Bucket", region=REGION), now)
    control["Id"] += uuid.uuid4().hex[:6]
    cve = _now(s.inspector_cve(), now)
    cve["Id"] += uuid.uuid4().hex[:6]
    gd = _now(s.guardduty_via_hub(), now)
    gd["Id"] += uuid.uuid4().hex[:6]
    hub = moto_server.boto3_client("securityhub", REGION)
    assert hub.batch_import_findings(Findings=[control, cve, gd])["FailedCount"] == 0
    # our side: the bucket as collected (Block Public Access off) and the attacker's StopLogging
    snap = snapshot(
        "aws.s3.bucket",
        {"Name": bucket.rsplit(":", 1)[1], "PublicAccessBlock": None},
        arn=bucket,
        observed_at=now,
        region=REGION,
    )
    rec = cloudtrail_record(
        "StopLogging", "cloudtrail.amazonaws.com", user_arn=ATTACKER, event_time=now, request_parameters={"name": "org"}
    )
    act = ActivityRecord.from_cloudtrail(rec, ActivitySource.EVENTBRIDGE, now)

    rt = LocalRuntime(st, [])
    rt.handlers += [
        PostureHandler(catalog_from_settings(st.policy), None),
        build_detect_handler(st),
        external_stage(rt.ctx).handler,
    ]
    async with rt:
        await produce(st, "inventory", [(bucket.encode(), dumps(snap))])
        await produce(st, "activity", [(act.principal.encode(), dumps(act))])
        sources = ExternalSources(st, rt.ctx.producer, metrics=rt.ctx.metrics)
        await sources.start()
        try:
            uid = finding_uid(POLICY, bucket)

            async def merged() -> list[Any]:
                recs = [m for m in await drain(st, "findings", idle=0.5, timeout=10) if m.key == uid.encode()]
                last = orjson.loads(recs[-1].value) if recs else {}
                done = len(last.get("unmapped", {}).get("sources", [])) == 2
                return recs if done else []

            posture_records = await wait_for(merged, timeout=90)

            async def joined() -> list[Any]:
                recs = await drain(st, "detections", idle=0.5, timeout=10)
                both = [m for m in recs if len(orjson.loads(m.value)["unmapped"].get("sources", [])) == 2]
                return recs if both else []

            detections = await wait_for(joined, timeout=90)
            assert rt.failure is None
        finally:
            await sources.stop()

    # posture: one uid, every source listed, one alert
    last = orjson.loads(posture_records[-1].value)
    assert ocsf_errors(last) == []
    assert [x["product"] for x in last["unmapped"]["sources"]] == ["cspm_stream", "AWS Security Hub"]
    assert [a.state for a in alerts(posture_records)] == ["new"]
    findings = await drain(st, "findings", idle=0.5, timeout=10)
    ext = from_asff(cve)
    own = [orjson.loads(m.value) for m in findings if m.key == external_uid(ext).encode()]
    assert [f["unmapped"]["state"] for f in own] == ["new"]
    assert own[0]["metadata"]["product"]["name"] == "Amazon Inspector"
    assert not [m for m in findings if m.key == external_uid(from_asff(control)).encode()]  # no second record

    # threats: our detection updated with GuardDuty, GuardDuty never alone
    ours = [
        orjson.loads(m.value)
        for m in detections
        if orjson.loads(m.value)["metadata"]["product"]["name"] == "cspm_stream"
    ]
    stop = [f for f in ours if f["finding_info"]["title"].startswith("CloudTrail logging stopped")]
    assert stop, [f["finding_info"]["title"] for f in ours]
    d_uid = stop[0]["finding_info"]["uid"]
    thread = [m for m in detections if m.key == d_uid.encode()]
    assert [a.state for a in alerts(thread)] == ["new", "updated"]
    update = orjson.loads(thread[-1].value)
    assert ocsf_errors(update) == []
    assert [x["product"] for x in update["unmapped"]["sources"]] == ["cspm_stream", "Amazon GuardDuty"]
    assert update["unmapped"]["sources"][1]["uid"] == gd["Id"]
    assert not [m for m in detections if m.key == external_uid(from_asff(gd)).encode()]

    # the poller's checkpoint is on the compacted topic
    cps = await read_latest(st.kafka, "external-checkpoints")
    assert f"securityhub|{ACCOUNT_ID}|{REGION}".encode() in cps.values
