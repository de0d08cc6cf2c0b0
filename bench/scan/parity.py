"""Detection parity between ``cspm-stream scan`` and Prowler on the same moto account.

Our policies name their Prowler equivalents (``related.prowler``). For every FAIL Prowler
reports on a check we map, we look for a FAIL of one of the mapped policies on the same
resource, and the other way round. Resources are compared by ARN, falling back to the
resource id (the last ARN segment) where the two tools spell ARNs differently.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def prowler_map() -> dict[str, set[str]]:
    """Prowler check id → our policy ids."""
    out: dict[str, set[str]] = defaultdict(set)
    for f in (ROOT / "cspm_stream" / "catalog" / "policies").rglob("*.yaml"):
        doc = yaml.safe_load(f.read_text())
        for check in (doc.get("related") or {}).get("prowler") or []:
            out[check].add(doc["id"])
    return out


def _rid(uid: str) -> str:
    tail = uid.rsplit(":", 1)[-1]
    return tail.rsplit("/", 1)[-1]


def ours_fails(jsonl: str) -> tuple[set[tuple[str, str]], set[str]]:
    """(FAILs as (policy id, resource uid), every resource uid evaluated — pass or fail)."""
    fails = set()
    seen: set[str] = set()
    for line in jsonl.splitlines():
        if not line.strip():
            continue
        f = json.loads(line)
        uid = f["resources"][0]["uid"]
        seen.update((uid, _rid(uid)))
        if f.get("compliance", {}).get("status_id") == 3:
            fails.add((f["unmapped"]["policy_id"], uid))
    return fails, seen


def prowler_fails(outdir: Path) -> set[tuple[str, str]]:
    fails = set()
    for p in outdir.glob("*.ocsf.json"):
        for f in json.loads(p.read_text() or "[]"):
            if f.get("status_code") == "FAIL":
                check = f.get("metadata", {}).get("event_code", "")
                for r in f.get("resources") or []:
                    fails.add((check, r.get("uid", "")))
    return fails


def compare(ours_and_seen: tuple[set[tuple[str, str]], set[str]], theirs: set[tuple[str, str]]) -> dict[str, Any]:
    ours, seen = ours_and_seen
    mapping = prowler_map()
    ours_by_res: dict[str, set[str]] = defaultdict(set)
    for pid, uid in ours:
        ours_by_res[uid].add(pid)
        ours_by_res[_rid(uid)].add(pid)
    mapped = [(c, u) for c, u in theirs if c in mapping]
    matched = [(c, u) for c, u in mapped if mapping[c] & (ours_by_res.get(u, set()) | ours_by_res.get(_rid(u), set()))]
    missed: dict[str, int] = defaultdict(int)
    for c, u in mapped:
        if (c, u) not in set(matched):
            missed[c] += 1
    reverse = defaultdict(set)
    for check, pids in mapping.items():
        for pid in pids:
            reverse[pid].add(check)
    theirs_by_res: dict[str, set[str]] = defaultdict(set)
    for c, u in theirs:
        theirs_by_res[u].add(c)
        theirs_by_res[_rid(u)].add(c)
    ours_mapped = [(p, u) for p, u in ours if p in reverse]
    ours_matched = [
        (p, u) for p, u in ours_mapped if reverse[p] & (theirs_by_res.get(u, set()) | theirs_by_res.get(_rid(u), set()))
    ]
    # Prowler also inspects resources we deliberately leave out (moto's stock snapshots owned by
    # other accounts: moto ignores OwnerIds=self); coverage on the resources both tools evaluated:
    shared = [(c, u) for c, u in mapped if u in seen or _rid(u) in seen]
    shared_matched = [(c, u) for c, u in shared if (c, u) in set(matched)]
    return {
        "prowler_fails_on_mapped_checks_on_resources_both_evaluated": len(shared),
        "of_those_also_failed_by_cspm_stream_shared": len(shared_matched),
        "cspm_stream_coverage_of_prowler_on_shared_resources_pct": (
            round(100 * len(shared_matched) / len(shared), 1) if shared else None
        ),
        "prowler_fails": len(theirs),
        "prowler_fails_on_mapped_checks": len(mapped),
        "of_those_also_failed_by_cspm_stream": len(matched),
        "cspm_stream_coverage_of_prowler_pct": round(100 * len(matched) / len(mapped), 1) if mapped else None,
        "prowler_mapped_fails_missed_by_cspm_stream_by_check": dict(sorted(missed.items(), key=lambda kv: -kv[1])[:15]),
        "cspm_stream_fails": len(ours),
        "cspm_stream_fails_on_mapped_policies": len(ours_mapped),
        "of_those_also_failed_by_prowler": len(ours_matched),
    }
