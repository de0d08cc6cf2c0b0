"""Detection through the running daemon on the real broker: activity → detections + rescans, restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream.models import ActivityRecord, ActivitySource, dumps
from cspm_stream.settings import Settings
from cspm_stream.testing import cloudtrail_record
from cspm_stream.timeutil import ms_to_iso
from cspm_stream.topic_admin import ensure_topics
from tests.kafka_util import Daemon, consume, drain, produce, write_config

pytestmark = pytest.mark.integration

T0 = 1767225600000
USER = "arn:aws:iam::123456789012:user/mallory"

RULES = """
title: Trail stopped
id: 40000000-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
level: high
tags: [attack.defense-impairment, attack.t1685.002]
runbook: Restart logging and find out who stopped it.
detection:
    sel: {eventSource: cloudtrail.amazonaws.com, eventName: StopLogging}
    condition: sel
---
title: Console login failure
id: 40000000-0000-4000-8000-000000000002
name: login_failed
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {eventName: ConsoleLogin, errorMessage: Failed authentication}
    condition: sel
---
title: Console login failure burst
id: 40000000-0000-4000-8000-000000000003
level: medium
tags: [attack.credential-access, attack.t1110]
correlation:
    type: event_count
    rules: [login_failed]
    group-by: [sourceIPAddress]
    timespan: 10m
    condition: {gte: 5}
"""


#: the daemon runtime (faust app, guard, DLQ, SIGTERM) running only the detect stage
RUNNER = (
    "import sys; from cspm_stream import settings; from cspm_stream.daemon import run; "
    "from cspm_stream.stages.detect import build_detect_handler; s = settings.load(sys.argv[1]); "
    "sys.exit(run(s, 'process', handlers=[build_detect_handler(s)]))"
)


def _activity(rec: dict[str, Any]) -> tuple[bytes, bytes]:
    act = ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, "2026-01-01T00:00:00.000Z")
    return act.principal.encode(), dumps(act)


def _failure(i: int) -> tuple[bytes, bytes]:
    rec = cloudtrail_record(
        "ConsoleLogin",
        "signin.amazonaws.com",
        event_id=f"fail-{i}",
        user_arn=USER,
        event_time=ms_to_iso(T0 + i * 10_000),
        source_ip="203.0.113.66",
    )
    rec["errorMessage"] = "Failed authentication"
    return _activity(rec)


def _stop(event_id: str, sec: int) -> tuple[bytes, bytes]:
    return _activity(
        cloudtrail_record(
            "StopLogging",
            "cloudtrail.amazonaws.com",
            event_id=event_id,
            user_arn=USER,
            event_time=ms_to_iso(T0 + sec * 1000),
            request_parameters={"name": "main"},
        )
    )


def _by_kind(msgs: list[Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for m in msgs:
        f = orjson.loads(m.value)
        out.setdefault(f["finding_info"]["title"], []).append(f)
    return out


async def test_activity_to_detections_and_rescans_with_restart(kafka_settings: Settings, tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "rules.yml").write_text(RULES)
    await ensure_topics(kafka_settings.kafka)
    cfg = write_config(
        kafka_settings,
        tmp_path / "cspm.yaml",
        detection={"builtin_rules": False, "rules_dirs": [str(rules_dir)], "update_interval_s": 0},
    )
    argv = ["-c", RUNNER, str(cfg)]
    daemon = Daemon(argv, tmp_path / "d1.log").start()
    try:
        first = [_failure(i) for i in range(3)]
        stop = _stop("stop-1", 40)
        acl = _activity(
            cloudtrail_record(
                "PutBucketAcl",
                "s3.amazonaws.com",
                event_id="acl-1",
                user_arn=USER,
                event_time=ms_to_iso(T0 + 41_000),
                request_parameters={"bucketName": "data"},
            )
        )
        # stop-1 twice: at-least-once delivery upstream; a garbage value goes to the DLQ
        await produce(kafka_settings, "activity", [*first, stop, stop, acl, (USER.encode(), b"{")])
        (det,) = await consume(kafka_settings, "detections", count=1, timeout=60)
        f = orjson.loads(det.value)
        assert det.key.decode() == f["finding_info"]["uid"]
        assert f["class_uid"] == 2004 and f["finding_info"]["title"] == "Trail stopped"
        assert f["unmapped"]["event_ids"] == ["stop-1"]
        assert f["actor"]["user"]["uid"] == USER
        rescans = await consume(kafka_settings, "rescan", count=3, timeout=30)
        kinds = sorted(orjson.loads(m.value)["resource_type"] for m in rescans)
        assert kinds == ["aws.cloudtrail.region", "aws.cloudtrail.trail", "aws.s3.bucket"]
        assert {m.key.decode() for m in rescans} >= {"arn:aws:s3:::data"}
        await consume(kafka_settings, "dlq", count=1, timeout=30)
    finally:
        assert daemon.terminate() == 0, daemon.tail()

    # restart: the three failures before it are in the restored state; two more complete the burst
    daemon = Daemon(argv, tmp_path / "d2.log").start()
    try:
        await produce(kafka_settings, "activity", [_failure(3), _failure(4), _stop("stop-1", 40)])
        msgs = await consume(kafka_settings, "detections", count=2, timeout=60)
        burst = _by_kind(msgs)["Console login failure burst"]
        assert len(burst) == 1
        assert sorted(burst[0]["unmapped"]["event_ids"]) == [f"fail-{i}" for i in range(5)]
        assert burst[0]["count"] == 5
        everything = _by_kind(await drain(kafka_settings, "detections", idle=3))
        assert len(everything["Trail stopped"]) == 1  # the duplicate, even after a restart, emitted nothing
    finally:
        assert daemon.terminate() == 0, daemon.tail()
