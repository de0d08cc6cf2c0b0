"""Benchmark: what the daemon's runtime costs on its own (a stage that does nothing, or only decodes).

    .venv/bin/python -m bench.runtime_ceiling [--records 100000] [--partitions 3] [--faust-reference]

``--records`` activity records are produced first; then ``cspm_stream.daemon.run`` drives a
trivial stage (``noop``: returns nothing; ``decode``: decodes the ``activity.v1`` record and
returns nothing; ``io``: waits ``--io-ms`` per record, as a stage whose handler is an AWS round
trip does, and ``io-concurrent`` the same with the partitions handled concurrently) on the batch loop, and the committed offsets of its consumer group are
polled until every record is processed. Rate = records / time from the first to the last
commit progress; ``records_per_cpu_s`` divides by the daemon's CPU time instead (user + system,
all threads), which the load of a shared machine distorts far less. The ceiling the runtime puts on any stage, next to ``bench.kafka_passthrough``.
``--faust-reference`` also measures a bare faust-streaming agent doing nothing (raw values, no
table) on a fifth of the records: the per-event cost that made the daemon leave faust agents
(docs/design.md). Needs the broker. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka.admin import AIOKafkaAdminClient

from bench.detect.mix import generate
from bench.stream_detect.run import ROOT, _activity, _committed, _cpu_s, _produce_all, _settings
from cspm_stream.kafka import client_options
from cspm_stream.topic_admin import ensure_topics

STAGE = """
import asyncio
import sys
from cspm_stream import settings
from cspm_stream.daemon import run
from cspm_stream.models import ActivityRecord, decode

class Trivial:
    name = "detect"
    inputs = ("activity",)
    assigns_changes = True
    # io-concurrent: the records of different partitions are handled concurrently (each partition in order)
    concurrent_partitions = sys.argv[2] == "io-concurrent"
    max_batch = 12 if sys.argv[2].startswith("io") else 0  # commits progress every few round trips

    async def handle(self, key, value, meta, state):
        if sys.argv[2] == "decode":
            decode(value, ActivityRecord)
        elif sys.argv[2].startswith("io"):  # an AWS round trip, as ingest and remediate make per record
            await asyncio.sleep(float(sys.argv[3]) / 1000)
        return []

sys.exit(run(settings.load(sys.argv[1]), "runtime-ceiling", handlers=[Trivial()]))
"""

#: a bare faust agent (the reference the runtime was chosen against), consuming raw values and doing nothing
FAUST_AGENT = """
import sys
import faust
from cspm_stream import settings

s = settings.load(sys.argv[1])
app = faust.App(
    s.app.id,
    broker="kafka://" + s.kafka.bootstrap,
    value_serializer="raw",
    key_serializer="raw",
    store="memory://",
    web_enabled=False,
    consumer_auto_offset_reset="earliest",
    broker_commit_interval=1.0,
    autodiscover=False,
)
topic = app.topic(s.kafka.topic("activity"), value_serializer="raw", key_serializer="raw")

@app.agent(topic)
async def noop(stream):
    async for _ in stream:
        pass

sys.argv = [sys.argv[0], "worker", "--loglevel", "warn", "--without-web"]
app.main()
"""


async def one(records: int, partitions: int, stage: str, runtime: str, io_ms: float = 0.0) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        settings, cfg = _settings(tmp, partitions)
        await ensure_topics(settings.kafka)
        await _produce_all(settings, [_activity(r) for r in generate(records, seed=11)])
        group = f"{settings.app.id}.detect" if runtime == "batchloop" else settings.app.id
        log = (tmp / "daemon.log").open("ab")
        code = STAGE if runtime == "batchloop" else FAUST_AGENT
        daemon = subprocess.Popen(
            [sys.executable, "-c", code, str(cfg), stage, str(io_ms)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        admin = AIOKafkaAdminClient(**client_options(settings.kafka))
        await admin.start()
        try:
            t0 = n0 = c0 = None
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                n = await _committed(settings, admin, group)
                if n and t0 is None:
                    t0, n0, c0 = time.monotonic(), n, _cpu_s([daemon.pid])
                if n >= records and t0 is not None and n0 is not None and c0 is not None:
                    wall = (records - n0) / max(time.monotonic() - t0, 1e-6)
                    cpu = (records - n0) / max(_cpu_s([daemon.pid]) - c0, 1e-6)
                    return wall, cpu
                if daemon.poll() is not None:
                    raise RuntimeError(f"daemon exited: {(tmp / 'daemon.log').read_text()[-2000:]}")
                await asyncio.sleep(0.05)
            raise RuntimeError("the run did not finish")
        finally:
            await admin.close()
            daemon.terminate()
            daemon.wait(timeout=60)
            log.close()


async def main(
    records: int, partitions: int, faust_reference: bool = False, io_ms: float = 50.0, io_records: int = 300
) -> dict[str, Any]:
    rates: dict[str, int] = {}
    per_cpu_s: dict[str, int] = {}
    runs = [("batchloop", stage, records) for stage in ("noop", "decode")]
    if io_records:  # a stage whose handle() is an AWS round trip: one partition at a time, or all at once
        runs += [("batchloop", stage, io_records) for stage in ("io", "io-concurrent")]
    if faust_reference:  # far slower: a fifth of the records
        runs.append(("faust-agent", "noop", max(records // 5, 5000)))
    for runtime, stage, n in runs:
        wall, cpu = await one(n, partitions, stage, "faust" if runtime == "faust-agent" else runtime, io_ms)
        rates[f"{runtime}/{stage}"], per_cpu_s[f"{runtime}/{stage}"] = round(wall), round(cpu)
    return {
        "benchmark": "runtime_ceiling",
        "records": records,
        "partitions": partitions,
        "io_ms_per_record": io_ms,
        "records_per_s": rates,
        # records per CPU-second of the daemon process (every thread): what a shared machine's load distorts least
        "records_per_cpu_s": per_cpu_s,
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument("--faust-reference", action="store_true", help="also measure a bare faust agent")
    ap.add_argument("--io-ms", type=float, default=50.0, help="the simulated AWS round trip of the io stages")
    ap.add_argument("--io-records", type=int, default=300, help="records of the io stages (0: skip them)")
    a = ap.parse_args()
    result = asyncio.run(main(a.records, a.partitions, a.faust_reference, a.io_ms, a.io_records))
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
