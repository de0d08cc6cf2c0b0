"""The daemon runtime (the batch loop) on the real broker: flow, dead letters, SIGTERM, restart without reprocessing."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream.models import ActivityRecord, ActivitySource, DeadLetter, decode, dumps
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit
from cspm_stream.testing import cloudtrail_record
from cspm_stream.testing.moto import MotoServer
from cspm_stream.topic_admin import ensure_topics, topic_configs
from cspm_stream.topics import TOPICS
from tests.kafka_util import Daemon, consume, drain, produce, wait_for, write_config

pytestmark = pytest.mark.integration


def _activity(i: int | str) -> bytes:
    rec = cloudtrail_record("ListBuckets", "s3.amazonaws.com", event_id=f"evt-{i}" if isinstance(i, int) else i)
    return dumps(ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, "2026-01-01T00:00:00.000Z"))


async def test_topics_created_with_right_compaction(kafka_settings: Settings) -> None:
    first = await ensure_topics(kafka_settings.kafka)
    assert {status for _, status in first} == {"created"}
    again = await ensure_topics(kafka_settings.kafka)  # idempotent
    assert {status for _, status in again} == {"ok"}
    for spec in TOPICS:
        cfg = await topic_configs(kafka_settings.kafka, spec.name)
        assert cfg["cleanup.policy"] == ("compact" if spec.compacted else "delete"), spec.name


async def test_flow_dead_letter_sigterm_and_restart(kafka_settings: Settings, tmp_path: Path) -> None:
    await ensure_topics(kafka_settings.kafka)
    cfg = write_config(kafka_settings, tmp_path / "cspm.yaml")
    daemon = Daemon(["tests/integration/echo_daemon.py", str(cfg)], tmp_path / "daemon.log").start()
    try:
        garbage = b'{"schema": "activity.v1", "event_id": 12'  # truncated JSON
        await produce(
            kafka_settings,
            "activity",
            [(b"p", _activity(1)), (b"p", _activity(2)), (b"p", garbage), (b"p", _activity(3))],
        )
        out = await consume(kafka_settings, "detections", count=3, timeout=60)
        assert sorted(orjson.loads(m.value)["event_id"] for m in out) == ["evt-1", "evt-2", "evt-3"]
        # state survives across messages: the counter reached 3
        assert max(orjson.loads(m.value)["n"] for m in out) == 3
        dead = await consume(kafka_settings, "dlq", count=1, timeout=30)
        letter = decode(dead[0].value, DeadLetter)
        assert letter.stage == "echo"
        assert "not valid JSON" in letter.reason
        assert base64.b64decode(letter.original_b64) == garbage
        assert letter.source_topic == kafka_settings.kafka.topic("activity")
        assert letter.offset == 2
    finally:
        code = daemon.terminate()
    assert code == 0, daemon.tail()

    # restart: committed messages are not reprocessed; new ones flow
    daemon = Daemon(["tests/integration/echo_daemon.py", str(cfg)], tmp_path / "daemon2.log").start()
    try:
        # produce once the group has settled: a record fetched during the start-up rebalances
        # may legitimately be processed twice (at-least-once); that is not what is tested here
        await asyncio.to_thread(daemon.wait_ready, 90)
        await produce(kafka_settings, "activity", [(b"p", _activity(4))])
        out = await consume(kafka_settings, "detections", count=4, timeout=60)
        assert len(out) >= 4
        everything = await drain(kafka_settings, "detections", idle=3)
        ids = sorted(orjson.loads(m.value)["event_id"] for m in everything)
        assert ids == ["evt-1", "evt-2", "evt-3", "evt-4"]  # nothing reprocessed after the restart
        # the state was restored from its changelog: the counter continues at 4
        assert max(orjson.loads(m.value)["n"] for m in everything) == 4
    finally:
        assert daemon.terminate() == 0, daemon.tail()


async def test_oversize_output_dead_letters_its_input(kafka_settings: Settings, tmp_path: Path) -> None:
    """An output the broker refuses (larger than the topic's 4 MiB) loses nothing: its input goes to the DLQ."""
    await ensure_topics(kafka_settings.kafka)
    cfg = write_config(kafka_settings, tmp_path / "cspm.yaml")
    daemon = Daemon(["tests/integration/echo_daemon.py", str(cfg)], tmp_path / "daemon.log").start()
    try:
        huge = _activity("huge-1")
        await produce(kafka_settings, "activity", [(b"p", huge), (b"p", _activity(2))])
        (letter_msg,) = await consume(kafka_settings, "dlq", count=1, timeout=60)
        letter = decode(letter_msg.value, DeadLetter)
        assert "MessageSizeTooLarge" in letter.reason
        assert base64.b64decode(letter.original_b64) == huge
        out = await consume(kafka_settings, "detections", count=1, timeout=30)
        assert [orjson.loads(m.value)["event_id"] for m in out] == ["evt-2"]  # the stream moved on
        assert daemon.alive(), daemon.tail()
    finally:
        assert daemon.terminate() == 0, daemon.tail()


async def test_state_moves_with_its_partitions(kafka_settings: Settings, tmp_path: Path) -> None:
    """A second worker takes over the partitions: it restores the state the first wrote, reprocesses nothing."""
    await ensure_topics(kafka_settings.kafka)
    cfg = write_config(kafka_settings, tmp_path / "cspm.yaml")
    first = Daemon(["tests/integration/echo_daemon.py", str(cfg)], tmp_path / "a.log").start()
    second = None
    try:
        await produce(kafka_settings, "activity", [(b"p", _activity(i)) for i in range(1, 4)])
        out = await consume(kafka_settings, "detections", count=3, timeout=60)
        assert max(orjson.loads(m.value)["n"] for m in out) == 3
        second = Daemon(["tests/integration/echo_daemon.py", str(cfg)], tmp_path / "b.log").start()
        await asyncio.to_thread(second.wait_ready, 90)
        assert first.terminate() == 0, first.tail()  # leaves the group: every partition moves to the second
        await asyncio.sleep(2)
        await produce(kafka_settings, "activity", [(b"p", _activity(4))])
        await consume(kafka_settings, "detections", count=4, timeout=60)
        everything = [orjson.loads(m.value) for m in await drain(kafka_settings, "detections", idle=3)]
        assert sorted(e["event_id"] for e in everything) == [f"evt-{i}" for i in range(1, 5)]  # nothing twice
        (fourth,) = [e for e in everything if e["event_id"] == "evt-4"]
        assert fourth["n"] == 4  # the counter the first worker left, restored from the changelog
    finally:
        first.terminate()
        if second is not None:
            assert second.terminate() == 0, second.tail()


async def test_process_role_metrics_count_records_and_lag(kafka_settings: Settings, tmp_path: Path) -> None:
    """The daemon's /metrics (127.0.0.1) counts what the batch loop consumed and its consumer lag."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await ensure_topics(kafka_settings.kafka)
    cfg = write_config(kafka_settings, tmp_path / "cspm.yaml", web={"enabled": True, "port": port})
    daemon = Daemon(["-m", "cspm_stream", "-c", str(cfg), "run", "--role", "process"], tmp_path / "d.log").start()
    try:
        await asyncio.to_thread(daemon.wait_ready, 90)
        await produce(kafka_settings, "activity", [(b"p", _activity(i)) for i in range(5)])
        activity = kafka_settings.kafka.topic("activity")

        def scrape() -> str | None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
            return text if f'cspm_events_in_total{{stage="detect",topic="{activity}"}} 5.0' in text else None

        async def counted() -> str | None:
            return await asyncio.to_thread(scrape)

        text = await wait_for(counted, 60, interval=1.0)
        assert text is not None, daemon.tail()
        assert "cspm_consumer_lag{partition=" in text and f'topic="{activity}"' in text
        lags = [line for line in text.splitlines() if line.startswith("cspm_consumer_lag{") and activity in line]
        assert lags and all(line.endswith(" 0.0") for line in lags)  # caught up
    finally:
        assert daemon.terminate() == 0, daemon.tail()


async def test_one_registry_serves_sink_and_aws_metrics(
    kafka_settings: Settings, tmp_path: Path, moto_server: MotoServer
) -> None:
    """Every metric reaches /metrics: per-sink deliveries (file sink, a webhook on a local receiver)
    and the AWS calls of the scheduler and the ingest stage (moto), scraped from one running daemon."""
    import socket
    import urllib.request

    from cspm_stream.testing.receiver import Receiver
    from tests.integration.resilience_util import failing_bucket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await ensure_topics(kafka_settings.kafka)
    alerts_file = tmp_path / "alerts.jsonl"
    async with Receiver() as hook:
        cfg = write_config(
            kafka_settings,
            tmp_path / "cspm.yaml",
            web={"enabled": True, "port": port},
            aws={"endpoint_url": moto_server.endpoint_url, "regions": ["us-east-1"]},
            scan={"scheduler": True, "services": ["s3"], "interval_s": 3600},
            alerts={
                "sinks": {
                    "audit": {"type": "file", "path": str(alerts_file)},
                    "hook": {"type": "webhook", "url": hook.url},
                },
                "routes": [{"name": "a", "sink": "audit"}, {"name": "h", "sink": "hook"}],
            },
        )
        daemon = Daemon(["-m", "cspm_stream", "-c", str(cfg), "run", "--role", "all"], tmp_path / "d.log").start()
        try:
            await asyncio.to_thread(daemon.wait_ready, 120)
            await produce(
                kafka_settings, "inventory", [(b"arn:aws:s3:::metrics-bucket", failing_bucket("metrics-bucket"))]
            )

            def scrape() -> str:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    return str(r.read().decode())

            wanted = (
                'cspm_alerts_sent_total{sink="audit"}',
                'cspm_alerts_sent_total{sink="hook"}',
                'cspm_aws_api_calls_total{operation="GetCallerIdentity",service="sts"}',  # the scheduler's discovery
                'cspm_aws_api_calls_total{operation="ListBuckets",service="s3"}',  # the ingest stage's scan
                'cspm_events_in_total{stage="alerts",',
                'cspm_event_to_alert_seconds_count{kind="compliance"}',  # finding time to its routing
                'cspm_evaluation_seconds_count{stage="posture"}',
            )

            async def all_there() -> str | None:
                text = await asyncio.to_thread(scrape)
                delivered = b"metrics-bucket" in b"".join(hook.bodies)  # the bucket's own alert, not just any
                return text if delivered and all(w in text for w in wanted) else None

            text = await wait_for(all_there, 90, interval=1.0)
            assert text is not None, ([w for w in wanted if w not in scrape()], daemon.tail())
        finally:
            assert daemon.terminate() == 0, daemon.tail()
    assert hook.bodies and b"metrics-bucket" in b"".join(hook.bodies)
    assert b"metrics-bucket" in alerts_file.read_bytes()
    sent = [line for line in text.splitlines() if line.startswith("cspm_alerts_sent_total{")]
    assert all(float(line.rsplit(" ", 1)[1]) >= 1 for line in sent), sent


class _Ticking:
    """Counts its records; its timer reports the count and remembers how often it ran."""

    name = "ticking"
    inputs: tuple[str, ...] = ("activity",)
    tick_interval_s = 0.3

    async def handle(self, key: bytes | None, value: bytes | None, meta: Any, state: Any) -> list[Emit]:
        state["n"] = (state.get("n") or 0) + 1
        return []

    def tick(self, state: Any) -> list[Emit]:
        ticks = state["ticks"] = (state.get("ticks") or 0) + 1
        return [Emit("detections", "tick", orjson.dumps({"n": state.get("n") or 0, "ticks": ticks}))]


async def test_timer_work_runs_like_a_record_and_its_state_is_changelogged(kafka_settings: Settings) -> None:
    """A handler's tick runs on the runtime's timer without traffic: outputs sent, state durable."""
    from cspm_stream.testing.runtime import LocalRuntime

    await ensure_topics(kafka_settings.kafka)
    await produce(kafka_settings, "activity", [(b"p", _activity(i)) for i in range(3)])
    async with LocalRuntime(kafka_settings, [_Ticking()]) as rt:
        await rt.wait_processed(3)
        ticks = await consume(kafka_settings, "detections", count=2, timeout=30)
        assert rt.loop("ticking").table["n"] == 3
    reports = [orjson.loads(m.value) for m in ticks]
    assert reports[-1]["n"] == 3 and [r["ticks"] for r in reports][:2] == [1, 2]
    # a new worker restores the timer's state from the changelog and carries on counting
    async with LocalRuntime(kafka_settings, [_Ticking()]) as rt:
        await asyncio.sleep(0.1)
        restored = rt.loop("ticking").table
        assert restored["n"] == 3 and restored["ticks"] >= 2
