"""Benchmark: the detect stage through the real broker and the daemon runtime.

    .venv/bin/python -m bench.stream_detect [--records 100000] [--rate 1000] [--seconds 20] [--workers 1]

1. Sustained throughput: ``--records`` activity records (the realistic mix of
   ``bench/detect/mix.py``, keyed by principal) are produced to ``<prefix>activity``
   first; then the daemon (``cspm_stream.daemon.run`` of role ``process`` with only its
   ``detect`` stage, built by its factory: all built-in rules) starts and the committed
   offsets of its consumer group are
   polled until every record is processed. Rate = records / time from the first to
   the last commit progress (startup excluded); ``events_per_cpu_s`` divides by the daemon's
   CPU time instead (what a shared machine's load distorts least). Compared with
   ``bench.kafka_passthrough`` (raw aiokafka consume→produce, timed the same way) measured in
   the same run: target ratio >= 0.8.
2. Latency: records are produced at ``--rate``/s for ``--seconds``; one in 100 is a
   ``StopLogging`` by a fresh principal (a new detection). Latency = time the detection is
   read from ``<prefix>detections`` minus the time its record was sent. Target p99 < 100 ms.

Needs the broker (``scripts/kafka-local start``). Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.detect.mix import generate
from cspm_stream.kafka import client_options
from cspm_stream.models import ActivityRecord, ActivitySource, dumps
from cspm_stream.settings import Settings, load
from cspm_stream.timeutil import ms_to_iso
from cspm_stream.topic_admin import ensure_topics

BOOT = os.environ.get("CSPM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
ROOT = Path(__file__).resolve().parents[2]
RUNNER = (
    "import sys; from cspm_stream import settings; from cspm_stream.daemon import run; "
    "sys.exit(run(settings.load(sys.argv[1]), 'process', stages=('detect',)))"
)


def _settings(tmp: Path, partitions: int) -> tuple[Settings, Path]:
    tag = uuid.uuid4().hex[:8]
    data = {
        "app": {"id": f"bench-detect-{tag}", "data_dir": str(tmp), "log_format": "json", "log_level": "WARNING"},
        "kafka": {"bootstrap": BOOT, "topic_prefix": f"bench{tag}.", "partitions": partitions},
        "web": {"enabled": False},
    }
    cfg = tmp / "cspm.yaml"
    cfg.write_text(yaml.safe_dump(data))
    return load(data=data, environ={}), cfg


def _activity(rec: dict[str, Any]) -> tuple[bytes, bytes]:
    act = ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, rec["eventTime"])
    return act.principal.encode(), dumps(act)


async def _produce_all(settings: Settings, items: list[tuple[bytes, bytes]]) -> None:
    p = AIOKafkaProducer(**client_options(settings.kafka), acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await p.start()
    try:
        futs = [await p.send(settings.kafka.topic("activity"), v, key=k) for k, v in items]
        await asyncio.gather(*futs)
    finally:
        await p.stop()


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system, every thread) the processes used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


async def _committed(settings: Settings, admin: AIOKafkaAdminClient, group: str) -> int:
    topic = settings.kafka.topic("activity")
    offs = await admin.list_consumer_group_offsets(group)
    return sum(meta.offset for tp, meta in offs.items() if tp.topic == topic and meta.offset > 0)


async def throughput(settings: Settings, cfg: Path, log: Path, records: int, workers: int = 1) -> dict[str, Any]:
    items = [_activity(r) for r in generate(records, seed=11)]
    await _produce_all(settings, items)
    group = f"{settings.app.id}.detect"
    daemons = [
        subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(cfg)], cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT
        )
        for _ in range(workers)
    ]
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await admin.start()
    t_first = n_first = None
    t_done = None
    cpu_first = cpu_done = 0.0
    pids = [d.pid for d in daemons]
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            n = await _committed(settings, admin, group)
            now = time.monotonic()
            if n > 0 and t_first is None:
                t_first, n_first, cpu_first = now, n, _cpu_s(pids)
            if n >= records:
                t_done, cpu_done = now, _cpu_s(pids)
                break
            if any(d.poll() is not None for d in daemons):
                raise RuntimeError(f"daemon exited: {log.read_text()[-2000:]}")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    if t_done is None or t_first is None or n_first is None:
        raise RuntimeError("throughput run did not finish")
    rate = (records - n_first) / max(t_done - t_first, 1e-6)
    per_cpu_s = (records - n_first) / max(cpu_done - cpu_first, 1e-6)
    return {
        "records": records,
        "workers": workers,
        "events_per_s": round(rate),
        "events_per_cpu_s": round(per_cpu_s),
        "_daemons": daemons,
    }


async def latency(settings: Settings, rate: float, seconds: float) -> dict[str, Any]:
    topic_det = settings.kafka.topic("detections")
    consumer = AIOKafkaConsumer(**client_options(settings.kafka), group_id=None, enable_auto_commit=False)
    await consumer.start()
    tps = [TopicPartition(topic_det, p) for p in range(settings.kafka.partitions)]  # created by ensure_topics
    consumer.assign(tps)
    await consumer.seek_to_end(*tps)
    sent: dict[str, float] = {}
    lat: list[float] = []
    n = int(rate * seconds)
    benign = generate(n, seed=23, start_ms=1767312000000, rate_per_s=rate, malicious_share=0.0)
    producer = AIOKafkaProducer(**client_options(settings.kafka), acks="all", linger_ms=1)
    await producer.start()
    done = asyncio.Event()

    async def reader() -> None:
        while not (done.is_set() and not sent):
            batch = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for msgs in batch.values():
                for m in msgs:
                    f = orjson.loads(m.value)
                    for eid in f["unmapped"]["event_ids"]:
                        if eid in sent and f["activity_id"] == 1:
                            lat.append(now - sent.pop(eid))
            if done.is_set() and time.perf_counter() - t_end > 15:
                break

    t_end = float("inf")
    task = asyncio.create_task(reader())
    t0 = time.perf_counter()
    futs = []
    for i, rec in enumerate(benign):
        if i % 100 == 50:  # a fresh principal stops the trail: one new detection each
            rec = dict(rec)
            rec["eventName"], rec["eventSource"] = "StopLogging", "cloudtrail.amazonaws.com"
            rec["requestParameters"] = {"name": "main-trail"}
            rec["userIdentity"] = {
                "type": "IAMUser",
                "arn": f"arn:aws:iam::123456789012:user/lat-{i}",
                "accountId": "123456789012",
                "userName": f"lat-{i}",
            }
            rec["eventTime"] = ms_to_iso(1767312000000 + i)
        key, value = _activity(rec)
        target = t0 + i / rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if rec["eventName"] == "StopLogging":
            sent[rec["eventID"]] = time.perf_counter()
        futs.append(await producer.send(settings.kafka.topic("activity"), value, key=key))
    await asyncio.gather(*futs)
    produced_for = time.perf_counter() - t0
    t_end = time.perf_counter()
    done.set()
    await task
    await producer.stop()
    await consumer.stop()
    lat.sort()

    def pct(p: float) -> float | None:  # nearest rank
        return round(lat[min(len(lat) - 1, max(0, int(-(-p * len(lat) // 100)) - 1))] * 1000, 1) if lat else None

    return {
        "rate_target": rate,
        "rate_achieved": round(n / produced_for),
        "detections_expected": len(lat) + len(sent),
        "detections_seen": len(lat),
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "max_ms": round(lat[-1] * 1000, 1) if lat else None,
    }


async def _main(records: int, rate: float, seconds: float, partitions: int, workers: int = 1) -> dict[str, Any]:
    from bench.kafka_passthrough.__main__ import main as passthrough

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        settings, cfg = _settings(tmp, partitions)
        await ensure_topics(settings.kafka)
        log = tmp / "daemon.log"
        tp = await throughput(settings, cfg, log, records, workers)
        daemons = tp.pop("_daemons")
        try:
            lt = await latency(settings, rate, seconds)
        finally:
            for daemon in daemons:
                daemon.terminate()
            for daemon in daemons:
                try:
                    daemon.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    daemon.kill()
    base = await passthrough(records, 1, partitions)
    ratio = tp["events_per_s"] / base["median_records_per_s"]
    cpu_ratio = tp["events_per_cpu_s"] / base["median_records_per_cpu_s"]
    return {
        "benchmark": "stream_detect",
        "runtime": "the daemon (cspm_stream.daemon.run, role process, detect stage only: all built-in rules)",
        "partitions": partitions,
        "throughput": tp,
        "kafka_passthrough_records_per_s": base["median_records_per_s"],
        "kafka_passthrough_records_per_cpu_s": base["median_records_per_cpu_s"],
        "ratio_to_passthrough": round(ratio, 3),
        "cpu_ratio_to_passthrough": round(cpu_ratio, 3),
        "latency": lt,
        "targets": {"ratio_to_passthrough": 0.8, "p99_ms": 100},
        "meets_targets": ratio >= 0.8 and (lt["p99_ms"] or 1e9) < 100,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)  # fewer makes the commit-to-commit timing coarse
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="daemon processes sharing the consumer group (scale-out; the passthrough baseline is one process)",
    )
    a = ap.parse_args(argv)
    result = asyncio.run(_main(a.records, a.rate, a.seconds, a.partitions, a.workers))
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
