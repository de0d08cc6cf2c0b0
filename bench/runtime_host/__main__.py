"""Benchmark: what hosting the stages in faust's worker costs against a bare ``mode`` worker.

    .venv/bin/python -m bench.runtime_host [--runs 2] [--idle 20] [--records 50000] [--role process]

The daemon (:mod:`cspm_stream.daemon`) hosts every stage loop, the producer, the web listener
and the side services in a ``faust.Worker`` around a ``faust.App`` that runs no Kafka client,
web server or sensor of its own. The reference is the same services in a plain ``mode.Worker``
(faust's service layer, what the daemon used before). For each host, in fresh processes,
alternating which goes first:

* ``ready_s`` — process start to the worker's readiness (imports, catalog, stage group joins
  and state restore included: the real role);
* ``idle_cpu_pct`` — CPU the idle worker uses over ``--idle`` seconds after readiness;
* ``rss_mb`` and ``threads`` — after the idle period (``/proc``);
* ``stop_s`` — SIGTERM to exit (graceful: every stage settles and leaves its group);
* ``events_per_s`` / ``events_per_cpu_s`` — the detect stage alone on ``--records`` activity
  records (the ``bench.stream_detect`` mix), timed from the first to the last commit progress.

Needs the broker (``scripts/kafka-local start``). Prints JSON (medians per host, and every run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from bench.detect.mix import generate
from cspm_stream.kafka import client_options
from cspm_stream.models import ActivityRecord, ActivitySource, dumps
from cspm_stream.settings import Settings, load
from cspm_stream.topic_admin import ensure_topics

BOOT = os.environ.get("CSPM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
ROOT = Path(__file__).resolve().parents[2]
HOSTS = ("mode", "faust")

#: the daemon as it is (faust host), or the same services in a bare mode worker (reference)
RUNNER = """
import gc, os, signal, sys, threading
from cspm_stream import settings
host, cfg, role, stages = sys.argv[1], sys.argv[2], sys.argv[3], tuple(x for x in sys.argv[4].split(",") if x)
s = settings.load(cfg)
if host == "faust":
    from cspm_stream.daemon import run
    sys.exit(run(s, role, stages=stages or None))
import mode
from cspm_stream.app import build_role, role_context
from cspm_stream.daemon import build_services
from cspm_stream.logging import configure, get_logger
configure(s.app.log_level, s.app.log_format)
ctx = role_context(s, log=get_logger("cspm_stream"))
parts = build_role(ctx, role, stages or None)
started = threading.Event()
services = build_services(
    ctx, role, parts, ready=started.is_set, on_fatal=lambda exc: os.kill(os.getpid(), signal.SIGTERM), side=not stages
)
gc.collect(); gc.freeze(); gc.set_threshold(50_000, 10, 10)
class ModeWorker(mode.Worker):
    async def on_started(self):
        started.set()
        get_logger("cspm_stream.daemon").info("ready")
        await super().on_started()
w = ModeWorker(*services, loglevel=s.app.log_level, quiet=True, redirect_stdouts=False, override_logging=False)
try:
    w.execute_from_commandline()
except SystemExit as exc:
    sys.exit(int(exc.code or 0))
"""


def _settings(tmp: Path, tag: str) -> tuple[Settings, Path]:
    data = {
        "app": {"id": f"bench-host-{tag}", "data_dir": str(tmp / tag), "log_format": "json", "log_level": "INFO"},
        "kafka": {"bootstrap": BOOT, "topic_prefix": f"benchhost{tag}.", "partitions": 3},
        "scan": {"scheduler": False},
        "web": {"enabled": False},
    }
    cfg = tmp / f"{tag}.yaml"
    cfg.write_text(yaml.safe_dump(data))
    return load(data=data, environ={}), cfg


def _proc(pid: int) -> dict[str, float]:
    """CPU seconds, RSS (MB) and threads of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {
        "cpu_s": (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"),
        "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
        "threads": int(status["Threads"]),
    }


def _start(host: str, cfg: Path, role: str, stages: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, host, str(cfg), role, stages],
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _ready(log: Path) -> bool:
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"event":"ready"' in line.replace(" ", ""):
            return True
    return False


def _stop(proc: subprocess.Popen[bytes]) -> tuple[float, int]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    return time.monotonic() - started, code


async def idle_run(host: str, tmp: Path, role: str, idle_s: float) -> dict[str, Any]:
    settings, cfg = _settings(tmp, f"{host}-{uuid.uuid4().hex[:6]}")
    await ensure_topics(settings.kafka)
    log = tmp / f"{settings.app.id}.log"
    started = time.monotonic()
    proc = _start(host, cfg, role, "", log)
    try:
        while not _ready(log):
            if proc.poll() is not None or time.monotonic() - started > 300:
                raise RuntimeError(f"{host}: no readiness: {log.read_text()[-2000:]}")
            await asyncio.sleep(0.05)
        ready_s = time.monotonic() - started
        await asyncio.sleep(3)  # let start-up work (first fetches, timers) pass
        before = _proc(proc.pid)
        await asyncio.sleep(idle_s)
        after = _proc(proc.pid)
    finally:
        stop_s, code = _stop(proc)
    return {
        "ready_s": round(ready_s, 2),
        "idle_cpu_pct": round(100 * (after["cpu_s"] - before["cpu_s"]) / idle_s, 2),
        "rss_mb": round(after["rss_mb"], 1),
        "threads": after["threads"],
        "stop_s": round(stop_s, 2),
        "exit": code,
    }


async def _committed(admin: AIOKafkaAdminClient, group: str, topic: str) -> int:
    offs = await admin.list_consumer_group_offsets(group)
    return sum(meta.offset for tp, meta in offs.items() if tp.topic == topic and meta.offset > 0)


async def throughput_run(host: str, tmp: Path, items: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    settings, cfg = _settings(tmp, f"{host}-{uuid.uuid4().hex[:6]}")
    await ensure_topics(settings.kafka)
    topic = settings.kafka.topic("activity")
    p = AIOKafkaProducer(**client_options(settings.kafka), acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await p.start()
    try:
        await asyncio.gather(*[await p.send(topic, v, key=k) for k, v in items])
    finally:
        await p.stop()
    log = tmp / f"{settings.app.id}.log"
    proc = _start(host, cfg, "process", "detect", log)
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await admin.start()
    first: tuple[float, int, float] | None = None
    done: tuple[float, float] | None = None
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            n = await _committed(admin, f"{settings.app.id}.detect", topic)
            now = time.monotonic()
            if n > 0 and first is None:
                first = (now, n, _proc(proc.pid)["cpu_s"])
            if n >= len(items):
                done = (now, _proc(proc.pid)["cpu_s"])
                break
            if proc.poll() is not None:
                raise RuntimeError(f"{host}: daemon exited: {log.read_text()[-2000:]}")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
        _stop(proc)
    if first is None or done is None:
        raise RuntimeError(f"{host}: throughput run did not finish")
    n = len(items) - first[1]
    return {
        "events_per_s": round(n / max(done[0] - first[0], 1e-6)),
        "events_per_cpu_s": round(n / max(done[1] - first[2], 1e-6)),
    }


async def main_async(runs: int, idle_s: float, records: int, role: str) -> dict[str, Any]:
    items = []
    for rec in generate(records, seed=11):
        act = ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, rec["eventTime"])
        items.append((act.principal.encode(), dumps(act)))
    every: dict[str, list[dict[str, Any]]] = {h: [] for h in HOSTS}
    with tempfile.TemporaryDirectory(prefix="bench-host-") as d:
        tmp = Path(d)
        for i in range(runs):
            for host in HOSTS if i % 2 == 0 else HOSTS[::-1]:
                row = await idle_run(host, tmp, role, idle_s)
                if records:
                    row |= await throughput_run(host, tmp, items)
                every[host].append(row)
    medians = {
        host: {k: statistics.median(r[k] for r in rows) for k in rows[0] if k != "exit"} for host, rows in every.items()
    }
    return {
        "benchmark": "runtime_host",
        "role": role,
        "idle_s": idle_s,
        "records": records,
        "runs": runs,
        "median": medians,
        "every_run": every,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of idle CPU measured after readiness")
    ap.add_argument("--records", type=int, default=50_000, help="detect throughput records (0: skip)")
    ap.add_argument("--role", default="process")
    a = ap.parse_args(argv)
    print(json.dumps(asyncio.run(main_async(a.runs, a.idle, a.records, a.role)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
