"""Engine: eventID dedup, detection identity and updates, evidence cap, expiry, finding shape."""

from __future__ import annotations

from typing import Any

import orjson

from cspm_stream.detect.engine import DetectionEngine, EngineConfig
from cspm_stream.models import ocsf
from cspm_stream.timeutil import ms_to_iso
from tests.unit.detect.helpers import ev, rule

T0 = 1767225600000
ROOT = rule(
    """
    sel:
        userIdentity.type: Root
    condition: sel
""",
    title="Root activity",
)


def root(sec: float, user_arn: str = "arn:aws:iam::123456789012:root", **kw: Any) -> dict[str, Any]:
    return ev("ListUsers", user_type="Root", user_arn=user_arn, event_time=ms_to_iso(int(T0 + sec * 1000)), **kw)


def test_finding_follows_the_contract() -> None:
    eng = DetectionEngine(ROOT)
    rec = root(0, request_parameters=None)
    rec["userIdentity"]["sessionContext"] = {"sessionIssuer": {"arn": "arn:aws:iam::123456789012:role/X"}}
    (f,) = eng.process(rec, {}).findings
    ocsf.validate(f)
    assert f["class_uid"] == 2004 and f["activity_id"] == 1 and f["status_id"] == 1
    assert f["severity"] == "High"
    fi = f["finding_info"]
    assert fi["analytic"] == {
        "uid": "00000000-0000-4000-8000-000000000001",
        "name": "Root activity",
        "type_id": 1,
        "type": "Rule",
    }
    assert fi["types"] == ["cloudtrail"]
    assert fi["attacks"] == [
        {
            "tactic": {"uid": "TA0003", "name": "Persistence"},
            "technique": {"uid": "T1098", "name": "Account Manipulation"},
        }
    ]
    assert f["evidences"] == [
        {
            "data": {
                "event_id": rec["eventID"],
                "event_name": "ListUsers",
                "event_time": rec["eventTime"],
                "event_source": "iam.amazonaws.com",
            }
        }
    ]
    assert f["actor"]["user"]["uid"] == "arn:aws:iam::123456789012:root"
    assert f["actor"]["user"]["type"] == "Root"
    assert f["actor"]["user"]["account"] == {"uid": "123456789012", "type_id": 10, "type": "AWS Account"}
    assert f["actor"]["user"]["type_id"] == 2  # Root: Admin
    assert f["actor"]["session"] == {"issuer": "arn:aws:iam::123456789012:role/X"}
    assert f["src_endpoint"] == {"ip": rec["sourceIPAddress"]}
    assert f["http_request"] == {"user_agent": rec["userAgent"]}
    assert f["unmapped"]["event_ids"] == [rec["eventID"]]
    # single-event rules group by the partition key: the session issuer when there is one
    assert f["unmapped"]["group_key"] == "arn:aws:iam::123456789012:role/X"
    want_uid = ocsf.finding_uid(fi["analytic"]["uid"], "arn:aws:iam::123456789012:role/X", ms_to_iso(T0))
    assert fi["uid"] == want_uid == f["metadata"]["uid"]
    assert f["time"] == T0 and fi["first_seen_time"] == fi["last_seen_time"] == T0


def test_duplicate_event_ids_are_dropped() -> None:
    eng = DetectionEngine(ROOT, EngineConfig(update_interval_s=0))
    state: dict[str, Any] = {}
    rec = root(0)
    assert len(eng.process(rec, state).findings) == 1
    again = eng.process(dict(rec), state)
    assert again.duplicate and again.findings == []


def test_redelivery_after_restart_is_not_counted_twice() -> None:
    state: dict[str, Any] = {}
    first = DetectionEngine(ROOT, EngineConfig(update_interval_s=0))
    rec = root(0)
    first.process(rec, state)
    restored = orjson.loads(orjson.dumps(state))  # what a faust table changelog gives back
    restarted = DetectionEngine(ROOT, EngineConfig(update_interval_s=0))
    assert restarted.process(dict(rec), restored).findings == []  # redelivered: its evidence is known
    (f,) = restarted.process(root(5), restored).findings  # a new record still updates the detection
    assert f["count"] == 2 and f["activity_id"] == 2


def test_repeats_within_dedup_window_update_one_detection() -> None:
    eng = DetectionEngine(ROOT, EngineConfig(dedup_window_s=600, update_interval_s=0))
    state: dict[str, Any] = {}
    (a,) = eng.process(root(0), state).findings
    (b,) = eng.process(root(120), state).findings
    (c,) = eng.process(root(60), state).findings  # out of order, still inside
    assert b["finding_info"]["uid"] == c["finding_info"]["uid"] == a["finding_info"]["uid"]
    assert (b["activity_id"], c["activity_id"]) == (2, 2)
    assert c["count"] == 3 and len(c["evidences"]) == 3
    assert c["finding_info"]["first_seen_time"] == T0
    assert c["finding_info"]["last_seen_time"] == T0 + 120_000
    (d,) = eng.process(root(700), state).findings  # past the window: a new detection
    assert d["activity_id"] == 1 and d["finding_info"]["uid"] != a["finding_info"]["uid"]


def test_updates_are_throttled_and_the_final_one_published_at_close() -> None:
    eng = DetectionEngine(ROOT, EngineConfig(dedup_window_s=600, update_interval_s=60, allowed_lateness_s=0))
    state: dict[str, Any] = {}
    (a,) = eng.process(root(0), state).findings
    assert eng.process(root(10), state).findings == []  # folded into the next update
    assert eng.process(root(20), state).findings == []
    (b,) = eng.process(root(70), state).findings  # 60 s after the last publication
    assert b["activity_id"] == 2 and b["count"] == 4
    assert eng.process(root(80), state).findings == []
    # the window closes (600 s) and the sweep runs: the pending repeat is published
    out = eng.process(ev("GetCallerIdentity", "sts.amazonaws.com", event_time=ms_to_iso(T0 + 900_000)), state)
    finals = [f for f in out.findings if f["finding_info"]["uid"] == a["finding_info"]["uid"]]
    assert len(finals) == 1 and finals[0]["count"] == 5 and finals[0]["activity_id"] == 2
    assert not any(k.startswith("det|") for k in state)


def test_flush_publishes_pending_updates() -> None:
    eng = DetectionEngine(ROOT, EngineConfig(update_interval_s=60))
    state: dict[str, Any] = {}
    eng.process(root(0), state)
    eng.process(root(5), state)
    (f,) = eng.flush(state)
    assert f["count"] == 2
    assert eng.flush(state) == []


def test_other_principals_get_their_own_detection() -> None:
    eng = DetectionEngine(ROOT)
    state: dict[str, Any] = {}
    (a,) = eng.process(root(0), state).findings
    other = root(1, user_arn="arn:aws:iam::999999999999:root", account_id="999999999999")
    (b,) = eng.process(other, state).findings
    assert b["activity_id"] == 1 and b["finding_info"]["uid"] != a["finding_info"]["uid"]


def test_evidence_is_capped_and_truncation_counted() -> None:
    eng = DetectionEngine(ROOT, EngineConfig(max_evidence=3, update_interval_s=0))
    state: dict[str, Any] = {}
    last = None
    for i in range(5):
        (last,) = eng.process(root(i), state).findings
    assert last is not None
    assert last["count"] == 5 and len(last["evidences"]) == 3
    assert last["unmapped"]["evidence_truncated"] == 2


def test_state_is_json_and_expires_as_the_watermark_passes() -> None:
    eng = DetectionEngine(ROOT, EngineConfig(dedup_window_s=60, event_dedup_window_s=60, allowed_lateness_s=30))
    state: dict[str, Any] = {}
    eng.process(root(0), state)
    orjson.dumps(state)  # JSON-able
    assert any(k.startswith("det|") for k in state) and any(k.startswith("dev|") for k in state)
    quiet = ev("GetCallerIdentity", "sts.amazonaws.com", event_time=ms_to_iso(T0 + 3600_000))
    eng.process(quiet, state)
    eng.process(ev("GetCallerIdentity", "sts.amazonaws.com", event_time=ms_to_iso(T0 + 3720_000)), state)
    assert not any(k.startswith(("det|", "dev|")) for k in state)
    assert len(state) < 10


def test_records_without_event_time_or_id_are_rejected() -> None:
    eng = DetectionEngine(ROOT)
    rec = root(0)
    del rec["eventTime"]
    try:
        eng.process(rec, {})
    except ValueError as exc:
        assert "eventTime" in str(exc)
    else:
        raise AssertionError("expected ValueError")
