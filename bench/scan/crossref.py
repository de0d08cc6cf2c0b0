"""Verdict agreement with Prowler, per (policy, exact Prowler check) pair and per resource.

    .venv/bin/python -m bench.scan.crossref [--prowler /work/tools/venvs/prowler/bin/prowler] [--keep DIR] [--json]

1. starts moto in server mode (AWS managed policies loaded) and seeds traps and decoys for the checks our
   policies name as exact equivalents (bench/scan/crossref_seed*.py);
2. runs ``cspm-stream scan --include-passed`` and ``prowler aws --scan-unused-services --checks <the exact
   checks>`` on the same endpoint, regions and services;
3. for every pair (policy P, check C in P's related.prowler) compares the verdicts resource for resource:
   resources are matched by id (last ARN segment), by region for region-level policies (aws.*.region,
   aws.logs.monitoring) and by account for account-level ones (aws.iam.account: the credential report's
   root row; aws.s3.account); several Prowler findings on one resource read as FAIL if any failed;
4. prints per pair: resources both evaluated, agreeing, disagreeing (with the resource), evaluated by one
   tool only (theirs-only means a resource our inventory does not hold; ours-only must be PASS), and
   "not exercised" when moto gave Prowler nothing to judge. Overall agreement = agreeing / both evaluated.

Why ``--scan-unused-services``: our daemon judges every resource; Prowler by default skips resources it
considers unused (security groups without network interfaces, regions without volumes ...). The exact
pairs are defined against Prowler judging every resource (see the policies README, "Cross-references").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.scan.crossref_seed import REGIONS, Seeder, seed_ec2, seed_iam
from bench.scan.crossref_seed_b import seed_breadth_b
from bench.scan.crossref_seed_c import seed_breadth_c
from bench.scan.crossref_seed_data import seed_compute, seed_logging, seed_messaging, seed_s3
from bench.scan.crossref_seed_edge import seed_edge
from cspm_stream.testing.moto import MotoServer

FAKE = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PROWLER = "/work/tools/venvs/prowler/bin/prowler"
#: our collector services → Prowler service names
SERVICES = {
    "ec2": ["ec2", "vpc"],
    "iam": ["iam"],
    "s3": ["s3"],
    "sqs": ["sqs"],
    "sns": ["sns"],
    "kms": ["kms"],
    "dynamodb": ["dynamodb"],
    "cloudtrail": ["cloudtrail"],
    "config": ["config"],
    "guardduty": ["guardduty"],
    "rds": ["rds"],
    "efs": ["efs"],
    "ecr": ["ecr"],
    "lambda": ["awslambda"],
    "secretsmanager": ["secretsmanager"],
    "elbv2": ["elbv2"],
    "eks": ["eks"],
    "cloudfront": ["cloudfront"],
    "accessanalyzer": ["accessanalyzer"],
    "securityhub": ["securityhub"],
    "logs": ["cloudwatch", "logs"],
    # posture breadth, part C (the services moto serves)
    "neptune": ["neptune"],
    "memorydb": ["memorydb"],
    "dax": ["dynamodb"],
    "cloudformation": ["cloudformation"],
    "appsync": ["appsync"],
    "datasync": ["datasync"],
    "ses": ["ses"],
    "directconnect": ["directconnect"],
    # posture breadth, part B (the services moto serves)
    "sagemaker": ["sagemaker"],
    "bedrock": ["bedrock"],
    "codebuild": ["codebuild"],
    "cognito": ["cognito"],
    "stepfunctions": ["stepfunctions"],
    "events": ["eventbridge"],
    "kafka": ["kafka"],
    "mq": ["mq"],
    "dms": ["dms"],
    "fsx": ["fsx"],
    "transfer": ["transfer"],
    "organizations": ["organizations"],
    "account": ["account"],
    "inspector2": ["inspector2"],
    "macie2": ["macie"],
    "ssm": ["ssm"],
}
REGION_LEVEL_SUFFIX = (".region",)
REGION_LEVEL = {"aws.logs.monitoring"}
ACCOUNT_LEVEL = {"aws.iam.account", "aws.s3.account", "aws.organizations.organization", "aws.account.contacts"}
ROOT_IDS = {"root", "<root_account>"}
#: Prowler's resources for account-wide IAM settings (the password policy) and the root user
ACCOUNT_IDS = ROOT_IDS | {"password-policy"}


#: why moto cannot exercise a check (shown for pairs Prowler judged nothing on)
MOTO_GAPS = {
    "awslambda_function_url_public": "moto serves no ListFunctionUrlConfigs (our collector's call): we read ERROR",
    "cloudfront_distributions_https_sni_enabled": "moto's distribution summaries carry no ViewerCertificate.Certificate",
    "cloudfront_distributions_s3_origin_access_control": "moto's distribution summaries drop S3OriginConfig",
    "guardduty_runtime_monitoring_enabled": "moto's detectors report no RUNTIME_MONITORING feature (Prowler: MANUAL)",
    "rds_cluster_minor_version_upgrade_enabled": "moto creates no Multi-AZ DB cluster (MultiAZ false)",
    "s3_account_level_public_access_blocks": "Prowler's s3control calls carry the account-id host prefix moto cannot route",
    "iam_avoid_root_usage": "moto's credential report has no <root_account> row",
    "iam_no_root_access_key": "moto's credential report has no <root_account> row",
    "iam_root_hardware_mfa_enabled": "moto's credential report has no <root_account> row",
    "iam_root_mfa_enabled": "moto's credential report has no <root_account> row",
    "memorydb_cluster_auto_minor_version_upgrades": "moto's MemoryDB clusters carry no Engine (Prowler's service skips them)",
    "memorydb_cluster_in_transit_encryption_enabled": "moto's MemoryDB clusters carry no Engine (Prowler's service skips them)",
    "ses_identity_dkim_enabled": "moto answers Prowler's SES v2 ListEmailIdentities with HTTP 404",
}
ROOT_ROW_CHECKS = {"iam_rotate_access_key_90_days", "iam_user_accesskey_unused", "iam_user_two_active_access_key"}


@dataclass(frozen=True)
class Pair:
    policy: str
    resource_type: str
    check: str

    @property
    def level(self) -> str:
        if self.resource_type in ACCOUNT_LEVEL:
            return "account"
        if self.resource_type in REGION_LEVEL or self.resource_type.endswith(REGION_LEVEL_SUFFIX):
            return "region"
        return "resource"


@dataclass
class PairResult:
    pair: Pair
    agree: list[str] = field(default_factory=list)
    disagree: list[tuple[str, str, str]] = field(default_factory=list)  # (resource, ours, theirs)
    ours_only: dict[str, int] = field(default_factory=dict)
    theirs_only: list[tuple[str, str]] = field(default_factory=list)
    ours_error: list[str] = field(default_factory=list)  # resources we could not read (ERROR): no verdict

    @property
    def both(self) -> int:
        return len(self.agree) + len(self.disagree)


def run_measured(cmd: list[str], env: dict[str, str], cwd: str | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    return {"rc": proc.returncode, "wall_s": round(time.perf_counter() - t0, 1), "stderr": proc.stderr}


def exact_pairs() -> list[Pair]:
    sys.path.insert(0, str(ROOT))
    from cspm_stream.policy.loader import builtin_policy_dir, load_policies

    out = []
    for p in load_policies([builtin_policy_dir()], strict=True):
        if p.service not in SERVICES:
            continue
        out += [Pair(p.id, p.resource_type, c) for c in p.related.prowler]
    return sorted(out, key=lambda x: (x.check, x.policy))


def rid(uid: str) -> str:
    """Last segment of an ARN or URL: bucket, group id, user name, key id, queue name..."""
    uid = uid.rstrip("/").removesuffix(":*")  # log group ARNs end with ":*"
    tail = uid.rsplit(":", 1)[-1]
    return tail.rsplit("/", 1)[-1]


def key(pair: Pair, uid: str, region: str, *, ours: bool) -> str | None:
    """The resource key of a finding on ``uid`` in ``pair``; None when Prowler's finding is not of the pair's
    resource type (our findings always are: they come from the pair's policy)."""
    if pair.level == "region":
        return region or None
    r = rid(uid)
    if pair.level == "account":
        return "account" if ours or pair.resource_type != "aws.iam.account" or r in ACCOUNT_IDS else None
    if not ours and pair.resource_type == "aws.iam.user" and r in ROOT_IDS:
        return None
    return r


def scan_ours(endpoint: str, out: Path) -> dict[str, Any]:
    cfg = out.with_suffix(".yaml")
    cfg.write_text(json.dumps({"aws": {"rate_per_second": 5000.0, "max_attempts": 3}}))
    cmd = [
        sys.executable,
        "-m",
        "cspm_stream",
        "-c",
        str(cfg),
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
        str(out),
    ]
    return run_measured(cmd, {**os.environ, **FAKE}, cwd=str(ROOT))


def scan_prowler(endpoint: str, prowler: str, checks: list[str], outdir: Path) -> dict[str, Any]:
    services = sorted({s for v in SERVICES.values() for s in v})
    cmd = [
        prowler,
        "aws",
        "--scan-unused-services",
        "-f",
        *REGIONS,
        "--checks",
        *checks,
        "--output-formats",
        "json-ocsf",
        "-o",
        str(outdir),
        "--no-banner",
        "--ignore-exit-code-3",
    ]
    del services  # --checks selects the services
    return run_measured(cmd, {**os.environ, **FAKE, "AWS_ENDPOINT_URL": endpoint})


def ours_verdicts(jsonl: str) -> dict[str, list[tuple[str, str, str]]]:
    """policy id → [(uid, region, PASS|FAIL|ERROR)]"""
    out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for line in jsonl.splitlines():
        if not line.strip():
            continue
        f = json.loads(line)
        status = {1: "PASS", 3: "FAIL"}.get(int((f.get("compliance") or {}).get("status_id") or 0), "ERROR")
        res = (f.get("resources") or [{}])[0]
        region = (f.get("cloud") or {}).get("region") or res.get("region") or ""
        out[f["unmapped"]["policy_id"]].append((str(res.get("uid", "")), str(region), status))
    return out


def prowler_verdicts(outdir: Path) -> dict[str, list[tuple[str, str, str]]]:
    """check id → [(uid, region, PASS|FAIL|MANUAL|...)]"""
    out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for p in outdir.glob("*.ocsf.json"):
        for f in json.loads(p.read_text() or "[]"):
            check = (f.get("metadata") or {}).get("event_code", "")
            region = (f.get("cloud") or {}).get("region", "")
            for r in f.get("resources") or [{}]:
                out[check].append(
                    (str(r.get("uid", "")), str(r.get("region") or region), str(f.get("status_code", "")))
                )
    return out


def _fold(rows: list[tuple[str, str, str]], pair: Pair, *, ours: bool) -> dict[str, str]:
    by: dict[str, str] = {}
    for uid, region, status in rows:
        k = key(pair, uid, region, ours=ours)
        if k is None or status not in ("PASS", "FAIL", "ERROR"):
            continue
        if by.get(k) != "FAIL":
            by[k] = "FAIL" if status == "FAIL" else by.get(k, status)
    return by


def compare(pairs: list[Pair], ours: dict[str, list[Any]], theirs: dict[str, list[Any]]) -> list[PairResult]:
    results = []
    for pair in pairs:
        o, t = _fold(ours.get(pair.policy, []), pair, ours=True), _fold(theirs.get(pair.check, []), pair, ours=False)
        r = PairResult(pair)
        for k in sorted(set(o) | set(t)):
            if o.get(k) == "ERROR":
                r.ours_error.append(k)
            elif k in o and k in t:
                (r.agree.append(k) if o[k] == t[k] else r.disagree.append((k, o[k], t[k])))
            elif k in o:
                r.ours_only[o[k]] = r.ours_only.get(o[k], 0) + 1
            else:
                r.theirs_only.append((k, t[k]))
        results.append(r)
    return results


def gated_by_unused_flag(prowler: str, check: str) -> bool:
    """Does Prowler's default run (without --scan-unused-services) skip resources it deems unused?"""
    site = Path(prowler).resolve().parents[1] / "lib"
    for src in site.glob(f"python3*/site-packages/prowler/providers/aws/services/*/{check}/{check}.py"):
        return "scan_unused_services" in src.read_text()
    return False


def _gap(pair: Pair) -> str:
    if pair.check in MOTO_GAPS:
        return MOTO_GAPS[pair.check]
    if pair.resource_type == "aws.iam.account" and pair.check in ROOT_ROW_CHECKS:
        return "moto's credential report has no <root_account> row"
    return "Prowler judged no resource of this type (not seeded here)"


def summary(results: list[PairResult], prowler: str) -> dict[str, Any]:
    exercised = [r for r in results if r.both]
    both = sum(r.both for r in results)
    agree = sum(len(r.agree) for r in results)
    rows = []
    for r in results:
        rows.append(
            {
                "policy": r.pair.policy,
                "prowler_check": r.pair.check,
                "resources_both": r.both,
                "agree": len(r.agree),
                "agreement_pct": round(100 * len(r.agree) / r.both, 1) if r.both else None,
                "disagreements": [{"resource": k, "ours": o, "prowler": t} for k, o, t in r.disagree],
                "ours_only": r.ours_only,
                "prowler_only": [{"resource": k, "prowler": t} for k, t in r.theirs_only],
                "ours_error": r.ours_error,
                "moto": "exercised" if r.both else "not exercised: " + _gap(r.pair),
                "default_prowler_skips_unused": gated_by_unused_flag(prowler, r.pair.check),
            }
        )
    return {
        "pairs": len(results),
        "pairs_exercised_on_moto": len(exercised),
        "pairs_at_100pct": sum(1 for r in exercised if not r.disagree),
        "resource_verdicts_compared": both,
        "resource_verdicts_agreeing": agree,
        "agreement_pct": round(100 * agree / both, 2) if both else None,
        "ours_only_fail": sum(r.ours_only.get("FAIL", 0) for r in results),
        "rows": rows,
    }


def table(s: dict[str, Any]) -> str:
    out = [f"{'policy':<55} {'prowler check':<70} both agree  %     ours-only prowler-only"]
    for r in s["rows"]:
        pct = "-" if r["agreement_pct"] is None else f"{r['agreement_pct']:.0f}"
        oo = ",".join(f"{k}:{v}" for k, v in sorted(r["ours_only"].items())) or "-"
        po = ",".join(f"{x['resource']}:{x['prowler']}" for x in r["prowler_only"])[:60] or "-"
        note = "" if r["resources_both"] else f"  ({r['moto']})"
        if r["ours_error"]:
            note += f"  (we could not read {len(r['ours_error'])}: ERROR)"
        out.append(
            f"{r['policy']:<55} {r['prowler_check']:<70} {r['resources_both']:>4} {r['agree']:>5} {pct:>4}  {oo:<9} {po}{note}"
        )
        out += [f"    DISAGREE {d['resource']}: ours {d['ours']}, prowler {d['prowler']}" for d in r["disagreements"]]
    out.append(
        f"\npairs {s['pairs']}, exercised on moto {s['pairs_exercised_on_moto']}, at 100 % {s['pairs_at_100pct']}; "
        f"resource verdicts compared {s['resource_verdicts_compared']}, agreeing {s['resource_verdicts_agreeing']} "
        f"({s['agreement_pct']} %); FAILs on resources Prowler did not judge: {s['ours_only_fail']}"
    )
    return "\n".join(out)


def run(prowler: str, keep: Path | None) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="crossref-"))
    moto = MotoServer(load_managed_policies=True).start()  # AdministratorAccess & co. exist
    try:
        seeder = Seeder(moto.endpoint_url)
        for fn in (
            seed_ec2,
            seed_iam,
            seed_s3,
            seed_messaging,
            seed_logging,
            seed_compute,
            seed_edge,
            seed_breadth_c,
            seed_breadth_b,
        ):
            fn(seeder)
        pairs = exact_pairs()
        ours_run = scan_ours(moto.endpoint_url, work / "ours.jsonl")
        pdir = work / "prowler"
        theirs_run = scan_prowler(moto.endpoint_url, prowler, sorted({p.check for p in pairs}), pdir)
        jsonl = (work / "ours.jsonl").read_text() if (work / "ours.jsonl").exists() else ""
        s = summary(compare(pairs, ours_verdicts(jsonl), prowler_verdicts(pdir)), prowler)
        s["seeded"] = len(seeder.created)
        s["moto_refused"] = seeder.refused
        s["runs"] = {
            "cspm_stream": {"rc": ours_run["rc"], "wall_s": ours_run["wall_s"]},
            "prowler": {"rc": theirs_run["rc"], "wall_s": theirs_run["wall_s"]},
        }
        if theirs_run["rc"] != 0:
            s["runs"]["prowler"]["stderr_tail"] = theirs_run["stderr"][-800:]
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copytree(work, keep, dirs_exist_ok=True)
        return s
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.scan.crossref")
    ap.add_argument("--prowler", default=DEFAULT_PROWLER)
    ap.add_argument("--keep", type=Path, help="keep both tools' raw outputs in this folder")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = ap.parse_args(argv)
    if not Path(args.prowler).exists():
        print(f"bench.scan.crossref: Prowler not found at {args.prowler} (pip install prowler==5.46.0 in its own venv)")
        return 2
    for k, v in FAKE.items():
        os.environ.setdefault(k, v)
    # moto's server threads print "Unable to find appropriate backend ..." on stdout: keep it off the report
    with contextlib.redirect_stdout(sys.stderr):
        s = run(args.prowler, args.keep)
    print(json.dumps(s, indent=2) if args.json else table(s) + f"\nmoto refused (not seeded): {s['moto_refused']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
