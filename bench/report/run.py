"""Report and posture-state benchmark. Prints one JSON object.

    .venv/bin/python -m bench.report            # or: python bench/report/run.py
    .venv/bin/python -m bench.report --findings 100000 --resources 100000

* ``report``: 100,000 synthetic OCSF compliance findings (plus detections) over the
  real built-in policies and frameworks, as the bytes read from Kafka → decode (``collect``) → ``build_report`` → HTML, JSON and
  CSV. Target: the whole path under 10 s.
* ``state``: in a fresh interpreter with a worker's modules loaded, the posture
  stage's state for 100,000 resources, built by the stage itself from one scan (every
  outcome kept: failing checks as strings, passing ones as bits of one mask), each record
  decoded from JSON as the changelog restore leaves it. Target: worker RSS
  under 300 MB. Three scenarios (see ``SCENARIOS``); the overall ``ok`` uses the typical
  mix, and every scenario reports its own.
* ``alerts_state``: in a fresh interpreter, the alert router's state (dedup traces) after the
  posture stage's first scan of 100,000 resources (every check's first outcome, ~1.3 million
  findings) went through it with the default routes: traces kept, their JSON bytes (what the
  changelog holds) and the RSS they cost.
* ``emits``: records the posture stage sends to ``findings`` for a first scan (every
  check's outcome), an unchanged rescan (none) and a rescan with 1% of resources changed.
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

    from cspm_stream.report import build_report, collect, load_dirs, render
    from cspm_stream.testing import dataset

    catalog, clean = dataset.builtin_catalog()  # the real policy pack and its framework mappings
    data = dataset.dataset(n_findings, now_ms=NOW_MS, n_detections=n_detections, catalog=catalog, clean=clean)
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


#: resource types of a typical account mix, one resource of each in turn (real built-in policies:
#: 37 for a security group, 18 for a bucket, 3 for a volume ...)
TYPICAL_TYPES = (
    "aws.ec2.security_group",
    "aws.s3.bucket",
    "aws.iam.user",
    "aws.iam.role",
    "aws.ec2.instance",
    "aws.ec2.volume",
    "aws.lambda.function",
    "aws.sqs.queue",
    "aws.sns.topic",
    "aws.kms.key",
)
#: (name, resource types, which examples). The state is built by the posture stage itself: one
#: snapshot per resource, its attributes one of the built-in policies' own test examples for the
#: type ("any": pass and fail examples, "fail": fail examples only, the failing-heavy case).
SCENARIOS = (
    ("all_outcomes_typical_mix", "typical", "any"),
    ("all_outcomes_security_groups", "sg", "any"),
    ("failing_heavy_typical_mix", "typical", "fail"),
)


def _types(kind: str) -> tuple[str, ...]:
    return ("aws.ec2.security_group",) if kind == "sg" else TYPICAL_TYPES


def _examples(expect: str) -> dict[str, list[dict[str, Any]]]:
    """Resource attributes per type: the built-in policies' own test examples."""
    from cspm_stream.policy.catalog import catalog_from_settings
    from cspm_stream.settings import PolicySettings

    out: dict[str, list[dict[str, Any]]] = {}
    for pol in catalog_from_settings(PolicySettings()).policies.values():
        for t in pol.tests:
            if not t.errors and t.now is None and (expect == "any" or t.expect == expect):
                out.setdefault(pol.resource_type, []).append(t.attributes)
    return out


def build_state(handler: Any, by_type: dict[str, list[dict[str, Any]]], n_resources: int, kind: str) -> dict[str, Any]:
    """The posture stage's table after one scan of ``n_resources`` (ARN -> record, see
    cspm_stream.stages.posture), every record decoded from JSON as a changelog restore leaves it."""
    import asyncio
    import random

    import orjson

    from cspm_stream.models.codec import dumps
    from cspm_stream.stages.base import RecordMeta
    from cspm_stream.testing import snapshot

    types = [t for t in _types(kind) if t in by_type]
    rng = random.Random(11)
    meta = RecordMeta("inventory", 0, 0)
    state: dict[str, Any] = {}

    async def scan() -> None:
        for i in range(n_resources):
            rtype = types[i % len(types)]
            service, res_kind = rtype.split(".")[1:3]
            account = f"{100000000000 + i % 50:012d}"
            region = ("us-east-1", "eu-west-1", "ap-southeast-2")[i % 3]
            arn = f"arn:aws:{service}:{region}:{account}:{res_kind}/resource-{i:08d}"
            tags = {"env": ("prod", "dev", "staging")[i % 3], "owner": f"team-{i % 40}"}
            snap = snapshot(rtype, rng.choice(by_type[rtype]), arn=arn, account_id=account, region=region, tags=tags)
            await handler.handle(arn.encode(), dumps(snap), meta, state)

    asyncio.run(scan())
    return {arn: orjson.loads(orjson.dumps(rec)) for arn, rec in state.items()}  # as restored


def _checks(rec: dict[str, Any]) -> int:
    """Checks a posture record holds: the not-passing ones, plus one bit per passing one."""
    ok = rec.get("ok")
    return len(rec.get("p", {})) + (int(ok.split("|")[0], 16).bit_count() if isinstance(ok, str) else 0)


def bench_state_inprocess(n_resources: int, kind: str, examples: str) -> dict[str, Any]:
    # a worker's baseline: the runtime loaded and the posture stage built (its policy catalog)
    import cspm_stream.app
    import cspm_stream.daemon  # noqa: F401
    from cspm_stream.policy.catalog import catalog_from_settings
    from cspm_stream.settings import PolicySettings
    from cspm_stream.stages.posture import PostureHandler

    handler = PostureHandler(catalog_from_settings(PolicySettings()), clock=lambda: NOW_MS / 1000)
    by_type = _examples(examples)
    gc.collect()
    before = rss_mb()
    t = time.perf_counter()
    state = build_state(handler, by_type, n_resources, kind)
    build_s = time.perf_counter() - t
    gc.collect()
    after = rss_mb()
    return {
        "resources": len(state),
        "checks_per_resource": round(sum(_checks(r) for r in state.values()) / max(1, len(state)), 1),
        "not_passing_per_resource": round(sum(len(r["p"]) for r in state.values()) / max(1, len(state)), 1),
        "worker_baseline_mb": round(before, 1),
        "rss_mb": round(after, 1),
        "state_mb": round(after - before, 1),
        "bytes_per_resource": round((after - before) * 1024 * 1024 / max(1, len(state))),
        "build_s": round(build_s, 2),
        "target_mb": RSS_TARGET_MB,
        "ok": after < RSS_TARGET_MB,
    }


def bench_alerts_state_inprocess(n_resources: int) -> dict[str, Any]:
    """The alert router's state after a first scan's findings (default routes and remediation)."""
    import asyncio
    import random

    import orjson

    import cspm_stream.app
    import cspm_stream.daemon  # noqa: F401
    from cspm_stream import settings as settings_mod
    from cspm_stream.models.codec import dumps
    from cspm_stream.policy.catalog import catalog_from_settings
    from cspm_stream.settings import PolicySettings
    from cspm_stream.stages.alerts import build_handler
    from cspm_stream.stages.base import RecordMeta
    from cspm_stream.stages.posture import PostureHandler
    from cspm_stream.testing import snapshot

    posture = PostureHandler(catalog_from_settings(PolicySettings()), clock=lambda: NOW_MS / 1000)
    router = build_handler(settings_mod.load(data={}, environ={}))
    by_type = _examples("any")
    types = [t for t in TYPICAL_TYPES if t in by_type]
    rng = random.Random(11)
    inv, fnd = RecordMeta("inventory", 0, 0), RecordMeta("findings", 0, 0)
    state: dict[str, Any] = {}
    counts = {"findings": 0, "alerts": 0}

    async def run() -> None:
        for i in range(n_resources):
            rtype = types[i % len(types)]
            service, res_kind = rtype.split(".")[1:3]
            account = f"{100000000000 + i % 50:012d}"
            arn = f"arn:aws:{service}:us-east-1:{account}:{res_kind}/resource-{i:08d}"
            snap = snapshot(rtype, rng.choice(by_type[rtype]), arn=arn, account_id=account, region="us-east-1")
            for e in await posture.handle(arn.encode(), dumps(snap), inv, {}):  # posture state not kept
                counts["findings"] += 1
                counts["alerts"] += len(await router.handle(e.key.encode(), e.value, fnd, state))

    gc.collect()
    before = rss_mb()
    t = time.perf_counter()
    asyncio.run(run())
    run_s = time.perf_counter() - t
    gc.collect()
    after = rss_mb()
    return {
        "resources": n_resources,
        **counts,
        "traces": len(state),
        "changelog_json_mb": round(sum(len(k) + len(orjson.dumps(v)) for k, v in state.items()) / 2**20, 1),
        "state_objects_mb": round(_deep_size(state) / 2**20, 1),
        "state_rss_mb": round(after - before, 1),
        "run_s": round(run_s, 1),
    }


def _deep_size(obj: Any) -> int:
    """Bytes of ``obj`` and everything it holds (dicts, lists, strings, numbers)."""
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(_deep_size(k) + _deep_size(v) for k, v in obj.items())
    elif isinstance(obj, list | tuple):
        size += sum(_deep_size(v) for v in obj)
    return size


def bench_alerts_state(n_resources: int) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "bench.report", "--only-alerts-state", "--resources", str(n_resources)]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(proc.stdout)["alerts_state"]
    return result


def bench_state(n_resources: int, kind: str, examples: str) -> dict[str, Any]:
    """Run one state scenario in a fresh interpreter so nothing else counts."""
    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "bench.report", "--only-state", "--resources", str(n_resources)]
    cmd += ["--kind", kind, "--examples", examples]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(proc.stdout)["state"]
    return result


def bench_emits(n_resources: int) -> dict[str, Any]:
    """Records the posture stage sends to ``findings``: a first scan (every check's outcome), the
    same scan again (nothing changed: nothing sent), and one where 1% of the resources changed."""
    import asyncio
    import random

    from cspm_stream.models.codec import dumps
    from cspm_stream.policy.catalog import catalog_from_settings
    from cspm_stream.settings import PolicySettings
    from cspm_stream.stages.base import RecordMeta
    from cspm_stream.stages.posture import PostureHandler
    from cspm_stream.testing import snapshot

    cat = catalog_from_settings(PolicySettings())
    examples: dict[str, list[dict[str, Any]]] = {}
    for pol in cat.policies.values():  # the policies' own pass/fail examples as resource attributes
        for t in pol.tests:
            if not t.errors and t.now is None:
                examples.setdefault(pol.resource_type, []).append(t.attributes)
    types = [t for t in TYPICAL_TYPES if t in examples]
    rng = random.Random(5)
    resources = []
    for i in range(n_resources):
        rtype = types[i % len(types)]
        arn = f"arn:aws:{rtype.split('.')[1]}:us-east-1:123456789012:r/{i:08d}"
        resources.append((rtype, arn, rng.choice(examples[rtype])))
    handler = PostureHandler(cat, clock=lambda: NOW_MS / 1000)
    state: dict[str, Any] = {}
    meta = RecordMeta("inventory", 0, 0)

    async def scan(at: str, changed: set[int]) -> tuple[int, float]:
        sent = 0
        t0 = time.perf_counter()
        for i, (rtype, arn, attrs) in enumerate(resources):
            a = rng.choice(examples[rtype]) if i in changed else attrs
            value = dumps(snapshot(rtype, a, arn=arn, observed_at=at))
            sent += len(await handler.handle(arn.encode(), value, meta, state))
        return sent, time.perf_counter() - t0

    first, t1 = asyncio.run(scan("2026-11-18T00:00:00Z", set()))
    same, t2 = asyncio.run(scan("2026-11-18T01:00:00Z", set()))
    changed = set(rng.sample(range(n_resources), max(1, n_resources // 100)))
    few, _ = asyncio.run(scan("2026-11-18T02:00:00Z", changed))
    checks = sum(_checks(r) for r in state.values())
    return {
        "resources": n_resources,
        "checks": checks,
        "first_scan_records": first,
        "unchanged_rescan_records": same,
        "rescan_with_1pct_changed_records": few,
        "first_scan_snapshots_per_s": round(n_resources / t1),
        "unchanged_rescan_snapshots_per_s": round(n_resources / t2),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--findings", type=int, default=100_000)
    p.add_argument("--detections", type=int, default=2_000)
    p.add_argument("--resources", type=int, default=100_000)
    p.add_argument("--only-state", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--only-alerts-state", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--kind", default="typical", help=argparse.SUPPRESS)
    p.add_argument("--examples", default="any", help=argparse.SUPPRESS)
    p.add_argument("--emit-resources", type=int, default=5_000, help="resources for the emit-volume figure")
    args = p.parse_args(argv)
    if args.only_alerts_state:
        print(json.dumps({"alerts_state": bench_alerts_state_inprocess(args.resources)}))
        return 0
    if args.only_state:
        print(json.dumps({"state": bench_state_inprocess(args.resources, args.kind, args.examples)}))
        return 0
    out: dict[str, Any] = {
        "bench": "report",
        "python": sys.version.split()[0],
        "report": bench_report(args.findings, args.detections),
        "state": {name: bench_state(args.resources, kind, examples) for name, kind, examples in SCENARIOS},
        "alerts_state": bench_alerts_state(args.resources),
        "emits": bench_emits(args.emit_resources),
    }
    out["ok"] = out["report"]["ok"] and out["state"]["all_outcomes_typical_mix"]["ok"]
    print(json.dumps(out, indent=2))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
