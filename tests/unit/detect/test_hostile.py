"""Hostile rules and records: linear-time regex, bounded values, any JSON type anywhere, the budget, shadow rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cspm_stream.detect.catalog import builtin_rules_dir
from cspm_stream.detect.engine import BudgetExceeded, DetectionEngine, EngineConfig
from cspm_stream.detect.fields import Vocabulary
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.records import IDENTITY_SCALARS, ISSUER_SCALARS, SCALARS, RecordRejected, normalize
from cspm_stream.detect.rescan import load_map
from cspm_stream.observability.metrics import create_metrics
from tests.unit.detect.helpers import ev, matches, rule, rules

JSON_TYPES: dict[str, Any] = {
    "null": None,
    "true": True,
    "number": 7,
    "float": 2.5,
    "string": "x",
    "list": ["CreateUser", "DeleteTrail"],
    "object": {"a": "CreateUser"},
    "empty list": [],
    "empty object": {},
}
COERCED = {"true": "true", "number": "7", "float": "2.5"}


def _paths() -> list[str]:
    out = list(SCALARS)
    out += [f"userIdentity.{k}" for k in IDENTITY_SCALARS]
    out += [f"userIdentity.sessionContext.sessionIssuer.{k}" for k in ISSUER_SCALARS]
    return out


def _set(rec: dict[str, Any], path: str, value: Any) -> None:
    node = rec
    *head, last = path.split(".")
    for k in head:
        node = node.setdefault(k, {})
    node[last] = value


def _get(rec: dict[str, Any], path: str) -> Any:
    node: Any = rec
    for k in path.split("."):
        node = node[k]
    return node


def _base() -> dict[str, Any]:
    rec = ev("CreateUser")
    rec["userIdentity"]["sessionContext"] = {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::1:role/r"}}
    return rec


ANY_RULE = rule("selection: {eventSource|contains: ''}\ncondition: selection")


@pytest.mark.parametrize("kind", list(JSON_TYPES))
@pytest.mark.parametrize("path", _paths())
def test_every_engine_field_takes_every_json_type(path: str, kind: str) -> None:
    rec = _base()
    _set(rec, path, copy.deepcopy(JSON_TYPES[kind]))
    original = copy.deepcopy(rec)
    engine = DetectionEngine(ANY_RULE)
    if kind in ("list", "object", "empty list", "empty object"):
        with pytest.raises(RecordRejected) as err:
            engine.process(rec, {})
        assert path in err.value.reason and "expected a string" in err.value.reason
    else:
        engine.process(rec, {})  # evaluated on a safe coercion
        if kind in COERCED:
            assert _get(normalize(rec), path) == COERCED[kind]
    assert rec == original  # the caller's record is never modified
    engine.process(ev("CreateUser", event_id="next"), {})  # and the next record is fine


@pytest.mark.parametrize("kind", list(JSON_TYPES))
@pytest.mark.parametrize(
    "path", ["userIdentity", "userIdentity.sessionContext", "userIdentity.sessionContext.sessionIssuer"]
)
def test_identity_objects_must_be_objects(path: str, kind: str) -> None:
    rec = _base()
    _set(rec, path, copy.deepcopy(JSON_TYPES[kind]))
    engine = DetectionEngine(ANY_RULE)
    if kind in ("null", "object", "empty object"):
        engine.process(rec, {})
    else:
        with pytest.raises(RecordRejected, match=path.replace(".", r"\.") + " is"):
            engine.process(rec, {})


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "no eventID"),
        ("", "no eventID"),
        (["a"], "eventID is a list"),
        ({"a": 1}, "eventID is an object"),
        (True, "eventID is a boolean"),
        (2.5, "eventID is a number"),
    ],
)
def test_event_id_types(value: Any, reason: str) -> None:
    rec = ev("CreateUser")
    rec["eventID"] = value
    with pytest.raises(RecordRejected, match=reason):
        DetectionEngine(ANY_RULE).process(rec, {})


def test_numeric_event_id_is_its_text() -> None:
    rec = ev("CreateUser")
    rec["eventID"] = 12345
    assert normalize(rec)["eventID"] == "12345"


@pytest.mark.parametrize("value", [None, 1700000000, ["2026-01-01T00:00:00Z"], {"t": 1}, "yesterday", True])
def test_event_time_must_be_iso_text(value: Any) -> None:
    rec = ev("CreateUser")
    rec["eventTime"] = value
    with pytest.raises(RecordRejected, match="eventTime"):
        DetectionEngine(ANY_RULE).process(rec, {})


def test_coerced_numbers_are_matched_as_text() -> None:
    rs = rule("selection: {errorCode: '403'}\ncondition: selection")
    rec = ev("CreateUser")
    rec["errorCode"] = 403
    assert DetectionEngine(rs).process(rec, {}).matched


def test_not_an_object_at_all() -> None:
    for bad in ([], "x", 3, None):
        with pytest.raises(RecordRejected, match="record is"):
            normalize(bad)


# ------------------------------------------------------------------ regex


@pytest.mark.timeout(60)
def test_catastrophic_pattern_runs_in_linear_time() -> None:
    rs = rule("selection: {requestParameters.name|re: '(a+)+$'}\ncondition: selection")
    assert not matches(rs, ev("CreateUser", request_parameters={"name": "a" * 40 + "!"}))
    assert matches(rs, ev("CreateUser", request_parameters={"name": "b" + "a" * 40}))


@pytest.mark.parametrize(
    ("pattern", "what"),
    [("(?<=x)y", "lookbehind"), ("(?=a)b", "lookahead"), ("(a)\\1", "backreference"), ("a++", "possessive")],
)
def test_patterns_re2_cannot_run_are_refused_naming_file_rule_and_pattern(pattern: str, what: str) -> None:
    rs = rule(f"selection: {{eventName|re: '{pattern}'}}\ncondition: selection", title="Bad pattern")
    (err,) = rs.errors
    assert err.file == "rule0.yml" and err.rule == "Bad pattern"
    assert what in err.reason and f"'{pattern}'" in err.reason


def test_re_flags_and_search_semantics_are_kept() -> None:
    rs = rules(
        """
title: flags
id: 00000000-0000-4000-8000-0000000000f1
logsource: {product: aws, service: cloudtrail}
detection:
  i: {userAgent|re|i: 'sqlmap'}
  m: {requestParameters.script|re|m: '^rm -rf'}
  s: {requestParameters.script|re|s: 'begin.end'}
  condition: i or m or s
"""
    )
    assert matches(rs, ev("X", user_agent="Mozilla SQLMap/1.7"))
    assert matches(rs, ev("X", request_parameters={"script": "echo\nrm -rf /"}))
    assert matches(rs, ev("X", request_parameters={"script": "begin\nend"}))
    assert not matches(rs, ev("X", request_parameters={"script": "echo rm -rf /"}))


@pytest.mark.timeout(120)
def test_builtin_passrole_rule_is_linear_on_a_120kb_field() -> None:
    rs = load_paths([builtin_rules_dir()])
    engine = DetectionEngine(rs)
    hostile = ":role/" * 20_000  # 120 KB: quadratic for a backtracking engine
    rec = ev(
        "CreateFunction20150331", "lambda.amazonaws.com", request_parameters={"role": hostile, "functionName": "f"}
    )
    engine.process(rec, {})
    admin = ev(
        "CreateFunction20150331",
        "lambda.amazonaws.com",
        request_parameters={"role": "arn:aws:iam::123456789012:role/AdminRole", "functionName": "f"},
    )
    assert any("passrole" in (rs.find(r).name or "") for r in engine.process(admin, {}).matched)  # type: ignore[union-attr]


# ------------------------------------------------------------------ bounded values


def test_values_are_bounded_and_truncation_is_named_in_the_detection() -> None:
    small = Vocabulary(max_chars=1024)
    rs = rule(
        """
        early: {requestParameters.policy|contains: 'START'}
        late: {requestParameters.policy|contains: 'MARKER'}
        condition: early or late
        """,
        vocab=small,
    )
    long_policy = "START" + "x" * 2000 + "MARKER"
    out = DetectionEngine(rs).process(ev("PutBucketPolicy", request_parameters={"policy": long_policy, "b": "s"}), {})
    (f,) = out.findings
    assert f["unmapped"]["truncated_fields"] == ["requestParameters.policy"]
    late = "late: {requestParameters.policy|contains: 'MARKER'}\ncondition: late"
    rec = ev("PutBucketPolicy", request_parameters={"policy": long_policy})
    assert not DetectionEngine(rule(late, vocab=small)).process(rec, {}).matched  # past the bound: not seen
    assert DetectionEngine(rule(late)).process(rec, {}).matched  # the default bound (64 KiB) reads it
    short = DetectionEngine(rs).process(ev("PutBucketPolicy", request_parameters={"policy": "START"}), {})
    assert "truncated_fields" not in short.findings[0]["unmapped"]


# ------------------------------------------------------------------ budget


def test_a_record_over_the_budget_is_refused_without_leaving_state() -> None:
    rs = rule("selection: {requestParameters.doc|re: 'z{2}$'}\ncondition: selection")
    slow = ev("PutRolePolicy", request_parameters={"doc": "ab" * 30_000})
    engine = DetectionEngine(rs, EngineConfig(budget_ms=0.000001))
    state: dict[str, Any] = {}
    with pytest.raises(BudgetExceeded, match="eval_budget_ms"):
        engine.process(slow, state)
    assert engine.stats["over_budget"] == 1
    assert state == {} and not engine.store.known(0, slow["eventID"])
    relaxed = DetectionEngine(rs, EngineConfig(budget_ms=60_000))
    assert not relaxed.process(slow, {}).duplicate  # within a generous budget it is evaluated normally


# ------------------------------------------------------------------ shadow rules

SHADOW = """
title: Trail stopped (trial)
id: 00000000-0000-4000-8000-0000000000a1
status: shadow
logsource: {product: aws, service: cloudtrail}
level: high
detection: {sel: {eventName: StopLogging}, condition: sel}
"""


def test_shadow_status_is_evaluated_counted_and_never_alerted() -> None:
    rs = rules(SHADOW)
    assert rs.rules[0].info.status == "shadow"
    seen: list[tuple[str, bool]] = []
    engine = DetectionEngine(rs, on_match=lambda info, shadow: seen.append((info.id, shadow)))
    out = engine.process(ev("StopLogging", "cloudtrail.amazonaws.com"), {})
    assert out.findings == [] and out.shadow == ["00000000-0000-4000-8000-0000000000a1"]
    assert seen == [("00000000-0000-4000-8000-0000000000a1", True)]
    assert engine.match_counts == {("00000000-0000-4000-8000-0000000000a1", "shadow"): 1}
    forced = DetectionEngine(rs, force_generate=frozenset({"00000000-0000-4000-8000-0000000000a1"}))
    assert forced.process(ev("StopLogging", "cloudtrail.amazonaws.com"), {}).findings  # rules test still tests it


def test_shadow_by_configuration_and_shadow_correlations() -> None:
    base = SHADOW.replace("status: shadow\n", "")
    corr = """
title: Trail stopped twice
id: 00000000-0000-4000-8000-0000000000a2
name: stopped_twice
logsource: {product: aws, service: cloudtrail}
correlation: {type: event_count, generate: true, rules: [00000000-0000-4000-8000-0000000000a1], group-by: [userIdentity.arn], timespan: 10m, condition: {gte: 2}}
"""
    rs = rules(base + "---\n" + corr)
    engine = DetectionEngine(rs, EngineConfig(update_interval_s=0), shadow=frozenset({"stopped_twice"}))
    state: dict[str, Any] = {}
    found = []
    for i in range(2):
        found += engine.process(ev("StopLogging", "cloudtrail.amazonaws.com", event_id=f"e{i}"), state).findings
    found += engine.flush(state)
    assert {f["unmapped"]["rule_id"] for f in found} == {"00000000-0000-4000-8000-0000000000a1"}
    assert engine.match_counts[("00000000-0000-4000-8000-0000000000a2", "shadow")] == 1


async def test_handler_counts_matches_per_rule_and_status_in_the_registry() -> None:
    from cspm_stream.models import ActivityRecord
    from cspm_stream.models.codec import dumps
    from cspm_stream.models.enums import ActivitySource
    from cspm_stream.stages.base import RecordMeta
    from cspm_stream.stages.detect import DetectHandler

    metrics = create_metrics()
    rs = rules(SHADOW, SHADOW.replace("a1", "a3").replace("status: shadow\n", "").replace("(trial)", "(live)"))
    handler = DetectHandler(DetectionEngine(rs), metrics=metrics)
    rec = ev("StopLogging", "cloudtrail.amazonaws.com")
    act = ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, "2026-01-01T00:00:00Z")
    meta = RecordMeta(topic="activity", partition=0, offset=0)
    emits = await handler.handle(None, dumps(act), meta, {})
    assert [e.topic for e in emits].count("detections") == 1
    value = metrics.registry.get_sample_value
    assert value("cspm_rule_matches_total", {"rule": "00000000-0000-4000-8000-0000000000a1", "status": "shadow"}) == 1
    assert value("cspm_rule_matches_total", {"rule": "00000000-0000-4000-8000-0000000000a3", "status": "live"}) == 1
    DetectHandler(DetectionEngine(rs), metrics=metrics)  # a second handler shares the series


def test_a_record_matching_nothing_is_evaluated_whatever_its_other_fields_hold() -> None:
    rs = rule("selection: {eventName: StopLogging}\ncondition: selection")
    rec = ev("GetObject", "s3.amazonaws.com")
    rec["awsRegion"] = ["us-east-1", "eu-west-1"]
    rec["userIdentity"]["arn"] = {"not": "a string"}
    out = DetectionEngine(rs).process(rec, {})  # index fields are fine; nothing matches, nothing is emitted
    assert out.findings == [] and out.rescans == []
    stop = dict(rec, eventName="StopLogging", eventSource="cloudtrail.amazonaws.com", eventID="other")
    with pytest.raises(RecordRejected, match="awsRegion is a list"):
        DetectionEngine(rs).process(stop, {})  # it would produce a detection: every field is checked first
    mutating = dict(rec, eventName="PutBucketPolicy", eventID="third")
    with pytest.raises(RecordRejected, match="awsRegion is a list"):
        DetectionEngine(rs, rescan_map=load_map()).process(mutating, {})  # it would produce a rescan request


async def test_handler_dead_letters_hostile_and_over_budget_records_and_counts_the_budget() -> None:
    from cspm_stream.errors import DecodeError
    from cspm_stream.models import ActivityRecord
    from cspm_stream.models.codec import dumps
    from cspm_stream.models.enums import ActivitySource
    from cspm_stream.stages.base import RecordMeta
    from cspm_stream.stages.detect import DetectHandler

    meta = RecordMeta(topic="activity", partition=0, offset=0)
    hostile = ev("StopLogging", "cloudtrail.amazonaws.com")
    hostile["errorCode"] = {"code": "x"}
    act = ActivityRecord.from_cloudtrail(hostile, ActivitySource.FILE, "2026-01-01T00:00:00Z")
    metrics = create_metrics()
    with pytest.raises(DecodeError, match="errorCode is an object"):  # the runtime turns this into a dead letter
        await DetectHandler(DetectionEngine(ANY_RULE), metrics=metrics).handle(None, dumps(act), meta, {})
    rs = rule("selection: {requestParameters.doc|re: 'z{2}$'}\ncondition: selection")
    slow = ev("PutRolePolicy", request_parameters={"doc": "ab" * 30_000})
    act = ActivityRecord.from_cloudtrail(slow, ActivitySource.FILE, "2026-01-01T00:00:00Z")
    handler = DetectHandler(DetectionEngine(rs, EngineConfig(budget_ms=0.000001)), metrics=metrics)
    with pytest.raises(BudgetExceeded):
        await handler.handle(None, dumps(act), meta, {})
    assert metrics.registry.get_sample_value("cspm_detect_budget_exceeded_total") == 1


@pytest.mark.parametrize("value", ["", None])
def test_an_empty_or_null_error_code_is_no_error(value: Any) -> None:
    """Exports (Athena, data lakes) write a call that succeeded with errorCode "" or null: the call
    did not fail, so ``errorCode|exists`` is false and rules excluding failed calls still match."""
    succeeded = rule(
        "selection: {eventName: DeleteTrail}\nfailed: {errorCode|exists: true}\ncondition: selection and not failed"
    )
    failed_only = rule(
        "selection: {errorCode|exists: true}\ncondition: selection", rid="00000000-0000-4000-8000-000000000002"
    )
    rec = ev("DeleteTrail", "cloudtrail.amazonaws.com")
    rec["errorCode"] = value
    original = copy.deepcopy(rec)
    assert DetectionEngine(succeeded).process(rec, {}).matched
    assert not DetectionEngine(failed_only).process(rec, {}).matched
    assert rec == original  # the caller's record is never modified
    assert "errorCode" not in normalize(rec) or normalize(rec)["errorCode"] is None
    rec["errorCode"] = "TrailNotFoundException"
    assert not DetectionEngine(succeeded).process(rec, {}).matched
    assert DetectionEngine(failed_only).process(rec, {}).matched
