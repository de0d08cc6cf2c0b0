"""Prometheus rules (promtool check + promtool test) and the Grafana dashboard, held to the metrics the code exports.

The exported names come from the registry the daemon builds — every stage of role ``all``
and its side services, with a delivery sink configured so the sink metrics register too —
never from a hand-written list: a renamed metric fails here.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import yaml

from tests.unit.deploy.tools import DASHBOARD, RULE_TESTS, RULES, tool

#: PromQL words that are not metric names
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects: identifiers that are not functions, keywords, labels or durations."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    s = re.sub(r"\{[^}]*\}", "", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", "", s)  # range and subquery durations
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", s)  # label lists
    s = re.sub(r"\$\w+", "", s)  # Grafana variables
    names = set()
    for m in _IDENT.finditer(s):
        word = m.group(0)
        rest = s[m.end() :].lstrip()
        if rest.startswith("(") or word in _KEYWORDS or re.fullmatch(r"\d", word[:1]):
            continue
        before = s[: m.start()].rstrip()
        if before and (before[-1].isdigit() or before[-1] == "."):  # 1e3, 0.5 exponents
            continue
        names.add(word)
    return names


def test_metric_name_extraction_is_real() -> None:
    e = 'histogram_quantile(0.99, sum by (le, stage) (rate(cspm_x_bucket{a="b c",d=~"x|y"}[5m]))) > 1e3'
    assert metric_names(e) == {"cspm_x_bucket"}
    assert metric_names("time() - max by (account) (cspm_t) > 7200 and on() cspm_u offset 5m") == {"cspm_t", "cspm_u"}
    assert metric_names('sum(rate(a_total[$__rate_interval])) / sum(rate(b_total{x="$v"}[1m]))') == {
        "a_total",
        "b_total",
    }


def exported_series() -> set[str]:
    """Every sample name the daemon's registry can expose (counters: _total/_created; histograms: _bucket/...)."""
    from cspm_stream import settings
    from cspm_stream.app import build_role, role_context
    from cspm_stream.services import role_services

    s = settings.load(
        data={
            "alerts": {
                "sinks": {"siem": {"type": "kafka"}, "hook": {"type": "webhook", "url": "https://hooks.example/x"}},
                "routes": [{"name": "siem", "sink": "siem"}, {"name": "hook", "sink": "hook"}],
            }
        },
        environ={},
    )
    ctx = role_context(s, environ={})
    build_role(ctx, "all")
    role_services(ctx, "all")
    out: set[str] = set()
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}
    for family in ctx.metrics.registry.collect():
        out.add(family.name)
        out.update(family.name + sfx for sfx in suffixes.get(family.type, ()))
        out.update(sample.name for sample in family.samples)
    return out


@pytest.fixture(scope="module")
def exported() -> set[str]:
    names = exported_series()
    assert "cspm_consumer_lag" in names and "cspm_alerts_sent_total" in names  # the registry really was built
    # the standard process metrics are on the same (role context's) registry: the restart rule reads them
    assert {"process_start_time_seconds", "process_resident_memory_bytes", "cspm_build_info"} <= names
    return names


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def dashboard_exprs(panels: list[dict[str, Any]] | None = None) -> Iterator[tuple[str, str]]:
    if panels is None:
        panels = orjson.loads(DASHBOARD.read_bytes())["panels"]
    for p in panels:
        for t in p.get("targets", []):
            yield p["title"], t["expr"]
        yield from dashboard_exprs(p.get("panels", []))


def test_promtool_check_rules() -> None:
    out = subprocess.run([tool("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(rules())} rules found" in out.stdout


def test_promtool_rule_unit_tests() -> None:
    out = subprocess.run(
        [tool("promtool"), "test", "rules", RULE_TESTS.name],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=RULE_TESTS.parent,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_every_alert_has_severity_summary_and_runbook() -> None:
    runbook = (RULES.parent / "RUNBOOK.md").read_text()
    anchors = {line[3:].strip().lower() for line in runbook.splitlines() if line.startswith("## ")}
    names = [r["alert"] for r in rules()]
    assert len(names) == len(set(names))
    for r in rules():
        assert r["labels"]["severity"] in ("critical", "warning", "info"), r["alert"]
        assert r["annotations"]["summary"] and r["annotations"]["description"] and r["annotations"]["runbook"]
        assert r["annotations"]["runbook_url"].split("#")[1] in anchors, r["alert"]
    covered = " ".join(names)
    for topic in (
        "ConsumerLag",
        "DeadLetter",
        "AwsThrottling",
        "AwsErrors",
        "ScanStale",
        "CloudTrailSilent",
        "SinkDelivery",
        "Restarting",
        "DetectionLatency",
    ):
        assert topic in covered


def test_rules_reference_only_exported_metrics(exported: set[str]) -> None:
    used = {name: r["alert"] for r in rules() for name in metric_names(str(r["expr"]))}
    assert used, "no metric found in the rules"
    missing = {n: a for n, a in used.items() if n not in exported}
    assert not missing, f"metrics the code does not export: {missing}"


def test_dashboard_references_only_exported_metrics(exported: set[str]) -> None:
    used = {name: title for title, expr in dashboard_exprs() for name in metric_names(expr)}
    assert len(used) >= 15
    missing = {n: t for n, t in used.items() if n not in exported}
    assert not missing, f"metrics the code does not export: {missing}"


def test_dashboard_is_a_grafana_dashboard() -> None:
    d = orjson.loads(DASHBOARD.read_bytes())
    assert d["uid"] == "cspm-stream" and d["schemaVersion"] >= 36
    assert [v["name"] for v in d["templating"]["list"]] == ["datasource"]
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    for p in d["panels"]:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0
        for t in p.get("targets", []):
            assert t["datasource"]["uid"] == "${datasource}" and t["refId"]
