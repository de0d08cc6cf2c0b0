from __future__ import annotations

import orjson
import pytest

from cspm_stream.models import ocsf
from cspm_stream.models.enums import FindingStatus
from cspm_stream.report import Outcome, collect
from cspm_stream.report.findings import to_check
from cspm_stream.testing.findings import compliance_finding, detection_finding


def test_last_value_per_uid_wins_and_bytes_are_accepted() -> None:
    first = compliance_finding("p", "arn:1", state=FindingStatus.NEW)
    later = compliance_finding("p", "arn:1", state=FindingStatus.RESOLVED, time_ms=2_000_000_000_000)
    inp = collect([orjson.dumps(first), None, later])
    assert len(inp.checks) == 1
    assert inp.checks[0].outcome is Outcome.PASS and inp.checks[0].resolved_ms == 2_000_000_000_000


def test_invalid_values_are_counted_not_dropped_silently() -> None:
    bad_class = compliance_finding("p", "arn:2") | {"class_uid": 9999}
    no_control = compliance_finding("p", "arn:3")
    no_control["compliance"].pop("control")
    no_control["unmapped"].pop("policy_id")
    inp = collect([b"{not json", b"[1]", bad_class, no_control, compliance_finding("p", "arn:4")])
    assert len(inp.checks) == 1
    assert sum(inp.rejected.values()) == 4
    assert any("without compliance.control" in r for r in inp.rejected)


@pytest.mark.parametrize(
    ("state", "status_id", "cstatus", "expected"),
    [
        # our lifecycle status decides when present
        ("suppressed", 1, 3, Outcome.MUTED),
        ("error", 1, 1, Outcome.ERROR),
        ("resolved", 1, 3, Outcome.PASS),
        ("passed", 99, 1, Outcome.PASS),
        ("passed", 4, 1, Outcome.PASS),
        ("new", 1, 3, Outcome.FAIL),
        ("failing", 1, 3, Outcome.FAIL),
        # another producer's finding: status, then compliance status
        (None, ocsf.STATUS_SUPPRESSED, 3, Outcome.MUTED),
        (None, ocsf.STATUS_RESOLVED, 3, Outcome.PASS),
        (None, 99, 1, Outcome.PASS),
        (None, 99, 3, Outcome.FAIL),
        ("garbage", 1, 3, Outcome.FAIL),
        (None, 1, 1, Outcome.PASS),
        (None, 1, 3, Outcome.FAIL),
        (None, 1, 2, Outcome.ERROR),  # warning: not a pass
        (None, 1, None, Outcome.ERROR),  # no verdict: not a pass
    ],
)
def test_outcome_rules(state: str | None, status_id: int, cstatus: int | None, expected: Outcome) -> None:
    f = compliance_finding("p", "arn:x")
    f["status_id"] = status_id
    if state is None:
        f["unmapped"].pop("state")
    else:
        f["unmapped"]["state"] = state
    if cstatus is None:
        f["compliance"].pop("status_id")
    else:
        f["compliance"]["status_id"] = cstatus
    assert to_check(f).outcome is expected


def test_passed_is_a_pass_and_not_a_failure_episode() -> None:
    c = to_check(compliance_finding("p", "arn:x", state=FindingStatus.PASSED))
    assert (c.outcome, c.resolved_ms, c.was_failing, c.deleted) == (Outcome.PASS, None, False, False)


def test_resource_deleted_flag() -> None:
    f = compliance_finding("p", "arn:x", state=FindingStatus.RESOLVED, resource_deleted=True)
    c = to_check(f)
    assert c.deleted and c.outcome is Outcome.PASS and c.resolved_ms is not None


def test_resolve_time_never_precedes_first_seen() -> None:
    f = compliance_finding("p", "arn:x", state=FindingStatus.RESOLVED, first_seen_ms=5000, time_ms=1000)
    assert to_check(f).resolved_ms == 5000


def test_service_and_account_fallbacks() -> None:
    f = compliance_finding("p", "arn:x", resource_type="aws.rds.instance", account="999999999999")
    f["unmapped"].pop("service")
    f["resources"][0].pop("account_uid")
    c = to_check(f)
    assert c.service == "rds" and c.account == "999999999999"


def test_detection_fields() -> None:
    mallory = "arn:aws:iam::123456789012:user/mallory"
    d = collect([detection_finding("rule-x", "g", count=4, status_id=ocsf.STATUS_RESOLVED, actor=mallory)]).detections[
        0
    ]
    assert (d.rule_id, d.count, d.is_open) == ("rule-x", 4, False)
    assert d.actor.endswith("user/mallory")
