"""Every figure of the report on a world small enough to work out by hand (see conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.errors import ConfigError
from cspm_stream.report import Framework, Outcome, Requirement, build_report, collect
from cspm_stream.report.model import Report

from .conftest import DAY, FW1, NOW, A, B


def build(world: list[dict[str, Any]], **kw: Any) -> Report:
    return build_report(collect(world), [FW1], now_ms=NOW, **kw)


def test_overall_check_score_and_counts(world: list[dict[str, Any]]) -> None:
    r = build(world)
    c = r.summary.checks
    # pass: p1 res1, p1 res3 (resolved), p2 x2, p3 res4, p3 res10 (resolved); fail: p1 res2, p7
    assert (c.passed, c.failed, c.error, c.muted) == (6, 2, 2, 1)
    assert r.summary.score.value == pytest.approx(100 * 6 / 8)
    assert r.summary.resources == 9  # res1..res8 + res10 (res1 and res3 have two checks each)
    assert r.summary.failing_resources == 2
    assert r.summary.accounts == 2


def test_control_score(world: list[dict[str, Any]]) -> None:
    r = build(world)
    # p1 FAIL, p2 PASS, p3 ERROR (a pass and an error), p5 ERROR, p6 MUTED, p7 FAIL
    s = r.summary.controls
    assert (s.passed, s.failed, s.error, s.muted) == (1, 2, 2, 1)
    assert s.value == pytest.approx(100 / 3)
    status = {c.policy_id: c.status for c in r.controls}
    assert status == {
        "p1": Outcome.FAIL,
        "p2": Outcome.PASS,
        "p3": Outcome.ERROR,
        "p5": Outcome.ERROR,
        "p6": Outcome.MUTED,
        "p7": Outcome.FAIL,
    }


def test_requirements(world: list[dict[str, Any]]) -> None:
    r = build(world)
    fw1 = next(f for f in r.frameworks if f.id == "fw1")
    status = {q.id: q.status for q in fw1.requirements}
    assert status == {
        "R1": Outcome.FAIL,  # p1 fails on res2 even though p2 passes everywhere
        "R2": Outcome.ERROR,  # p3 passes on res4 but res5 could not be read: never a pass
        "R3": Outcome.NOT_EVALUATED,  # p4 has no resource
        "R4": Outcome.MANUAL,
        "R5": Outcome.ERROR,
        "R6": Outcome.MUTED,  # only suppressed checks: neither passed nor failed
    }
    r1 = fw1.requirements[0]
    assert r1.failing_policies == ["p1"]
    assert (r1.checks.passed, r1.checks.failed) == (4, 1)
    assert fw1.requirement_status["fail"] == 1 and fw1.requirement_status["error"] == 2
    # fw1 checks: p1..p6 → pass 6, fail 1, error 2, muted 1
    assert (fw1.checks.passed, fw1.checks.failed, fw1.checks.error, fw1.checks.muted) == (6, 1, 2, 1)
    assert fw1.score.value == pytest.approx(600 / 7)
    assert fw1.controls.value == pytest.approx(50.0)  # p2 pass, p1 fail
    # requirements: R1 fails, nothing passes (R2, R5 error; R3 nothing; R4 manual; R6 muted)
    rs = fw1.requirements_score
    assert (rs.passed, rs.failed, rs.error, rs.muted, rs.value) == (0, 1, 2, 1, 0.0)
    assert fw1.requirement_status["manual"] == 1 and fw1.requirement_status["muted"] == 1


def test_requirement_passes_only_when_every_resource_passes(world: list[dict[str, Any]]) -> None:
    fixed = [f for f in world if f["finding_info"]["uid"] != _uid(world, "p1", "res2")]
    r = build(fixed)
    fw1 = next(f for f in r.frameworks if f.id == "fw1")
    assert fw1.requirements[0].status is Outcome.PASS
    assert fw1.requirements_score.value == pytest.approx(100.0)  # R1 is the only decided requirement


def test_manual_requirement_is_never_passed_even_with_passing_policies(world: list[dict[str, Any]]) -> None:
    manual = Requirement("M1", "reviewed by a person", ("p2",), automated=False)  # p2 passes everywhere
    fw = Framework(id="fwm", name="M", version="1", requirements=(manual,), source="tests")
    r = build_report(collect(world), [fw], now_ms=NOW)
    sec = r.frameworks[0]
    assert sec.requirements[0].status is Outcome.MANUAL and sec.requirements[0].checks.passed == 2
    assert sec.requirements_score.value is None and sec.requirement_status["pass"] == 0
    assert sec.checks.total == 0  # a manual requirement's policies are no evidence in the framework's score


def test_deleted_resources_leave_the_current_posture(world: list[dict[str, Any]]) -> None:
    """A check whose resource is gone counts in history (trend, time to resolve), in no score."""
    from cspm_stream.models.enums import FindingStatus

    from .conftest import cf

    before = build(world)
    gone = [
        cf(
            "p1",
            "res2",
            A,
            state=FindingStatus.RESOLVED,
            first_seen_ms=NOW - 2 * DAY,
            time_ms=NOW,
            resource_deleted=True,
        ),
        cf(
            "p2", "res1", A, state=FindingStatus.PASSED, first_seen_ms=NOW - 4 * DAY, time_ms=NOW, resource_deleted=True
        ),
    ]
    r = build(world + gone)
    c = r.summary.checks
    # p1/res2 (failing) and p2/res1 (passing) are gone: 5 pass, 1 fail (p7) remain
    assert (c.passed, c.failed, c.error, c.muted) == (5, 1, 2, 1)
    assert r.summary.score.value == pytest.approx(500 / 6)
    assert r.mttr.resolved == before.mttr.resolved + 1  # the deletion closed res2's episode
    assert {x.policy_id for x in r.top_failing} == {"p7"}


def _uid(world: list[dict[str, Any]], policy: str, res: str) -> str:
    for f in world:
        if f.get("compliance", {}).get("control") == policy and f["resources"][0]["uid"].endswith(res):
            return str(f["finding_info"]["uid"])
    raise AssertionError


def test_framework_cited_only_by_findings_is_synthesised(world: list[dict[str, Any]]) -> None:
    r = build(world)
    fw2 = next(f for f in r.frameworks if f.id == "fw2")
    assert [(q.id, q.status, q.policies) for q in fw2.requirements] == [("X", Outcome.FAIL, ["p7"])]
    assert fw2.score.value == 0.0


def test_citation_adds_policy_to_defined_requirement(world: list[dict[str, Any]]) -> None:
    world[-6]["compliance"]["requirements"] = ["fw2:X", "fw1:R3"]  # p7 (failing) cites fw1:R3
    r = build(world)
    fw1 = next(f for f in r.frameworks if f.id == "fw1")
    r3 = next(q for q in fw1.requirements if q.id == "R3")
    assert r3.policies == ["p4", "p7"] and r3.status is Outcome.FAIL


def test_breakdowns(world: list[dict[str, Any]]) -> None:
    r = build(world)
    acc = {b.key: b for b in r.accounts}
    assert (acc[A].checks.passed, acc[A].checks.failed, acc[A].checks.error, acc[A].checks.muted) == (
        2,
        1,
        1,
        1,
    )
    assert acc[A].score.value == pytest.approx(200 / 3)
    assert acc[B].score.value == pytest.approx(80.0)  # 4 pass, 1 fail (p7), 1 error
    assert acc[A].controls.value == pytest.approx(50.0)  # p1 fail, p2 pass, p5 error, p6 muted
    assert acc[B].controls.value == pytest.approx(200 / 3)  # p1, p2 pass; p3 error; p7 fail
    assert acc[A].failing_by_severity["High"] == 1 and acc[B].failing_by_severity["Critical"] == 1
    svc = {b.key: b.score.value for b in r.services}
    assert svc == {"s3": pytest.approx(80.0), "ec2": pytest.approx(100.0), "iam": 0.0}


def test_scores_per_framework_and_account(world: list[dict[str, Any]]) -> None:
    r = build(world)
    scores = {(s.framework, s.account): s.score.value for s in r.scores}
    assert scores[("", "")] == pytest.approx(75.0)
    assert scores[("fw1", B)] == pytest.approx(100.0)  # p1 res3, p2 res3, p3 res4, res10 pass; res5 error
    assert scores[("fw2", A)] is None  # nothing decided
    assert scores[("fw2", B)] == 0.0


def test_top_failing_orders_by_count_then_severity(world: list[dict[str, Any]]) -> None:
    r = build(world)
    assert [c.policy_id for c in r.top_failing] == ["p7", "p1"]  # 1 failing each, p7 is critical
    world.append(world[1] | {"finding_info": world[1]["finding_info"] | {"uid": "another"}})
    r = build(world)
    assert [(c.policy_id, c.checks.failed) for c in r.top_failing] == [("p1", 2), ("p7", 1)]


def test_mttr(world: list[dict[str, Any]]) -> None:
    m = build(world).mttr
    assert m.resolved == 2
    assert m.mean_s == pytest.approx((2 * DAY + 4 * DAY) / 2 / 1000)
    assert m.median_s == pytest.approx(3 * DAY / 1000)
    assert m.max_s == pytest.approx(4 * DAY / 1000)


def test_mttr_none_without_resolved(world: list[dict[str, Any]]) -> None:
    m = build([f for f in world if f.get("unmapped", {}).get("state") != "resolved"]).mttr
    assert (m.resolved, m.mean_s, m.median_s) == (0, None, None)


def test_trend(world: list[dict[str, Any]]) -> None:
    r = build(world, trend_days=7)
    assert [p.day for p in r.trend] == [f"2026-01-{d:02d}" for d in range(4, 11)]
    # episodes: p7 opened D-20, res10 D-10→D-6, res3 D-3→D-1, res2 opened D-2
    assert [p.open_failing for p in r.trend] == [1, 1, 1, 2, 3, 2, 2]
    assert [p.opened for p in r.trend] == [0, 0, 0, 1, 1, 0, 0]
    assert [p.resolved for p in r.trend] == [1, 0, 0, 0, 0, 1, 0]
    assert [p.detections for p in r.trend] == [0, 0, 0, 1, 2, 1, 0]


def test_detections(world: list[dict[str, Any]]) -> None:
    d = build(world).detections
    assert d.total == 4 and d.open_total == 2
    assert d.open_by_severity == {"Critical": 1, "High": 1, "Medium": 0, "Low": 0, "Informational": 0}
    assert [x.rule_id for x in d.recent_open] == ["r3", "r1"]
    assert d.recent_open[1].count == 3  # the update replaced the first value


def test_account_filter(world: list[dict[str, Any]]) -> None:
    r = build(world, account=B)
    assert {b.key for b in r.accounts} == {B}
    assert r.summary.score.value == pytest.approx(80.0)
    assert r.detections.open_total == 1
    assert r.mttr.resolved == 2


def test_framework_filter(world: list[dict[str, Any]]) -> None:
    r = build(world, framework="fw1", account=B)
    assert [f.id for f in r.frameworks] == ["fw1"]
    assert {c.policy_id for c in r.controls} == {"p1", "p2", "p3"}  # p7 is not in fw1
    assert r.summary.score.value == pytest.approx(100.0)
    r = build(world, framework="fw2")
    assert r.summary.checks.failed == 1 and r.summary.checks.passed == 0


def test_unknown_framework_is_a_config_error(world: list[dict[str, Any]]) -> None:
    with pytest.raises(ConfigError, match="unknown framework"):
        build(world, framework="nope")


def test_empty_inputs() -> None:
    r = build_report(collect([]), [FW1], now_ms=NOW)
    assert r.summary.score.value is None and r.summary.checks.total == 0
    assert all(q.status in (Outcome.NOT_EVALUATED, Outcome.MANUAL) for q in r.frameworks[0].requirements)
