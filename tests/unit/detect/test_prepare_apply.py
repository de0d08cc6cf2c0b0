"""``process`` in two halves: ``prepare`` (the record alone) and ``apply`` (state), as ``detect`` uses them."""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.detect.catalog import builtin_rules_dir
from cspm_stream.detect.engine import DetectionEngine, RecordRejected
from cspm_stream.detect.fields import Vocabulary
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.rescan import load_map
from tests.unit.detect.helpers import ev, rule


def _stream() -> list[dict[str, Any]]:
    """Records for the built-in pack: quiet reads, a mutating call, single-event alerts and a
    correlation (failed console sign-ins), with a duplicate."""
    out = []
    for i in range(30):
        out.append(ev("GetUser", event_id=f"read-{i}", event_time=f"2026-03-02T10:00:{i:02d}Z"))
    out.append(ev("StopLogging", "cloudtrail.amazonaws.com", event_id="stop", event_time="2026-03-02T10:01:00Z"))
    out.append(ev("CreateTags", "ec2.amazonaws.com", event_id="tags", event_time="2026-03-02T10:01:01Z"))
    for i in range(12):
        rec = ev(
            "ConsoleLogin",
            "signin.amazonaws.com",
            event_id=f"login-{i}",
            event_time=f"2026-03-02T10:02:{i:02d}Z",
            error_code="Failed authentication",
        )
        rec["responseElements"] = {"ConsoleLogin": "Failure"}
        rec["sourceIPAddress"] = "198.51.100.7"
        out.append(rec)
    out.append(dict(out[31]))  # StopLogging again: a duplicate
    return out


def test_prepare_then_apply_is_process_over_the_builtin_pack() -> None:
    rs = load_paths([builtin_rules_dir()])
    one, two = DetectionEngine(rs, rescan_map=load_map()), DetectionEngine(rs, rescan_map=load_map())
    s1: dict[str, Any] = {}
    s2: dict[str, Any] = {}
    stream = _stream()
    whole = [one.process(r, s1) for r in stream]
    prepared = [two.prepare(r) for r in stream]  # all prepared first, as detect does before its buffer
    halves = [two.apply(p, s2) for p in prepared]
    assert [(o.findings, o.rescans, o.duplicate, o.late, o.matched) for o in whole] == [
        (o.findings, o.rescans, o.duplicate, o.late, o.matched) for o in halves
    ]
    assert s1 == s2 and one.stats == two.stats
    assert any(o.findings for o in whole) and whole[-1].duplicate and any(o.rescans for o in whole)


def test_a_record_that_matched_nothing_is_carried_without_its_body() -> None:
    rs = load_paths([builtin_rules_dir()])
    engine = DetectionEngine(rs, rescan_map=load_map())
    role = "arn:aws:sts::123456789012:assumed-role/app/worker"
    quiet = engine.prepare(
        ev("DescribeInstances", "ec2.amazonaws.com", event_id="q", user_type="AssumedRole", user_arn=role)
    )
    assert quiet[0] is None and quiet[1] == "q" and not quiet[3]
    loud = engine.prepare(ev("StopLogging", "cloudtrail.amazonaws.com", event_id="l"))
    assert loud[0] is not None and loud[3]


def test_fields_cut_while_preparing_are_kept_until_apply() -> None:
    rs = rule("sel: {requestParameters.policy|contains: 'START'}\ncondition: sel", vocab=Vocabulary(max_chars=1024))
    engine = DetectionEngine(rs)
    long = engine.prepare(ev("PutBucketPolicy", event_id="a", request_parameters={"policy": "START" + "x" * 2000}))
    short = engine.prepare(ev("PutBucketPolicy", event_id="b", request_parameters={"policy": "START"}))
    state: dict[str, Any] = {}
    (f_long,) = engine.apply(long, state).findings
    assert f_long["unmapped"]["truncated_fields"] == ["requestParameters.policy"]
    later = engine.apply(short, state).findings
    assert all("truncated_fields" not in f["unmapped"] for f in later)


def test_a_record_that_cannot_be_evaluated_leaves_no_trace() -> None:
    engine = DetectionEngine(load_paths([builtin_rules_dir()]))
    with pytest.raises(RecordRejected):
        engine.prepare({"eventID": ["x"], "eventTime": "2026-03-02T10:00:00Z"})
    assert engine.stats["records"] == 0 and not engine.store.known(0, "x")
