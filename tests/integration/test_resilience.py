"""Resilience on the real broker: garbage everywhere, kill -9 mid-stream, two workers sharing state."""

from __future__ import annotations

import asyncio
import base64
import collections
import zlib
from pathlib import Path

import orjson
import pytest

from cspm_stream.settings import Settings
from cspm_stream.testing.garbage import garbage
from cspm_stream.testing.moto import MotoServer
from cspm_stream.topic_admin import ensure_topics
from tests.integration.resilience_util import benign, failing_bucket, stop_logging, valid_examples
from tests.kafka_util import Daemon, drain, first_record, produce, wait_for, write_config

pytestmark = pytest.mark.integration

DAEMON_CONFIG: dict[str, dict[str, object]] = {
    "scan": {"scheduler": False},
    "app": {"shutdown_timeout_s": 25},
}


@pytest.fixture(autouse=True)
def _aws_is_moto(moto_server: MotoServer) -> None:
    """Every daemon here talks to moto: rescans triggered by the test records are answered."""
    DAEMON_CONFIG["aws"] = {"endpoint_url": moto_server.endpoint_url, "regions": ["us-east-1"]}


def _daemon(settings: Settings, tmp: Path, role: str, name: str, **cfg: object) -> Daemon:
    path = write_config(settings, tmp / f"{name}.yaml", **{**DAEMON_CONFIG, **cfg})  # type: ignore[arg-type]
    return Daemon(["-m", "cspm_stream", "-c", str(path), "run", "--role", role], tmp / f"{name}.log").start()


def _consumers(settings: Settings) -> dict[str, list[str]]:
    """Logical input topic → the stages of role ``all`` that read it (from the role table's factories)."""
    from cspm_stream.app import build_role, role_context

    out: dict[str, list[str]] = collections.defaultdict(list)
    for parts in build_role(role_context(settings, environ={}), "all"):
        for topic in parts.handler.inputs:
            out[topic].append(parts.handler.name)
    return out


async def _count(settings: Settings, topic: str, minimum: int, timeout: float) -> list:
    async def enough() -> list | None:
        got = await drain(settings, topic, idle=1.0, timeout=20)
        return got if len(got) >= minimum else None

    return (await wait_for(enough, timeout, interval=2.0)) or await drain(settings, topic, idle=1.0)


async def test_garbage_on_every_input_topic_goes_to_dlq(kafka_settings: Settings, tmp_path: Path) -> None:
    """10,000 mutated/garbage records across every input topic of every stage: no crash, and every
    one dead-lettered with its reason and exact bytes by EACH stage that reads its topic, exactly once
    (the contract: a stage dead-letters what it cannot read; none relies on another stage, which may
    run in another role); good records around them still processed."""
    await ensure_topics(kafka_settings.kafka)
    consumers = _consumers(kafka_settings)
    examples = valid_examples()
    assert set(consumers) <= set(examples), f"no valid example for input topic(s) {set(consumers) - set(examples)}"
    examples = {t: examples[t] for t in consumers}
    sent: dict[str, collections.Counter[bytes]] = {}
    for i, (topic, example) in enumerate(sorted(examples.items())):
        per_topic = 10_000 // len(examples) + (i < 10_000 % len(examples))
        bad = [b for _, b in garbage(example, per_topic, seed=zlib.crc32(topic.encode()) & 0xFFFF)]
        sent[topic] = collections.Counter(bad)
        batch: list[tuple[bytes | None, bytes | None]] = [(b"k", b) for b in bad[: per_topic // 2]]
        if topic == "inventory":
            batch.append((b"arn:aws:s3:::good-one", failing_bucket("good-one")))
        if topic == "activity":
            batch.append(
                (b"arn:aws:iam::123456789012:user/good", stop_logging("arn:aws:iam::123456789012:user/good", "good-1"))
            )
        batch += [(b"k", b) for b in bad[per_topic // 2 :]]
        await produce(kafka_settings, topic, batch)
    total = sum(sum(c.values()) for c in sent.values())
    assert total == 10_000

    def letters(dlq: list) -> dict[tuple[str, str], collections.Counter[bytes]]:
        out: dict[tuple[str, str], collections.Counter[bytes]] = collections.defaultdict(collections.Counter)
        for m in dlq:
            letter = orjson.loads(m.value)
            assert letter["reason"], letter
            logical = letter["source_topic"].removeprefix(kafka_settings.kafka.topic_prefix)
            out[logical, letter["stage"]][base64.b64decode(letter["original_b64"])] += 1
        return out

    def covered(got: dict[tuple[str, str], collections.Counter[bytes]]) -> bool:
        return all(got[topic, stage] == sent[topic] for topic in examples for stage in consumers[topic])

    # AWS is moto, so the good record's rescan request is answered rather than dead-lettered
    daemon = _daemon(kafka_settings, tmp_path, "all", "garbage")
    try:

        async def all_dead_lettered() -> list | None:
            dlq = await drain(kafka_settings, "dlq", idle=1.0, timeout=30)
            return dlq if covered(letters(dlq)) else None

        dlq = await wait_for(all_dead_lettered, 300, interval=3.0) or await drain(kafka_settings, "dlq", idle=1.0)
        assert daemon.alive(), daemon.tail()
        findings = await drain(kafka_settings, "findings", idle=2.0)
        detections = await drain(kafka_settings, "detections", idle=2.0)
    finally:
        assert daemon.terminate() == 0, daemon.tail()

    got = letters(dlq)
    for (topic, stage), originals in got.items():
        assert stage in consumers[topic], f"{stage} dead-lettered a record of {topic}, which it does not read"
        assert not originals - sent[topic], f"{topic} by {stage}: dead letters of records never sent (a good one?)"
        assert all(originals[raw] <= sent[topic][raw] for raw in originals), f"{topic}: {stage} processed twice"
    missing = {
        (t, s): sum((sent[t] - got[t, s]).values()) for t in examples for s in consumers[t] if got[t, s] != sent[t]
    }
    assert not missing, f"garbage records a reading stage did not dead-letter, per (topic, stage): {missing}"
    # the good records between the garbage were processed
    assert any(b"good-one" in (m.value or b"") for m in findings)
    assert any(b"good-1" in (m.value or b"") for m in detections)


async def test_kill_9_mid_stream_then_restart(kafka_settings: Settings, tmp_path: Path) -> None:
    """Every input accounted for after a kill -9 mid-stream, and no duplicate alert (uid + state)."""
    await ensure_topics(kafka_settings.kafka)
    n = 120
    batch: list[tuple[bytes | None, bytes | None]] = []
    for i in range(n):  # each StopLogging by a fresh principal is one detection, between benign noise
        principal = f"arn:aws:iam::123456789012:user/u{i}"
        batch.append((principal.encode(), stop_logging(principal, f"ev-{i}")))
        batch += [(f"noise{j % 7}".encode(), benign(f"noise-{i}-{j}")) for j in range(200)]
    await produce(kafka_settings, "activity", batch)
    # small batches slow the victim down (an ack and a commit every 10 records) so the kill lands mid-stream
    daemon = _daemon(kafka_settings, tmp_path, "all", "victim", app={"batch_max": 10})
    try:
        await first_record(kafka_settings, "detections", timeout=90)
    finally:
        daemon.kill()  # SIGKILL mid-stream: no drain, no commit
    first = await drain(kafka_settings, "detections", idle=1.0)
    stops = [m for m in first if b"StopLogging" in (m.value or b"")]
    assert len(stops) < n, "the daemon finished before the kill: the test proves nothing"
    daemon = _daemon(kafka_settings, tmp_path, "all", "restarted")
    try:
        await _count(kafka_settings, "alerts", n, timeout=180)
        await asyncio.sleep(3)
        alerts = await drain(kafka_settings, "alerts", idle=3.0)
    finally:
        assert daemon.terminate() == 0, daemon.tail()

    stop_alerts = [orjson.loads(m.value) for m in alerts]
    stop_alerts = [a for a in stop_alerts if "logging stopped" in a["finding_info"]["title"].lower()]
    principals = {a["actor"]["user"]["uid"] for a in stop_alerts}
    assert principals == {f"arn:aws:iam::123456789012:user/u{i}" for i in range(n)}  # nothing lost
    pairs = collections.Counter((a["finding_info"]["uid"], a.get("activity_id")) for a in stop_alerts)
    dupes = {k: v for k, v in pairs.items() if v > 1}
    assert not dupes, f"duplicate alerts after kill -9: {dupes}"


async def test_two_process_workers_share_partitions(kafka_settings: Settings, tmp_path: Path) -> None:
    """Scale-out: state moves on rebalance; no finding lost or duplicated."""
    await ensure_topics(kafka_settings.kafka)
    names = [f"scale-{i}" for i in range(30)]
    a = _daemon(kafka_settings, tmp_path, "process", "worker-a")
    b = None
    try:
        await produce(
            kafka_settings, "inventory", [(f"arn:aws:s3:::{x}".encode(), failing_bucket(x)) for x in names[:15]]
        )
        await _count(kafka_settings, "findings", 15, timeout=90)
        b = _daemon(kafka_settings, tmp_path, "process", "worker-b")  # joins the group: rebalance
        await asyncio.sleep(15)
        await produce(kafka_settings, "inventory", [(f"arn:aws:s3:::{x}".encode(), failing_bucket(x)) for x in names])
        await _count(kafka_settings, "findings", 30, timeout=90)
        assert a.terminate() == 0, a.tail()  # leaves: its partitions and their state move to b
        a = None
        await asyncio.sleep(10)
        # the same snapshots again (no change) and deletions of five: only RESOLVED transitions follow
        await produce(kafka_settings, "inventory", [(f"arn:aws:s3:::{x}".encode(), failing_bucket(x)) for x in names])
        await produce(kafka_settings, "inventory", [(f"arn:aws:s3:::{x}".encode(), None) for x in names[:5]])
        await _count(kafka_settings, "findings", 35, timeout=90)
        await asyncio.sleep(3)
        findings = await drain(kafka_settings, "findings", idle=3.0)
    finally:
        if a is not None:
            a.terminate()
        if b is not None:
            assert b.terminate() == 0, b.tail()

    per_resource: dict[str, list[str]] = collections.defaultdict(list)
    for m in findings:
        if m.value is None:
            continue
        f = orjson.loads(m.value)
        if f["unmapped"]["policy_id"] == "s3_bucket_acl_public_read":
            per_resource[f["resources"][0]["uid"]].append(f["unmapped"]["state"])
    assert set(per_resource) == {f"arn:aws:s3:::{x}" for x in names}
    for x in names:
        expected = ["new", "resolved"] if x in names[:5] else ["new"]
        assert per_resource[f"arn:aws:s3:::{x}"] == expected, (x, per_resource[f"arn:aws:s3:::{x}"])
