"""Alert router benchmark: throughput with three sinks and p99 added latency (target < 50 ms).

Sinks: Kafka (Emits returned to the runtime), a JSON-lines file, and a signed webhook to a
local aiohttp server on 127.0.0.1. Two phases:

* throughput — a burst of N distinct findings through ``handle()``; time until every sink
  has delivered everything (router + queues + HTTP + file).
* latency — findings paced at ``--rate``/s; per alert the time from the start of
  ``handle()`` to delivery on each sink (Kafka: until its Emit is returned); p50/p99.

    .venv/bin/python -m bench.alerts [--n 5000] [--rate 500] [--seconds 5] [--closed-loop]

Prints one JSON object. ``--closed-loop`` also runs the misconfiguration → RESOLVED loop on
moto and the real broker (needs scripts/kafka-local start).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from prometheus_client import CollectorRegistry

from cspm_stream import settings as settings_mod
from cspm_stream.delivery.runner import SinkMetrics, SinkRunner
from cspm_stream.models import DeadLetter, Severity, dumps, ocsf
from cspm_stream.stages.alerts import AlertRouterHandler, build_sinks
from cspm_stream.stages.base import RecordMeta

TARGET_P99_MS = 50.0
HOOK_KEY = "bench-secret"


def finding(i: int) -> bytes:
    arn = f"arn:aws:s3:::bench-bucket-{i}"
    uid = ocsf.finding_uid("s3_bucket_public_access_block", arn)
    f = ocsf.envelope(
        class_uid=ocsf.COMPLIANCE_FINDING,
        activity_id=1,
        severity=Severity.HIGH,
        time_ms=1_767_225_600_000 + i,
        uid=uid,
        title="S3 bucket has all four Block Public Access settings enabled",
        desc="bench",
        status_id=1,
        account_id="123456789012",
        region="us-east-1",
    )
    f["compliance"] = {
        "standards": ["cis-aws-3.0.0"],
        "requirements": ["cis-aws-3.0.0:2.1.4"],
        "control": "s3_bucket_public_access_block",
        "status_id": 3,
        "status": "Fail",
    }
    f["resources"] = [
        {
            "uid": arn,
            "type": "aws.s3.bucket",
            "region": "us-east-1",
            "account_uid": "123456789012",
            "labels": ["env=prod"],
        }
    ]
    f["finding_info"].update(first_seen_time=f["time"], last_seen_time=f["time"], types=["aws.s3.bucket"])
    f["unmapped"] = {
        "policy_id": "s3_bucket_public_access_block",
        "state": "new",
        "remediation_action": "s3_block_public_access",
        "service": "s3",
    }
    return dumps(f)


class Receiver:
    """The webhook receiver in a subprocess (bench/alerts/receiver.py), HMAC-verifying."""

    def __init__(self) -> None:
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Receiver:
        env = {**os.environ, "BENCH_HOOK_KEY": HOOK_KEY}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.alerts.receiver"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert self._proc.stdout is not None
        port = int(self._proc.stdout.readline())
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._proc is not None
        self._proc.terminate()
        self._proc.wait(timeout=10)

    async def counts(self) -> dict[str, int]:
        async with aiohttp.ClientSession() as s, s.get(self.url.replace("/hook", "/count")) as r:
            data: dict[str, int] = await r.json()
            return data


class NoDlq:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def __call__(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


async def build(tmp: Path, hook_url: str) -> tuple[AlertRouterHandler, SinkRunner, NoDlq]:
    s = settings_mod.load(
        data={
            "alerts": {
                "sinks": {
                    "siem": {"type": "kafka"},
                    "file": {"type": "file", "path": str(tmp / "alerts.jsonl")},
                    "hook": {"type": "webhook", "url": hook_url, "hmac_secret_env": "BENCH_HOOK_KEY"},
                },
                "routes": [{"name": n, "sink": n} for n in ("siem", "file", "hook")],
            }
        },
        environ={},
    )
    sinks = build_sinks(s.alerts, environ={"BENCH_HOOK_KEY": HOOK_KEY})
    dlq = NoDlq()
    runner = SinkRunner(sinks, s.alerts.sinks, dlq, SinkMetrics(CollectorRegistry()), record_latency=True)
    return AlertRouterHandler(s.alerts, s.remediation, sinks, runner), runner, dlq


async def bench(n: int, rate: int, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {"sinks": ["kafka(emits)", "file", "webhook(hmac, 127.0.0.1, separate process)"]}
    with Receiver() as hook:
        with tempfile.TemporaryDirectory() as tmp:
            # --- throughput: a burst of n findings, until every sink delivered all of them
            handler, runner, dlq = await build(Path(tmp), hook.url)
            payloads = [finding(i) for i in range(n)]
            meta = RecordMeta("findings", 0, 0)
            state: dict[str, Any] = {}
            async with runner:
                t0 = time.perf_counter()
                emitted = 0
                for p in payloads:
                    emitted += len(await handler.handle(None, p, meta, state))
                t_router = time.perf_counter() - t0
                await runner.join()
                t_all = time.perf_counter() - t0
            counts = await hook.counts()
            assert emitted == n and counts == {"ok": n, "bad_signature": 0} and not dlq.letters, (emitted, counts)
            out["throughput"] = {
                "alerts": n,
                "router_only_per_s": round(n / t_router),
                "end_to_end_all_sinks_per_s": round(n / t_all),
                "seconds": round(t_all, 3),
            }
            # --- latency: paced arrivals; added latency per sink
            handler, runner, dlq = await build(Path(tmp), hook.url)
            total = int(rate * seconds)
            payloads = [finding(n + i) for i in range(total)]
            kafka_lat: list[float] = []
            state = {}
            async with runner:
                start = time.perf_counter()
                for i, p in enumerate(payloads):
                    due = start + i / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    t = time.perf_counter()
                    await handler.handle(None, p, meta, state)
                    kafka_lat.append(time.perf_counter() - t)
                await runner.join()
                file_lat = runner.latencies("file")
                hook_lat = runner.latencies("hook")
            handle_p50 = statistics.median(kafka_lat)
            per_sink = {
                "kafka": kafka_lat,
                # enqueue→delivered, plus the router's own time before the enqueue
                "file": [x + handle_p50 for x in file_lat],
                "webhook": [x + handle_p50 for x in hook_lat],
            }
            out["latency"] = {
                "rate_per_s": rate,
                "alerts": total,
                **{
                    k: {
                        "p50_ms": round(pct(v, 50) * 1000, 3),
                        "p99_ms": round(pct(v, 99) * 1000, 3),
                        "max_ms": round(max(v) * 1000, 3),
                    }
                    for k, v in per_sink.items()
                },
            }
            worst = max(out["latency"][k]["p99_ms"] for k in per_sink)
            out["p99_added_latency_ms"] = worst
            out["target_p99_ms"] = TARGET_P99_MS
            out["meets_target"] = worst < TARGET_P99_MS
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--n", type=int, default=5000, help="burst size for the throughput phase")
    ap.add_argument("--rate", type=int, default=500, help="arrivals per second in the latency phase")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of the latency phase")
    ap.add_argument("--closed-loop", action="store_true", help="also time misconfiguration → RESOLVED on moto")
    args = ap.parse_args(argv)
    result = asyncio.run(bench(args.n, args.rate, args.seconds))
    if args.closed_loop:
        result["closed_loop"] = asyncio.run(_closed_loop())
    print(orjson.dumps(result).decode())
    return 0


async def _closed_loop() -> dict[str, Any]:
    import random

    from bench.alerts.closed_loop import closed_loop, loop_settings
    from cspm_stream.testing.moto import MotoServer

    account = str(random.randint(200000000000, 899999999999))
    with MotoServer() as moto, tempfile.TemporaryDirectory() as tmp:
        s = loop_settings("127.0.0.1:9092", f"bench{random.randint(0, 1 << 30):x}.", moto.endpoint_url, account, tmp)
        r = await closed_loop(s, moto, account)
    return {
        "seconds_to_new": r.get("new_s"),
        "seconds_to_fixed": r.get("fixed_s"),
        "seconds_to_resolved": r.get("resolved_s"),
        "target_s": 30,
        "meets_target": r.get("resolved_s") is not None and r["resolved_s"] < 30,
    }


if __name__ == "__main__":
    raise SystemExit(main())
