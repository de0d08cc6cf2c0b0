"""Every Compliance Finding the posture side can emit validates against py-ocsf-models.

Built-in policies × every lifecycle status, through the posture stage itself (first
evaluation, transitions, deletion) and the one-shot scan evaluator.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cspm_stream.models import AttributeFailure, dumps
from cspm_stream.models.enums import FindingStatus, Verdict
from cspm_stream.policy.catalog import Catalog, catalog_from_settings
from cspm_stream.policy.mutelist import parse_mutelist
from cspm_stream.policy.ocsf import ResourceRef, build_compliance_finding
from cspm_stream.policy.scanning import ScanEvaluator
from cspm_stream.settings import PolicySettings
from cspm_stream.stages.base import RecordMeta
from cspm_stream.stages.posture import PostureHandler
from cspm_stream.testing import snapshot
from cspm_stream.testing.ocsf_models import failing, ocsf_errors

STATUSES = [
    (FindingStatus.PASSED, Verdict.PASS, 1),
    (FindingStatus.NEW, Verdict.FAIL, 1),
    (FindingStatus.FAILING, Verdict.FAIL, 2),
    (FindingStatus.SUPPRESSED, Verdict.FAIL, 2),
    (FindingStatus.SUPPRESSED, Verdict.ERROR, 2),
    (FindingStatus.ERROR, Verdict.ERROR, 1),
    (FindingStatus.RESOLVED, Verdict.PASS, 3),
]


@pytest.fixture(scope="module")
def builtin() -> Catalog:
    return catalog_from_settings(PolicySettings())


def test_every_builtin_policy_in_every_status_validates(builtin: Catalog) -> None:
    findings = []
    for pol in builtin.policies.values():
        for status, verdict, activity in STATUSES:
            findings.append(
                build_compliance_finding(
                    policy=pol,
                    resource=ResourceRef("arn:aws:s3:::b", pol.resource_type, "eu-west-1", "210987654321", {"k": "v"}),
                    status=status,
                    verdict=verdict,
                    activity_id=activity,
                    first_seen_ms=1_767_225_600_000,
                    last_seen_ms=1_767_229_200_000,
                    time_ms=1_767_229_200_000,
                    compliance=builtin.compliance(pol.id),
                    mute_reason="accepted" if status is FindingStatus.SUPPRESSED else None,
                    detail="AccessDenied on GetBucketAcl" if verdict is Verdict.ERROR else "",
                    resource_deleted=status is FindingStatus.RESOLVED,
                )
            )
    assert len(findings) == len(builtin.policies) * len(STATUSES)
    assert failing(findings) == {}
    assert all(f["finding_info"]["related_analytics"] is not None for f in findings)


def test_the_validator_catches_what_it_should() -> None:
    """The check can fail: the two defects the issue reported are caught."""
    pol_finding = {
        "class_uid": 2003,
        "activity_id": 1,
        "type_uid": 200301,
        "severity_id": 3,
        "time": 1,
        "metadata": {"product": {"vendor_name": "x"}, "version": "1.3.0"},
        "finding_info": {"uid": "u", "title": "t", "related_analytics": [{"uid": "c", "name": "prowler"}]},
        "compliance": {"status_id": 1},
    }
    assert any("related_analytics.0.type_id" in e for e in ocsf_errors(pol_finding))
    det = {**pol_finding, "class_uid": 2004, "type_uid": 200401, "cloud": {"provider": "AWS", "account": {"uid": "1"}}}
    det["finding_info"] = {"uid": "u", "title": "t"}
    assert {e.split(":")[0] for e in ocsf_errors(det)} == {"cloud.account.name", "cloud.account.type_id"}


async def test_posture_stage_output_validates(builtin: Catalog) -> None:
    """Through the stage: first evaluation (passes and failures), an error, a mute, resolution, deletion."""
    ml = parse_mutelist("mutes: [{id: m, reason: lab bucket, owner: sec, arn: 'arn:aws:s3:::lab-.*'}]")
    h = PostureHandler(builtin, ml, clock=lambda: 1_767_225_600.0)
    state: dict[str, Any] = {}
    meta = RecordMeta("inventory", 0, 0)
    emitted: list[dict[str, Any]] = []

    async def feed(arn: str, attrs: dict[str, Any], at: str, errors: tuple[str, ...] = ()) -> None:
        s = snapshot("aws.s3.bucket", attrs, arn=arn, resource_id=arn.rsplit(":", 1)[-1], observed_at=at)
        s.errors.extend(AttributeFailure(a, "AccessDenied", "denied") for a in errors)
        emitted.extend(orjson.loads(e.value or b"") for e in await h.handle(arn.encode(), dumps(s), meta, state))

    public = {"Acl": {"Grants": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}}]}}
    await feed("arn:aws:s3:::prod-a", public, "2026-01-01T00:00:00Z")
    await feed("arn:aws:s3:::lab-b", public, "2026-01-01T00:00:00Z")
    await feed("arn:aws:s3:::prod-c", {}, "2026-01-01T00:00:00Z", errors=("Acl", "Policy"))
    await feed("arn:aws:s3:::prod-a", {"Acl": {"Grants": []}}, "2026-01-01T01:00:00Z")
    emitted.extend(orjson.loads(e.value or b"") for e in await h.handle(b"arn:aws:s3:::prod-a", None, meta, state))
    states = {f["unmapped"]["state"] for f in emitted}
    assert {"passed", "new", "suppressed", "error", "resolved"} <= states
    assert failing(emitted) == {}


def test_scan_output_validates(builtin: Catalog) -> None:
    ev = ScanEvaluator(builtin, builtin.engine(), now_ts=1_767_225_600.0)
    snaps = [
        snapshot("aws.s3.bucket", {"Acl": {"Grants": []}}, arn="arn:aws:s3:::a"),
        snapshot("aws.ec2.security_group", {"IpPermissions": []}, arn="arn:aws:ec2:us-east-1:1:security-group/sg-1"),
        snapshot("aws.iam.user", {}, arn="arn:aws:iam::1:user/u"),
    ]
    out = [f for s in snaps for f in ev.findings(s, include_passed=True)]
    assert len(out) == ev.totals.evaluations and ev.totals.passed and (ev.totals.failed or ev.totals.errors)
    assert failing(out) == {}
