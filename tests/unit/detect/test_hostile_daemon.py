"""One hostile record among 10,000 good ones, through the running daemon on the real broker.

The good ones are all processed (counted in /metrics, their detections emitted), the bad one
is dead-lettered with its reason and its original bytes, a record that used to stall the
daemon (a 120 KB field under a backtracking regex) is simply evaluated, and /healthz stays green.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream.models import ActivityRecord, ActivitySource, DeadLetter, decode, dumps
from cspm_stream.settings import Settings
from cspm_stream.testing import cloudtrail_record
from cspm_stream.timeutil import ms_to_iso
from cspm_stream.topic_admin import ensure_topics
from tests.kafka_util import Daemon, consume, drain, produce, wait_for, write_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

T0 = 1767225600000
GOOD = 10_000
RULES = """
title: Trail stopped
id: 41000000-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
level: high
detection:
    sel: {eventSource: cloudtrail.amazonaws.com, eventName: StopLogging}
    condition: sel
---
title: Admin-looking role passed to new compute
id: 41000000-0000-4000-8000-000000000002
logsource: {product: aws, service: cloudtrail}
level: medium
detection:
    sel:
        eventName|startswith: CreateFunction
        requestParameters.role|re: '(?i):role/.*(admin|poweruser|fullaccess|root)'
    condition: sel
"""


def _value(rec: dict[str, Any]) -> tuple[bytes, bytes]:
    act = ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, "2026-01-01T00:00:00.000Z")
    return act.principal.encode(), dumps(act)


def _good(i: int) -> tuple[bytes, bytes]:
    name, source = ("StopLogging", "cloudtrail.amazonaws.com") if i % 100 == 0 else ("GetObject", "s3.amazonaws.com")
    return _value(
        cloudtrail_record(
            name,
            source,
            event_id=f"good-{i}",
            user_arn=f"arn:aws:iam::123456789012:user/u{i // 100}",
            event_time=ms_to_iso(T0 + i * 10),
        )
    )


async def test_a_hostile_record_is_dead_lettered_and_the_stream_moves_on(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "r.yml").write_text(RULES)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await ensure_topics(kafka_settings.kafka)
    cfg = write_config(
        kafka_settings,
        tmp_path / "cspm.yaml",
        detection={"builtin_rules": False, "rules_dirs": [str(rules_dir)]},
        web={"enabled": True, "port": port},
    )
    hostile = cloudtrail_record("StopLogging", "cloudtrail.amazonaws.com", event_id="hostile", event_time=ms_to_iso(T0))
    hostile["eventName"] = ["StopLogging", {"nested": "object"}]
    bad_key, bad_value = _value(hostile)
    stalling = cloudtrail_record(
        "CreateFunction20150331",
        "lambda.amazonaws.com",
        event_id="stalling",
        event_time=ms_to_iso(T0 + 1),
        request_parameters={"role": ":role/" * 20_000, "functionName": "f"},  # quadratic for a backtracking engine
    )
    records = [_good(i) for i in range(GOOD // 2)] + [(bad_key, bad_value), _value(stalling)]
    records += [_good(i) for i in range(GOOD // 2, GOOD)]
    daemon = Daemon(["-m", "cspm_stream", "-c", str(cfg), "run", "--role", "process"], tmp_path / "d.log").start()
    try:
        await asyncio.to_thread(daemon.wait_ready, 90)
        await produce(kafka_settings, "activity", records)
        activity = kafka_settings.kafka.topic("activity")

        def get(path: str) -> tuple[int, str]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.status, r.read().decode()

        def sample(text: str, prefix: str) -> float:
            lines = [ln for ln in text.splitlines() if ln.startswith(prefix)]
            return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

        processed = f'cspm_events_in_total{{stage="detect",topic="{activity}"}}'
        dead = f'cspm_dlq_records_total{{stage="detect",topic="{activity}"}}'

        async def all_counted() -> str | None:
            status, text = await asyncio.to_thread(get, "/metrics")
            done = sample(text, processed) + sample(text, dead)
            return text if status == 200 and done >= len(records) else None

        text = await wait_for(all_counted, 180, interval=1.0)
        assert text is not None, daemon.tail()
        assert sample(text, dead) == 1 and sample(text, processed) == len(records) - 1
        assert (await asyncio.to_thread(get, "/healthz"))[0] == 200
        (letter,) = [decode(m.value, DeadLetter) for m in await drain(kafka_settings, "dlq", idle=2.0)]
        assert letter.stage == "detect" and "eventName is a list; expected a string" in letter.reason
        assert base64.b64decode(letter.original_b64) == bad_value and letter.key == bad_key.decode()
        await consume(kafka_settings, "detections", count=GOOD // 100, timeout=60)
        detections = [orjson.loads(m.value) for m in await drain(kafka_settings, "detections", idle=2.0)]
        titles = sorted(f["finding_info"]["title"] for f in detections)
        assert titles.count("Trail stopped") == GOOD // 100  # every good StopLogging, one per user
        assert "Admin-looking role passed to new compute" not in titles  # evaluated, and it does not match
    finally:
        assert daemon.terminate() == 0, daemon.tail()
