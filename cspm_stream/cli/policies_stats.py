"""``cspm-stream policies stats [--format table|json] [--not-twinned]``: the catalogue's counts in one place.

Policies, resource types, services (the ``<service>`` of ``aws.<service>.<type>``), frameworks,
distinct Prowler checks and Security Hub controls named as exact equivalents (``related``), the
(policy, exact Prowler check) pairs ``bench.scan.crossref`` compares, the example tests beside the
policies, and how each policy's collector is tested on the wire (``wire_test``: moto, recorded, or
not stated). The README quotes these figures; this command is where they come from.

``--not-twinned`` lists instead the Prowler checks the catalogue names only under ``see_also``
(no policy means exactly what they mean), each with the policies naming it; the reason for each
is stated beside the entry in those policies' files.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from cspm_stream.policy.catalog import Catalog
from cspm_stream.policy.yamlio import YamlReadError, read_yaml

#: what a policy that states no ``wire_test`` counts under
NOT_STATED = "not stated"


def wire_tests(cat: Catalog) -> dict[str, str]:
    """policy id → its file's ``wire_test`` (``moto``/``recorded``), else :data:`NOT_STATED`."""
    out: dict[str, str] = {}
    for pid, p in cat.policies.items():
        try:
            doc = read_yaml(Path(p.source))
        except YamlReadError:
            doc = None
        wire = doc.get("wire_test") if isinstance(doc, dict) else None
        out[pid] = wire if isinstance(wire, str) else NOT_STATED
    return out


def not_twinned(cat: Catalog) -> dict[str, list[str]]:
    """Prowler check → the policies naming it under ``see_also``, for checks no policy names as exact."""
    exact = {c for p in cat.policies.values() for c in p.related.prowler}
    out: dict[str, list[str]] = {}
    for pid in sorted(cat.policies):
        for check in cat.policies[pid].related.see_also.prowler:
            if check not in exact:
                out.setdefault(check, []).append(pid)
    return dict(sorted(out.items()))


def stats(cat: Catalog, wire: Mapping[str, str]) -> dict[str, Any]:
    """The counts (pure: the catalogue and each policy's wire test kind)."""
    pols = list(cat.policies.values())
    types = {p.resource_type for p in pols}
    kinds = Counter(wire.get(p.id, NOT_STATED) for p in pols)
    return {
        "policies": len(pols),
        "resource_types": len(types),
        "services": len({t.split(".")[1] for t in types}),
        "frameworks": len(cat.frameworks),
        "prowler_checks_exact": len({c for p in pols for c in p.related.prowler}),
        "prowler_pairs_exact": sum(len(p.related.prowler) for p in pols),
        "policies_with_prowler_exact": sum(1 for p in pols if p.related.prowler),
        "securityhub_controls_exact": len({c for p in pols for c in p.related.securityhub}),
        "prowler_checks_see_also_only": len(not_twinned(cat)),
        "policy_tests": sum(len(p.tests) for p in pols),
        "wire_tests": {k: kinds[k] for k in sorted(kinds)},
    }


LABELS = {
    "policies": "policies",
    "resource_types": "resource types",
    "services": "services",
    "frameworks": "frameworks",
    "prowler_checks_exact": "distinct Prowler checks (exact equivalents)",
    "prowler_pairs_exact": "(policy, exact Prowler check) pairs",
    "policies_with_prowler_exact": "policies with an exact Prowler equivalent",
    "securityhub_controls_exact": "distinct Security Hub controls (exact equivalents)",
    "prowler_checks_see_also_only": "Prowler checks named only under see_also (not twinned)",
    "policy_tests": "policy example tests",
}


def render(s: Mapping[str, Any]) -> str:
    lines = [f"{s[k]:>6}  {label}" for k, label in LABELS.items()]
    lines += [f"{n:>6}  wire test: {kind}" for kind, n in s["wire_tests"].items()]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, cat: Catalog) -> int:
    if args.not_twinned:
        nt = not_twinned(cat)
        if args.format == "json":
            sys.stdout.write(orjson.dumps(nt, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            w = max([len(c) for c in nt] + [1])
            sys.stdout.write("".join(f"{c:<{w}}  {', '.join(pids)}\n" for c, pids in nt.items()))
        return 0
    s = stats(cat, wire_tests(cat))
    if args.format == "json":
        sys.stdout.write(orjson.dumps(s, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render(s))
    return 0
