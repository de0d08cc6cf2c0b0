from __future__ import annotations

from typing import Any

import orjson
import pytest

from cspm_stream.delivery.model import alert_from_bytes
from cspm_stream.delivery.router import Router, is_duplicate, note_unsent
from cspm_stream.errors import DecodeError
from cspm_stream.models import Severity
from cspm_stream.settings import RouteSettings
from cspm_stream.testing.findings import T0_MS, compliance_finding, detection_finding, raw


def alert(**kw: Any):  # type: ignore[no-untyped-def]
    return alert_from_bytes(raw(compliance_finding(**kw)))


def test_alert_fields_from_compliance_finding() -> None:
    a = alert(tags={"env": "prod", "team": "sec"}, frameworks=("cis-aws-3.0.0", "pci-dss-4.0"))
    assert a.is_compliance and a.state == "new" and a.severity is Severity.HIGH
    assert a.control == "s3_bucket_public_access_block"
    assert a.resource_arn == "arn:aws:s3:::bucket-1"
    assert a.tags == {"env": "prod", "team": "sec"}
    assert a.frameworks == ("cis-aws-3.0.0", "pci-dss-4.0")
    assert a.account_id == "123456789012"


def test_detection_state_is_new_then_updated() -> None:
    assert alert_from_bytes(raw(detection_finding())).state == "new"
    d = alert_from_bytes(raw(detection_finding(activity_id=2)))
    assert d.state == "updated" and d.control == "aws_iam_create_access_key_root"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda f: f.pop("finding_info"), "finding_info"),
        (lambda f: f.update(class_uid=4001), "class_uid"),
        (lambda f: f["unmapped"].update(state="bogus"), "unmapped.state"),
        (lambda f: f.update(time="yesterday"), "epoch milliseconds"),
    ],
)
def test_bad_findings_raise_decode_error(mutate: Any, reason: str) -> None:
    f = compliance_finding()
    mutate(f)
    with pytest.raises(DecodeError, match=reason):
        alert_from_bytes(raw(f))


def test_not_json_raises_decode_error() -> None:
    with pytest.raises(DecodeError):
        alert_from_bytes(b"\xff not json")
    with pytest.raises(DecodeError):
        alert_from_bytes(None)


def test_dedup_replays_within_window() -> None:
    state: dict[str, Any] = {}
    a = alert()
    assert not is_duplicate(a, state, 3600, a.time_ms)
    # the same record replayed 10 times (at-least-once upstream, restarts)
    assert all(is_duplicate(a, state, 3600, a.time_ms) for _ in range(10))
    # a state change is a new alert; its replay is not
    r = alert(state="resolved", time_ms=a.time_ms + 1000)
    assert not is_duplicate(r, state, 3600, r.time_ms)
    assert is_duplicate(r, state, 3600, r.time_ms)
    # the finding reopens after the window: alerted again
    later = alert(time_ms=a.time_ms + 3601 * 1000)
    assert not is_duplicate(later, state, 3600, later.time_ms)
    # state stays JSON-able and bounded: one entry per uid
    assert len(state) == 1 and set(next(iter(state.values()))) == {"new", "resolved"}


def test_dedup_fails_again_after_resolve_is_a_new_alert() -> None:
    """new → resolved → new inside the window: the second failure is alerted (a change of state in
    between), and replaying the whole sequence afterwards alerts nothing."""
    state: dict[str, Any] = {}
    t = T0_MS
    seq = [alert(time_ms=t), alert(state="resolved", time_ms=t + 60_000), alert(time_ms=t + 120_000)]
    assert [is_duplicate(a, state, 3600, a.time_ms) for a in seq] == [False, False, False]
    # a restart replays all three (and a redelivery of the last)
    assert all(is_duplicate(a, state, 3600, a.time_ms) for a in [*seq, seq[-1]])
    # a detection repeated in its window is one alert per window: 'new' before the first repeat
    d = [alert_from_bytes(raw(detection_finding(activity_id=2, time_ms=t + i * 1000))) for i in (1, 2, 3)]
    dstate: dict[str, Any] = {}
    assert not is_duplicate(alert_from_bytes(raw(detection_finding(time_ms=t))), dstate, 3600, t)
    assert [is_duplicate(a, dstate, 3600, a.time_ms) for a in d] == [False, True, True]


def test_unsent_states_leave_no_trace_but_mark_a_change() -> None:
    """A record nothing is sent for makes no trace; on a check with a trace it is noted, so the
    failure that follows it is not taken for a repeat; a trace older than the window is dropped."""
    state: dict[str, Any] = {}
    passed = alert(state="passed")
    note_unsent(passed, state, 3600, passed.time_ms)
    assert state == {}
    a = alert(time_ms=T0_MS + 1000)
    assert not is_duplicate(a, state, 3600, a.time_ms)
    resolved = alert(state="resolved", time_ms=T0_MS + 2000)  # say only 'new' is routed
    note_unsent(resolved, state, 3600, resolved.time_ms)
    assert next(iter(state.values())) == {"new": T0_MS + 1000, "resolved": T0_MS + 2000}
    again = alert(time_ms=T0_MS + 3000)
    assert not is_duplicate(again, state, 3600, again.time_ms)
    assert is_duplicate(a, state, 3600, a.time_ms)  # the first one replayed
    # the check resolves for good a day later: nothing in its trace can match any more
    late = alert(state="resolved", time_ms=T0_MS + 86_400_000)
    note_unsent(late, state, 3600, late.time_ms)
    assert state == {}
    # a trace restored from the changelog as JSON works the same; junk in it is ignored
    restored = orjson.loads(orjson.dumps({"alert-dedup:" + a.uid: {"new": a.time_ms, "x": "junk"}}))
    assert is_duplicate(a, restored, 3600, a.time_ms)


def test_dedup_disabled_with_zero_window() -> None:
    state: dict[str, Any] = {}
    a = alert()
    assert not is_duplicate(a, state, 0, a.time_ms)
    assert not is_duplicate(a, state, 0, a.time_ms)


def _router(**kw: Any) -> Router:
    return Router([RouteSettings(name="r", sink="s", **kw)])


def test_min_severity() -> None:
    r = _router(min_severity=Severity.HIGH)
    assert r.sinks_for(alert(severity=Severity.CRITICAL)) == ["s"]
    assert r.sinks_for(alert(severity=Severity.HIGH)) == ["s"]
    assert r.sinks_for(alert(severity=Severity.MEDIUM)) == []


def test_class_account_tag_framework_routes() -> None:
    assert _router(classes=[2004]).sinks_for(alert()) == []
    assert _router(classes=[2004]).sinks_for(alert_from_bytes(raw(detection_finding()))) == ["s"]
    assert _router(accounts=["999999999999"]).sinks_for(alert()) == []
    assert _router(accounts=["123456789012"]).sinks_for(alert()) == ["s"]
    assert _router(tags={"env": "prod"}).sinks_for(alert(tags={"env": "dev"})) == []
    assert _router(tags={"env": "prod"}).sinks_for(alert(tags={"env": "prod"})) == ["s"]
    assert _router(frameworks=["pci-dss-4.0"]).sinks_for(alert()) == []
    assert _router(frameworks=["pci-dss-4.0"]).sinks_for(alert(frameworks=("pci-dss-4.0",))) == ["s"]
    # a framework route never takes detections
    assert _router(frameworks=["pci-dss-4.0"]).sinks_for(alert_from_bytes(raw(detection_finding()))) == []


def test_states_and_route_level_mute() -> None:
    default = _router()
    assert default.sinks_for(alert(state="suppressed")) == []  # muted upstream: never alerted
    assert default.sinks_for(alert(state="failing")) == []  # still failing: never re-alerted
    assert default.sinks_for(alert(state="resolved")) == ["s"]
    muted = _router(exclude=["s3_bucket_*"])
    assert muted.sinks_for(alert()) == []
    assert muted.sinks_for(alert(policy_id="ec2_sg_open")) == ["s"]
    by_arn = _router(exclude=["arn:aws:s3:::sandbox-*"])
    assert by_arn.sinks_for(alert(arn="arn:aws:s3:::sandbox-1")) == []
    assert by_arn.sinks_for(alert(arn="arn:aws:s3:::prod-1")) == ["s"]


def test_each_sink_once_across_routes() -> None:
    r = Router(
        [
            RouteSettings(name="a", sink="siem"),
            RouteSettings(name="b", sink="siem", min_severity=Severity.HIGH),
            RouteSettings(name="c", sink="pager", min_severity=Severity.CRITICAL),
        ]
    )
    assert r.sinks_for(alert(severity=Severity.HIGH)) == ["siem"]
    assert r.sinks_for(alert(severity=Severity.CRITICAL)) == ["siem", "pager"]
