"""Benchmark: what each daemon runtime costs on its own (a stage that does nothing, or only decodes).

    .venv/bin/python -m bench.runtime_ceiling [--records 100000] [--partitions 3]

``--records`` activity records are produced first; then ``cspm_stream.daemon.run`` drives a
trivial stage (``noop``: returns nothing; ``decode``: decodes the ``activity.v1`` record and
returns nothing) on each runtime — the aiokafka batch loop and a faust agent — and the
committed offsets of its consumer group are polled until every record is processed.
Rate = records / time from the first to the last commit progress. The ceiling a runtime
puts on any stage, next to ``bench.kafka_passthrough``. Needs the broker. Prints JSON.
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
from bench.stream_detect.run import ROOT, _activity, _committed, _produce_all, _settings
from cspm_stream.kafka import client_options, ensure_topics

STAGE = """
import sys
from cspm_stream import settings
from cspm_stream.daemon import run
from cspm_stream.models import ActivityRecord, decode

class Trivial:
    name = "detect"
    inputs = ("activity",)
    assigns_changes = True

    async def handle(self, key, value, meta, state):
        if sys.argv[2] == "decode":
            decode(value, ActivityRecord)
        return []

s = settings.load(sys.argv[1])
sys.exit(run(s, "process", handlers=[Trivial()], batchloop={"detect"} if sys.argv[3] == "batchloop" else set()))
"""


async def one(records: int, partitions: int, stage: str, runtime: str) -> float:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        settings, cfg = _settings(tmp, partitions)
        await ensure_topics(settings.kafka)
        await _produce_all(settings, [_activity(r) for r in generate(records, seed=11)])
        group = f"{settings.app.id}.detect" if runtime == "batchloop" else settings.app.id
        log = (tmp / "daemon.log").open("ab")
        daemon = subprocess.Popen(
            [sys.executable, "-c", STAGE, str(cfg), stage, runtime], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        admin = AIOKafkaAdminClient(**client_options(settings.kafka))
        await admin.start()
        try:
            t0 = n0 = None
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                n = await _committed(settings, admin, group)
                if n and t0 is None:
                    t0, n0 = time.monotonic(), n
                if n >= records and t0 is not None and n0 is not None:
                    return (records - n0) / max(time.monotonic() - t0, 1e-6)
                if daemon.poll() is not None:
                    raise RuntimeError(f"daemon exited: {(tmp / 'daemon.log').read_text()[-2000:]}")
                await asyncio.sleep(0.05)
            raise RuntimeError("the run did not finish")
        finally:
            await admin.close()
            daemon.terminate()
            daemon.wait(timeout=60)
            log.close()


async def main(records: int, partitions: int) -> dict[str, Any]:
    rates: dict[str, int] = {}
    for runtime in ("batchloop", "faust"):
        for stage in ("noop", "decode"):
            n = records if runtime == "batchloop" else max(records // 5, 5000)  # faust is far slower
            rates[f"{runtime}/{stage}"] = round(await one(n, partitions, stage, runtime))
    return {"benchmark": "runtime_ceiling", "records": records, "partitions": partitions, "records_per_s": rates}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--partitions", type=int, default=3)
    a = ap.parse_args()
    sys.stdout.write(
        orjson.dumps(asyncio.run(main(a.records, a.partitions)), option=orjson.OPT_INDENT_2).decode() + "\n"
    )
