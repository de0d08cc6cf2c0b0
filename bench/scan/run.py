"""Full-inventory benchmark against moto, with Prowler side by side on the same server.

    .venv/bin/python -m bench.scan [--scale 1] [--no-prowler] [--prowler /tmp/prowler-venv/bin/prowler]

1. starts moto in server mode in its own process (127.0.0.1, random port);
2. seeds a few thousand resources of mixed types in two regions (bench/scan/seed.py);
3. runs one full inventory of those services in a child process (bench/scan/collect_only.py:
   wall time, peak RSS of that process, resources per type);
4. runs Prowler on the same services/regions against the same server (AWS_ENDPOINT_URL),
   measuring its wall time and peak RSS (os.wait4), if it is installed;
   the number of HTTP requests each made is counted from moto's access log (context for
   the ratio: moto ignores ``OwnerIds=["self"]``, so Prowler also inspects moto's stock
   public snapshots, which our collector filters out by owner);
5. prints one JSON document with both and the wall-time ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.scan.seed import seed

REGIONS = ["us-east-1", "eu-west-1"]
SERVICES = ["s3", "ec2", "iam", "sqs", "sns", "kms", "dynamodb"]
FAKE = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RequestLog:
    """moto's access log (one line per HTTP request): counts the AWS calls each phase made."""

    def __init__(self) -> None:
        self.file = tempfile.NamedTemporaryFile(prefix="moto-access-", suffix=".log", delete=False)

    def count(self) -> int:
        with open(self.file.name, "rb") as f:
            return sum(1 for line in f if b" HTTP/1." in line)  # errors are ANSI-coloured


def start_moto(log: RequestLog | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, **FAKE}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.file if log else subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto server did not start")


def run_measured(cmd: list[str], env: dict[str, str], cwd: str | None = None) -> dict[str, Any]:
    """Run ``cmd``; wall time and the child's own peak RSS (os.wait4), stdout/stderr tails."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    return {
        "rc": proc.returncode,
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "stdout": out.read().decode("utf-8", "replace"),
        "stderr": err.read().decode("utf-8", "replace"),
    }


def run_collector(endpoint: str) -> dict[str, Any]:
    env = {**os.environ, **FAKE}
    r = run_measured(
        [
            sys.executable,
            "-m",
            "bench.scan.collect_only",
            "--endpoint",
            endpoint,
            "--regions",
            *REGIONS,
            "--services",
            *SERVICES,
        ],
        env,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    if r["rc"] != 0:
        return {"rc": r["rc"], "error": r["stderr"][-2000:]}
    body = json.loads(r["stdout"].strip().splitlines()[-1])
    body["process_wall_s"] = r["wall_s"]  # includes interpreter start and imports
    body["process_peak_rss_mb"] = r["peak_rss_mb"]
    return dict(body)


def run_scan(endpoint: str) -> dict[str, Any]:
    """``cspm-stream scan`` end to end (collect + evaluate every policy + OCSF JSONL)."""
    env = {**os.environ, **FAKE}
    out = tempfile.mktemp(prefix="cspm-scan-", suffix=".jsonl")
    # the same call budget as the inventory mode (collect_only): the default 10 calls/s per
    # (account, region, service) protects production accounts, a benchmark against moto measures the tool
    cfg = tempfile.mktemp(prefix="cspm-scan-", suffix=".yaml")
    Path(cfg).write_text(
        json.dumps(
            {
                "aws": {
                    "rate_per_second": 5000.0,
                    "max_concurrency_per_account": 64,
                    "max_concurrency_per_region": 32,
                    "max_concurrency_per_service": 16,
                    "max_attempts": 3,
                }
            }
        )
    )
    r = run_measured(
        [
            sys.executable,
            "-m",
            "cspm_stream",
            "-c",
            cfg,
            "scan",
            "--endpoint-url",
            endpoint,
            "--regions",
            ",".join(REGIONS),
            "--services",
            ",".join(SERVICES),
            "--format",
            "jsonl",
            "--include-passed",
            "--output",
            out,
        ],
        env,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    text = Path(out).read_text() if Path(out).exists() else ""
    return {
        "rc": r["rc"],
        "wall_s": r["wall_s"],
        "peak_rss_mb": r["peak_rss_mb"],
        "jsonl": text,
        "findings": len(text.splitlines()),
        "stderr_tail": r["stderr"][-1500:] if r["rc"] not in (0, 1) else "",
    }


def run_prowler(endpoint: str, prowler: str, keep: Path | None = None) -> dict[str, Any]:
    outdir = str(keep) if keep else tempfile.mkdtemp(prefix="prowler-bench-")
    env = {**os.environ, **FAKE, "AWS_ENDPOINT_URL": endpoint}
    cmd = [
        prowler,
        "aws",
        "--services",
        *SERVICES,
        "-f",
        *REGIONS,
        "--output-formats",
        "json-ocsf",
        "-o",
        outdir,
        "--no-banner",
        "--ignore-exit-code-3",
    ]
    r = run_measured(cmd, env)
    findings = 0
    for f in Path(outdir).glob("*.ocsf.json"):
        try:
            findings += len(json.loads(f.read_text() or "[]"))
        except ValueError:
            pass
    if keep is None:
        shutil.rmtree(outdir, ignore_errors=True)
    return {
        "cmd": " ".join(cmd[1:]),
        "rc": r["rc"],
        "wall_s": r["wall_s"],
        "peak_rss_mb": r["peak_rss_mb"],
        "findings": findings,
        "stderr_tail": r["stderr"][-1500:] if r["rc"] != 0 else "",
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.scan")
    p.add_argument("--scale", type=int, default=1, help="1 ≈ 3,000 seeded resources")
    p.add_argument("--no-prowler", action="store_true")
    p.add_argument("--prowler", default="/tmp/prowler-venv/bin/prowler")
    p.add_argument(
        "--mode",
        choices=("inventory", "scan"),
        default="inventory",
        help="inventory: collection only; scan: `cspm-stream scan` end to end + detection parity",
    )
    args = p.parse_args(argv)
    for k, v in FAKE.items():  # moto's fake credentials, for seeding in this process
        os.environ.setdefault(k, v)
    log = RequestLog()
    moto, endpoint = start_moto(log)
    try:
        t0 = time.perf_counter()
        seeded = seed(endpoint, REGIONS, args.scale)
        seed_s = time.perf_counter() - t0
        before = log.count()
        ours = run_collector(endpoint) if args.mode == "inventory" else run_scan(endpoint)
        ours["aws_requests"] = log.count() - before
        ours_jsonl = str(ours.pop("jsonl", ""))
        if "process_wall_s" not in ours and "wall_s" in ours:
            ours["process_wall_s"] = ours["wall_s"]
        result: dict[str, Any] = {
            "bench": "scan",
            "mode": args.mode,
            "regions": REGIONS,
            "services": SERVICES,
            "seeded": seeded,
            "seeded_total": sum(seeded.values()),
            "seed_s": round(seed_s, 1),
            "cspm_stream": ours,
        }
        if not args.no_prowler and Path(args.prowler).exists():
            before = log.count()
            keep = Path(tempfile.mkdtemp(prefix="prowler-bench-")) if args.mode == "scan" else None
            theirs = run_prowler(endpoint, args.prowler, keep)
            theirs["aws_requests"] = log.count() - before
            if keep is not None:
                from bench.scan.parity import compare, ours_fails, prowler_fails

                result["detection_parity"] = compare(ours_fails(ours_jsonl), prowler_fails(keep))
                shutil.rmtree(keep, ignore_errors=True)
            result["prowler"] = theirs
            if theirs["rc"] == 0 and ours.get("wall_s"):
                result["prowler_over_cspm_wall"] = round(theirs["wall_s"] / ours["process_wall_s"], 2)
                result["target_3x_met"] = result["prowler_over_cspm_wall"] >= 3.0
        elif not args.no_prowler:
            result["prowler"] = {"skipped": f"{args.prowler} not found"}
        result["peak_rss_target_250mb_met"] = bool(ours.get("process_peak_rss_mb", ours.get("peak_rss_mb", 1e9)) < 250)
        print(json.dumps(result, indent=2))
    finally:
        moto.terminate()
        moto.wait(10)
        os.unlink(log.file.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
