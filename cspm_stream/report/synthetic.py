"""Synthetic OCSF findings, built by the product's own builders.

Used by the report tests, the benchmark and the documentation screenshot. A
compliance finding is rendered by :func:`cspm_stream.policy.ocsf.build_compliance_finding`
(from a :class:`~cspm_stream.policy.model.Policy` made for the id) and a detection by
:func:`cspm_stream.detect.findings.build`, so what the report is tested on is exactly
what the posture and detection stages emit. The generator is seeded: the same
arguments give the same findings.
"""

from __future__ import annotations

import functools
import random
from typing import Any

from cspm_stream.models import ocsf
from cspm_stream.models.enums import FindingStatus, Severity, Verdict
from cspm_stream.report.frameworks import Framework, Requirement

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
VERDICT_FOR_STATE = {
    FindingStatus.PASSED: Verdict.PASS,
    FindingStatus.NEW: Verdict.FAIL,
    FindingStatus.FAILING: Verdict.FAIL,
    FindingStatus.RESOLVED: Verdict.PASS,
    FindingStatus.SUPPRESSED: Verdict.FAIL,
    FindingStatus.ERROR: Verdict.ERROR,
}


@functools.lru_cache(maxsize=4096)
def synthetic_policy(policy_id: str, resource_type: str, severity: Severity, title: str) -> Any:
    """A :class:`~cspm_stream.policy.model.Policy` for a made-up id (its condition is never run)."""
    from cspm_stream.policy.compiler import compile_condition
    from cspm_stream.policy.model import Policy, Related, Remediation

    src = {"path": "Synthetic", "op": "present"}
    return Policy(
        id=policy_id,
        title=title or policy_id,
        description=f"Policy {policy_id}",
        rationale="",
        severity=severity,
        resource_type=resource_type,
        condition=compile_condition(src),
        condition_source=src,
        remediation=Remediation("See the policy."),
        related=Related(),
        compliance={},
        tests=(),
        source="<synthetic>",
    )


def compliance_finding(
    policy_id: str,
    resource_arn: str,
    *,
    state: FindingStatus = FindingStatus.NEW,
    severity: Severity = Severity.HIGH,
    resource_type: str = "aws.s3.bucket",
    account: str = "123456789012",
    region: str = "us-east-1",
    requirements: tuple[str, ...] = (),
    first_seen_ms: int = 1_767_225_600_000,
    last_seen_ms: int | None = None,
    time_ms: int | None = None,
    title: str = "",
    mute_reason: str = "accepted risk",
    resource_deleted: bool = False,
) -> dict[str, Any]:
    """One class-2003 finding in lifecycle status ``state``, as the posture stage emits it."""
    from cspm_stream.policy.catalog import ComplianceRef
    from cspm_stream.policy.ocsf import ResourceRef, build_compliance_finding

    t = time_ms if time_ms is not None else (last_seen_ms or first_seen_ms)
    return build_compliance_finding(
        policy=synthetic_policy(policy_id, resource_type, severity, title or f"{policy_id} on {resource_type}"),
        resource=ResourceRef(resource_arn, resource_type, region, account),
        status=state,
        verdict=VERDICT_FOR_STATE[state],
        activity_id=ACTIVITY_FOR_STATE[state],
        first_seen_ms=first_seen_ms,
        last_seen_ms=last_seen_ms if last_seen_ms is not None else t,
        time_ms=t,
        compliance=ComplianceRef(tuple(sorted({r.split(":", 1)[0] for r in requirements})), tuple(requirements)),
        mute_reason=mute_reason if state is FindingStatus.SUPPRESSED else None,
        detail="could not read an attribute" if state is FindingStatus.ERROR else "",
        resource_deleted=resource_deleted,
    )


def detection_finding(
    rule_id: str,
    group_key: str,
    *,
    severity: Severity = Severity.HIGH,
    account: str = "123456789012",
    region: str = "us-east-1",
    first_seen_ms: int = 1_767_225_600_000,
    last_seen_ms: int | None = None,
    status_id: int = ocsf.STATUS_NEW,
    count: int = 1,
    title: str = "",
    actor: str = "arn:aws:iam::123456789012:user/mallory",
) -> dict[str, Any]:
    """One class-2004 finding, as the detection stage emits it (``status_id`` set afterwards,
    as a triage tool would)."""
    from cspm_stream.detect.findings import build
    from cspm_stream.detect.rules import RuleInfo

    last = last_seen_ms if last_seen_ms is not None else first_seen_ms
    uid = ocsf.finding_uid(rule_id, group_key, str(first_seen_ms))
    info = RuleInfo(
        id=rule_id,
        title=title or rule_id,
        description=f"Rule {rule_id}",
        severity=severity,
        level=severity.label.lower(),
        tactics=(),
        techniques=(),
        runbook="",
        file="<synthetic>",
    )
    ident = {"type": "IAMUser", "arn": actor, "accountId": account, "userName": actor.rsplit("/", 1)[-1]}
    det = {
        "uid": uid,
        "first": first_seen_ms,
        "last": last,
        "account": account,
        "region": region,
        "ui": ident,
        "ip": "198.51.100.7",
        "ua": "aws-cli/2",
        "resources": [],
        "count": count,
        "group": group_key,
        "ws_iso": "",
    }
    event_id = f"ev-{uid[:8]}"
    evidence = {"data": {"event_id": event_id, "event_name": "X", "event_time": "", "event_source": ""}}
    activity = ocsf.ACTIVITY_CREATE if count == 1 else ocsf.ACTIVITY_UPDATE
    f = build(info, det, activity, [event_id], [evidence])
    f["status_id"] = status_id
    return f


# (policy id, resource type, severity, title, requirements)
CATALOG: tuple[tuple[str, str, Severity, str, tuple[str, ...]], ...] = (
    (
        "s3_bucket_public_access_blocked",
        "aws.s3.bucket",
        Severity.CRITICAL,
        "S3 bucket blocks public access",
        ("cis-aws-3.0.0:2.1.4", "pci-dss-4.0:1.4.1", "aws-fsbp:S3.8"),
    ),
    (
        "s3_bucket_default_encryption",
        "aws.s3.bucket",
        Severity.MEDIUM,
        "S3 bucket encrypts by default",
        ("cis-aws-3.0.0:2.1.1", "pci-dss-4.0:3.5.1", "hipaa:164.312(a)(2)(iv)"),
    ),
    (
        "s3_bucket_versioning",
        "aws.s3.bucket",
        Severity.LOW,
        "S3 bucket versioning enabled",
        ("aws-fsbp:S3.14",),
    ),
    (
        "ec2_sg_no_public_ssh",
        "aws.ec2.security_group",
        Severity.HIGH,
        "No SSH open to the internet",
        ("cis-aws-3.0.0:5.2", "pci-dss-4.0:1.3.1", "aws-fsbp:EC2.13"),
    ),
    (
        "ec2_instance_imdsv2",
        "aws.ec2.instance",
        Severity.HIGH,
        "EC2 instance requires IMDSv2",
        ("cis-aws-3.0.0:5.6", "aws-fsbp:EC2.8"),
    ),
    (
        "ec2_volume_encrypted",
        "aws.ec2.volume",
        Severity.MEDIUM,
        "EBS volume encrypted",
        ("cis-aws-3.0.0:2.2.1", "hipaa:164.312(a)(2)(iv)"),
    ),
    (
        "iam_user_mfa_enabled",
        "aws.iam.user",
        Severity.HIGH,
        "IAM console user has MFA",
        ("cis-aws-3.0.0:1.10", "pci-dss-4.0:8.4.2", "soc2:CC6.1"),
    ),
    (
        "iam_access_key_rotated",
        "aws.iam.user",
        Severity.MEDIUM,
        "Access keys rotated within 90 days",
        ("cis-aws-3.0.0:1.14", "soc2:CC6.1"),
    ),
    (
        "rds_instance_not_public",
        "aws.rds.instance",
        Severity.CRITICAL,
        "RDS instance not publicly accessible",
        ("cis-aws-3.0.0:2.3.3", "pci-dss-4.0:1.4.1", "aws-fsbp:RDS.2"),
    ),
    (
        "rds_instance_encrypted",
        "aws.rds.instance",
        Severity.MEDIUM,
        "RDS storage encrypted",
        ("cis-aws-3.0.0:2.3.1", "hipaa:164.312(a)(2)(iv)"),
    ),
    ("kms_key_rotation", "aws.kms.key", Severity.MEDIUM, "KMS key rotation enabled", ("cis-aws-3.0.0:3.6",)),
    (
        "cloudtrail_log_validation",
        "aws.cloudtrail.trail",
        Severity.MEDIUM,
        "CloudTrail log file validation",
        ("cis-aws-3.0.0:3.2", "soc2:CC7.2"),
    ),
    (
        "lambda_function_not_public",
        "aws.lambda.function",
        Severity.HIGH,
        "Lambda function policy not public",
        ("aws-fsbp:Lambda.1",),
    ),
    ("sqs_queue_encrypted", "aws.sqs.queue", Severity.LOW, "SQS queue encrypted", ("aws-fsbp:SQS.1",)),
)

#: controls with no failure anywhere (their resources were fixed or always compliant)
CLEAN = frozenset({"cloudtrail_log_validation", "rds_instance_encrypted", "sqs_queue_encrypted", "kms_key_rotation"})

RULES = (
    ("iam_access_key_created_for_other_user", Severity.HIGH, "Access key created for another user"),
    ("cloudtrail_logging_stopped", Severity.CRITICAL, "CloudTrail logging stopped"),
    ("console_login_without_mfa", Severity.MEDIUM, "Console login without MFA"),
    ("ec2_user_data_retrieved", Severity.MEDIUM, "EC2 user data retrieved (credential hunting)"),
    ("guardduty_detector_deleted", Severity.HIGH, "GuardDuty detector deleted"),
    ("s3_bucket_made_public", Severity.HIGH, "S3 bucket policy made public"),
    ("brute_force_console_logins", Severity.LOW, "Burst of failed console logins"),
)


Entry = tuple[str, str, Severity, str, tuple[str, ...]]  # (policy, resource type, severity, title, requirements)


def builtin_catalog() -> tuple[tuple[Entry, ...], frozenset[str]]:
    """(entries, clean policies) from the real built-in policy pack and framework files.

    About a quarter of the policies (chosen by a hash of their id, so always the same
    ones) are "clean": no resource fails them.
    """
    import hashlib

    from cspm_stream.policy.catalog import catalog_from_settings
    from cspm_stream.settings import PolicySettings

    cat = catalog_from_settings(PolicySettings())
    entries = tuple(
        (p.id, p.resource_type, p.severity, p.title, tuple(cat.compliance(p.id).requirements))
        for p in sorted(cat.policies.values(), key=lambda p: p.id)
    )
    clean = frozenset(e[0] for e in entries if hashlib.sha256(e[0].encode()).hexdigest()[0] in "0123")
    return entries, clean


def dataset(
    n_findings: int,
    *,
    now_ms: int,
    n_detections: int = 0,
    accounts: tuple[str, ...] = ("111111111111", "222222222222", "333333333333"),
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1"),
    days: int = 30,
    seed: int = 7,
    catalog: tuple[Entry, ...] | None = None,
    clean: frozenset[str] | None = None,
) -> list[dict[str, Any]]:
    """A realistic mix: most checks pass, some fail, some were resolved, a few errors and mutes."""
    rng = random.Random(seed)
    entries = catalog if catalog is not None else CATALOG
    clean_set = clean if clean is not None else CLEAN
    out: list[dict[str, Any]] = []
    span = days * 86_400_000
    for i in range(n_findings):
        policy, rtype, sev, title, reqs = entries[i % len(entries)]
        account = accounts[rng.randrange(len(accounts))]
        region = regions[rng.randrange(len(regions))]
        service, kind = rtype.split(".")[1:3]
        arn = f"arn:aws:{service}:{region}:{account}:{kind}/r-{i // len(entries):06d}"
        # half was there at the first full scan, the rest appeared since
        first = now_ms - span + rng.randrange(3_600_000) if rng.random() < 0.5 else now_ms - rng.randrange(span)
        roll = rng.random()
        # worse posture in the last account, and a few controls that hold everywhere
        fail_rate = 0.35 if account == accounts[-1] else 0.15
        if policy in clean_set:
            fail_rate, roll = 0.0, max(roll, 0.5)  # passing everywhere now
        if roll < fail_rate:
            state, t = FindingStatus.NEW, now_ms - rng.randrange(3_600_000)
        elif roll < fail_rate + 0.12:
            state = FindingStatus.RESOLVED
            t = min(now_ms, first + rng.randrange(1, 6 * 86_400_000))
        elif roll < fail_rate + 0.14:
            state, t = FindingStatus.ERROR, now_ms
        elif roll < fail_rate + 0.16:
            state, t = FindingStatus.SUPPRESSED, now_ms
        else:
            state, t = FindingStatus.PASSED, first
        out.append(
            compliance_finding(
                policy,
                arn,
                state=state,
                severity=sev,
                resource_type=rtype,
                account=account,
                region=region,
                requirements=reqs,
                first_seen_ms=first,
                last_seen_ms=t,
                time_ms=t,
                title=title,
            )
        )
    for j in range(n_detections):
        rule, sev, title = RULES[j % len(RULES)]
        first = now_ms - rng.randrange(span)
        out.append(
            detection_finding(
                rule,
                f"principal-{j}",
                severity=sev,
                account=accounts[rng.randrange(len(accounts))],
                first_seen_ms=first,
                last_seen_ms=min(now_ms, first + rng.randrange(600_000)),
                status_id=ocsf.STATUS_NEW if rng.random() < 0.7 else ocsf.STATUS_RESOLVED,
                count=1 + rng.randrange(5),
                title=title,
                actor=f"arn:aws:iam::{accounts[0]}:user/user-{j % 9}",
            )
        )
    return out


FRAMEWORK_NAMES = {
    "cis-aws-3.0.0": ("CIS Amazon Web Services Foundations Benchmark", "3.0.0"),
    "pci-dss-4.0": ("PCI DSS", "4.0"),
    "hipaa": ("HIPAA Security Rule", "2013"),
    "soc2": ("SOC 2 Trust Services Criteria", "2017"),
    "aws-fsbp": ("AWS Foundational Security Best Practices", "1.0"),
}


def frameworks() -> list[Framework]:
    """Framework definitions covering :data:`CATALOG` (plus one manual requirement each)."""
    reqs: dict[str, dict[str, list[str]]] = {fw: {} for fw in FRAMEWORK_NAMES}
    titles: dict[tuple[str, str], str] = {}
    for policy, _rtype, _sev, title, mapped in CATALOG:
        for item in mapped:
            fw, _, req = item.partition(":")
            reqs[fw].setdefault(req, []).append(policy)
            titles.setdefault((fw, req), title)
    out = []
    for fw, (name, version) in FRAMEWORK_NAMES.items():
        rows = [Requirement(r, titles[(fw, r)], tuple(p)) for r, p in sorted(reqs[fw].items())]
        rows.append(Requirement("manual-review", "Documented review of access (manual)", (), automated=False))
        out.append(Framework(id=fw, name=name, version=version, requirements=tuple(rows), source="<synthetic>"))
    return out
