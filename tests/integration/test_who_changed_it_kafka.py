"""Who changed it and eventually-consistent rescans, on the real broker with moto:

- a CloudTrail record of an attacker opening a security group goes activity → detect → rescan →
  ingest (moto) → inventory → posture → findings, and the finding names the attacker;
- a bucket that exists only after its CreateBucket event is found by a rescan retry (no deletion
  is concluded meanwhile), and the late change is counted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import orjson
import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.models import ActivityRecord, ActivitySource, dumps
from cspm_stream.policy.catalog import catalog_from_settings
from cspm_stream.settings import Settings
from cspm_stream.stages.detect import build_detect_handler
from cspm_stream.stages.ingest import IngestHandler
from cspm_stream.stages.posture import PostureHandler
from cspm_stream.testing.factories import cloudtrail_record
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from cspm_stream.testing.ocsf_models import ocsf_errors
from cspm_stream.testing.runtime import LocalRuntime
from cspm_stream.timeutil import iso
from cspm_stream.topic_admin import ensure_topics
from tests.kafka_util import drain, produce, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.moto]
ATTACKER = f"arn:aws:iam::{ACCOUNT_ID}:user/mallory"


def with_moto(settings: Settings, moto: MotoServer, **scan: Any) -> Settings:
    return settings_mod.load(
        data={
            "app": {"id": settings.app.id, "data_dir": settings.app.data_dir, "log_format": "console"},
            "kafka": {
                "bootstrap": settings.kafka.bootstrap,
                "topic_prefix": settings.kafka.topic_prefix,
                "partitions": settings.kafka.partitions,
            },
            "aws": {"endpoint_url": moto.endpoint_url, "regions": ["us-east-1"], "rate_per_second": 1000.0},
            "scan": {"scheduler": False, **scan},
            "web": {"enabled": False},
        },
        environ={},
    )


async def activity(settings: Settings, rec: dict[str, Any]) -> None:
    act = ActivityRecord.from_cloudtrail(rec, ActivitySource.EVENTBRIDGE, iso(dt.datetime.now(dt.UTC)))
    await produce(settings, "activity", [(act.principal.encode(), dumps(act))])


async def test_the_attacker_who_opened_a_security_group_is_named(
    kafka_settings: Settings, moto_server: MotoServer
) -> None:
    s = with_moto(kafka_settings, moto_server)
    await ensure_topics(s.kafka)
    ec2 = moto_server.boto3_client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    sg = ec2.create_security_group(GroupName=f"db-{uuid.uuid4().hex[:6]}", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    rec = cloudtrail_record(
        "AuthorizeSecurityGroupIngress",
        "ec2.amazonaws.com",
        user_arn=ATTACKER,
        source_ip="203.0.113.66",
        user_agent="aws-cli/2.15.0 md/Kali",
        event_time=iso(dt.datetime.now(dt.UTC)),
        request_parameters={"groupId": sg},
    )
    handlers = [
        build_detect_handler(s),
        IngestHandler(s),
        PostureHandler(catalog_from_settings(s.policy), None),
    ]
    arn = f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:security-group/{sg}"

    async def named() -> list[dict[str, Any]]:
        out = []
        for m in await drain(s, "findings", idle=0.5, timeout=10):
            f = orjson.loads(m.value)
            if f["resources"][0]["uid"] == arn and f["unmapped"]["state"] == "new":
                out.append(f)
        return out

    async with LocalRuntime(s, handlers) as rt:
        await activity(s, rec)
        found = await wait_for(named, timeout=90)
        assert rt.failure is None
    assert found, "no failing check of the opened group reached the findings topic"
    for f in found:
        assert ocsf_errors(f) == []
        assert f["actor"]["user"]["uid"] == ATTACKER
        assert f["src_endpoint"]["ip"] == "203.0.113.66"
        assert f["http_request"]["user_agent"] == "aws-cli/2.15.0 md/Kali"
        assert f["api"]["operation"] == "AuthorizeSecurityGroupIngress"
        assert f["api"]["request"]["uid"] == rec["eventID"]
        assert f["unmapped"]["changed_by"]["event_time"] == rec["eventTime"]


async def test_a_bucket_visible_only_after_its_event_is_found_by_a_retry(
    kafka_settings: Settings, moto_server: MotoServer
) -> None:
    s = with_moto(kafka_settings, moto_server, rescan_retry_s=[2.0, 6.0, 20.0])
    await ensure_topics(s.kafka)
    bucket = f"late-{uuid.uuid4().hex[:8]}"
    arn = f"arn:aws:s3:::{bucket}"
    rec = cloudtrail_record(
        "CreateBucket",
        "s3.amazonaws.com",
        user_arn=ATTACKER,
        event_time=iso(dt.datetime.now(dt.UTC)),
        request_parameters={"bucketName": bucket},
    )
    rt = LocalRuntime(s, [])
    # the handler counts in the runtime's registry (what /metrics serves)
    rt.handlers += [build_detect_handler(s), IngestHandler(s, metrics=rt.ctx.metrics)]
    async with rt:
        await activity(s, rec)

        async def first_look() -> bool:
            return rt.processed >= 2  # the activity record and its rescan request

        assert await wait_for(first_look, timeout=60)
        await asyncio.sleep(0.5)
        moto_server.boto3_client("s3").create_bucket(Bucket=bucket)

        async def snapshot_of_bucket() -> list[Any]:
            return [m for m in await drain(s, "inventory", idle=0.5, timeout=10) if m.key == arn.encode()]

        got = await wait_for(snapshot_of_bucket, timeout=60)
        assert rt.failure is None
        late = rt.ctx.metrics.registry.get_sample_value("cspm_rescan_late_changes_total", {"kind": "appeared"})
    assert got and got[0].value is not None, "a deletion was concluded before the bucket appeared"
    snap = orjson.loads(got[0].value)
    assert snap["schema"] == "inventory.v1"
    assert snap["change"]["event_name"] == "CreateBucket" and snap["change"]["principal_arn"] == ATTACKER
    assert late == 1
