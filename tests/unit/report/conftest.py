"""A small, hand-checkable world of findings; the expected figures are worked out in test_build.py."""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.models import ocsf
from cspm_stream.models.enums import FindingStatus, Severity
from cspm_stream.report import Framework, Requirement
from cspm_stream.testing.findings import compliance_finding, detection_finding
from cspm_stream.timeutil import to_ms

DAY = 86_400_000
NOW = to_ms("2026-01-10T12:00:00Z")
A = "111111111111"
B = "222222222222"

FW1 = Framework(
    id="fw1",
    name="Framework One",
    version="1.0",
    source="tests",
    requirements=(
        Requirement("R1", "two policies", ("p1", "p2")),
        Requirement("R2", "one pass one error", ("p3",)),
        Requirement("R3", "nothing to evaluate", ("p4",)),
        Requirement("R4", "manual", (), automated=False),
        Requirement("R5", "only errors", ("p5",)),
        Requirement("R6", "only muted", ("p6",)),
    ),
)


def cf(policy: str, res: str, account: str, **kw: Any) -> dict[str, Any]:
    region = "us-east-1"
    kw.setdefault("requirements", ())  # mapped by FW1 only
    return compliance_finding(policy, f"arn:aws:s3:::{res}", account=account, region=region, **kw)


@pytest.fixture
def world() -> list[dict[str, Any]]:
    new_pass = {"state": FindingStatus.PASSED}
    return [
        cf("p1", "res1", A, **new_pass, first_seen_ms=NOW - 4 * DAY, time_ms=NOW),
        cf("p1", "res2", A, state=FindingStatus.FAILING, first_seen_ms=NOW - 2 * DAY, time_ms=NOW),
        cf("p1", "res3", B, state=FindingStatus.RESOLVED, first_seen_ms=NOW - 3 * DAY, time_ms=NOW - DAY),
        cf("p2", "res1", A, **new_pass, first_seen_ms=NOW - 4 * DAY),
        cf("p2", "res3", B, **new_pass, first_seen_ms=NOW - 4 * DAY),
        cf("p3", "res4", B, **new_pass, first_seen_ms=NOW - 4 * DAY, resource_type="aws.ec2.instance"),
        cf(
            "p3",
            "res5",
            B,
            state=FindingStatus.ERROR,
            first_seen_ms=NOW - DAY,
            resource_type="aws.ec2.instance",
        ),
        cf(
            "p3",
            "res10",
            B,
            state=FindingStatus.RESOLVED,
            first_seen_ms=NOW - 10 * DAY,
            time_ms=NOW - 6 * DAY,
            resource_type="aws.ec2.instance",
        ),
        cf("p5", "res6", A, state=FindingStatus.ERROR, first_seen_ms=NOW - DAY),
        cf("p6", "res7", A, state=FindingStatus.SUPPRESSED, first_seen_ms=NOW - DAY),
        cf(
            "p7",
            "res8",
            B,
            state=FindingStatus.FAILING,
            severity=Severity.CRITICAL,
            requirements=("fw2:X",),
            first_seen_ms=NOW - 20 * DAY,
            resource_type="aws.iam.user",
        ),
        # detections: d1 appears twice (an update), the last value counts
        detection_finding("r1", "g1", severity=Severity.HIGH, account=A, first_seen_ms=NOW - DAY, count=1),
        detection_finding(
            "r1",
            "g1",
            severity=Severity.HIGH,
            account=A,
            first_seen_ms=NOW - DAY,
            count=3,
            last_seen_ms=NOW - DAY + 60_000,
        ),
        detection_finding(
            "r2",
            "g2",
            severity=Severity.HIGH,
            account=A,
            first_seen_ms=NOW - 2 * DAY,
            status_id=ocsf.STATUS_RESOLVED,
        ),
        detection_finding("r3", "g3", severity=Severity.CRITICAL, account=B, first_seen_ms=NOW - 2 * DAY),
        detection_finding(
            "r4",
            "g4",
            severity=Severity.LOW,
            account=B,
            first_seen_ms=NOW - 3 * DAY,
            status_id=ocsf.STATUS_SUPPRESSED,
        ),
    ]
