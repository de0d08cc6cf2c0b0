"""OCSF Compliance Finding (class 2003) builder: one (policy, resource) check.

Every outcome is a finding (the compacted findings topic holds the current one per
check). How the lifecycle status maps to OCSF:

=============  ===========================  ==============================  =============
status         ``status_id`` / ``status``   ``compliance.status_id``        ``status_code``
=============  ===========================  ==============================  =============
passed         99 / "Passed"                1 Pass                          PASS
new, failing   1 / "New"                    3 Fail                          FAIL
suppressed     3 / "Suppressed"             3 Fail, or 2 Warning (error)    FAIL / ERROR
resolved       4 / "Resolved"               1 Pass                          PASS
error          99 / "Error"                 2 Warning (no result: missing   ERROR
                                            information)
=============  ===========================  ==============================  =============

``unmapped.state`` carries the lifecycle status itself, and ``unmapped.resource_deleted``
marks the last record of a check whose resource is gone. The output validates against
the OCSF models of ``py-ocsf-models`` (a test holds it to that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.external.sources import OURS, add_sources
from cspm_stream.models import ocsf
from cspm_stream.models.change import Change
from cspm_stream.models.enums import FindingStatus, Verdict
from cspm_stream.policy.catalog import ComplianceRef
from cspm_stream.policy.model import Policy

STATUS_OTHER = 99
#: OCSF analytic type_id 1: Rule
ANALYTIC_RULE = 1

_STATUS = {
    FindingStatus.PASSED: (STATUS_OTHER, "Passed"),
    FindingStatus.NEW: (ocsf.STATUS_NEW, "New"),
    FindingStatus.FAILING: (ocsf.STATUS_NEW, "New"),
    FindingStatus.SUPPRESSED: (ocsf.STATUS_SUPPRESSED, "Suppressed"),
    FindingStatus.RESOLVED: (ocsf.STATUS_RESOLVED, "Resolved"),
    FindingStatus.ERROR: (STATUS_OTHER, "Error"),
}


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """The resource a check is about, and the context its record carries: ``change`` = the
    CloudTrail change that caused this evaluation (its actor named in the record), ``last_change``
    = the last such change when this evaluation had no cause of its own, ``external`` = other
    products' findings that are the same issue (policy id -> sources, see
    :mod:`cspm_stream.external.sources`), ``ours`` = whether our own evaluation is one of them."""

    arn: str
    resource_type: str
    region: str
    account_id: str
    tags: dict[str, str] = field(default_factory=dict)
    change: Change | None = None
    last_change: Change | None = None
    external: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    ours: bool = True


def finding_uid(policy_id: str, arn: str) -> str:
    return ocsf.finding_uid(policy_id, arn)


def compliance_status(status: FindingStatus, verdict: Verdict) -> tuple[int, str]:
    """compliance.status_id/status: 1 Pass, 3 Fail, 2 Warning (ERROR: no result, missing information)."""
    if status in (FindingStatus.RESOLVED, FindingStatus.PASSED) or verdict is Verdict.PASS:
        return ocsf.COMPLIANCE_PASS, "Pass"
    if verdict is Verdict.ERROR:
        return ocsf.COMPLIANCE_WARNING, "Warning"
    return ocsf.COMPLIANCE_FAIL, "Fail"


def analytic(policy: Policy) -> dict[str, Any]:
    """The OCSF analytic that produced the finding: the policy, a rule."""
    return {"uid": policy.id, "name": policy.title or policy.id, "type_id": ANALYTIC_RULE, "type": "Rule"}


def related_analytics(policy: Policy) -> list[dict[str, Any]]:
    """``finding_info.related_analytics``: the other tools' checks the policy cross-references,
    each an OCSF analytic (``name`` = the tool, ``uid`` = its check or control id)."""
    return [{**a, "type_id": ANALYTIC_RULE, "type": "Rule"} for a in policy.related.analytics()]


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
    resource_deleted: bool = False,
) -> dict[str, Any]:
    uid = finding_uid(policy.id, resource.arn)
    status_id, status_label = _STATUS[status]
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
    f["status"] = status_label
    f["status_code"] = verdict.value.upper()
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
    fi["analytic"] = analytic(policy)
    fi["related_analytics"] = related_analytics(policy)
    f["remediation"] = {"desc": policy.remediation.text, "references": list(policy.remediation.references)}
    unmapped: dict[str, Any] = {
        "policy_id": policy.id,
        "state": status.value,
        "remediation_action": policy.remediation.action,
        "service": policy.service,
    }
    if mute_reason is not None:
        unmapped["mute_reason"] = mute_reason
    if resource_deleted:
        unmapped["resource_deleted"] = True
        detail = detail or "resource deleted"
    if detail:
        unmapped["status_detail"] = detail
    f["unmapped"] = unmapped
    if detail:
        f["status_detail"] = detail
    if resource.change is not None:
        add_change(f, resource.change)
    elif resource.last_change is not None:
        unmapped["last_changed_by"] = resource.last_change.summary()
    ext = resource.external.get(policy.id)
    if ext:
        ours = {"product": OURS, "uid": uid, "verdict": verdict.value, "status": status.value}
        add_sources(f, ours if resource.ours else None, ext)
    return f


def status_of(status: FindingStatus) -> tuple[int, str]:
    """OCSF ``status_id`` and ``status`` of a lifecycle status (the table above)."""
    return _STATUS[status]


def add_change(f: dict[str, Any], c: Change) -> None:
    """Name the change that caused this record (OCSF 1.3 places its actor, endpoint, user agent
    and API call in an evidence; the same objects are also set at the top level, as detections
    carry them, so alerts and the report read one place for both classes)."""
    user: dict[str, Any] = {"uid": c.principal_arn, "type": c.principal_type, "name": c.principal_name}
    if c.account_id:
        user["account"] = {"uid": c.account_id}
    actor: dict[str, Any] = {"user": user}
    if c.session_issuer:
        actor["session"] = {"issuer": c.session_issuer}
    if c.invoked_by:
        actor["invoked_by"] = c.invoked_by
    api = {"operation": c.event_name, "request": {"uid": c.event_id}}
    f["actor"] = actor
    f["src_endpoint"] = {"ip": c.source_ip}
    f["http_request"] = {"user_agent": c.user_agent}
    f["api"] = api
    data = {"event_uid": c.event_id, "event_time": c.event_time, "event_source": c.event_source}
    f["evidences"] = [
        {
            "name": "cloudtrail",
            "actor": actor,
            "api": api,
            "src_endpoint": f["src_endpoint"],
            "http_request": f["http_request"],
            "data": data,
        }
    ]
    f["unmapped"]["changed_by"] = c.summary()
