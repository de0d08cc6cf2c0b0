"""``cspm-stream policies stats``: its counts equal the catalogue's, counted here from the files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from cspm_stream.cli import main
from cspm_stream.cli.policies_stats import render

ROOT = Path(__file__).resolve().parents[3]
POLICIES = ROOT / "cspm_stream" / "catalog" / "policies"
FRAMEWORKS = ROOT / "cspm_stream" / "catalog" / "frameworks"


def counted_from_files() -> dict[str, Any]:
    """The same figures, read straight from the YAML files (no catalogue loader)."""
    docs = [yaml.safe_load(f.read_text(encoding="utf-8")) for f in sorted(POLICIES.rglob("*.yaml"))]
    related = [d.get("related") or {} for d in docs]
    types = {d["resource_type"] for d in docs}
    wire = Counter(d.get("wire_test") or "not stated" for d in docs)
    exact = {c for r in related for c in r.get("prowler") or []}
    see_also = {c for r in related for c in (r.get("see_also") or {}).get("prowler") or []}
    return {
        "policies": len(docs),
        "resource_types": len(types),
        "services": len({t.split(".")[1] for t in types}),
        "frameworks": len(list(FRAMEWORKS.glob("*.yaml"))),
        "prowler_checks_exact": len({c for r in related for c in r.get("prowler") or []}),
        "prowler_pairs_exact": sum(len(r.get("prowler") or []) for r in related),
        "policies_with_prowler_exact": sum(1 for r in related if r.get("prowler")),
        "securityhub_controls_exact": len({c for r in related for c in r.get("securityhub") or []}),
        "prowler_checks_see_also_only": len(see_also - exact),
        "policy_tests": sum(len(d.get("tests") or []) for d in docs),
        "wire_tests": dict(sorted(wire.items())),
    }


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return counted_from_files()


def test_json_counts_equal_the_files(capsys: pytest.CaptureFixture[str], expected: dict[str, Any]) -> None:
    assert main(["policies", "stats", "--format", "json"]) == 0
    got = orjson.loads(capsys.readouterr().out)
    assert got == expected
    assert got["policies"] > 600 and set(got["wire_tests"]) <= {"moto", "recorded", "not stated"}


def test_table_prints_every_figure(capsys: pytest.CaptureFixture[str], expected: dict[str, Any]) -> None:
    assert main(["policies", "stats"]) == 0
    out = capsys.readouterr().out
    assert out == render(expected)
    assert f"{expected['policies']:>6}  policies\n" in out
    assert f"{expected['wire_tests']['moto']:>6}  wire test: moto\n" in out


def test_counts_follow_the_paths_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a one-policy folder: the figures are that folder's, not the built-ins'
    src = POLICIES / "s3"
    one = sorted(src.glob("*.yaml"))[0]
    pdir = tmp_path / "policies"
    pdir.mkdir()
    (pdir / one.name).write_text(one.read_text(encoding="utf-8"), encoding="utf-8")
    cfg = tmp_path / "cspm.yaml"
    cfg.write_text(f"policy:\n  builtin_policies: false\n  policy_dirs: ['{pdir}']\n")
    assert main(["-c", str(cfg), "policies", "stats", "--format", "json"]) == 0
    got = orjson.loads(capsys.readouterr().out)
    doc = yaml.safe_load(one.read_text(encoding="utf-8"))
    assert got["policies"] == 1 and got["resource_types"] == 1 and got["services"] == 1
    assert got["frameworks"] == 0
    assert got["prowler_pairs_exact"] == len((doc.get("related") or {}).get("prowler") or [])
    assert got["wire_tests"] == {doc.get("wire_test") or "not stated": 1}


def test_not_twinned_lists_see_also_only_checks_with_their_policies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "stats", "--not-twinned", "--format", "json"]) == 0
    got = orjson.loads(capsys.readouterr().out)
    exact: set[str] = set()
    naming: dict[str, set[str]] = {}
    for f in POLICIES.rglob("*.yaml"):
        d = yaml.safe_load(f.read_text(encoding="utf-8"))
        r = d.get("related") or {}
        exact |= set(r.get("prowler") or [])
        for c in (r.get("see_also") or {}).get("prowler") or []:
            naming.setdefault(c, set()).add(d["id"])
    expect = {c: sorted(pids) for c, pids in naming.items() if c not in exact}
    assert got == expect and list(got) == sorted(got)
    assert "rds_cluster_backtrack_enabled" in got  # the README's example: fails every cluster that cannot backtrack
    assert main(["policies", "stats", "--not-twinned"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(expect) and all(line.split()[0] in expect for line in lines)
