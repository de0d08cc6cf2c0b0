from __future__ import annotations

import csv
import io
import re
from typing import Any

import orjson
import pytest

from cspm_stream.report import build_report, collect, render
from cspm_stream.report.render_data import CSV_COLUMNS, safe_cell
from cspm_stream.testing.findings import compliance_finding, detection_finding

from .conftest import FW1, NOW

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_json_holds_the_figures(world: list[dict[str, Any]]) -> None:
    data = orjson.loads(render(build_report(collect(world), [FW1], now_ms=NOW), "json"))
    assert data["summary"]["checks"] == {"passed": 6, "failed": 2, "error": 2, "muted": 1}
    assert data["summary"]["score"]["value"] == pytest.approx(75.0)
    assert data["frameworks"][0]["requirements"][0]["status"] == "fail"
    assert data["generated_at"] == "2026-01-10T12:00:00.000Z"
    assert "checks" not in data  # rows are for CSV, not the JSON summary


def test_csv_rows(world: list[dict[str, Any]]) -> None:
    text = render(build_report(collect(world), [FW1], now_ms=NOW), "csv").decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == 11  # one per check, however many requirements map it
    by_res = {(r["policy_id"], r["resource_uid"].rsplit(":", 1)[-1]): r for r in rows}
    res2 = by_res[("p1", "res2")]
    assert res2["outcome"] == "fail" and res2["state"] == "failing" and res2["severity"] == "High"
    assert res2["requirements"] == "fw1:R1"
    assert by_res[("p7", "res8")]["requirements"] == "fw2:X"
    res3 = by_res[("p1", "res3")]
    assert res3["outcome"] == "pass" and res3["resolved_at"] == "2026-01-09T12:00:00.000Z"
    assert res3["first_seen"] == "2026-01-07T12:00:00.000Z"
    assert [r["policy_id"] for r in rows] == sorted(r["policy_id"] for r in rows)


def test_csv_with_framework_filter_lists_only_its_requirements(world: list[dict[str, Any]]) -> None:
    world[-6]["compliance"]["requirements"] = ["fw2:X", "fw1:R3"]  # p7 cites both
    text = render(build_report(collect(world), [FW1], now_ms=NOW, framework="fw1"), "csv").decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    p7 = [r for r in rows if r["policy_id"] == "p7"]
    assert [r["requirements"] for r in p7] == ["fw1:R3"]


def test_csv_neutralises_formulas() -> None:
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_cell("+1") == "'+1" and safe_cell("-1") == "'-1" and safe_cell("@a") == "'@a"
    assert safe_cell("arn:aws:s3:::b") == "arn:aws:s3:::b"
    f = compliance_finding("p", "=cmd|' /C calc'!A0", title="=1+1")
    text = render(build_report(collect([f]), [], now_ms=NOW), "csv").decode()
    row = next(iter(csv.DictReader(io.StringIO(text))))
    assert row["resource_uid"].startswith("'=") and row["control_title"] == "'=1+1"


def _evil_world() -> list[dict[str, Any]]:
    f = compliance_finding(EVIL, f"arn:aws:s3:::{EVIL}", title=EVIL, account=EVIL, requirements=(f"{EVIL}:{EVIL}",))
    f["unmapped"]["service"] = EVIL
    d = detection_finding(EVIL, "g", title=EVIL, actor=EVIL, account=EVIL)
    return [f, d]


def test_html_escapes_every_finding_string() -> None:
    html = render(build_report(collect(_evil_world()), [], now_ms=NOW), "html").decode()
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;" in html


def test_html_is_self_contained(world: list[dict[str, Any]]) -> None:
    html = render(build_report(collect(world), [FW1], now_ms=NOW), "html").decode()
    assert html.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"<(script|link|iframe|object|embed)\b", html, re.I)
    assert not re.search(r"\b(src|href)\s*=", html, re.I)
    assert "@import" not in html and "url(" not in html
    assert html.count("<svg") >= 5  # donut, frameworks, trend, detections/day, breakdowns, severities


def test_html_shows_the_figures(world: list[dict[str, Any]]) -> None:
    html = render(build_report(collect(world), [FW1], now_ms=NOW), "html").decode()
    assert "75.0%" in html  # posture score
    assert "Framework One" in html and "85.7%" in html  # fw1 check score 6/7


def test_html_lists_requirements_with_their_status(world: list[dict[str, Any]]) -> None:
    html = render(build_report(collect(world), [FW1], now_ms=NOW), "html").decode()
    assert ">manual</span>" in html and ">muted</span>" in html  # R4 manual, R6 only muted checks
    assert "Requirement score" in html and "0.0%" in html  # fw1: R1 fails, nothing passes
    assert "passed / (passed + failed) checks (6 / 8)" in html


def test_html_is_rendered_by_jinja2_with_autoescape() -> None:
    from cspm_stream.report.render_html import _environment

    env = _environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x=EVIL).startswith("&lt;script&gt;")


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        render(build_report(collect([]), [], now_ms=NOW), "pdf")


def test_csv_times_match_the_iso_helper() -> None:
    from cspm_stream.report.render_data import _iso
    from cspm_stream.timeutil import ms_to_iso

    for ms in (0, 1, 999, 1_767_225_600_123, 1_795_000_000_000, 4_102_444_799_999):
        assert _iso(ms) == ms_to_iso(ms)
