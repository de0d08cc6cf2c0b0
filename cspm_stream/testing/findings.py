"""OCSF findings for tests and benchmarks, made by the product's own builders.

A compliance finding is rendered by :func:`cspm_stream.policy.ocsf.build_compliance_finding`
from a :class:`~cspm_stream.policy.model.Policy` made for the id, a detection by
:func:`cspm_stream.detect.findings.build` from a :class:`~cspm_stream.detect.rules.RuleInfo`:
what a test routes, alerts on or reports is exactly what the posture and detection stages
emit, so the test data cannot drift from the product. A realistic mix of many of them (the
report benchmark, the screenshot) is :mod:`cspm_stream.testing.dataset`.
"""

from __future__ import annotations

import functools
from typing import Any

from cspm_stream.models import FindingStatus, Severity, Verdict, dumps, ocsf
from cspm_stream.timeutil import ms_to_iso

ACCOUNT = "123456789012"
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z

#: the verdict each lifecycle status carries (the posture stage's own pairing)
VERDICT_FOR_STATE = {
    FindingStatus.PASSED: Verdict.PASS,
    FindingStatus.NEW: Verdict.FAIL,
    FindingStatus.FAILING: Verdict.FAIL,
    FindingStatus.RESOLVED: Verdict.PASS,
    FindingStatus.SUPPRESSED: Verdict.FAIL,
    FindingStatus.ERROR: Verdict.ERROR,
}
#: the activity the posture stage emits a status with (``failing`` is never emitted: the
#: topic keeps the ``new`` record; it is accepted here for hand-made test worlds)
ACTIVITY_FOR_STATE = {
    FindingStatus.PASSED: ocsf.ACTIVITY_CREATE,
    FindingStatus.NEW: ocsf.ACTIVITY_CREATE,
    FindingStatus.FAILING: ocsf.ACTIVITY_UPDATE,
    FindingStatus.RESOLVED: ocsf.ACTIVITY_CLOSE,
    FindingStatus.SUPPRESSED: ocsf.ACTIVITY_UPDATE,
    FindingStatus.ERROR: ocsf.ACTIVITY_UPDATE,
}


@functools.lru_cache(maxsize=4096)
def policy_for(policy_id: str, resource_type: str, severity: Severity, title: str, action: str | None) -> Any:
    """A :class:`~cspm_stream.policy.model.Policy` for a made-up id (its condition is never run);
    ``action`` is its remediation action (None: it has none)."""
    from cspm_stream.policy.compiler import compile_condition
    from cspm_stream.policy.model import Policy, Related, Remediation

    src = {"path": "Synthetic", "op": "present"}
    fix = "Enable Block Public Access" if action == "s3_block_public_access" else "See the policy."
    return Policy(
        id=policy_id,
        title=title,
        description=f"Policy {policy_id}",
        rationale="",
        severity=severity,
        resource_type=resource_type,
        condition=compile_condition(src),
        condition_source=src,
        remediation=Remediation(fix, ("https://docs.aws.amazon.com/",), action),
        related=Related(),
        compliance={},
        tests=(),
        source="<test>",
    )


def compliance_finding(
    policy_id: str = "s3_bucket_public_access_block",
    arn: str = "arn:aws:s3:::bucket-1",
    *,
    resource_type: str = "aws.s3.bucket",
    state: str | FindingStatus = FindingStatus.NEW,
    severity: Severity = Severity.HIGH,
    account: str = ACCOUNT,
    region: str = "us-east-1",
    time_ms: int | None = None,
    first_seen_ms: int | None = None,
    last_seen_ms: int | None = None,
    frameworks: tuple[str, ...] = ("cis-aws-3.0.0",),
    requirements: tuple[str, ...] | None = None,
    tags: dict[str, str] | None = None,
    action: str | None = "s3_block_public_access",
    title: str = "",
    mute_reason: str = "accepted risk",
    resource_deleted: bool = False,
) -> dict[str, Any]:
    """One class-2003 finding in lifecycle ``state``, as the posture stage emits it.

    Times: the record's ``time_ms`` (default: ``last_seen_ms``, else ``first_seen_ms``, else
    :data:`T0_MS`); ``first_seen_ms`` defaults to that time, ``last_seen_ms`` too.
    ``requirements`` (``"<framework>:<id>"``) map it; without them each of ``frameworks``
    maps it to requirement ``<framework>:1.1``. ``action`` is the policy's remediation action.
    """
    from cspm_stream.policy.catalog import ComplianceRef
    from cspm_stream.policy.ocsf import ResourceRef, build_compliance_finding

    status = FindingStatus(state)
    t = next((x for x in (time_ms, last_seen_ms, first_seen_ms) if x is not None), T0_MS)
    reqs = requirements if requirements is not None else tuple(f"{fw}:1.1" for fw in frameworks)
    return build_compliance_finding(
        policy=policy_for(policy_id, resource_type, severity, title or f"{policy_id} failed", action),
        resource=ResourceRef(arn, resource_type, region, account, dict(tags or {})),
        status=status,
        verdict=VERDICT_FOR_STATE[status],
        activity_id=ACTIVITY_FOR_STATE[status],
        first_seen_ms=first_seen_ms if first_seen_ms is not None else t,
        last_seen_ms=last_seen_ms if last_seen_ms is not None else t,
        time_ms=t,
        compliance=ComplianceRef(tuple(sorted({r.split(":", 1)[0] for r in reqs})), reqs),
        mute_reason=mute_reason if status is FindingStatus.SUPPRESSED else None,
        detail="could not read an attribute" if status is FindingStatus.ERROR else "",
        resource_deleted=resource_deleted,
    )


def detection_finding(
    rule_id: str = "aws_iam_create_access_key_root",
    group_key: str = f"arn:aws:iam::{ACCOUNT}:root",
    *,
    activity_id: int | None = None,
    count: int | None = None,
    severity: Severity = Severity.CRITICAL,
    account: str = ACCOUNT,
    region: str = "us-east-1",
    time_ms: int | None = None,
    first_seen_ms: int | None = None,
    last_seen_ms: int | None = None,
    window: str | None = None,
    status_id: int | None = None,
    title: str = "",
    actor: str = f"arn:aws:iam::{ACCOUNT}:root",
    event_ids: tuple[str, ...] = ("e1",),
    resource_type: str | None = "aws.iam.user",
) -> dict[str, Any]:
    """One class-2004 finding, as the detection stage emits it.

    ``activity_id`` 2 (or a ``count`` above 1) is a repeat in its window; the finding's uid is
    the rule, the group and the ``window``'s start (default: ``first_seen_ms``, else
    :data:`T0_MS`: repeats at later ``time_ms`` share the uid). ``status_id``
    is set afterwards, as a triage tool would. The group is the finding's resource when
    ``resource_type`` is set.
    """
    from cspm_stream.detect.findings import build
    from cspm_stream.detect.rules import RuleInfo

    first = next((x for x in (first_seen_ms, time_ms) if x is not None), T0_MS)
    last = next((x for x in (last_seen_ms, time_ms) if x is not None), first)
    if activity_id is None:
        activity_id = ocsf.ACTIVITY_CREATE if count in (None, 1) else ocsf.ACTIVITY_UPDATE
    if count is None:
        count = 1 if activity_id == ocsf.ACTIVITY_CREATE else 2
    ws = window if window is not None else ms_to_iso(first_seen_ms if first_seen_ms is not None else T0_MS)
    info = RuleInfo(
        id=rule_id,
        title=title or rule_id,
        description=f"Rule {rule_id}",
        severity=severity,
        level=severity.label.lower(),
        tactics=(),
        techniques=(),
        runbook="rb",
        file="<test>",
    )
    det = {
        "uid": ocsf.finding_uid(rule_id, group_key, ws),
        "first": first,
        "last": last,
        "account": account,
        "region": region,
        "ui": {"type": "IAMUser", "arn": actor, "accountId": account, "userName": actor.rsplit("/", 1)[-1]},
        "ip": "198.51.100.7",
        "ua": "aws-cli/2",
        "resources": [{"uid": group_key, "type": resource_type}] if resource_type else [],
        "count": count,
        "group": group_key,
        "ws_iso": ws,
    }
    evidence = [
        {"data": {"event_id": e, "event_name": "CreateAccessKey", "event_time": "", "event_source": ""}}
        for e in event_ids
    ]
    f = build(info, det, activity_id, list(event_ids), evidence)
    if status_id is not None:
        f["status_id"] = status_id
    return f


def raw(finding: dict[str, Any]) -> bytes:
    """A finding as its Kafka value."""
    return dumps(finding)
