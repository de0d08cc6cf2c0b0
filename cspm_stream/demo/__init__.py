"""``cspm-stream demo``: the whole pipeline, end to end, in under three minutes.

1. start an embedded moto AWS account (server mode, 127.0.0.1) seeded with good and bad resources;
2. create the topics (a fresh prefix per run) and start the daemon (``run --role all``) as a
   subprocess, with dry-run remediation;
3. show alerts live as they arrive on the alerts topic (compliance findings from the first scan);
4. replay a scripted attack: real API calls on moto plus the matching CloudTrail log file
   delivered to S3 → SQS, picked up by the CloudTrail source; show the detections and the
   rescan-driven posture change;
5. show the dry-run remediation plans, write the HTML report, stop everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import yaml

from cspm_stream.demo.attack import steps
from cspm_stream.demo.seed import deliver_cloudtrail, seed

SEV = {0: "UNKNOWN", 1: "INFO", 2: "LOW", 3: "MEDIUM", 4: "HIGH", 5: "CRITICAL", 6: "FATAL"}
COLOR = {"CRITICAL": "\033[1;31m", "HIGH": "\033[31m", "MEDIUM": "\033[33m", "LOW": "\033[36m", "INFO": "\033[37m"}
RESET = "\033[0m"


class Display:
    """Live lines for alerts and remediation plans; a status line on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.counts: Counter[str] = Counter()
        self.alerts: list[dict[str, Any]] = []
        self.plans: list[dict[str, Any]] = []
        self.phase = "starting"
        self.t0 = time.monotonic()

    def _c(self, sev: str, text: str) -> str:
        return f"{COLOR.get(sev, '')}{text}{RESET}" if self.tty else text

    def status(self) -> None:
        if self.tty:
            c = self.counts
            line = (
                f"  [{time.monotonic() - self.t0:5.1f}s] {self.phase} · compliance {c['compliance']} · "
                f"detections {c['detection']} · remediation plans {c['remediation']} · dead letters {c['dlq']}"
            )
            sys.stdout.write("\r\033[K" + line)
            sys.stdout.flush()

    def line(self, text: str) -> None:
        if self.tty:
            sys.stdout.write("\r\033[K")
        print(text, flush=True)
        self.status()

    def alert(self, obj: dict[str, Any]) -> None:
        self.alerts.append(obj)
        sev = SEV.get(int(obj.get("severity_id", 0)), "UNKNOWN")
        info = obj.get("finding_info", {})
        if obj.get("class_uid") == 2003:
            self.counts["compliance"] += 1
            state = obj.get("unmapped", {}).get("state", "")
            res = (obj.get("resources") or [{}])[0].get("uid", "")
            self.line(
                self._c(sev, f"  ▲ {sev:<8} posture   {state.upper():<10} {info.get('title', '')[:60]:<60} {res}")
            )
        else:
            self.counts["detection"] += 1
            actor = obj.get("actor", {}).get("user", {}).get("uid", "")
            ip = obj.get("src_endpoint", {}).get("ip", "")
            n = len(obj.get("evidences", []))
            self.line(
                self._c(sev, f"  ⚠ {sev:<8} threat    {info.get('title', '')[:60]:<60} {actor} {ip} ({n} events)")
            )

    def remediation(self, obj: dict[str, Any]) -> None:
        self.plans.append(obj)
        self.counts["remediation"] += 1
        calls = ", ".join(c.get("api", c.get("operation", "?")) for c in obj.get("calls", [])) or "-"
        self.line(
            f"  ⚙ remediation {obj.get('status', ''):<18} {obj.get('action', ''):<36} {obj.get('resource_arn', '')}"
            f"  calls: {calls}"
        )


def _config(prefix: str, endpoint: str, queue_url: str, data_dir: str) -> dict[str, Any]:
    return {
        "app": {
            "id": f"{prefix}app",
            "data_dir": data_dir,
            "log_format": "json",
            "log_level": "INFO",
            "shutdown_timeout_s": 20,
        },
        "kafka": {
            "bootstrap": os.environ.get("CSPM_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
            "topic_prefix": prefix,
            "partitions": 3,
        },
        "aws": {"endpoint_url": endpoint, "regions": ["us-east-1"]},
        "scan": {"interval_s": 3600},
        "cloudtrail": {"sqs_queue_urls": [queue_url]},
        "remediation": {"default_mode": "dry-run"},
        "web": {"enabled": False},
    }


async def _tail(settings: Any, display: Display, stop: asyncio.Event) -> None:
    from cspm_stream.kafka import consumer

    c = consumer(
        settings.kafka,
        "alerts",
        "remediation-results",
        "dlq",
        group_id=f"demo-viewer-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    await c.start()
    try:
        while not stop.is_set():
            batch = await c.getmany(timeout_ms=300)
            for tp, msgs in batch.items():
                for m in msgs:
                    if m.value is None:
                        continue
                    try:
                        obj = orjson.loads(m.value)
                    except orjson.JSONDecodeError:
                        continue
                    if tp.topic.endswith("remediation-results"):
                        display.remediation(obj)
                    elif tp.topic.endswith("dlq"):
                        display.counts["dlq"] += 1
                        display.line(f"  ✗ dead letter from {obj.get('stage')}: {obj.get('reason', '')[:100]}")
                    else:
                        display.alert(obj)
            display.status()
    finally:
        await c.stop()


async def _wait(display: Display, key: str, minimum: int, settle: float, timeout: float) -> int:
    """Wait until counts[key] >= minimum and has not changed for ``settle`` seconds."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        n = display.counts[key]
        if n != last:
            last, since = n, time.monotonic()
        elif n >= minimum and time.monotonic() - since >= settle:
            break
        await asyncio.sleep(0.25)
    return display.counts[key]


@dataclasses.dataclass
class DemoResult:
    """What the demo saw: enough for the end-to-end test to assert on."""

    seeded: Any
    display: Display
    report_exit: int
    report_path: Path
    seconds: float

    @property
    def ok(self) -> bool:
        return self.display.counts["compliance"] > 0 and self.display.counts["detection"] > 0 and self.report_exit == 0


async def run_demo(args: argparse.Namespace) -> DemoResult:
    from cspm_stream import settings as settings_mod
    from cspm_stream.kafka import ensure_topics
    from cspm_stream.testing.moto import MotoServer

    started = time.monotonic()
    display = Display()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="cspm-demo-"))
    print("cspm_stream demo — embedded moto AWS account, real Kafka, the daemon with every role\n")

    endpoint = getattr(args, "endpoint_url", None)
    moto = (MotoServer() if endpoint is None else MotoServer.attach(endpoint)).start()
    daemon: subprocess.Popen[bytes] | None = None
    stop = asyncio.Event()
    tail: asyncio.Task[None] | None = None
    try:
        seeded = seed(moto.endpoint_url)
        print(
            f"● moto at {moto.endpoint_url}: seeded {len(seeded.bad)} misconfigured and {len(seeded.good)} "
            f"well-configured resources"
        )
        for label in seeded.bad:
            print(f"    ✗ {label}")
        prefix = f"demo{uuid.uuid4().hex[:6]}."
        cfg = _config(prefix, moto.endpoint_url, seeded.trail_queue_url, str(workdir / "data"))
        cfg_path = workdir / "cspm.yaml"
        cfg_path.write_text(yaml.safe_dump(cfg))
        settings = settings_mod.load(cfg_path, environ={})
        await ensure_topics(settings.kafka)
        print(f"● topics created with prefix {prefix!r}; starting the daemon (log: {out.parent / 'demo-daemon.log'})\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CSPM_")}
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto
            AWS_DEFAULT_REGION="us-east-1",
            CSPM_CONFIG=str(cfg_path),
        )
        log = (out.parent / "demo-daemon.log").open("wb")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "cspm_stream", "run", "--role", "all"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        tail = asyncio.create_task(_tail(settings, display, stop))

        display.phase = "first full scan"
        display.line("── 1. continuous monitoring + compliance: the first full scan")
        n = await _wait(display, "compliance", 1, settle=8.0, timeout=min(75.0, args.timeout / 2))
        display.line(f"   {n} compliance findings opened after {time.monotonic() - started:.0f}s\n")

        display.phase = "attack replay"
        display.line("── 2. threat detection: replaying a scripted attack (CloudTrail via S3 → SQS)")
        ec2 = moto.boto3_client("ec2")
        tight_sg = seeded.good["security group internal https"]
        ec2.authorize_security_group_ingress(  # the attacker really opens the tight group
            GroupId=tight_sg,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
        records: list[dict[str, Any]] = []
        for title, recs in steps(
            dt.datetime.now(dt.UTC), open_sg=tight_sg, snapshot_id=seeded.bad["publicly shared EBS snapshot"]
        ):
            display.line(f"   ▶ {title} ({len(recs)} records)")
            records.extend(recs)
        key = (
            f"AWSLogs/123456789012/CloudTrail/us-east-1/{dt.date.today():%Y/%m/%d}/demo_{uuid.uuid4().hex[:8]}.json.gz"
        )
        deliver_cloudtrail(moto.endpoint_url, seeded.trail_bucket, records, key)
        before = display.counts["compliance"]
        d = await _wait(display, "detection", 1, settle=8.0, timeout=60.0)
        display.line(f"   {d} detections; {display.counts['compliance'] - before} posture changes from rescans\n")

        display.phase = "remediation (dry-run)"
        display.line("── 3. remediation in dry-run: the plans published for the new findings")
        r = await _wait(display, "remediation", 1, settle=3.0, timeout=20.0)
        display.line(f"   {r} remediation plans (nothing was changed: dry-run)\n")

        display.phase = "report"
        stop.set()
        await tail
        tail = None
        from cspm_stream.cli import main as cli_main

        code = await asyncio.to_thread(
            cli_main, ["-c", str(cfg_path), "report", "--format", "html", "--output", str(out)]
        )
        if display.tty:
            sys.stdout.write("\r\033[K")
        print(f"── 4. report: {out} (exit {code})")
        c = display.counts
        print(
            f"\nDone in {time.monotonic() - started:.0f}s: {c['compliance']} compliance alerts, {c['detection']} "
            f"detections, {c['remediation']} remediation plans, {c['dlq']} dead letters."
        )
        return DemoResult(seeded, display, code, out, time.monotonic() - started)
    finally:
        stop.set()
        if tail is not None:
            await tail
        if daemon is not None and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
        moto.stop()


def main(args: argparse.Namespace) -> int:
    try:
        result = asyncio.run(asyncio.wait_for(run_demo(args), timeout=args.timeout + 60))
        return 0 if result.ok else 1
    except TimeoutError:
        print("demo: timed out", file=sys.stderr)
        return 1
