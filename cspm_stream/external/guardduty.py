"""GuardDuty findings (``GetFindings`` or the EventBridge "GuardDuty Finding" event) → ExternalFinding.

Every GuardDuty finding is a threat finding (OCSF 2004). The SDK spells members ``AccountId``,
EventBridge ``accountId``: both are read. ``Service.Archived`` (the owner archived it, or a
suppression rule did) is ``suppressed``; an archived finding is not a resolution of the activity
it saw, so its verdict stays ``fail``. The actor is ``Resource.AccessKeyDetails`` (``UserType`` and
``UserName``; for an assumed role GuardDuty's ``UserName`` is the role's name); the affected
resource, when it is not the principal, is the bucket, instance, cluster or function named.
Severity: GuardDuty's score (Low < 4, Medium < 7, High < 9, Critical from 9).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cspm_stream.errors import DecodeError
from cspm_stream.external import model as m
from cspm_stream.external._common import (
    DESC_CHARS,
    account,
    field,
    items,
    obj,
    severity_score,
    subject_of_principal,
    text,
    when,
)
from cspm_stream.external.mapping import Equivalents


def _resource(res: Mapping[str, Any], partition: str, region: str, acct: str) -> str:
    for b in items(field(res, "S3BucketDetails"))[:8]:
        arn = text(field(b, "Arn"))
        if arn:
            return arn
    inst = text(field(field(res, "InstanceDetails"), "InstanceId"), 64)
    if inst:
        return f"arn:{partition}:ec2:{region}:{acct}:instance/{inst}"
    for name, key in (("EksClusterDetails", "Arn"), ("LambdaDetails", "FunctionArn"), ("EcsClusterDetails", "Arn")):
        arn = text(field(field(res, name), key))
        if arn:
            return arn
    db = text(field(field(res, "RdsDbInstanceDetails"), "DbInstanceArn"))
    return db


def from_guardduty(f: Any, *, via: str = m.GUARDDUTY, eq: Equivalents | None = None) -> m.ExternalFinding:
    """Normalise one GuardDuty finding; :class:`DecodeError` when it has no ARN, type or account."""
    if not isinstance(f, Mapping):
        raise DecodeError(f"a GuardDuty finding is an object, got {type(f).__name__}")
    uid = text(field(f, "Arn"), 512)
    ftype = text(field(f, "Type"), 128)
    acct = account(field(f, "AccountId"))
    if not uid or not ftype or not acct:
        raise DecodeError("GuardDuty finding without Arn, Type or a 12-digit AccountId")
    region = text(field(f, "Region"), 32)
    partition = text(field(f, "Partition"), 16) or "aws"
    res = obj(field(f, "Resource"))
    svc = obj(field(f, "Service"))
    key = obj(field(res, "AccessKeyDetails"))
    call = obj(field(obj(field(svc, "Action")), "AwsApiCallAction"))
    archived = field(svc, "Archived") is True
    detector = text(field(svc, "DetectorId"), 64)
    created = when(field(f, "CreatedAt"))
    updated = when(field(f, "UpdatedAt")) or created
    principal = text(field(key, "UserName"))
    principal_type = text(field(key, "UserType"), 64)
    resource_arn = _resource(res, partition, region, acct)
    out = m.ExternalFinding(
        uid=uid,
        product=m.GUARDDUTY,
        product_name=m.PRODUCT_NAMES[m.GUARDDUTY],
        via=via,
        kind=m.DETECTION,
        account_id=acct,
        region=region,
        resource_arn=resource_arn,
        resource_type=text(field(res, "ResourceType"), 64),
        title=text(field(f, "Title")) or ftype,
        description=text(field(f, "Description"), DESC_CHARS),
        severity=int(severity_score(field(f, "Severity"))),
        verdict="fail",
        status="ARCHIVED" if archived else "ACTIVE",
        first_seen=when(field(svc, "EventFirstSeen")) or created or updated,
        last_seen=when(field(svc, "EventLastSeen")) or updated,
        updated_at=updated,
        suppressed=archived,
        product_uid=f"arn:{partition}:guardduty:{region}:{acct}:detector/{detector}" if detector else "",
        finding_type=ftype,
        principal=principal,
        principal_type=principal_type,
        source_ip=text(field(field(call, "RemoteIpDetails"), "IpAddressV4"), 64),
        user_agent=text(field(call, "UserAgent")),
        api=text(field(call, "Api"), 128),
    )
    out.subject = subject_of_principal(acct, principal_type, principal) or (
        f"{acct}|{resource_arn}" if resource_arn else f"{acct}|{uid}"
    )
    if eq is not None:
        out.rules = list(eq.rules_for(ftype)) or None
    return out
