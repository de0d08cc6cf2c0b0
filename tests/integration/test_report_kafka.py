"""The report reads the compacted findings topic of a real broker: last value per key, tombstones delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.cli import main
from cspm_stream.kafka import Producer
from cspm_stream.models.codec import dumps
from cspm_stream.models.enums import FindingStatus
from cspm_stream.report.reader import read_latest
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit
from cspm_stream.testing.findings import compliance_finding, detection_finding
from cspm_stream.topic_admin import ensure_topics
from cspm_stream.topics import BY_NAME

pytestmark = pytest.mark.integration


async def _publish(settings: Settings) -> None:
    await ensure_topics(settings.kafka, [BY_NAME["findings"], BY_NAME["detections"]])
    a1 = compliance_finding("p1", "arn:a", state=FindingStatus.NEW)
    a2 = compliance_finding("p1", "arn:a", state=FindingStatus.RESOLVED, first_seen_ms=1000, time_ms=61_000)
    b = compliance_finding("p1", "arn:b", state=FindingStatus.FAILING)
    c = compliance_finding("p2", "arn:c", state=FindingStatus.FAILING)
    d = detection_finding("rule", "g", count=1)
    d2 = detection_finding("rule", "g", count=2)

    def uid(f: dict) -> str:
        return str(f["finding_info"]["uid"])

    async with Producer(settings.kafka) as producer:
        await producer.send_many(
            [
                Emit("findings", uid(a1), dumps(a1)),
                Emit("findings", uid(b), dumps(b)),
                Emit("findings", uid(c), dumps(c)),
                Emit("findings", uid(a2), dumps(a2)),  # a resolved
                Emit("findings", uid(c), None),  # c's resource was deleted: tombstone
                Emit("findings", "garbage", b"{not json"),
                Emit("detections", uid(d), dumps(d)),
                Emit("detections", uid(d2), dumps(d2)),
            ]
        )


async def test_reader_keeps_last_value_and_applies_tombstones(kafka_settings: Settings) -> None:
    await _publish(kafka_settings)
    snap = await read_latest(kafka_settings.kafka, "findings", timeout_s=30)
    assert snap.records == 6 and snap.tombstones == 1
    assert len(snap.values) == 3  # a (resolved), b, garbage; c deleted
    states = sorted(json.loads(v)["unmapped"]["state"] for k, v in snap.values.items() if k != b"garbage")
    assert states == ["failing", "resolved"]
    det = await read_latest(kafka_settings.kafka, "detections", timeout_s=30)
    assert [json.loads(v)["count"] for v in det.values.values()] == [2]


async def test_reader_on_missing_topic_fails_clearly(kafka_settings: Settings) -> None:
    from cspm_stream.errors import KafkaUnavailable

    with pytest.raises(KafkaUnavailable, match="does not exist"):
        await read_latest(kafka_settings.kafka, "findings", timeout_s=10)


async def test_report_command_reads_the_topics(kafka_settings: Settings, tmp_path: Path) -> None:
    await _publish(kafka_settings)
    cfg = tmp_path / "cspm.yaml"
    cfg.write_text(
        json.dumps(
            {
                "kafka": {
                    "bootstrap": kafka_settings.kafka.bootstrap,
                    "topic_prefix": kafka_settings.kafka.topic_prefix,
                },
                "web": {"enabled": False},
            }
        )
    )
    settings_mod.load(cfg)  # the file is valid
    out = tmp_path / "r.json"
    # the CLI runs its own event loop: run it in a thread so it does not nest in the test's loop
    import asyncio

    code = await asyncio.to_thread(main, ["-c", str(cfg), "report", "--format", "json", "-o", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["summary"]["checks"] == {"passed": 1, "failed": 1, "error": 0, "muted": 0}
    assert data["mttr"]["resolved"] == 1 and data["mttr"]["mean_s"] == 60.0
    assert data["detections"]["open_total"] == 1
    assert sum(data["rejected"].values()) == 1  # the garbage record is counted, not dropped silently
