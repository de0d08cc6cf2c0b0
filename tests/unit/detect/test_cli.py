"""cspm-stream rules validate|test|list and cspm-stream detect --events."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

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


def test_detect_reports_hostile_records_with_file_and_line_and_goes_on(
    rules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = ev("StopLogging", "cloudtrail.amazonaws.com", event_time="2026-01-01T00:00:10Z")
    bad_name = dict(ev("StopLogging", "cloudtrail.amazonaws.com"), eventName=["StopLogging", "x"])
    bad_ident = dict(ev("StopLogging", "cloudtrail.amazonaws.com"), userIdentity="root")
    bad_type = ev("StopLogging", "cloudtrail.amazonaws.com")
    bad_type["userIdentity"]["type"] = {"nested": True}
    lines = [orjson.dumps(r) for r in (bad_name, bad_ident, bad_type, good)]
    (tmp_path / "h.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    code = main(["detect", "--no-builtin", "--rules", str(rules_dir), "--events", str(tmp_path / "h.jsonl")])
    out, err = capsys.readouterr()
    assert code == 0
    assert f"skipped {tmp_path / 'h.jsonl'}:1: eventName is a list; expected a string" in err
    assert f"{tmp_path / 'h.jsonl'}:2: userIdentity is a string; expected an object" in err
    assert f"{tmp_path / 'h.jsonl'}:3: userIdentity.type is an object; expected a string" in err
    (f,) = [orjson.loads(x) for x in out.strip().splitlines()]
    assert f["unmapped"]["event_ids"] == [good["eventID"]]


def test_detect_fails_when_not_one_record_is_usable(
    rules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every record skipped is exit 1 (a scheduled job must not read 'no detections'); one usable is 0."""
    bad = dict(ev("StopLogging", "cloudtrail.amazonaws.com"), eventName={"x": 1})
    path = tmp_path / "all-bad.jsonl"
    path.write_bytes(orjson.dumps(bad) + b"\n" + b"{not json\n")
    args = ["detect", "--no-builtin", "--rules", str(rules_dir), "--events", str(path)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert '"skipped": 2' in err and '"records": 0' in err
    path.write_bytes(path.read_bytes() + orjson.dumps(ev("GetCallerIdentity", "sts.amazonaws.com")) + b"\n")
    assert main(args) == 0
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert main([*args[:-1], str(empty)]) == 0  # an empty trail file is not an error


def test_detect_refuses_a_gzip_bomb_and_exits_one(
    rules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import zlib

    cfg = tmp_path / "cspm.yaml"
    cfg.write_text("cloudtrail:\n  max_file_bytes: 1048576\n")
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join([c.compress(b"\n" * (1024 * 1024)) for _ in range(8)] + [c.flush()])
    (tmp_path / "bomb.gz").write_bytes(bomb)
    stop = ev("StopLogging", "cloudtrail.amazonaws.com")
    (tmp_path / "ok.json").write_bytes(orjson.dumps({"Records": [stop]}))
    args = ["--config", str(cfg), "detect", "--no-builtin", "--rules", str(rules_dir), "--events"]
    code = main([*args, str(tmp_path / "bomb.gz"), str(tmp_path / "ok.json")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "cloudtrail.max_file_bytes" in err and "bomb.gz" in err
    assert len(out.strip().splitlines()) == 1  # the next file was still processed


def test_detect_sort_buffer_bounds_reordering(
    rules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    times = (5, 1, 9, 0)
    recs = [ev("DescribeTrails", "cloudtrail.amazonaws.com", event_time=f"2026-01-01T00:00:{s:02d}Z") for s in times]
    (tmp_path / "o.jsonl").write_bytes(b"\n".join(orjson.dumps(r) for r in recs))
    base = ["detect", "--no-builtin", "--rules", str(rules_dir), "--events", str(tmp_path / "o.jsonl")]

    def summary() -> dict[str, Any]:
        err = capsys.readouterr().err
        return dict(orjson.loads(err[err.index("{") :]))

    assert main(base) == 0
    assert summary()["out_of_order_beyond_buffer"] == 0
    assert main([*base, "--sort-buffer", "1"]) == 0
    assert summary()["out_of_order_beyond_buffer"] == 1  # 0 s arrives after 5 s was released


def test_detect_refuses_an_event_time_far_ahead_of_the_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One record dated 9999 would advance the engine's watermark for good: every later record late,
    no correlation firing (the built-in 'logging off and credentials created' pair here)."""
    bob = "arn:aws:iam::123456789012:user/bob"
    poison = ev("GetCallerIdentity", "sts.amazonaws.com", event_time="9999-12-31T23:59:59Z", user_arn=bob)
    stop = ev("StopLogging", "cloudtrail.amazonaws.com", event_time="2026-01-01T00:00:10Z", user_arn=bob)
    stop["requestParameters"] = {"name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"}
    key = ev("CreateAccessKey", event_time="2026-01-01T00:01:00Z", user_arn=bob)
    key["requestParameters"] = {"userName": "alice"}
    for r in (poison, stop, key):
        r["userIdentity"]["accessKeyId"] = "AKIAEXAMPLEBOB"  # the same credentials throughout
    (tmp_path / "p.jsonl").write_bytes(b"\n".join(orjson.dumps(r) for r in (poison, stop, key)) + b"\n")
    assert main(["detect", "--no-sort", "--events", str(tmp_path / "p.jsonl")]) == 0
    out, err = capsys.readouterr()
    assert f"skipped {tmp_path / 'p.jsonl'}:1: eventTime is more than" in err
    assert "Logging turned off and IAM credentials created" in out
