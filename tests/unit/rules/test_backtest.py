"""`rules backtest`: per-rule hits and samples over files and over the retained activity topic (real broker)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from cspm_stream.cli import main
from cspm_stream.cli.rules_backtest import parse_since
from cspm_stream.detect.backtest import Backtest
from cspm_stream.errors import ConfigError
from cspm_stream.kafka import client_options
from cspm_stream.models import ActivityRecord
from cspm_stream.models.codec import dumps
from cspm_stream.models.enums import ActivitySource
from cspm_stream.settings import Settings
from cspm_stream.timeutil import ms_to_iso
from tests.kafka_util import drain, produce, write_config
from tests.unit.detect.helpers import ev, rules

NEW_RULES = """
title: Trail stopped
id: 80000000-0000-4000-8000-000000000001
name: trail_stopped
status: shadow
logsource: {product: aws, service: cloudtrail}
level: high
detection: {sel: {eventName: StopLogging}, condition: sel}
---
title: Trail stopped twice
id: 80000000-0000-4000-8000-000000000002
logsource: {product: aws, service: cloudtrail}
level: critical
correlation: {type: event_count, rules: [trail_stopped], group-by: [userIdentity.arn], timespan: 10m, condition: {gte: 2}}
---
title: Never matches here
id: 80000000-0000-4000-8000-000000000003
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: DeleteDetector}, condition: sel}
"""
T0 = 1767225600000


def _records() -> list[dict[str, Any]]:
    out = []
    for i in range(3):
        out.append(
            ev("StopLogging", "cloudtrail.amazonaws.com", event_time=ms_to_iso(T0 + i * 60_000), event_id=f"stop{i}")
        )
        out.append(ev("DescribeTrails", "cloudtrail.amazonaws.com", event_time=ms_to_iso(T0 + i * 60_000 + 1)))
    bad = ev("StopLogging", "cloudtrail.amazonaws.com", event_id="bad")
    bad["eventName"] = ["StopLogging"]
    return [*out, bad]


def test_backtest_counts_every_rule_as_if_live() -> None:
    bt = Backtest(rules(NEW_RULES), samples=2)
    for r in _records():
        bt.add(r)
    rep = bt.finish()
    by_title = {h.info.title: h for h in rep.rules.values()}
    stopped = by_title["Trail stopped"]
    assert stopped.matches == 3 and len(stopped.detections) == 1  # shadow ignored; repeats update one detection
    assert [s["eventID"] for s in stopped.samples] == ["stop0", "stop1"]
    twice = by_title["Trail stopped twice"]
    assert twice.matches == 1 and len(twice.detections) == 1 and twice.samples[0]["eventID"] == "stop1"
    assert by_title["Never matches here"].matches == 0
    assert rep.records == 6 and rep.skipped == 1 and "eventName is a list" in next(iter(rep.reasons))


def test_parse_since() -> None:
    assert parse_since("7d") == 7 * 86400 and parse_since("12h") == 43200 and parse_since("2w") == 1209600
    for bad in ("7", "d", "-1d", "0h", "1y"):
        with pytest.raises(ConfigError):
            parse_since(bad)


def test_backtest_over_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "new"
    d.mkdir()
    (d / "new.yml").write_text(NEW_RULES)
    events = tmp_path / "e.jsonl"
    events.write_bytes(b"\n".join(orjson.dumps(r) for r in _records()))
    assert main(["rules", "backtest", "--rules", str(d), "--events", str(events), "--format", "json"]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    counts = {r["title"]: (r["matches"], r["detections"]) for r in doc["rules"]}
    assert counts == {"Trail stopped": (3, 1), "Trail stopped twice": (1, 1), "Never matches here": (0, 0)}
    assert doc["skipped"] == 1
    assert main(["rules", "backtest", "--rules", str(d), "--events", str(events), "--since", "1d"]) == 0
    text = capsys.readouterr().out
    assert "over 0 records" in text  # 2026-01-01 is older than a day before now


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_backtest_replays_the_retained_activity_topic(
    kafka_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def create() -> None:
        admin = AIOKafkaAdminClient(**client_options(kafka_settings.kafka))
        await admin.start()
        try:
            names = [kafka_settings.kafka.topic(t) for t in ("activity", "detections", "alerts")]
            await admin.create_topics([NewTopic(n, num_partitions=3, replication_factor=1) for n in names])
        finally:
            await admin.close()

    asyncio.run(create())
    values = []
    for rec in _records()[:-1]:
        act = ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, "2026-01-01T00:00:00Z")
        values.append((act.principal.encode(), dumps(act)))
    values.append((b"junk", b"not json"))
    asyncio.run(produce(kafka_settings, "activity", values))
    d = tmp_path / "new"
    d.mkdir()
    (d / "new.yml").write_text(NEW_RULES)
    cfg = write_config(kafka_settings, tmp_path / "cspm.yaml")
    code = main(["--config", str(cfg), "rules", "backtest", "--rules", str(d), "--samples", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "over 6 records" in out and "1 skipped" in out and "nothing was emitted" in out
    lines = {ln.split("[")[-1].rstrip("]"): ln for ln in out.splitlines() if "800000" in ln}
    assert lines["80000000-0000-4000-8000-000000000001"].split()[:2] == ["3", "1"]
    assert lines["80000000-0000-4000-8000-000000000002"].split()[:2] == ["1", "1"]
    assert lines["80000000-0000-4000-8000-000000000003"].split()[:2] == ["0", "0"]
    # nothing was produced anywhere
    assert asyncio.run(drain(kafka_settings, "detections", idle=1.0)) == []
    assert asyncio.run(drain(kafka_settings, "alerts", idle=1.0)) == []
    code = main(["--config", str(cfg), "rules", "backtest", "--rules", str(d), "--since", "1h"])
    assert code == 0 and "over 6 records" in capsys.readouterr().out  # produced just now: within the hour
