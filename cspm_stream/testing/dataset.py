"""A realistic mix of many OCSF findings, for the report benchmark, the screenshot and the
report's rendering tests: most checks pass, some fail, some were resolved, a few errors and
mutes, plus detections. Every finding is made by :mod:`cspm_stream.testing.findings` (the
product's own builders). The generator is seeded: the same arguments give the same findings.
"""

from __future__ import annotations

import random
from typing import Any

from cspm_stream.models import ocsf
from cspm_stream.models.enums import FindingStatus, Severity
from cspm_stream.testing.findings import compliance_finding, detection_finding

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
                action=None,
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
                resource_type=None,
            )
        )
    return out
