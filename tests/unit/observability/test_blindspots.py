from __future__ import annotations

from cspm_stream.models import ocsf
from cspm_stream.observability.blindspots import NO_CLOUDTRAIL, NO_SCAN, blind_spots, freshness, note
from cspm_stream.settings import MonitorSettings

S = MonitorSettings(max_activity_silence_s=3600, max_scan_age_s=7200)
A = ("111111111111", "us-east-1")
B = ("111111111111", "eu-west-1")
NOW = 1_800_000_000_000
START = NOW - 10 * 3600 * 1000


def run(activity: dict, scans: dict, now: int = NOW, expected=()) -> list[dict]:
    return blind_spots(
        last_activity_ms=activity, last_scan_ms=scans, now_ms=now, settings=S, since_ms=START, expected=expected
    )


def test_fresh_pairs_raise_nothing() -> None:
    assert run({A: NOW - 60_000}, {A: NOW - 3600_000}) == []


def test_exactly_at_threshold_is_not_yet_a_blind_spot() -> None:
    assert run({A: NOW - 3600_000}, {A: NOW - 7200_000}) == []
    out = run({A: NOW - 3600_001}, {A: NOW - 7200_001})
    assert [f["unmapped"]["rule_id"] for f in out] == [NO_CLOUDTRAIL, NO_SCAN]


def test_findings_are_valid_ocsf_detections() -> None:
    (f,) = run({A: NOW - 2 * 3600_000}, {A: NOW})
    ocsf.validate(f)
    assert f["class_uid"] == ocsf.DETECTION_FINDING
    assert f["severity"] == "High"
    assert f["cloud"]["account"]["uid"] == A[0] and f["cloud"]["region"] == A[1]
    assert "No CloudTrail from 111111111111/us-east-1" == f["finding_info"]["title"]
    assert f["finding_info"]["first_seen_time"] == NOW - 3600_000  # when the silence crossed the threshold
    assert f["finding_info"]["analytic"]["uid"] == NO_CLOUDTRAIL
    assert f["finding_info"]["attacks"][0]["technique"]["uid"] == "T1562.008"
    assert f["evidences"][0]["data"]["silence_s"] == 7200.0
    assert f["unmapped"]["group_key"] == "111111111111|us-east-1" and f["unmapped"]["runbook"]


def test_same_silence_same_uid_new_silence_new_uid() -> None:
    first = run({A: NOW - 2 * 3600_000}, {A: NOW})[0]
    later = run({A: NOW - 2 * 3600_000}, {A: NOW + 600_000}, now=NOW + 600_000)[0]
    assert first["finding_info"]["uid"] == later["finding_info"]["uid"]  # deduplicated downstream
    assert later["finding_info"]["last_seen_time"] == NOW + 600_000
    resumed = run({A: NOW + 3600_000}, {A: NOW + 5 * 3600_000}, now=NOW + 5 * 3600_000)[0]
    assert resumed["finding_info"]["uid"] != first["finding_info"]["uid"]


def test_never_seen_pair_counts_from_monitoring_start() -> None:
    out = run({A: NOW}, {A: NOW}, expected=[A, B])
    assert {(f["unmapped"]["rule_id"], f["cloud"]["region"]) for f in out} == {
        (NO_CLOUDTRAIL, "eu-west-1"),
        (NO_SCAN, "eu-west-1"),
    }
    assert "never" in out[0]["finding_info"]["desc"]
    just_started = blind_spots(
        last_activity_ms={}, last_scan_ms={}, now_ms=NOW, settings=S, since_ms=NOW - 60_000, expected=[A, B]
    )
    assert just_started == []


def test_state_helpers_keep_the_latest_time() -> None:
    state: dict = {}
    note(state, "activity", *A, 5)
    note(state, "activity", *A, 3)  # out of order: ignored
    note(state, "scan", *B, 7)
    assert freshness(state) == ({A: 5}, {B: 7})
    import pytest

    with pytest.raises(ValueError):
        note(state, "other", *A, 1)
