"""Scan benchmark: ``cspm-stream scan`` with DEFAULT settings beside Prowler and Cloud Custodian,
on the same moto account, in one run. Prints one JSON document.

    .venv/bin/python -m bench.scan [--scale 0.1] [--no-prowler] [--no-custodian]
                                   [--prowler PATH] [--custodian PATH] [--mode scan|inventory]

1. starts moto in server mode in its own process, behind a request counter
   (bench/scan/moto_counting.py: every signed request counted per service and region from its
   SigV4 scope, whichever tool sent it);
2. seeds a mixed account in two regions (bench/scan/seed.py; ``--scale 0.1`` ≈ 250 resources,
   ``--scale 1`` ≈ 3,000);
3. runs, one after the other on the same server, each in a child process whose wall time and
   own peak RSS are measured (``os.wait4``):
   * ``cspm-stream scan`` (every built-in policy, OCSF JSONL out) with no configuration file:
     the default settings, adaptive rate governance included (``--mode inventory``: collection
     only, bench/scan/collect_only.py, also with default settings);
   * Prowler (``prowler aws --services … -f …``, OCSF JSON out), if installed;
   * Cloud Custodian (``custodian run`` of bench/scan/custodian.yml: comparable checks on the
     same services), if installed;
4. prints, per tool: wall time, peak RSS, AWS requests (total and per service), findings; the
   wall-time ratios; and, with Prowler, detection parity on the checks our policies name as
   equivalents (bench/scan/parity.py).

Prowler and Cloud Custodian pin libraries that conflict with ours: install them in their own
virtual environments outside the repository (see /work/shared/notes/tools.md), e.g.
``python -m venv /work/tools/venvs/prowler && /work/tools/venvs/prowler/bin/pip install
prowler==5.46.0`` and the same with ``c7n==0.9.53`` in ``/work/tools/venvs/c7n``.
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

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ["us-east-1", "eu-west-1"]
SERVICES = ["s3", "ec2", "iam", "sqs", "sns", "kms", "dynamodb"]
FAKE = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
PROWLER = "/work/tools/venvs/prowler/bin/prowler"
CUSTODIAN = "/work/tools/venvs/c7n/bin/custodian"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Moto:
    """moto behind the request counter, in its own process."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **FAKE}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.scan.moto_counting", "--port", str(self.port)],
            env=env,
            cwd=str(ROOT),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                self.counts()
                return
            except OSError:
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("moto server did not start")

    def counts(self, reset: bool = False) -> dict[str, Any]:
        req = urllib.request.Request(
            self.url + ("/_bench/reset" if reset else "/_bench/counts"), method="POST" if reset else "GET"
        )
        with urllib.request.urlopen(req, timeout=5) as resp:  # loopback only
            body: dict[str, Any] = json.loads(resp.read())
        return body

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """A plain moto server in its own process (no counting): ``(process, endpoint URL)``."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **FAKE},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto server did not start")


def run_measured(cmd: list[str], env: dict[str, str], cwd: str | None = None) -> dict[str, Any]:
    """Run ``cmd``; wall time and the child's own peak RSS (os.wait4), stdout/stderr."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out.seek(0)
    err.seek(0)
    return {
        "rc": os.waitstatus_to_exitcode(status),
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "stdout": out.read().decode("utf-8", "replace"),
        "stderr": err.read().decode("utf-8", "replace"),
    }


def _clean_env(endpoint: str | None = None) -> dict[str, str]:
    """The environment of a child: moto's fake credentials, no CSPM_ overrides (default settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSPM_")}
    env.update(FAKE)
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def run_ours(moto: Moto, mode: str) -> tuple[dict[str, Any], str]:
    moto.counts(reset=True)
    if mode == "inventory":
        cmd = [sys.executable, "-m", "bench.scan.collect_only", "--endpoint", moto.url, "--regions", *REGIONS]
        r = run_measured([*cmd, "--services", *SERVICES], _clean_env(), cwd=str(ROOT))
        body = json.loads(r["stdout"].strip().splitlines()[-1]) if r["rc"] == 0 else {}
        result = {"cmd": "bench.scan.collect_only (default settings)", **_measures(r), **body}
        return _with_calls(result, moto), ""
    out = tempfile.mktemp(prefix="cspm-scan-", suffix=".jsonl")
    cmd = [sys.executable, "-m", "cspm_stream", "scan", "--endpoint-url", moto.url, "--regions", ",".join(REGIONS)]
    cmd += ["--services", ",".join(SERVICES), "--format", "jsonl", "--include-passed", "--output", out]
    r = run_measured(cmd, _clean_env(), cwd=str(ROOT))
    text = Path(out).read_text() if Path(out).exists() else ""
    Path(out).unlink(missing_ok=True)
    lines = r["stderr"].replace("\r", "\n").splitlines()  # progress lines are rewritten with \r
    summary = next((ln for ln in reversed(lines) if ln.startswith("scan: ") and "checks" in ln), "")
    result = {
        "cmd": "cspm-stream " + " ".join(cmd[3:]).replace(out, "FILE") + " (no config: default settings)",
        **_measures(r),
        "findings": len(text.splitlines()),
        "failed_findings": sum(1 for ln in text.splitlines() if '"status_code":"FAIL"' in ln),
        "summary": summary.removeprefix("scan: "),
    }
    return _with_calls(result, moto), text


def run_prowler(moto: Moto, prowler: str, keep: Path) -> dict[str, Any]:
    moto.counts(reset=True)
    cmd = [prowler, "aws", "--services", *SERVICES, "-f", *REGIONS, "--output-formats", "json-ocsf"]
    cmd += ["-o", str(keep), "--no-banner", "--ignore-exit-code-3"]
    r = run_measured(cmd, _clean_env(moto.url))
    findings = fails = 0
    for f in keep.glob("*.ocsf.json"):
        try:
            items = json.loads(f.read_text() or "[]")
        except ValueError:
            continue
        findings += len(items)
        fails += sum(1 for x in items if x.get("status_code") == "FAIL")
    result = {"cmd": " ".join(["prowler", *cmd[1:]]), **_measures(r), "findings": findings, "failed_findings": fails}
    return _with_calls(result, moto)


def run_custodian(moto: Moto, custodian: str) -> dict[str, Any]:
    moto.counts(reset=True)
    outdir = tempfile.mkdtemp(prefix="custodian-bench-")
    policies = ROOT / "bench" / "scan" / "custodian.yml"
    cmd = [custodian, "run", "-s", outdir, str(policies), "--cache-period", "0"]
    for region in REGIONS:
        cmd += ["--region", region]
    r = run_measured(cmd, _clean_env(moto.url))
    matched = 0
    for f in Path(outdir).rglob("resources.json"):
        try:
            matched += len(json.loads(f.read_text() or "[]"))
        except ValueError:
            continue
    shutil.rmtree(outdir, ignore_errors=True)
    result = {
        "cmd": " ".join(["custodian", *cmd[1:]]).replace(outdir, "OUT"),
        **_measures(r),
        "policies": policies.read_text().count("- name:"),
        "matched_resources": matched,
    }
    return _with_calls(result, moto)


def _measures(r: dict[str, Any]) -> dict[str, Any]:
    out = {"rc": r["rc"], "wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"]}
    if r["rc"] not in (0, 1):  # 1: our scan found failures (no --fail-on: never), Prowler: see -3
        out["stderr_tail"] = r["stderr"][-1500:]
    return out


def _with_calls(result: dict[str, Any], moto: Moto) -> dict[str, Any]:
    c = moto.counts()
    result["api_calls"] = c["total"]
    result["api_calls_by_service"] = c["by_service"]
    result["api_calls_by_service_region"] = c["by_service_region"]
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.scan", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--scale", type=float, default=0.1, help="0.1 ≈ 250 seeded resources, 1 ≈ 3,000")
    p.add_argument("--mode", choices=("scan", "inventory"), default="scan", help="ours: full scan, or collect only")
    p.add_argument("--no-prowler", action="store_true")
    p.add_argument("--no-custodian", action="store_true")
    p.add_argument("--prowler", default=PROWLER)
    p.add_argument("--custodian", default=CUSTODIAN)
    args = p.parse_args(argv)
    for k, v in FAKE.items():  # moto's fake credentials, for seeding in this process
        os.environ.setdefault(k, v)
    moto = Moto()
    try:
        t0 = time.perf_counter()
        seeded = seed(moto.url, REGIONS, args.scale)
        result: dict[str, Any] = {
            "bench": "scan",
            "mode": args.mode,
            "regions": REGIONS,
            "services": SERVICES,
            "seeded": seeded,
            "seeded_total": sum(seeded.values()),
            "seed_s": round(time.perf_counter() - t0, 1),
        }
        ours, ours_jsonl = run_ours(moto, args.mode)
        result["cspm_stream"] = ours
        if not args.no_prowler:
            if Path(args.prowler).exists():
                keep = Path(tempfile.mkdtemp(prefix="prowler-bench-"))
                result["prowler"] = run_prowler(moto, args.prowler, keep)
                if args.mode == "scan":
                    from bench.scan.parity import compare, ours_fails, prowler_fails

                    result["detection_parity"] = compare(ours_fails(ours_jsonl), prowler_fails(keep))
                shutil.rmtree(keep, ignore_errors=True)
            else:
                result["prowler"] = {"skipped": f"{args.prowler} not found"}
        if not args.no_custodian:
            if Path(args.custodian).exists():
                result["custodian"] = run_custodian(moto, args.custodian)
            else:
                result["custodian"] = {"skipped": f"{args.custodian} not found"}
        ours_wall = ours.get("wall_s")
        for tool in ("prowler", "custodian"):
            theirs = result.get(tool, {})
            if ours_wall and theirs.get("wall_s"):
                result[f"{tool}_wall_over_cspm_stream"] = round(theirs["wall_s"] / ours_wall, 2)
        print(json.dumps(result, indent=2))
    finally:
        moto.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
