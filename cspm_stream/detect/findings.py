"""OCSF Detection Finding (class 2004) from a detection record kept in engine state.

The detection record is the JSON-able dict the engine stores per
``(rule, group key, window)``; :func:`build` renders it as the finding the
contract describes (evidence = one entry per triggering CloudTrail record).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.detect.rules import RuleInfo
from cspm_stream.models import ocsf


def actor_of(rec: dict[str, Any]) -> dict[str, Any]:
    """OCSF actor from ``userIdentity``: principal ARN and type, name, account, session issuer."""
    ident = rec.get("userIdentity")
    ident = ident if isinstance(ident, dict) else {}
    ctx = ident.get("sessionContext")
    issuer = ctx.get("sessionIssuer") if isinstance(ctx, dict) else None
    issuer = issuer if isinstance(issuer, dict) else {}
    arn = ident.get("arn") or ""
    if not arn and ident.get("type") == "Root" and ident.get("accountId"):
        arn = f"arn:aws:iam::{ident['accountId']}:root"
    name = ident.get("userName") or issuer.get("userName") or (arn.rsplit("/", 1)[-1] if arn else "")
    user: dict[str, Any] = {
        "uid": arn or str(ident.get("principalId") or ""),
        "type": str(ident.get("type") or ""),
        "name": str(name),
        "account": {"uid": str(ident.get("accountId") or rec.get("recipientAccountId") or "")},
    }
    actor: dict[str, Any] = {"user": user}
    if issuer.get("arn"):
        actor["session"] = {"issuer": str(issuer["arn"])}
    if ident.get("invokedBy"):
        actor["invoked_by"] = str(ident["invokedBy"])
    return actor


def context_of(rec: dict[str, Any]) -> dict[str, Any]:
    """The per-record parts of a finding the detection record keeps (from the latest trigger).

    Only references are taken here (it runs for every repeat); :func:`build` renders them.
    """
    ident = rec.get("userIdentity")
    if ident.__class__ is not dict:
        ident = {}
    return {
        "ui": ident,
        "ip": rec.get("sourceIPAddress") or "",
        "ua": rec.get("userAgent") or "",
        "account": rec.get("recipientAccountId") or ident.get("accountId") or "",
        "region": rec.get("awsRegion") or "",
    }


def build(
    info: RuleInfo, det: dict[str, Any], activity_id: int, ids: list[str], evidences: list[dict[str, Any]]
) -> dict[str, Any]:
    """Render the detection record ``det`` (with its evidence) as an OCSF 2004 finding."""
    f = ocsf.envelope(
        class_uid=ocsf.DETECTION_FINDING,
        activity_id=activity_id,
        severity=info.severity,
        time_ms=int(det["last"]),
        uid=det["uid"],
        title=info.title,
        desc=info.description,
        status_id=ocsf.STATUS_NEW,
        account_id=str(det["account"]),
        region=str(det["region"]),
    )
    fi = f["finding_info"]
    fi["first_seen_time"] = int(det["first"])
    fi["last_seen_time"] = int(det["last"])
    fi["analytic"] = {"uid": info.id, "name": info.title, "type_id": 1, "type": "Rule"}
    fi["attacks"] = info.attacks()
    fi["types"] = ["cloudtrail"]
    f["evidences"] = list(evidences)  # evidence dicts are never mutated: a shallow copy is a snapshot
    f["actor"] = actor_of({"userIdentity": det["ui"], "recipientAccountId": det["account"]})
    f["src_endpoint"] = {"ip": str(det["ip"])}
    f["http_request"] = {"user_agent": str(det["ua"])}
    f["resources"] = list(det["resources"])
    f["count"] = int(det["count"])
    unmapped: dict[str, Any] = {
        "rule_id": info.id,
        "event_ids": list(ids),
        "group_key": det["group"],
        "runbook": info.runbook,
        "rule_kind": info.kind,
        "window_start": det["ws_iso"],
    }
    if det.get("trunc"):
        unmapped["evidence_truncated"] = int(det["trunc"])
    if det.get("tf"):
        unmapped["truncated_fields"] = list(det["tf"])
    f["unmapped"] = unmapped
    return f
