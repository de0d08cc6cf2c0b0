"""cspm-stream rules validate|test|list and cspm-stream detect --events."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from cspm_stream.cli import main
from tests.unit.detect.helpers import ev

SIGMAHQ = Path(__file__).parent / "sigmahq" / "rules"

GOOD = """
title: Trail stopped
id: 30000000-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
level: high
tags: [attack.defense-impairment]
runbook: Restart logging, then find who stopped it.
detection:
    sel:
        eventSource: cloudtrail.amazonaws.com
        eventName: StopLogging
    condition: sel
"""

TESTS = """
rule: Trail stopped
tests:
  - name: stop logging
    expect: match
    detections: 1
    events:
      - {eventName: StopLogging, eventSource: cloudtrail.amazonaws.com, userIdentity: {type: IAMUser, arn: a}}
      - {eventName: StopLogging, eventSource: cloudtrail.amazonaws.com, userIdentity: {type: IAMUser, arn: a}}
  - name: start logging is fine
    expect: no_match
    events:
      - {eventName: StartLogging, eventSource: cloudtrail.amazonaws.com}
"""


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    d = tmp_path / "rules"
    d.mkdir()
    (d / "trail_stopped.yml").write_text(GOOD)
    (d / "trail_stopped.tests.yml").write_text(TESTS)
    return d


def test_validate_reports_failures_and_summary(rules_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (rules_dir / "typo.yml").write_text(GOOD.replace("30000000", "30000001").replace("eventName:", "eventname:"))
    (rules_dir / "broken.yml").write_text("title: [unclosed")
    code = main(["rules", "validate", str(rules_dir)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    assert lines[-1] == "loaded 1, failed 2, warnings 0"
    assert any("typo.yml" in ln and "unknown CloudTrail field 'eventname'" in ln for ln in lines)
    assert any("broken.yml" in ln and "invalid YAML" in ln for ln in lines)


def test_validate_ok_exits_zero(rules_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "validate", str(rules_dir / "trail_stopped.yml")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "loaded 1, failed 0, warnings 0"


def test_validate_sigmahq_loads_every_rule_and_warns_on_the_field_cloudtrail_lacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rules", "validate", str(SIGMAHQ)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "loaded 57, failed 0, warnings 1"
    (warning,) = [ln for ln in out if ln.startswith("WARNING")]
    assert "aws_delete_saml_provider.yml" in warning and "'status'" in warning


def test_rules_test_runs_examples(rules_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "test", str(rules_dir)]) == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out
    (rules_dir / "trail_stopped.tests.yml").write_text(TESTS.replace("detections: 1", "detections: 2"))
    assert main(["rules", "test", str(rules_dir)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "expected 2 detection(s), got 1" in out


def test_rules_list(rules_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list", "--no-builtin", str(rules_dir)]) == 0
    out = capsys.readouterr().out
    assert "30000000-0000-4000-8000-000000000001\thigh\trule\tTrail stopped\tdefense-impairment" in out


def test_detect_over_files(rules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stop = ev("StopLogging", "cloudtrail.amazonaws.com", event_time="2026-01-01T00:00:10Z")
    stop2 = ev("StopLogging", "cloudtrail.amazonaws.com", event_time="2026-01-01T00:00:20Z")
    benign = ev("DescribeTrails", "cloudtrail.amazonaws.com")
    (tmp_path / "a.jsonl").write_bytes(orjson.dumps(benign) + b"\n" + orjson.dumps(stop) + b"\nnot json\n")
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(orjson.dumps({"Records": [stop2, stop]})))
    envelope = {"detail-type": "AWS API Call via CloudTrail", "source": "aws.cloudtrail", "detail": stop}
    (tmp_path / "c.json").write_bytes(orjson.dumps(envelope))
    code = main(
        [
            "detect",
            "--no-builtin",
            "--rules",
            str(rules_dir),
            "--events",
            str(tmp_path / "a.jsonl"),
            str(tmp_path / "b.json.gz"),
            str(tmp_path / "c.json"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    lines = [orjson.loads(x) for x in out.strip().splitlines()]
    assert len(lines) == 1  # one detection, updated by the repeat; duplicates dropped
    (f,) = lines
    assert f["class_uid"] == 2004 and f["count"] == 2
    assert sorted(f["unmapped"]["event_ids"]) == sorted([stop["eventID"], stop2["eventID"]])
    assert f["unmapped"]["runbook"].startswith("Restart logging")
    summary = orjson.loads(err[err.index("{") :])
    assert summary["records"] == 5 and summary["duplicates"] == 2 and summary["skipped"] == 1
    assert summary["detections"] == 1


def test_detect_missing_file_exits_one(rules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--no-builtin", "--rules", str(rules_dir), "--events", str(tmp_path / "nope")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_rules_fields_documents_the_vocabulary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "fields"]) == 0
    out = capsys.readouterr().out
    assert "requestParameters" in out and "detection.placeholders" in out and "|cidr" in out
