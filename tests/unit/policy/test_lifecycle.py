from __future__ import annotations

import pytest

from cspm_stream.models.enums import FindingStatus as S
from cspm_stream.models.enums import Verdict as V
from cspm_stream.policy.lifecycle import FindingState, MuteInfo, resolve_deleted, step

MUTE = MuteInfo("m1", "accepted", None)


def st(status: S, verdict: V = V.FAIL, first: int = 100) -> FindingState:
    return FindingState(status, verdict, first, first)


@pytest.mark.parametrize(
    ("prev", "verdict", "mute", "new_status", "emitted", "activity"),
    [
        (None, V.PASS, None, S.PASSED, S.PASSED, 1),
        (st(S.PASSED, V.PASS), V.PASS, None, S.PASSED, None, None),
        (st(S.RESOLVED, V.PASS), V.PASS, None, S.RESOLVED, None, None),
        (st(S.NEW), V.PASS, None, S.RESOLVED, S.RESOLVED, 3),
        (st(S.FAILING), V.PASS, None, S.RESOLVED, S.RESOLVED, 3),
        (st(S.SUPPRESSED), V.PASS, MUTE, S.RESOLVED, S.RESOLVED, 3),
        (st(S.ERROR, V.ERROR), V.PASS, None, S.RESOLVED, S.RESOLVED, 3),
        (None, V.FAIL, None, S.NEW, S.NEW, 1),
        (st(S.RESOLVED, V.PASS), V.FAIL, None, S.NEW, S.NEW, 1),
        (st(S.PASSED, V.PASS), V.FAIL, None, S.NEW, S.NEW, 1),
        (st(S.PASSED, V.PASS), V.ERROR, None, S.ERROR, S.ERROR, 1),
        (st(S.PASSED, V.PASS), V.FAIL, MUTE, S.SUPPRESSED, S.SUPPRESSED, 1),
        (st(S.NEW), V.FAIL, None, S.FAILING, None, None),
        (st(S.FAILING), V.FAIL, None, S.FAILING, None, None),
        (st(S.SUPPRESSED), V.FAIL, None, S.NEW, S.NEW, 2),
        (st(S.ERROR, V.ERROR), V.FAIL, None, S.NEW, S.NEW, 2),
        (None, V.ERROR, None, S.ERROR, S.ERROR, 1),
        (st(S.ERROR, V.ERROR), V.ERROR, None, S.ERROR, None, None),
        (st(S.FAILING), V.ERROR, None, S.ERROR, S.ERROR, 2),
        (None, V.FAIL, MUTE, S.SUPPRESSED, S.SUPPRESSED, 1),
        (st(S.FAILING), V.FAIL, MUTE, S.SUPPRESSED, S.SUPPRESSED, 2),
        (st(S.SUPPRESSED), V.FAIL, MUTE, S.SUPPRESSED, None, None),
        (st(S.SUPPRESSED), V.ERROR, MUTE, S.SUPPRESSED, None, None),
    ],
)
def test_table(
    prev: FindingState | None,
    verdict: V,
    mute: MuteInfo | None,
    new_status: S | None,
    emitted: S | None,
    activity: int | None,
) -> None:
    new, tr = step(prev, verdict, mute, 500)
    assert (new.status if new else None) == new_status
    assert (tr.status if tr else None) == emitted
    assert (tr.activity_id if tr else None) == activity
    if tr:
        assert tr.previous == (prev.status if prev else None)


def test_first_seen_kept_while_open_and_reset_after_resolve() -> None:
    s1, _ = step(None, V.FAIL, None, 100)
    s2, _ = step(s1, V.FAIL, None, 200)
    assert s2 is not None and (s2.first_seen, s2.last_seen) == (100, 200)
    s3, _ = step(s2, V.PASS, None, 300)
    assert s3 is not None and s3.first_seen == 100 and s3.last_seen == 300
    s4, _ = step(s3, V.FAIL, None, 400)
    assert s4 is not None and s4.first_seen == 400


def test_mute_recorded_and_json_round_trip() -> None:
    new, _ = step(None, V.FAIL, MuteInfo("m", "why", 123.0), 5, "d")
    assert new is not None
    back = FindingState.from_json(new.to_json())
    assert back == new and back.mute_reason == "why" and back.mute_expires_ts == 123.0


def test_resolve_deleted() -> None:
    new, tr = resolve_deleted(st(S.SUPPRESSED), 900)
    assert new is not None and new.status is S.RESOLVED and tr is not None and tr.activity_id == 3
    # a passing check keeps its status but still gets its last (close) record
    for closed in (S.RESOLVED, S.PASSED):
        new, tr = resolve_deleted(st(closed, V.PASS), 900)
        assert new is not None and (new.status, new.last_seen) == (closed, 900)
        assert tr is not None and (tr.previous, tr.status, tr.activity_id) == (closed, closed, 3)
    assert resolve_deleted(None, 900) == (None, None)


def test_pass_fail_pass_sequence() -> None:
    """PASSED once, then a failure episode, then RESOLVED: three records, nothing in between."""
    seq = [(V.PASS, 100), (V.PASS, 200), (V.FAIL, 300), (V.FAIL, 400), (V.PASS, 500), (V.PASS, 600)]
    prev: FindingState | None = None
    emitted = []
    for verdict, t in seq:
        prev, tr = step(prev, verdict, None, t)
        if tr is not None:
            emitted.append((t, tr.status, tr.activity_id))
    assert emitted == [(100, S.PASSED, 1), (300, S.NEW, 1), (500, S.RESOLVED, 3)]
    assert prev is not None and (prev.first_seen, prev.last_seen) == (300, 600)  # the episode 300 → 500


def test_stored_forms_round_trip_and_old_objects_still_load() -> None:
    plain = FindingState(S.FAILING, V.FAIL, 100, 200, detail="ACL grants AllUsers READ | WRITE")
    assert plain.to_json() == "failing|fail|100|200|ACL grants AllUsers READ | WRITE"  # one string per policy
    assert FindingState.from_json(plain.to_json()) == plain  # a "|" in the detail survives
    muted = FindingState(S.SUPPRESSED, V.FAIL, 100, 200, "m1", "accepted risk", 1.8e9, "d")
    assert isinstance(muted.to_json(), dict) and FindingState.from_json(muted.to_json()) == muted
    passed = FindingState(S.PASSED, V.PASS, 100, 100)
    assert passed.to_json() == 100 and FindingState.from_json(100) == passed  # a passing check: one int
    old = {"s": "failing", "v": "fail", "f": 100, "l": 200, "d": "x"}  # written before the string form
    assert FindingState.from_json(old) == FindingState(S.FAILING, V.FAIL, 100, 200, detail="x")
