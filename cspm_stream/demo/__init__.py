"""``cspm-stream demo``: the whole pipeline, end to end, in under three minutes.

1. start an embedded moto AWS account (server mode, 127.0.0.1) seeded with good and bad resources;
2. create the topics (a fresh prefix per run) and start the daemon (``run --role all``) as a
   subprocess, with dry-run remediation;
3. show alerts live as they arrive on the alerts topic (compliance findings from the first scan);
4. replay a scripted attack: real API calls on moto plus the matching CloudTrail log file
   delivered to S3 → SQS, picked up by the CloudTrail source; show the detections and the
   rescan-driven posture change;
5. show the dry-run remediation plans, write the report (``demo-report.html`` and
   ``demo-report.json``, the latter exactly ``report --format json``), stop everything it started.

Besides the report, the output folder receives ``demo-findings.jsonl`` and
``demo-detections.jsonl`` (every OCSF record the demo consumed from ``findings`` and
``detections``, as read), ``demo-daemon.log`` (the daemon's log) and ``demo-viewer.log``
(library log lines of the demo process itself, kept out of the terminal) and
``demo-moto.log`` (the embedded moto server, run in its own process). A service moto has no
backend for (IAM Access Analyzer, WAF Classic) is reported once and left out of the scan.

The demo scans :data:`DEMO_SERVICES`, the services its account is seeded in and its attack
touches: a daemon with ``scan.services`` empty scans every collector (76 services), most of
which the demo account does not use, and the first scan would then take minutes on a laptop
before the seeded findings show.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import io
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import yaml

from cspm_stream.demo.attack import steps
from cspm_stream.demo.display import Display, Recorder
from cspm_stream.demo.seed import deliver_cloudtrail, seed

#: the scan services the demo account is seeded in (buckets, security groups, volumes, snapshots,
#: users and the password policy, keys, the trail) and the attack changes, and IAM Access Analyzer
#: (CIS asks for it in every account; moto has no backend for it: named once, left out)
DEMO_SERVICES = ("accessanalyzer", "cloudtrail", "ec2", "iam", "kms", "s3")


def unsupported_services(services: Iterable[str] | None = None) -> dict[str, str]:
    """{scan service: name} of ``services`` (default: every collector) moto has no backend for
    (IAM Access Analyzer, WAF Classic …), decided the way moto's server dispatches: by matching
    the service's endpoint host against moto's backend URL index. The demo leaves them out of
    the scan and says so once, instead of showing every one of their checks as an error."""
    import botocore.session
    from moto import backend_index

    from cspm_stream.collect.services import SPECS

    session = botocore.session.get_session()
    patterns = [p for _, p in backend_index.backend_url_patterns]
    wanted = set(SPECS) if services is None else set(services)
    out: dict[str, str] = {}
    for key, specs in sorted(SPECS.items()):
        if key not in wanted:
            continue
        for client in sorted({sp.service for sp in specs}):
            model = session.get_service_model(client)
            url = f"https://{model.endpoint_prefix}.us-east-1.amazonaws.com"
            if not any(p.match(url) for p in patterns):
                out[key] = str(model.metadata.get("serviceFullName") or client)
    return out


def _start_moto(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """moto in server mode in its own process, its output (request log, "Unable to find appropriate
    backend …") in ``log`` rather than in the demo's terminal."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1):  # noqa: S310 - loopback only
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"moto server did not start (see {log})")


def _config(
    prefix: str, endpoint: str, queue_url: str, data_dir: str, services: list[str] | None = None
) -> dict[str, Any]:
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
        "scan": {"interval_s": 3600, "services": services or []},
        "cloudtrail": {"sqs_queue_urls": [queue_url]},
        "remediation": {"default_mode": "dry-run"},
        "web": {"enabled": False},
    }


async def _tail(settings: Any, display: Display, recorder: Recorder, stop: asyncio.Event) -> None:
    from cspm_stream.kafka import consumer

    c = consumer(
        settings.kafka,
        "alerts",
        "remediation-results",
        "dlq",
        "findings",
        "detections",
        group_id=f"demo-viewer-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    findings, detections = settings.kafka.topic("findings"), settings.kafka.topic("detections")
    await c.start()
    try:
        while not stop.is_set():
            batch = await c.getmany(timeout_ms=300)
            for tp, msgs in batch.items():
                for m in msgs:
                    if m.value is None:
                        continue
                    if tp.topic in (findings, detections):  # every OCSF record, as read
                        recorder.write("findings" if tp.topic == findings else "detections", m.value)
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
    report_json_path: Path | None = None
    findings_path: Path | None = None
    detections_path: Path | None = None
    unsupported: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.display.counts["compliance"] > 0 and self.display.counts["detection"] > 0 and self.report_exit == 0


async def run_demo(args: argparse.Namespace) -> DemoResult:
    from cspm_stream import settings as settings_mod
    from cspm_stream.testing.moto import MotoServer
    from cspm_stream.topic_admin import ensure_topics

    started = time.monotonic()
    display = Display()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="cspm-demo-"))
    # library log lines of this process (aiokafka's metadata warnings while fresh topics elect
    # leaders, moto's werkzeug) go to a file, never between the demo's own lines
    log_handler = logging.FileHandler(out.parent / "demo-viewer.log", mode="w")
    log_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(log_handler)
    root.setLevel(logging.INFO)
    recorder = Recorder(out.parent)
    print("cspm_stream demo — embedded moto AWS account, real Kafka, the daemon with every role\n")

    endpoint = getattr(args, "endpoint_url", None)
    moto_proc: subprocess.Popen[bytes] | None = None
    if endpoint is None:
        moto_proc, endpoint = _start_moto(out.parent / "demo-moto.log")
    moto = MotoServer.attach(endpoint)
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(key, value)  # moto's fake credentials, for seeding from this process
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
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
        chosen = tuple(getattr(args, "services", None) or DEMO_SERVICES)
        unsupported = unsupported_services(chosen)
        for label in unsupported.values():
            print(f"● {label}: not served by this endpoint (moto has no backend for it), left out of the scan")
        services = sorted(set(chosen) - set(unsupported))
        print(f"● scanning {', '.join(services)}: the services the demo account uses (cspm-stream demo --services)")
        prefix = f"demo{uuid.uuid4().hex[:6]}."
        cfg = _config(prefix, moto.endpoint_url, seeded.trail_queue_url, str(workdir / "data"), services)
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
        tail = asyncio.create_task(_tail(settings, display, recorder, stop))

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
        iam = moto.boto3_client("iam")  # ... and really leaves a backdoor user with a console password:
        iam.create_user(UserName="svc-backup")  # the response playbook plans to remove that login (dry-run)
        iam.create_login_profile(UserName="svc-backup", Password="Backd00r-Demo-Only!")  # noqa: S106 - fake account
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
        repeats = sum(display.planned.values()) - len(display.planned)
        display.line(
            f"   {r} remediation plans (nothing was changed: dry-run)"
            + (f"; {repeats} repeated plans for the same action and resource not shown" if repeats else "")
            + "\n"
        )

        display.phase = "report"
        stop.set()
        await tail
        tail = None
        from cspm_stream.cli import main as cli_main

        code = await asyncio.to_thread(
            cli_main, ["-c", str(cfg_path), "report", "--format", "html", "--output", str(out)]
        )
        report_json = out.parent / "demo-report.json"
        with contextlib.redirect_stderr(io.StringIO()):  # the HTML run already printed its summary line
            code_json = await asyncio.to_thread(
                cli_main, ["-c", str(cfg_path), "report", "--format", "json", "--output", str(report_json)]
            )
        if display.tty:
            sys.stdout.write("\r\033[K")
        print(f"── 4. report: {out} and {report_json.name} (exit {code or code_json})")
        if code_json == 0:
            summary = orjson.loads(report_json.read_bytes())["summary"]
            checks, score = summary["checks"], summary["score"]["value"]
            print(
                f"   posture score {score:.1f}% = {checks['passed']} passed / ({checks['passed']} passed + "
                f"{checks['failed']} failed) checks; {checks['error']} not evaluated, {checks['muted']} muted"
                if score is not None
                else "   posture score n/a (no check passed or failed)"
            )
        recorder.close()
        print(
            f"   every OCSF record consumed: {recorder.paths['findings'].name} ({recorder.counts['findings']}), "
            f"{recorder.paths['detections'].name} ({recorder.counts['detections']})"
        )
        c = display.counts
        print(
            f"\nDone in {time.monotonic() - started:.0f}s: {c['compliance']} compliance alerts, {c['detection']} "
            f"detections, {c['remediation']} remediation plans, {c['dlq']} dead letters."
        )
        return DemoResult(
            seeded,
            display,
            code or code_json,
            out,
            time.monotonic() - started,
            report_json_path=report_json,
            findings_path=recorder.paths["findings"],
            detections_path=recorder.paths["detections"],
            unsupported=unsupported,
        )
    finally:
        stop.set()
        if tail is not None:
            await tail
        recorder.close()
        root.removeHandler(log_handler)
        root.setLevel(saved_level)
        log_handler.close()
        if daemon is not None and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
        moto.stop()
        if moto_proc is not None:
            moto_proc.terminate()
            try:
                moto_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                moto_proc.kill()


def main(args: argparse.Namespace) -> int:
    try:
        result = asyncio.run(asyncio.wait_for(run_demo(args), timeout=args.timeout + 60))
        return 0 if result.ok else 1
    except TimeoutError:
        print("demo: timed out", file=sys.stderr)
        return 1
