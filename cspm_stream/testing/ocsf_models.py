"""Validate findings against the OCSF models of ``py-ocsf-models`` (a test-time dependency).

    from cspm_stream.testing.ocsf_models import ocsf_errors
    assert ocsf_errors(finding) == []

Classes 2003 (Compliance Finding) and 2004 (Detection Finding) are validated with
``ComplianceFinding.model_validate`` / ``DetectionFinding.model_validate``; the
result is a list of ``"<field path>: <message>"`` strings (empty when valid).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def ocsf_errors(finding: Mapping[str, Any], *, shape: bool = False) -> list[str]:
    """Why ``finding`` fails its class's OCSF model; ``[]`` when it validates. With ``shape``,
    list indices in the field paths read ``[]`` (so errors of many findings can be counted)."""
    from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding
    from pydantic import ValidationError

    cls = finding.get("class_uid")
    model: Any
    if cls == 2003:
        model = ComplianceFinding
    elif cls == 2004:
        model = DetectionFinding
    else:
        return [f"class_uid: {cls!r} is neither 2003 nor 2004"]
    try:
        model.model_validate(dict(finding))
    except ValidationError as exc:
        out = []
        for e in exc.errors():
            loc = ".".join("[]" if shape and isinstance(p, int) else str(p) for p in e["loc"])
            out.append(f"{loc}: {e['msg']}")
        return out
    return []


def failing(findings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Error (field shape: message) → how many findings have it; ``{}`` when every finding validates."""
    out: dict[str, int] = {}
    for f in findings:
        for err in ocsf_errors(f, shape=True):
            out[err] = out.get(err, 0) + 1
    return out


#: OCSF session attributes a detection's actor may carry, with their types
_SESSION_TYPES: dict[str, type] = {
    "issuer": str,
    "is_mfa": bool,
    "created_time": int,
    "credential_uid": str,
    "uid": str,
}


def actor_errors(actor: Mapping[str, Any]) -> list[str]:
    """Why a finding's ``actor`` is not OCSF; ``[]`` when it is.

    py-ocsf-models has no Actor or Session model (its DetectionFinding ignores ``actor``), so
    ``actor.user`` is validated with its ``User`` model and ``actor.session`` by OCSF's attribute
    types. That ``User`` model requires ``account.name``, which OCSF only recommends and CloudTrail
    never gives: an account without a name is validated with its uid in that place.
    """
    from py_ocsf_models.objects.user import User
    from pydantic import ValidationError

    out: list[str] = []
    user = actor.get("user")
    if not isinstance(user, Mapping):
        return ["user: missing"]
    u = dict(user)
    acct = u.get("account")
    if isinstance(acct, Mapping) and "name" not in acct:
        u["account"] = {**acct, "name": acct.get("uid"), "type_id": acct.get("type_id", 0)}
    try:
        User.model_validate(u)
    except ValidationError as exc:
        out.extend(f"user.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    for key in set(actor) - {"user", "session", "invoked_by", "idp"}:
        out.append(f"{key}: not an actor attribute")
    session = actor.get("session")
    if session is not None:
        if not isinstance(session, Mapping) or not session:
            out.append("session: expected a non-empty object")
        else:
            for k, v in session.items():
                want = _SESSION_TYPES.get(k)
                if want is None:
                    out.append(f"session.{k}: not a session attribute")
                elif type(v) is not want:
                    out.append(f"session.{k}: expected {want.__name__}, not {type(v).__name__}")
    if "invoked_by" in actor and not isinstance(actor["invoked_by"], str):
        out.append("invoked_by: expected a string")
    idp = actor.get("idp")
    if idp is not None and not (isinstance(idp, Mapping) and isinstance(idp.get("name"), str)):
        out.append("idp: expected an object with a name")
    return out
