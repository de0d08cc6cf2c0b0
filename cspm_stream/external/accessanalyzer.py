"""IAM Access Analyzer findings (``ListFindings``/``ListFindingsV2`` or the EventBridge "Access
Analyzer Finding" event) → ExternalFinding.

Access Analyzer findings are posture-like (OCSF 2003): a resource shared outside the zone of trust,
or access left unused, until fixed. Status ACTIVE → ``fail``; RESOLVED (the access is gone) →
``pass``; ARCHIVED (the owner accepted it as intended, by hand or by an archive rule) →
``suppressed``. A finding whose analysis failed (``error``) is ``error``. Severity: public access
High, access from another account Medium, unused access Low. The uid is the analyzer ARN and the
finding id (finding ids are unique per analyzer only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cspm_stream.errors import DecodeError
from cspm_stream.external import model as m
from cspm_stream.external._common import DESC_CHARS, account, field, items, obj, text, when
from cspm_stream.models.enums import Severity

_UNUSED = ("UnusedIAMRole", "UnusedIAMUserAccessKey", "UnusedIAMUserPassword", "UnusedPermission")


def _who(principal: Mapping[str, Any]) -> str:
    return ", ".join(f"{text(k, 64)}={text(v, 256)}" for k, v in list(principal.items())[:8])


def from_access_analyzer(
    f: Any, *, analyzer_arn: str, region: str = "", via: str = m.ACCESSANALYZER
) -> m.ExternalFinding:
    """Normalise one finding of the analyzer ``analyzer_arn``; :class:`DecodeError` when it has no id,
    resource or status."""
    if not isinstance(f, Mapping):
        raise DecodeError(f"an Access Analyzer finding is an object, got {type(f).__name__}")
    fid = text(field(f, "id"), 128)
    resource = text(field(f, "resource"))
    status = text(field(f, "status"), 20).upper()
    if not fid or not resource or status not in ("ACTIVE", "ARCHIVED", "RESOLVED"):
        raise DecodeError("Access Analyzer finding without id, resource or a known status")
    acct = account(field(f, "resourceOwnerAccount")) or account(field(f, "accountId"))
    parts = analyzer_arn.split(":")
    region = region or text(field(f, "region"), 32) or (parts[3] if len(parts) > 4 else "")
    if not acct and len(parts) > 4:
        acct = account(parts[4])
    if not acct:
        raise DecodeError(f"Access Analyzer finding {fid}: no resource owner account")
    ftype = text(field(f, "findingType"), 64) or "ExternalAccess"
    rtype = text(field(f, "resourceType"), 64)
    public = field(f, "isPublic") is True
    principal = obj(field(f, "principal"))
    actions = [text(a, 128) for a in items(field(f, "action"))[:20]]
    error = text(field(f, "error"), 256)
    if ftype in _UNUSED:
        severity = Severity.LOW
        title = f"{rtype or 'Resource'} {resource}: unused access ({ftype})"
    elif public:
        severity = Severity.HIGH
        title = f"{rtype or 'Resource'} {resource} is public"
    else:
        severity = Severity.MEDIUM
        title = f"{rtype or 'Resource'} {resource} is shared outside the zone of trust"
    desc = title
    if principal:
        desc += f"; principal {_who(principal)}"
    if actions:
        desc += f"; actions {', '.join(actions)}"
    if error:
        desc += f"; analysis error {error}"
    created = when(field(f, "createdAt"))
    updated = when(field(f, "updatedAt")) or created
    return m.ExternalFinding(
        uid=f"{analyzer_arn}/finding/{fid}",
        product=m.ACCESSANALYZER,
        product_name=m.PRODUCT_NAMES[m.ACCESSANALYZER],
        via=via,
        kind=m.COMPLIANCE,
        account_id=acct,
        region=region,
        resource_arn=resource,
        resource_type=rtype,
        title=title[:1024],
        description=desc[:DESC_CHARS],
        severity=int(severity),
        verdict="error" if error else ("pass" if status == "RESOLVED" else "fail"),
        status=status,
        first_seen=created or updated,
        last_seen=when(field(f, "analyzedAt")) or updated,
        updated_at=updated,
        suppressed=status == "ARCHIVED",
        product_uid=analyzer_arn,
        finding_type=ftype,
    )
