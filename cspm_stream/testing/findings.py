"""OCSF findings for tests, made by the product's own builders.

A compliance finding is rendered by :func:`cspm_stream.policy.ocsf.build_compliance_finding`
from a :class:`~cspm_stream.policy.model.Policy` made for the id, a detection by
:func:`cspm_stream.detect.findings.build` from a :class:`~cspm_stream.detect.rules.RuleInfo`:
what a test routes, alerts on or reports is exactly what the posture and detection stages
emit, so the test data cannot drift from the product.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.models import FindingStatus, Severity, Verdict, dumps, ocsf

ACCOUNT = "123456789012"
T0_MS = 1_767_225_600_000

#: what each lifecycle status carries (the posture stage's own pairing)
_VERDICT = {
    FindingStatus.PASSED: Verdict.PASS,
    FindingStatus.NEW: Verdict.FAIL,
    FindingStatus.FAILING: Verdict.FAIL,
    FindingStatus.RESOLVED: Verdict.PASS,
    FindingStatus.SUPPRESSED: Verdict.FAIL,
    FindingStatus.ERROR: Verdict.ERROR,
}
_ACTIVITY = {
    FindingStatus.PASSED: ocsf.ACTIVITY_CREATE,
    FindingStatus.NEW: ocsf.ACTIVITY_CREATE,
    FindingStatus.FAILING: ocsf.ACTIVITY_UPDATE,
    FindingStatus.RESOLVED: ocsf.ACTIVITY_CLOSE,
    FindingStatus.SUPPRESSED: ocsf.ACTIVITY_UPDATE,
    FindingStatus.ERROR: ocsf.ACTIVITY_UPDATE,
}


def compliance_finding(
    *,
    policy_id: str = "s3_bucket_public_access_block",
    arn: str = "arn:aws:s3:::bucket-1",
    resource_type: str = "aws.s3.bucket",
    state: str | FindingStatus = FindingStatus.NEW,
    severity: Severity = Severity.HIGH,
    account: str = ACCOUNT,
    region: str = "us-east-1",
    time_ms: int = T0_MS,
    frameworks: tuple[str, ...] = ("cis-aws-3.0.0",),
    tags: dict[str, str] | None = None,
    action: str | None = "s3_block_public_access",
    first_seen: int | None = None,
    title: str = "",
) -> dict[str, Any]:
    """One class-2003 finding in lifecycle ``state``, as the posture stage emits it.

    ``frameworks`` become requirement ``<framework>:1.1`` each; ``action`` is the policy's
    remediation action (``None``: the policy has none).
    """
    from cspm_stream.policy.catalog import ComplianceRef
    from cspm_stream.policy.compiler import compile_condition
    from cspm_stream.policy.model import Policy, Related, Remediation
    from cspm_stream.policy.ocsf import ResourceRef, build_compliance_finding

    status = FindingStatus(state)
    condition = {"path": "Synthetic", "op": "present"}
    policy = Policy(
        id=policy_id,
        title=title or f"{policy_id} failed",
        description="test finding",
        rationale="",
        severity=severity,
        resource_type=resource_type,
        condition=compile_condition(condition),
        condition_source=condition,
        remediation=Remediation("Enable Block Public Access", ("https://docs.aws.amazon.com/",), action),
        related=Related(),
        compliance={},
        tests=(),
        source="<test>",
    )
    return build_compliance_finding(
        policy=policy,
        resource=ResourceRef(arn, resource_type, region, account, dict(tags or {})),
        status=status,
        verdict=_VERDICT[status],
        activity_id=_ACTIVITY[status],
        first_seen_ms=first_seen if first_seen is not None else time_ms,
        last_seen_ms=time_ms,
        time_ms=time_ms,
        compliance=ComplianceRef(frameworks, tuple(f"{fw}:1.1" for fw in frameworks)),
        mute_reason="accepted risk" if status is FindingStatus.SUPPRESSED else None,
        detail="could not read an attribute" if status is FindingStatus.ERROR else "",
    )


def detection_finding(
    *,
    rule_id: str = "aws_iam_create_access_key_root",
    group_key: str = f"arn:aws:iam::{ACCOUNT}:root",
    window: str = "2026-01-01T00:00:00Z",
    activity_id: int = ocsf.ACTIVITY_CREATE,
    severity: Severity = Severity.CRITICAL,
    account: str = ACCOUNT,
    time_ms: int = T0_MS,
    title: str = "Root created an access key",
    actor: str = f"arn:aws:iam::{ACCOUNT}:root",
    event_ids: tuple[str, ...] = ("e1",),
) -> dict[str, Any]:
    """One class-2004 finding, as the detection stage emits it (``activity_id`` 2: a repeat in its window)."""
    from cspm_stream.detect.findings import build
    from cspm_stream.detect.rules import RuleInfo

    info = RuleInfo(
        id=rule_id,
        title=title,
        description="test detection",
        severity=severity,
        level=severity.label.lower(),
        tactics=(),
        techniques=(),
        runbook="rb",
        file="<test>",
    )
    det = {
        "uid": ocsf.finding_uid(rule_id, group_key, window),
        "first": time_ms,
        "last": time_ms,
        "account": account,
        "region": "us-east-1",
        "ui": {"type": "IAMUser", "arn": actor, "accountId": account, "userName": actor.rsplit("/", 1)[-1]},
        "ip": "198.51.100.7",
        "ua": "aws-cli/2",
        "resources": [{"uid": group_key, "type": "aws.iam.user"}],
        "count": 1 if activity_id == ocsf.ACTIVITY_CREATE else 2,
        "group": group_key,
        "ws_iso": window,
    }
    evidence = [
        {"data": {"event_id": e, "event_name": "CreateAccessKey", "event_time": "", "event_source": ""}}
        for e in event_ids
    ]
    return build(info, det, activity_id, list(event_ids), evidence)


def raw(finding: dict[str, Any]) -> bytes:
    """A finding as its Kafka value."""
    return dumps(finding)
