"""Generate the NIST SP 800-53 rev 5 requirement list from NIST's OSCAL catalog.

    .venv/bin/python -m bench.frameworks.nist --catalog NIST_SP-800-53_rev5_catalog.json \\
        [--titles NEWER_RESOLVED_PROFILE_CATALOG.json ...]

Every control and control enhancement the catalog does not mark withdrawn becomes one
requirement (``AC-2``, ``AC-2(3)``; enhancements titled ``Control | Enhancement``, section =
the family), in catalog order. The policies, descriptions and rationales already in
``nist-800-53-rev5.yaml`` are kept per requirement id; an id that disappears while it still
maps policies is an error. ``--titles`` catalogs (e.g. the release 5.1.1 baseline catalogs)
override titles of the controls they contain. Controls added by release 5.1.1 (IA-13 and its
enhancements) are added when the catalog predates them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.frameworks import fwyaml
from cspm_stream.policy.frameworks import builtin_framework_dir

#: release 5.1.1 (November 2023) added one control and three enhancements
RELEASE_5_1_1 = (
    ("ia-13", "IA-13", "Identity Providers and Authorization Servers", None),
    ("ia-13.1", "IA-13(1)", "Protection of Cryptographic Keys", "ia-13"),
    ("ia-13.2", "IA-13(2)", "Verification of Identity Assertions and Access Tokens", "ia-13"),
    ("ia-13.3", "IA-13(3)", "Token Management", "ia-13"),
)


def _prop(c: dict[str, Any], name: str) -> str:
    return next((str(p.get("value")) for p in c.get("props", []) if p.get("name") == name), "")


def _label(c: dict[str, Any]) -> str:
    """``AC-02(03)`` and ``AC-2(3)`` → ``AC-2(3)`` (the printed publication's form)."""
    lab = _prop(c, "label") or c["id"].upper()
    fam, _, rest = lab.partition("-")
    num, _, enh = rest.partition("(")
    out = f"{fam}-{int(num)}"
    return out + (f"({int(enh.rstrip(')'))})" if enh else "")


def controls(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """[{oscal_id, id, title, parent, family, withdrawn}] in catalog order."""
    out: list[dict[str, Any]] = []

    def walk(cs: list[dict[str, Any]], parent: str | None, family: str) -> None:
        for c in cs:
            out.append(
                {
                    "oscal_id": c["id"],
                    "id": _label(c),
                    "title": " ".join(str(c["title"]).split()),
                    "parent": parent,
                    "family": family,
                    "withdrawn": _prop(c, "status") == "withdrawn",
                }
            )
            walk(c.get("controls", []), c["id"], family)

    for g in catalog["catalog"]["groups"]:
        walk(g.get("controls", []), None, f"{g['id'].upper()} {g['title']}")
    return out


def requirements(catalog: dict[str, Any], title_catalogs: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = controls(catalog)
    titles = {c["oscal_id"]: c["title"] for tc in title_catalogs for c in controls(tc)}
    known = {c["oscal_id"] for c in rows}
    if "ia-13" not in known:
        fam = next(c["family"] for c in rows if c["oscal_id"].startswith("ia-"))
        at = max(i for i, c in enumerate(rows) if c["oscal_id"].startswith("ia-")) + 1
        extra = [
            {"oscal_id": o, "id": i, "title": t, "parent": p, "family": fam, "withdrawn": False}
            for o, i, t, p in RELEASE_5_1_1
        ]
        rows[at:at] = extra
    by_id = {c["oscal_id"]: c for c in rows}
    out = []
    for c in rows:
        if c["withdrawn"]:
            continue
        title = titles.get(c["oscal_id"], c["title"])
        if c["parent"]:
            parent = by_id[c["parent"]]
            title = f"{titles.get(parent['oscal_id'], parent['title'])} | {title}"
        out.append({"id": c["id"], "title": title, "section": c["family"]})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", required=True, type=Path, help="NIST_SP-800-53_rev5_catalog.json (OSCAL)")
    ap.add_argument("--titles", action="append", default=[], type=Path, help="newer OSCAL catalogs for titles")
    ap.add_argument("--out", type=Path, default=builtin_framework_dir() / "nist-800-53-rev5.yaml")
    args = ap.parse_args(argv)
    reqs = requirements(
        json.loads(args.catalog.read_text(encoding="utf-8")),
        [json.loads(p.read_text(encoding="utf-8")) for p in args.titles],
    )
    doc = fwyaml.read(args.out)
    old = {str(r["id"]): r for r in doc.get("requirements") or []}
    new_ids = {r["id"] for r in reqs}
    lost = sorted(rid for rid, r in old.items() if r.get("policies") and rid not in new_ids)
    if lost:
        print(f"requirements with policies missing from the catalog: {', '.join(lost)}", file=sys.stderr)
        return 1
    out = []
    for r in reqs:
        prev = old.get(r["id"], {})
        row: dict[str, Any] = dict(r)
        pols = list(prev.get("policies") or [])
        row["automated"] = bool(pols)
        row["policies"] = pols
        for key in ("description", "rationale"):
            if prev.get(key):
                row[key] = prev[key]
        out.append(row)
    doc["requirements"] = out
    fwyaml.write(args.out, doc)
    print(f"{args.out}: {len(out)} requirements ({sum(1 for r in out if r['policies'])} automated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
