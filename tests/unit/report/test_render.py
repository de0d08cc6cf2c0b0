from __future__ import annotations

import csv
import io
import re
from typing import Any

import orjson
import pytest

from cspm_stream.report import build_report, collect, render
from cspm_stream.report.render_data import CSV_COLUMNS, safe_cell
from cspm_stream.report.synthetic import compliance_finding, detection_finding

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
    fw1 = [r for r in rows if r["framework"] == "fw1"]
    # R1: p1 x3 + p2 x2; R2: p3 x3; R3, R4: one empty row each; R5: p5; R6: p6
    assert len(fw1) == 5 + 3 + 1 + 1 + 1 + 1
    r3 = [r for r in fw1 if r["requirement_id"] == "R3"]
    assert r3[0]["requirement_status"] == "not-evaluated" and r3[0]["policy_id"] == ""
    res2 = [r for r in fw1 if r["resource_uid"].endswith("res2")]
    assert res2[0]["outcome"] == "fail" and res2[0]["requirement_status"] == "fail"
    assert [r["requirement_id"] for r in rows if r["policy_id"] == "p7"] == ["X"]  # fw2:X


def test_csv_neutralises_formulas() -> None:
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_cell("+1") == "'+1" and safe_cell("-1") == "'-1" and safe_cell("@a") == "'@a"
    assert safe_cell("arn:aws:s3:::b") == "arn:aws:s3:::b"
    f = compliance_finding("p", "=cmd|' /C calc'!A0", title="=1+1")
    text = render(build_report(collect([f]), [], now_ms=NOW), "csv").decode()
    row = next(iter(csv.DictReader(io.StringIO(text))))
    assert row["resource_uid"].startswith("'=") and row["control_title"] == "'=1+1"


def _evil_world() -> list[dict[str, Any]]:
    f = compliance_finding(
        EVIL, f"arn:aws:s3:::{EVIL}", title=EVIL, account=EVIL, requirements=(f"{EVIL}:{EVIL}",)
    )
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


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        render(build_report(collect([]), [], now_ms=NOW), "pdf")


def test_csv_times_match_the_iso_helper() -> None:
    from cspm_stream.report.render_data import _iso
    from cspm_stream.timeutil import ms_to_iso

    for ms in (0, 1, 999, 1_767_225_600_123, 1_795_000_000_000, 4_102_444_799_999):
        assert _iso(ms) == ms_to_iso(ms)
