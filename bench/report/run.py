"""Report and posture-state benchmark. Prints one JSON object.

    .venv/bin/python -m bench.report            # or: python bench/report/run.py
    .venv/bin/python -m bench.report --findings 100000 --resources 100000

* ``report``: 100,000 synthetic OCSF compliance findings (plus detections) over the
  real built-in policies and frameworks, as the bytes read from Kafka → decode (``collect``) → ``build_report`` → HTML, JSON and
  CSV. Target: the whole path under 10 s.
* ``state``: in a fresh interpreter with a worker's modules loaded, the posture
  stage's state for 100,000 resources, shaped exactly like
  :mod:`cspm_stream.stages.posture` keeps it per ARN (hash, observed time, type,
  region, account, tags, and per tracked policy status/verdict/first_seen/last_seen),
  each record decoded from JSON as a faust table restored from its changelog would
  hold it. Target: worker RSS under 300 MB. Three scenarios (see ``SCENARIOS``);
  the overall ``ok`` uses the typical one, and every scenario reports its own.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

REPORT_TARGET_S = 10.0
RSS_TARGET_MB = 300.0
NOW_MS = 1_795_000_000_000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def bench_report(n_findings: int, n_detections: int) -> dict[str, Any]:
    import orjson

    from cspm_stream.report import build_report, collect, load_dirs, render, synthetic

    catalog, clean = synthetic.builtin_catalog()  # the real policy pack and its framework mappings
    data = synthetic.dataset(n_findings, now_ms=NOW_MS, n_detections=n_detections, catalog=catalog, clean=clean)
    values = [orjson.dumps(f) for f in data]
    del data
    frameworks = load_dirs([])
    gc.collect()
    timings: dict[str, float] = {}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    inputs = collect(values)
    timings["decode_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    report = build_report(inputs, frameworks, now_ms=NOW_MS)
    timings["build_s"] = time.perf_counter() - t
    sizes = {}
    for fmt in ("html", "json", "csv"):
        t = time.perf_counter()
        sizes[fmt] = len(render(report, fmt))
        timings[f"render_{fmt}_s"] = time.perf_counter() - t
    total = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return {
        "findings": n_findings,
        "detections": n_detections,
        "checks": report.summary.checks.total,
        "policies": len(catalog),
        "frameworks": len(frameworks),
        "posture_score": round(report.summary.score.value or 0.0, 3),
        **{k: round(v, 3) for k, v in timings.items()},
        "total_s": round(total, 3),
        "cpu_s": round(cpu, 3),  # this process's CPU time: close to total_s on an idle machine
        "output_bytes": sizes,
        "target_s": REPORT_TARGET_S,
        "ok": total < REPORT_TARGET_S,
    }


#: (name, tracked policies per resource, per-policy encoding). The posture stage stores a policy's
#: state only once it has failed, errored or been muted (a policy that always passed is untracked):
#: ~3 of the ~8 policies that apply to a resource type is typical, 8 is pessimistic. "stage" is what
#: the stage stores (FindingState.to_json(): one string per unmuted policy); "object" is the
#: dict-per-policy form it stored before, kept for comparison (records in that form still load).
SCENARIOS = (
    ("posture_stage_typical", 3, "stage"),
    ("posture_stage_pessimistic", 8, "stage"),
    ("object_encoding_pessimistic", 8, "object"),
)


def _policy_state(encoding: str, first: int, last: int) -> Any:
    from cspm_stream.models.enums import FindingStatus, Verdict
    from cspm_stream.policy.lifecycle import FindingState

    fs = FindingState(FindingStatus.FAILING, Verdict.FAIL, first, last, detail="1 of 3 checks failed")
    if encoding == "object":
        return {"s": "failing", "v": "fail", "f": first, "l": last, "d": fs.detail}
    return fs.to_json()


def build_state(n_resources: int, tracked: int, encoding: str) -> dict[str, Any]:
    """The posture stage's table: ARN -> record (see cspm_stream.stages.posture)."""
    import orjson

    from cspm_stream.report.synthetic import CATALOG

    by_type: dict[str, list[str]] = {}
    for policy, rtype, *_ in CATALOG:
        by_type.setdefault(rtype, []).append(policy)
    type_names = sorted(by_type)
    state: dict[str, Any] = {}
    for i in range(n_resources):
        rtype = type_names[i % len(type_names)]
        service, kind = rtype.split(".")[1:3]
        account = f"{100000000000 + i % 50:012d}"
        region = ("us-east-1", "eu-west-1", "ap-southeast-2")[i % 3]
        arn = f"arn:aws:{service}:{region}:{account}:{kind}/resource-{i:08d}"
        names = [f"{p}_{j}" for j, p in enumerate((by_type[rtype] * tracked)[:tracked])]
        rec = {
            "h": f"{i:032x}",
            "o": NOW_MS - i,
            "mf": "3f2a9c1e",
            "t": rtype,
            "r": region,
            "a": account,
            "g": {"env": ("prod", "dev", "staging")[i % 3], "owner": f"team-{i % 40}"},
            "p": {name: _policy_state(encoding, NOW_MS - 86_400_000, NOW_MS - i) for name in names},
        }
        # as restored from the changelog: every record is its own decoded JSON
        state[arn] = orjson.loads(orjson.dumps(rec))
    return state


def bench_state_inprocess(n_resources: int, tracked: int, encoding: str) -> dict[str, Any]:
    # a worker's baseline: the faust app factory, the runtime and the posture stage are loaded
    import cspm_stream.app
    import cspm_stream.daemon
    import cspm_stream.stages.posture  # noqa: F401

    gc.collect()
    before = rss_mb()
    t = time.perf_counter()
    state = build_state(n_resources, tracked, encoding)
    build_s = time.perf_counter() - t
    gc.collect()
    after = rss_mb()
    return {
        "resources": len(state),
        "tracked_policies_per_resource": tracked,
        "encoding": encoding,
        "worker_baseline_mb": round(before, 1),
        "rss_mb": round(after, 1),
        "state_mb": round(after - before, 1),
        "bytes_per_resource": round((after - before) * 1024 * 1024 / max(1, len(state))),
        "build_s": round(build_s, 2),
        "target_mb": RSS_TARGET_MB,
        "ok": after < RSS_TARGET_MB,
    }


def bench_state(n_resources: int, tracked: int, encoding: str) -> dict[str, Any]:
    """Run one state scenario in a fresh interpreter so nothing else counts."""
    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "bench.report", "--only-state", "--resources", str(n_resources)]
    cmd += ["--tracked", str(tracked), "--encoding", encoding]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(proc.stdout)["state"]
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--findings", type=int, default=100_000)
    p.add_argument("--detections", type=int, default=2_000)
    p.add_argument("--resources", type=int, default=100_000)
    p.add_argument("--only-state", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--tracked", type=int, default=3, help=argparse.SUPPRESS)
    p.add_argument("--encoding", default="stage", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.only_state:
        print(json.dumps({"state": bench_state_inprocess(args.resources, args.tracked, args.encoding)}))
        return 0
    out: dict[str, Any] = {
        "bench": "report",
        "python": sys.version.split()[0],
        "report": bench_report(args.findings, args.detections),
        "state": {name: bench_state(args.resources, tracked, enc) for name, tracked, enc in SCENARIOS},
    }
    out["ok"] = out["report"]["ok"] and out["state"]["posture_stage_typical"]["ok"]
    print(json.dumps(out, indent=2))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
