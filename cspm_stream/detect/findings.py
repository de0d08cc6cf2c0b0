"""OCSF Detection Finding (class 2004) from a detection record kept in engine state.

The detection record is the JSON-able dict the engine stores per
``(rule, group key, window)``; :func:`build` renders it as the finding the
contract describes (evidence = one entry per triggering CloudTrail record).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.detect.bounded import MAX_ITEMS, MAX_TEXT_CHARS, clip, text
from cspm_stream.detect.rules import RuleInfo
from cspm_stream.models import ocsf
from cspm_stream.timeutil import to_ms

#: OCSF user ``type_id`` per CloudTrail ``userIdentity.type`` (1 User, 2 Admin, 3 System, 99 Other; else 0 Unknown)
USER_TYPE_IDS = {
    "IAMUser": 1,
    "AssumedRole": 1,
    "FederatedUser": 1,
    "IdentityCenterUser": 1,
    "SAMLUser": 1,
    "WebIdentityUser": 1,
    "Directory": 1,
    "Root": 2,
    "AWSService": 3,
    "AWSAccount": 99,
}
#: OCSF account ``type_id`` of an AWS account
AWS_ACCOUNT = 10


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _mfa(v: Any) -> bool | None:
    """``sessionContext.attributes.mfaAuthenticated`` ("true"/"false", or a boolean); anything else: unknown."""
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return None


def _time_ms(v: Any) -> int | None:
    if not isinstance(v, str) or len(v) > 64:
        return None
    try:
        return to_ms(v)
    except ValueError:
        return None


def actor_of(rec: dict[str, Any], limit: int = MAX_TEXT_CHARS) -> dict[str, Any]:
    """OCSF actor from ``userIdentity`` (OCSF's CloudTrail mapping): ``user`` (uid = ARN, uid_alt =
    principalId, type and type_id, name, account, credential_uid = accessKeyId), ``session`` (issuer =
    the session issuer's ARN, is_mfa, created_time, credential_uid), ``invoked_by`` and ``idp``.

    Any JSON type anywhere reads as absent (a number as its text); every text is at most ``limit``
    characters, a cut one marked (:func:`cspm_stream.detect.bounded.clip`).
    """
    ident = _dict(rec.get("userIdentity"))
    ctx = _dict(ident.get("sessionContext"))
    issuer = _dict(ctx.get("sessionIssuer"))
    attrs = _dict(ctx.get("attributes"))
    ptype = text(ident.get("type"), limit)
    account = text(ident.get("accountId"), limit) or text(rec.get("recipientAccountId"), limit)
    arn = text(ident.get("arn"), limit)
    if not arn and ptype == "Root" and account:
        arn = clip(f"arn:aws:iam::{account}:root", limit)
    principal_id = text(ident.get("principalId"), limit)
    invoked_by = text(ident.get("invokedBy"), limit)
    name = (
        text(ident.get("userName"), limit)
        or text(issuer.get("userName"), limit)
        or (arn.rsplit("/", 1)[-1] if "/" in arn else "")
        or ("root" if ptype == "Root" else invoked_by)
    )
    account_obj: dict[str, Any] = {"uid": account}
    if account:
        account_obj.update(type_id=AWS_ACCOUNT, type="AWS Account")
    user: dict[str, Any] = {
        "uid": arn or principal_id or invoked_by,
        "type": ptype,
        "type_id": USER_TYPE_IDS.get(ptype, 0),
        "name": name,
        "account": account_obj,
    }
    if principal_id and principal_id != user["uid"]:
        user["uid_alt"] = principal_id
    key = text(ident.get("accessKeyId"), limit)
    if key:
        user["credential_uid"] = key
    actor: dict[str, Any] = {"user": user}
    session: dict[str, Any] = {}
    issuer_arn = text(issuer.get("arn"), limit)
    if issuer_arn:
        session["issuer"] = issuer_arn
    mfa = _mfa(attrs.get("mfaAuthenticated"))
    if mfa is not None:
        session["is_mfa"] = mfa
    created = _time_ms(attrs.get("creationDate"))
    if created is not None:
        session["created_time"] = created
    if session and key:
        session["credential_uid"] = key
    if session:
        actor["session"] = session
    if invoked_by:
        actor["invoked_by"] = invoked_by
    idp = text(_dict(ident.get("webIdFederationData")).get("federatedProvider"), limit) or text(
        ident.get("identityProvider"), limit
    )
    if idp:
        actor["idp"] = {"name": idp}
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


def _resources(rs: Any, limit: int) -> tuple[list[dict[str, Any]], int]:
    """At most :data:`MAX_ITEMS` resources with bounded uid/type, and how many were left out."""
    rs = rs if isinstance(rs, list) else []
    out = [
        {"uid": text(r.get("uid"), limit), "type": text(r.get("type"), limit)}
        for r in rs[:MAX_ITEMS]
        if isinstance(r, dict)
    ]
    return out, max(len(rs) - MAX_ITEMS, 0)


def build(
    info: RuleInfo,
    det: dict[str, Any],
    activity_id: int,
    ids: list[str],
    evidences: list[dict[str, Any]],
    limit: int = MAX_TEXT_CHARS,
) -> dict[str, Any]:
    """Render the detection record ``det`` (with its evidence) as an OCSF 2004 finding.

    Text from the records (actor, endpoint, user agent, resources, group key, event ids, field
    names) is at most ``limit`` characters (``detection.max_text_chars``), cut text marked; the
    evidences were bounded when kept (:func:`cspm_stream.detect.store.ocsf_evidence`).
    """
    f = ocsf.envelope(
        class_uid=ocsf.DETECTION_FINDING,
        activity_id=activity_id,
        severity=info.severity,
        time_ms=int(det["last"]),
        uid=det["uid"],
        title=info.title,
        desc=info.description,
        status_id=ocsf.STATUS_NEW,
        account_id=text(det["account"], limit),
        region=text(det["region"], limit),
    )
    fi = f["finding_info"]
    fi["first_seen_time"] = int(det["first"])
    fi["last_seen_time"] = int(det["last"])
    fi["analytic"] = {"uid": info.id, "name": info.title, "type_id": 1, "type": "Rule"}
    fi["attacks"] = info.attacks()
    fi["types"] = ["cloudtrail"]
    f["evidences"] = list(evidences)  # evidence dicts are never mutated: a shallow copy is a snapshot
    f["actor"] = actor_of({"userIdentity": det["ui"], "recipientAccountId": det["account"]}, limit)
    f["src_endpoint"] = {"ip": text(det["ip"], limit)}
    f["http_request"] = {"user_agent": text(det["ua"], limit)}
    resources, more_resources = _resources(det["resources"], limit)
    f["resources"] = resources
    f["count"] = int(det["count"])
    unmapped: dict[str, Any] = {
        "rule_id": info.id,
        "event_ids": [clip(i, limit) if i.__class__ is str else text(i, limit) for i in ids],
        "group_key": text(det["group"], limit),
        "runbook": info.runbook,
        "rule_kind": info.kind,
        "window_start": det["ws_iso"],
    }
    if det.get("trunc"):
        unmapped["evidence_truncated"] = int(det["trunc"])
    if more_resources or det.get("rtrunc"):
        unmapped["resources_truncated"] = more_resources + int(det.get("rtrunc") or 0)
    if det.get("tf"):
        tf = det["tf"] if isinstance(det["tf"], list) else []
        unmapped["truncated_fields"] = [text(x, limit) for x in tf[:MAX_ITEMS]]
    f["unmapped"] = unmapped
    return f
