"""Closed loop on the real broker + moto: misconfiguration → finding NEW → command (auto) →
fixed on moto → rescan → snapshot → finding RESOLVED. Returns the timings (seconds).

Every stage is the real handler (ingest, posture, alerts, remediate) on the daemon's runtime,
in-process (:class:`cspm_stream.testing.runtime.LocalRuntime`). Used by the integration test and by
``bench/alerts/run.py --closed-loop``.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import orjson

from cspm_stream import settings as settings_mod
from cspm_stream.kafka import Producer, consumer
from cspm_stream.models import RescanRequest, dumps
from cspm_stream.settings import Settings
from cspm_stream.stages.alerts import build_handler as build_alert_handler
from cspm_stream.stages.base import Emit, headers_for
from cspm_stream.stages.ingest import IngestHandler
from cspm_stream.stages.posture import build_handler as build_posture_handler
from cspm_stream.stages.remediate import build_remediate_handler
from cspm_stream.testing.moto import MotoServer
from cspm_stream.testing.runtime import LocalRuntime
from cspm_stream.timeutil import now_iso
from cspm_stream.topic_admin import ensure_topics

ACTION = "s3_block_public_access"


def loop_settings(bootstrap: str, prefix: str, endpoint_url: str, account: str, data_dir: str) -> Settings:
    return settings_mod.load(
        data={
            "app": {"id": f"loop-{prefix.rstrip('.')}", "data_dir": data_dir},
            "kafka": {"bootstrap": bootstrap, "topic_prefix": prefix, "partitions": 1},
            "aws": {"endpoint_url": endpoint_url, "regions": ["us-east-1"], "accounts": [{"id": account}]},
            "remediation": {"actions": {ACTION: "auto"}},
            # ingest merges rescans of one target within rescan_dedup_s (default 5 s): the loop's
            # own trigger would swallow the remediator's rescan 3 s later
            "scan": {"rescan_dedup_s": 0},
        },
        environ={},
    )


def seed_open_bucket(moto: MotoServer, account: str) -> str:
    """A bucket without Block Public Access in ``account`` (seeded with an admin role there)."""
    import boto3

    sts = moto.boto3_client("sts")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/seeder", RoleSessionName="seeder")["Credentials"]
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=moto.endpoint_url,
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )
    name = f"loop-{random.randint(0, 1 << 40):x}"
    s3.create_bucket(Bucket=name)
    return name


async def closed_loop(settings: Settings, moto: MotoServer, account: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """Run the loop once; returns seconds to NEW, to the fix, and to RESOLVED, plus the records seen."""
    await ensure_topics(settings.kafka)
    bucket = seed_open_bucket(moto, account)
    arn = f"arn:aws:s3:::{bucket}"
    ingest = IngestHandler(settings)
    remediate = build_remediate_handler(settings)
    handlers: list[Any] = [ingest, build_posture_handler(settings), build_alert_handler(settings), remediate]
    watch = consumer(
        settings.kafka,
        "findings",
        "remediation-results",
        "rescan",
        group_id=f"watch-{random.randint(0, 1 << 30)}",
        auto_offset_reset="earliest",
    )
    await watch.start()
    out: dict[str, Any] = {"bucket": bucket}
    try:
        async with LocalRuntime(settings, handlers):
            t0 = time.perf_counter()
            req = RescanRequest(
                request_id=f"loop-{bucket}",
                account_id=account,
                region="us-east-1",
                resource_type="aws.s3.bucket",
                requested_at=now_iso(),
                reason="closed-loop",
                arn=arn,
                resource_id=bucket,
            )
            async with Producer(settings.kafka) as p:
                await p.send(Emit("rescan", arn, dumps(req), headers_for("rescan.v1")))
            deadline = t0 + timeout_s
            while "resolved_s" not in out and time.perf_counter() < deadline:
                batch = await watch.getmany(timeout_ms=200)
                for msgs in batch.values():
                    for m in msgs:
                        _observe(m, arn, t0, out, settings)
    finally:
        await ingest.stop()
        await remediate.stop()
        await watch.stop()
    return out


def _observe(m: Any, arn: str, t0: float, out: dict[str, Any], settings: Settings) -> None:
    now = time.perf_counter() - t0
    topic = m.topic[len(settings.kafka.topic_prefix) :]
    doc = orjson.loads(m.value) if m.value else {}
    if topic == "findings":
        u = doc.get("unmapped", {})
        if u.get("remediation_action") != ACTION or doc.get("resources", [{}])[0].get("uid") != arn:
            return
        if u.get("state") == "new":
            out.setdefault("new_s", round(now, 3))
        elif u.get("state") == "resolved":
            out.setdefault("resolved_s", round(now, 3))
    elif topic == "remediation-results" and doc.get("resource_arn") == arn:
        out.setdefault("results", []).append(doc["status"])
        if doc["status"] == "succeeded":
            out.setdefault("fixed_s", round(now, 3))
            out["after"] = doc.get("after")
    elif topic == "rescan" and doc.get("arn") == arn and doc.get("reason", "").startswith("remediation"):
        out.setdefault("rescan_s", round(now, 3))


async def _main() -> None:
    import tempfile

    account = str(random.randint(200000000000, 899999999999))
    with MotoServer() as moto, tempfile.TemporaryDirectory() as tmp:
        s = loop_settings("127.0.0.1:9092", f"bench{random.randint(0, 1 << 30):x}.", moto.endpoint_url, account, tmp)
        print(orjson.dumps(await closed_loop(s, moto, account)).decode())


if __name__ == "__main__":
    asyncio.run(_main())
