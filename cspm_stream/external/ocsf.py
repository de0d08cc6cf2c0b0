"""OCSF records for external findings, and the list of sources every finding of one problem carries.

Decisions:

- A posture-like external finding (``kind == "compliance"``) is a Compliance Finding (2003) on the
  ``findings`` topic; a threat finding (GuardDuty) is a Detection Finding (2004) on ``detections``.
- ``metadata.product`` names who produced the record: the external product for a record only it
  reported (``{"name": "Amazon GuardDuty", "vendor_name": "AWS", "uid": <product/detector ARN>}``),
  cspm_stream when our check or rule is part of it.
- **Sources**: every record of a problem lists every product that reported it in
  ``unmapped.sources`` (``[{"product": ..., "uid": <that product's finding id>, "verdict": ...,
  "status": ..., "updated_at": ...}]``, ours first when we are one of them) and each external one as
  an OCSF ``finding_info.related_events`` entry (``uid`` = its finding id).
- An external finding with no equivalent of ours gets its own uid (``finding_uid("external",
  product, its id)``) and an issue id ``<product>:<control or type>`` in ``unmapped.policy_id``
  (2003) or ``unmapped.rule_id`` (2004), so routes and mutes can name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cspm_stream.external.model import ExternalFinding
from cspm_stream.external.sources import add_sources, our_entry
from cspm_stream.models import ocsf
from cspm_stream.models.enums import FindingStatus, Severity, Verdict
from cspm_stream.policy.ocsf import compliance_status, status_of
from cspm_stream.timeutil import to_ms


def external_uid(ext: ExternalFinding) -> str:
    """The uid of the record of an external finding no check or rule of ours equals."""
    return ocsf.finding_uid("external", ext.product, ext.uid)


def issue_id(ext: ExternalFinding) -> str:
    """``<product>:<control or finding type>`` (``securityhub:S3.8``, ``guardduty:Recon:EC2/PortProbe...``)."""
    return f"{ext.product}:{ext.control or ext.finding_type or 'finding'}"


def ms(iso_time: str, default: int) -> int:
    try:
        return to_ms(iso_time) if iso_time else default
    except ValueError:
        return default


def product_of(ext: ExternalFinding) -> dict[str, Any]:
    vendor = "AWS" if ext.product != "other" else (ext.product_name or "unknown")
    out: dict[str, Any] = {"name": ext.product_name, "vendor_name": vendor}
    if ext.product_uid:
        out["uid"] = ext.product_uid
    return out


def _resource(ext: ExternalFinding) -> dict[str, Any]:
    return {
        "uid": ext.resource_arn,
        "type": ext.resource_type,
        "region": ext.region,
        "account_uid": ext.account_id,
        "labels": [],
    }


def compliance_record(
    ext: ExternalFinding,
    *,
    status: FindingStatus,
    verdict: Verdict,
    activity_id: int,
    first_seen_ms: int,
    last_seen_ms: int,
    time_ms: int,
    uid: str | None = None,
    mute_reason: str | None = None,
) -> dict[str, Any]:
    """A Compliance Finding (2003) of an external finding that no check of ours equals."""
    uid = uid or external_uid(ext)
    f = ocsf.envelope(
        class_uid=ocsf.COMPLIANCE_FINDING,
        activity_id=activity_id,
        severity=Severity(ext.severity) if 0 <= ext.severity <= 5 else Severity.UNKNOWN,
        time_ms=time_ms,
        uid=uid,
        title=ext.title,
        desc=ext.description,
        status_id=status_of(status)[0],
        account_id=ext.account_id,
        region=ext.region,
    )
    f["metadata"]["product"] = product_of(ext)
    f["status"] = status_of(status)[1]
    f["status_code"] = verdict.value.upper()
    c_id, c_label = compliance_status(status, verdict)
    issue = issue_id(ext)
    f["compliance"] = {"standards": [], "requirements": [], "control": issue, "status_id": c_id, "status": c_label}
    f["resources"] = [_resource(ext)]
    fi = f["finding_info"]
    fi["first_seen_time"] = first_seen_ms
    fi["last_seen_time"] = last_seen_ms
    fi["types"] = [ext.resource_type or ext.product]
    fi["analytic"] = {"uid": issue, "name": ext.title, "type_id": 1, "type": "Rule"}
    f["remediation"] = {"desc": ext.remediation or ext.title, "references": [ext.url] if ext.url else []}
    unmapped: dict[str, Any] = {"policy_id": issue, "state": status.value, "service": ext.product}
    if mute_reason is not None:
        unmapped["mute_reason"] = mute_reason
    f["unmapped"] = unmapped
    add_sources(f, None, [ext])
    return f


def detection_record(
    ext: ExternalFinding,
    *,
    activity_id: int,
    uid: str | None = None,
    ours: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Detection Finding (2004) of a threat finding: its own record (``ours`` None), or, joined to
    one of our detections (``ours``: its uid, rule id, title, severity, first/last times), an update
    of that detection listing both sources."""
    last = ms(ext.last_seen, ms(ext.updated_at, 0))
    first = ms(ext.first_seen, last)
    sev = ext.severity
    title, desc = ext.title, ext.description
    rule = issue_id(ext)
    if ours is not None:
        sev = max(sev, int(ours.get("severity", 0)))
        title = str(ours.get("title") or title)
        rule = str(ours.get("rule_id") or rule)
        first = min(first, int(ours.get("first_ms", first)))
        last = max(last, int(ours.get("time_ms", last)))
    f = ocsf.envelope(
        class_uid=ocsf.DETECTION_FINDING,
        activity_id=activity_id,
        severity=Severity(sev) if 0 <= sev <= 5 else Severity.UNKNOWN,
        time_ms=last,
        uid=uid or external_uid(ext),
        title=title,
        desc=desc,
        status_id=ocsf.STATUS_SUPPRESSED if ext.suppressed and ours is None else ocsf.STATUS_NEW,
        account_id=ext.account_id,
        region=ext.region,
    )
    if ours is None:
        f["metadata"]["product"] = product_of(ext)
    fi = f["finding_info"]
    fi["first_seen_time"] = first
    fi["last_seen_time"] = last
    fi["types"] = [ext.finding_type or ext.product]
    fi["analytic"] = {"uid": rule, "name": title, "type_id": 1, "type": "Rule"}
    if ours is not None:
        fi["related_analytics"] = [{"uid": ext.finding_type, "name": ext.product, "type_id": 1, "type": "Rule"}]
    user: dict[str, Any] = {"uid": ext.principal, "type": ext.principal_type, "name": ext.principal}
    user["account"] = {"uid": ext.account_id}
    f["actor"] = {"user": user}
    f["src_endpoint"] = {"ip": ext.source_ip}
    f["http_request"] = {"user_agent": ext.user_agent}
    if ext.api:
        f["api"] = {"operation": ext.api}
    f["resources"] = [_resource(ext)] if ext.resource_arn else []
    unmapped: dict[str, Any] = {"rule_id": rule, "external_type": ext.finding_type}
    f["unmapped"] = unmapped
    ours_entry = our_entry(str(ours["uid"]), "fail", "ACTIVE") if ours is not None else None
    add_sources(f, ours_entry, [ext])
    return f
