"""How far our policy → framework mappings agree with Prowler's for the same checks.

    .venv/bin/python -m bench.frameworks.compare [--prowler DIR] [--frameworks DIR ...] [--json]

``DIR`` holds Prowler's ``compliance/aws/*.json`` (a Prowler checkout's
``prowler/compliance/aws`` or the installed ``prowler`` package's; the default is the
installed package). Only policies naming Prowler checks in ``related.prowler`` (exact
equivalents) are compared; Prowler "maps" such a policy to a requirement when one of those
checks is listed under it. Per framework it prints:

* policy → framework: the share of those policies on which both agree whether the policy
  belongs to the framework at all;
* requirement level: Jaccard agreement of the (policy, requirement) pairs, with the share of
  ours Prowler also has (precision against Prowler) and of Prowler's we also have (recall).

Prowler's requirement ids are read into ours (``ac_2_3_a`` → ``AC-2(3)``, ``164_308_a_1_ii_b``
→ ``164.308(a)(1)(ii)(B)``, ``cc_6_1`` → ``CC6.1``, ``article_32`` → ``Art.32``; PCI: the
requirement number its ``Section`` starts with). Agreement with Prowler is a reference
figure, not the target: where Prowler maps a check to a requirement it cannot evidence, the
review in our framework files says why we do not.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from cspm_stream.policy.catalog import load_catalog
from cspm_stream.policy.frameworks import builtin_framework_dir
from cspm_stream.policy.loader import builtin_policy_dir

PROWLER_FILES = {
    "cis-aws-3.0.0": "cis_3.0_aws.json",
    "cis-aws-5.0.0": "cis_5.0_aws.json",
    "cis-aws-6.0.0": "cis_6.0_aws.json",
    "cis-aws-7.0.0": "cis_7.0_aws.json",
    "pci-dss-4.0": "pci_4.0_aws.json",
    "hipaa": "hipaa_aws.json",
    "gdpr": "gdpr_aws.json",
    "nist-800-53-rev5": "nist_800_53_revision_5_aws.json",
    "soc2": "soc2_aws.json",
    "iso-27001-2022": "iso27001_2022_aws.json",
    "aws-fsbp": "aws_foundational_security_best_practices_aws.json",
}

_NIST = re.compile(r"^([a-z]{2})_(\d+)(?:_(\d+))?")
_HIPAA = re.compile(r"^164_(\d{3})((?:_[a-z0-9]+)*)$")
_SOC2 = re.compile(r"^(cc|a|c|pi|p)_(\d+)_(\d+)$")
_PCI = re.compile(r"^([A0-9][0-9.]*\d)")
_ROMAN = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"}


def _nist(rid: str, _req: dict[str, Any]) -> str | None:
    m = _NIST.match(rid.lower())
    if not m:
        return None
    out = f"{m.group(1).upper()}-{int(m.group(2))}"
    return out + (f"({int(m.group(3))})" if m.group(3) else "")


def _hipaa(rid: str, _req: dict[str, Any]) -> str | None:
    m = _HIPAA.match(rid.lower())
    if not m:
        return None
    out = f"164.{m.group(1)}"
    for i, part in enumerate(p for p in m.group(2).split("_") if p):
        # paragraph (a), then (1), then (i)/(ii), then (A): the regulation's levels
        out += f"({part.upper() if i >= 3 and part not in _ROMAN else part})"
    return out


def _soc2(rid: str, _req: dict[str, Any]) -> str | None:
    m = _SOC2.match(rid.lower())
    return f"{m.group(1).upper()}{m.group(2)}.{m.group(3)}" if m else None


def _gdpr(rid: str, _req: dict[str, Any]) -> str | None:
    m = re.match(r"^article_(\d+)", rid.lower())
    return f"Art.{m.group(1)}" if m else None


def _pci(_rid: str, req: dict[str, Any]) -> str | None:
    section = str((req.get("Attributes") or [{}])[0].get("Section") or "")
    m = _PCI.match(section)
    return m.group(1) if m else None


def _same(rid: str, _req: dict[str, Any]) -> str | None:
    return rid


NORMALISE: dict[str, Callable[[str, dict[str, Any]], str | None]] = {
    "pci-dss-4.0": _pci,
    "hipaa": _hipaa,
    "gdpr": _gdpr,
    "nist-800-53-rev5": _nist,
    "soc2": _soc2,
}


def prowler_pairs(fid: str, doc: dict[str, Any]) -> tuple[dict[str, set[str]], int]:
    """check → {our requirement ids}, and how many Prowler requirements did not read as one of ours."""
    norm = NORMALISE.get(fid, _same)
    out: dict[str, set[str]] = {}
    seen: set[str] = set()
    unread = 0
    for req in doc.get("Requirements") or []:
        rid = str(req.get("Id"))
        if fid.startswith("cis-") and rid in seen and rid == "1.1":
            rid = "1.10"  # Prowler's cis_5.0 file lists 1.10 as a second "1.1"
        seen.add(rid)
        ours = norm(rid, req)
        if ours is None:
            unread += 1
            continue
        for check in req.get("Checks") or []:
            out.setdefault(check, set()).add(ours)
    return out, unread


@dataclass
class Agreement:
    framework: str
    policies: int
    framework_agree: int
    ours_pairs: int
    theirs_pairs: int
    both_pairs: int
    unknown_requirements: int

    def row(self) -> dict[str, Any]:
        union = self.ours_pairs + self.theirs_pairs - self.both_pairs
        return {
            "framework": self.framework,
            "policies_compared": self.policies,
            "policy_framework_agreement": round(self.framework_agree / self.policies, 3) if self.policies else None,
            "requirement_agreement": round(self.both_pairs / union, 3) if union else None,
            "precision_vs_prowler": round(self.both_pairs / self.ours_pairs, 3) if self.ours_pairs else None,
            "recall_vs_prowler": round(self.both_pairs / self.theirs_pairs, 3) if self.theirs_pairs else None,
            "pairs_ours": self.ours_pairs,
            "pairs_prowler": self.theirs_pairs,
            "pairs_both": self.both_pairs,
            "prowler_ids_not_ours": self.unknown_requirements,
        }


def compare(framework_dirs: Iterable[Path], prowler_dir: Path) -> list[Agreement]:
    """Prowler's pairs count only for requirement ids of the standard, read from the built-in
    (complete) framework files, so an older, partial file is compared on the same ground."""
    cat = load_catalog([builtin_policy_dir()], list(framework_dirs))
    complete = load_catalog([builtin_policy_dir()], [builtin_framework_dir()]).frameworks
    out = []
    for fid, fname in PROWLER_FILES.items():
        fw = cat.frameworks.get(fid)
        path = prowler_dir / fname
        if fw is None or not path.is_file():
            continue
        theirs_by_check, unread = prowler_pairs(fid, orjson.loads(path.read_bytes()))
        our_ids = {r.id for r in (complete.get(fid) or fw).requirements}
        ours_by_policy: dict[str, set[str]] = {}
        for r in fw.requirements:
            for pid in r.policies:
                ours_by_policy.setdefault(pid, set()).add(r.id)
        n = agree = ours_n = theirs_n = both_n = 0
        for pid, pol in cat.policies.items():
            if not pol.related.prowler:
                continue
            n += 1
            ours = ours_by_policy.get(pid, set())
            theirs = set().union(*(theirs_by_check.get(c, set()) for c in pol.related.prowler)) & our_ids
            agree += bool(ours) == bool(theirs)
            ours_n += len(ours)
            theirs_n += len(theirs)
            both_n += len(ours & theirs)
        unknown = unread + sum(1 for ids in theirs_by_check.values() for rid in ids if rid not in our_ids)
        out.append(Agreement(fid, n, agree, ours_n, theirs_n, both_n, unknown))
    return out


def default_prowler_dir() -> Path | None:
    spec = importlib.util.find_spec("prowler")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "compliance" / "aws"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prowler", type=Path, help="folder of Prowler's compliance/aws/*.json")
    ap.add_argument("--frameworks", type=Path, action="append", help="framework folder (default: built-in)")
    ap.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    args = ap.parse_args(argv)
    prowler_dir = args.prowler or default_prowler_dir()
    if prowler_dir is None or not prowler_dir.is_dir():
        print("no Prowler compliance folder: pass --prowler DIR (prowler/compliance/aws)", file=sys.stderr)
        return 2
    rows = [a.row() for a in compare(args.frameworks or [builtin_framework_dir()], prowler_dir)]
    if args.json:
        print(json.dumps({"prowler": str(prowler_dir), "frameworks": rows}, indent=2))
        return 0
    cols = ("framework", "policies_compared", "policy_framework_agreement", "requirement_agreement")
    cols += ("precision_vs_prowler", "recall_vs_prowler", "pairs_ours", "pairs_prowler", "pairs_both")
    print(" ".join(f"{c:>17}" if i else f"{c:<18}" for i, c in enumerate(cols)))
    for r in rows:
        print(" ".join(f"{r[c]!s:>17}" if i else f"{r[c]!s:<18}" for i, c in enumerate(cols)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
