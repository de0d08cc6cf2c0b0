"""Raw aiokafka consume→produce of 1.5 KB records on the local broker: the ceiling for every stage.

    python -m bench.kafka_passthrough [--records 50000] [--runs 3]

Timed from the first records received (the group join is not throughput) to the last commit.
Prints JSON: records/s per run and the median, and the median records per CPU-second of the
process. Later stages report their rate as a ratio of this.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

BOOT = os.environ.get("CSPM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
RECORD = b"x" * 1500


async def _fill(topic: str, n: int, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOT)
    await admin.start()
    await admin.create_topics([NewTopic(topic, partitions, 1), NewTopic(topic + ".out", partitions, 1)])
    await admin.close()
    p = AIOKafkaProducer(bootstrap_servers=BOOT, acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await p.start()
    futs = [await p.send(topic, RECORD, key=str(i % 1000).encode()) for i in range(n)]
    await asyncio.gather(*futs)
    await p.stop()


async def _passthrough(topic: str, n: int) -> tuple[float, float]:
    c = AIOKafkaConsumer(
        topic,
        bootstrap_servers=BOOT,
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    p = AIOKafkaProducer(
        bootstrap_servers=BOOT, acks="all", enable_idempotence=True, linger_ms=5, max_batch_size=256 * 1024
    )
    await c.start()
    await p.start()
    done = 0
    t0 = c0 = 0.0
    first = 0
    try:
        while done < n:
            batch = await c.getmany(timeout_ms=1000, max_records=5000)
            if batch and not done:  # timed from the first records (the group join is not throughput)
                t0, c0 = time.perf_counter(), time.process_time()
                first = sum(len(msgs) for msgs in batch.values())
            futs = []
            for msgs in batch.values():
                for m in msgs:
                    futs.append(await p.send(topic + ".out", m.value, key=m.key))
            await asyncio.gather(*futs)  # acknowledged before the offsets are committed
            if batch:
                await c.commit()
            done += len(futs)
        return (n - first) / (time.perf_counter() - t0), (n - first) / max(time.process_time() - c0, 1e-6)
    finally:
        await c.stop()
        await p.stop()


async def main(records: int, runs: int, partitions: int) -> dict[str, object]:
    rates, cpu = [], []
    for _ in range(runs):
        topic = f"bench-pass-{uuid.uuid4().hex[:8]}"
        await _fill(topic, records, partitions)
        wall, per_cpu_s = await _passthrough(topic, records)
        rates.append(wall)
        cpu.append(per_cpu_s)
    return {
        "benchmark": "kafka_passthrough",
        "record_bytes": len(RECORD),
        "records": records,
        "partitions": partitions,
        "runs_records_per_s": [round(r) for r in rates],
        "median_records_per_s": round(statistics.median(rates)),
        # records per CPU-second of this process: what a shared machine's load distorts least
        "median_records_per_cpu_s": round(statistics.median(cpu)),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--partitions", type=int, default=3)
    a = ap.parse_args()
    print(orjson.dumps(asyncio.run(main(a.records, a.runs, a.partitions))).decode())
