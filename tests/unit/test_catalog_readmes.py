"""The catalogue READMEs say what the catalogue holds: every list in them that can be derived is
compared with the catalogue or the registry it comes from, so neither can drift from the other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.scan.crossref import exact_pairs
from cspm_stream.cli.policies_stats import not_twinned
from cspm_stream.combos.relations import RELATIONS
from cspm_stream.detect import derived
from cspm_stream.detect.agent_tools import TOOLS
from cspm_stream.policy.catalog import Catalog, load_catalog
from cspm_stream.policy.loader import builtin_policy_dir

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "cspm_stream" / "catalog"
POLICIES_README = (CATALOG / "policies" / "README.md").read_text(encoding="utf-8")
RULES_README = (CATALOG / "rules" / "README.md").read_text(encoding="utf-8")
COMBOS_README = (CATALOG / "combinations" / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog([builtin_policy_dir()], [])


def _paragraph(text: str, start: str) -> str:
    i = text.index(start)
    end = text.find("\n\n", i)
    return text[i : end if end >= 0 else len(text)]


def _ticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


# --- policies ---------------------------------------------------------------------------------------


def test_twins_named_are_policies_with_an_exact_equivalent(cat: Catalog) -> None:
    twins = _paragraph(POLICIES_README, "Twins:").split("Not twinned")[0]
    named = [t for t in _ticked(twins) if re.fullmatch(r"[a-z0-9_]+", t)]
    assert len(named) >= 5
    for pid in named:
        assert pid in cat.policies, pid
    # the twins the paragraph gives as examples of "means exactly what theirs means" carry an exact id
    for pid in named[:-1]:  # the last one is ours beside the first twin (also fails wide-open groups)
        p = cat.policies[pid]
        assert p.related.prowler or p.related.securityhub, pid


def test_security_hub_ids_moved_to_see_also_and_their_twins(cat: Catalog) -> None:
    para = _paragraph(POLICIES_README, "Security Hub ids follow")
    moved_part, twin_part = para.split("Where a twin")
    moved = set(
        re.findall(r"\b[A-Z][A-Za-z0-9]*\.\d+\b", re.split(r"moved ids to\s+`?see_also`?", moved_part, maxsplit=1)[1])
    )
    assert len(moved) >= 10
    see_also = {c for p in cat.policies.values() for c in p.related.see_also.securityhub}
    assert moved <= see_also
    # every moved id some twin names as exact is listed with exactly those twins
    twins: dict[str, set[str]] = {}
    for m in re.finditer(r"\b([A-Z][A-Za-z0-9]*\.\d+)\s+((?:`[a-z0-9_]+`(?:,?\s+and\s+|,\s+)?)+)", twin_part):
        twins[m.group(1)] = set(_ticked(m.group(2)))
    exact = {
        sid: {p.id for p in cat.policies.values() if sid in p.related.securityhub}
        for sid in moved
        if any(sid in p.related.securityhub for p in cat.policies.values())
    }
    assert twins == exact


def test_not_twinned_example_and_split_checks(cat: Catalog) -> None:
    nt = not_twinned(cat)
    assert "rds_cluster_backtrack_enabled" in nt and "`rds_cluster_backtrack_enabled`" in POLICIES_README
    assert "cspm-stream policies stats --not-twinned" in POLICIES_README
    for pid in ("iam_user_single_active_access_key", "iam_root_single_active_access_key"):
        assert pid in cat.policies and f"`{pid}`" in POLICIES_README


def test_crossref_pair_count_is_the_benchs(cat: Catalog) -> None:
    m = re.search(r"the (\d+) on the services the bench scans", POLICIES_README)
    assert m and int(m.group(1)) == len(exact_pairs())
    assert len(exact_pairs()) <= sum(len(p.related.prowler) for p in cat.policies.values())


def test_cis_monitoring_policies_live_under_logs(cat: Catalog) -> None:
    m = re.search(r"CIS 4\.1–4\.(\d+) live under `logs/`", POLICIES_README)
    monitoring = [p for p in cat.policies.values() if p.resource_type == "aws.logs.monitoring"]
    assert m and len(monitoring) == int(m.group(1))
    assert all(Path(p.source).parent.name == "logs" for p in monitoring)


# --- rules ------------------------------------------------------------------------------------------


def test_derived_field_table_is_the_registry() -> None:
    rows = re.findall(r"^\| `(cspm\.[a-z0-9_]+)` \| (\w+) \|", RULES_README, flags=re.M)
    public = {f"{derived.NAMESPACE}.{f.name}": f.kind for f in derived.FIELDS.values() if not f.name.startswith("_")}
    assert dict(rows) == public
    assert [r[0] for r in rows] == list(public)


def test_tool_names_are_the_recognised_tools() -> None:
    row = next(line for line in RULES_README.splitlines() if line.startswith("| `cspm.tools`"))
    listed = _ticked(row.split("announces:", 1)[1].split("(", 1)[0])
    assert listed == [name for name, _, _ in TOOLS]


# --- combinations -----------------------------------------------------------------------------------


def test_combination_relations_are_the_registry() -> None:
    para = _paragraph(COMBOS_README, "- `parts[].via`")
    listed = _ticked(para.split("relations.py`:", 1)[1].split(")", 1)[0])
    assert listed == list(RELATIONS)
