"""OCSF Compliance Finding (class 2003) builder, exactly per shared_contracts.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cspm_stream.models import ocsf
from cspm_stream.models.enums import FindingStatus, Verdict
from cspm_stream.policy.catalog import ComplianceRef
from cspm_stream.policy.model import Policy

STATUS_ERROR = 99

_STATUS_ID = {
    FindingStatus.NEW: ocsf.STATUS_NEW,
    FindingStatus.FAILING: ocsf.STATUS_NEW,
    FindingStatus.SUPPRESSED: ocsf.STATUS_SUPPRESSED,
    FindingStatus.RESOLVED: ocsf.STATUS_RESOLVED,
    FindingStatus.ERROR: STATUS_ERROR,
}
_STATUS_LABEL = {1: "New", 3: "Suppressed", 4: "Resolved", STATUS_ERROR: "Other"}


@dataclass(frozen=True, slots=True)
class ResourceRef:
    arn: str
    resource_type: str
    region: str
    account_id: str
    tags: dict[str, str] = field(default_factory=dict)


def finding_uid(policy_id: str, arn: str) -> str:
    return ocsf.finding_uid(policy_id, arn)


def compliance_status(status: FindingStatus, verdict: Verdict) -> tuple[int, str]:
    """compliance.status_id/status: 1 Pass, 3 Fail, 0 Unknown (ERROR: could not evaluate)."""
    if status is FindingStatus.RESOLVED or verdict is Verdict.PASS:
        return ocsf.COMPLIANCE_PASS, "Pass"
    if verdict is Verdict.ERROR:
        return 0, "Unknown"
    return ocsf.COMPLIANCE_FAIL, "Fail"


def build_compliance_finding(
    *,
    policy: Policy,
    resource: ResourceRef,
    status: FindingStatus,
    verdict: Verdict,
    activity_id: int,
    first_seen_ms: int,
    last_seen_ms: int,
    time_ms: int,
    compliance: ComplianceRef,
    mute_reason: str | None = None,
    detail: str = "",
) -> dict[str, Any]:
    uid = finding_uid(policy.id, resource.arn)
    status_id = _STATUS_ID[status]
    f = ocsf.envelope(
        class_uid=ocsf.COMPLIANCE_FINDING,
        activity_id=activity_id,
        severity=policy.severity,
        time_ms=time_ms,
        uid=uid,
        title=policy.title,
        desc=policy.description,
        status_id=status_id,
        account_id=resource.account_id,
        region=resource.region,
    )
    f["status"] = _STATUS_LABEL[status_id]
    c_id, c_label = compliance_status(status, verdict)
    f["compliance"] = {
        "standards": list(compliance.standards),
        "requirements": list(compliance.requirements),
        "control": policy.id,
        "status_id": c_id,
        "status": c_label,
    }
    f["resources"] = [
        {
            "uid": resource.arn,
            "type": resource.resource_type,
            "region": resource.region,
            "account_uid": resource.account_id,
            "labels": [f"{k}={v}" for k, v in sorted(resource.tags.items())],
        }
    ]
    fi = f["finding_info"]
    fi["first_seen_time"] = first_seen_ms
    fi["last_seen_time"] = last_seen_ms
    fi["types"] = [resource.resource_type]
    fi["related_analytics"] = policy.related.analytics()
    f["remediation"] = {"desc": policy.remediation.text, "references": list(policy.remediation.references)}
    unmapped: dict[str, Any] = {
        "policy_id": policy.id,
        "state": status.value,
        "remediation_action": policy.remediation.action,
        "service": policy.service,
    }
    if mute_reason is not None:
        unmapped["mute_reason"] = mute_reason
    if detail:
        unmapped["status_detail"] = detail
    f["unmapped"] = unmapped
    if detail:
        f["status_detail"] = detail
    return f
