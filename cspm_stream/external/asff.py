"""Security Hub findings (ASFF) → :class:`~cspm_stream.external.model.ExternalFinding`.

What the normaliser decides (pure; any JSON type anywhere; bounded text):

- **product**: from ``ProductArn`` (``.../product/aws/<name>``): Security Hub's own control checks
  (``securityhub``), GuardDuty, Inspector, Macie, IAM Access Analyzer; any other product keeps its
  ``ProductName`` (``other``).
- **kind**: GuardDuty findings, and any product's ``TTPs/``, ``Effects/`` or ``Unusual Behaviors/``
  types, are threat findings (OCSF 2004, ``detection``); everything else — control checks,
  Inspector vulnerabilities, Macie sensitive-data and bucket-policy findings, Access Analyzer
  external access — is posture-like (OCSF 2003, ``compliance``): a state of a resource that
  resolves when fixed.
- **control id** (Security Hub checks only): ``Compliance.SecurityControlId``, else the legacy
  ``ProductFields.ControlId``, else ``GeneratorId`` ``security-control/<id>`` or the FSBP generator
  (whose ids are the control ids). Standard-specific ids (CIS rule numbers, ``PCI.*``) are not
  control ids and map to nothing.
- **verdict**: ``RecordState`` ARCHIVED or ``Workflow.Status`` RESOLVED → ``pass``; for a control,
  ``Compliance.Status`` PASSED → ``pass``, FAILED → ``fail``, WARNING / NOT_AVAILABLE → ``error``
  (no result, never a pass); any other active finding → ``fail``. ``Workflow.Status`` SUPPRESSED
  sets ``suppressed`` (the owner muted it in Security Hub).
- **GuardDuty type** from ``Types`` (Security Hub writes ``TTPs/Defense Evasion/Stealth:IAMUser-
  CloudTrailLoggingDisabled`` for ``Stealth:IAMUser/CloudTrailLoggingDisabled``); the actor from the
  ``AwsIamAccessKey`` resource.
"""

from __future__ import annotations

import re
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
    severity_label,
    subject_of_principal,
    text,
    when,
)
from cspm_stream.external.mapping import Equivalents
from cspm_stream.models.enums import Severity

_PRODUCTS = {
    "securityhub": m.SECURITYHUB,
    "guardduty": m.GUARDDUTY,
    "inspector": m.INSPECTOR,
    "macie": m.MACIE,
    "access-analyzer": m.ACCESSANALYZER,
}
_THREAT_PREFIXES = ("TTPs/", "Effects/", "Unusual Behaviors/")
_GD_TYPE = re.compile(r"([A-Za-z]+):([A-Za-z0-9]+)[-/.](\S+)")
_CONTROL = re.compile(r"[A-Za-z0-9]{1,32}\.[0-9]{1,4}")
_FSBP = re.compile(r"aws-foundational-security-best-practices/v/[0-9.]+/([A-Za-z0-9]+\.[0-9]+)")
_MAX_TYPES = 50


def product_of(f: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(product, display name, product ARN)`` of an ASFF finding."""
    arn = text(f.get("ProductArn"))
    tail = arn.rsplit("/", 1)[-1] if ":product/" in arn else ""
    company = arn.rsplit("/", 2)[-2] if arn.count("/") >= 2 else ""
    product = _PRODUCTS.get(tail) if company == "aws" else None
    if product is None:
        name = text(f.get("ProductName"), 128)
        if name.lower() == "guardduty" and text(f.get("CompanyName")).lower() == "amazon":
            return m.GUARDDUTY, m.PRODUCT_NAMES[m.GUARDDUTY], arn
        return "other", name or tail or "unknown product", arn
    return product, m.PRODUCT_NAMES[product], arn


_OUR_ID = re.compile(r"[0-9a-f]{32}")
_CUSTOM_PRODUCT = re.compile(r"arn:[a-z-]+:securityhub:[a-z0-9-]+:[0-9]{12}:product/[0-9]{12}/default")


def is_ours(f: Mapping[str, Any]) -> bool:
    """Whether an ASFF finding is one of our own alerts exported by the ``securityhub`` sink
    (:mod:`cspm_stream.delivery.asff`: the account's default custom product, our 32-hex finding uid
    as ``Id``): read back it would be the same problem twice, so the pollers skip it."""
    return bool(_OUR_ID.fullmatch(text(f.get("Id"), 64)) and _CUSTOM_PRODUCT.fullmatch(text(f.get("ProductArn"), 256)))


def control_id(f: Mapping[str, Any]) -> str:
    """The Security Hub control id of a control finding (``S3.8``), or ``""``."""
    comp = obj(f.get("Compliance"))
    cid = text(comp.get("SecurityControlId"), 40)
    if not cid:
        cid = text(obj(f.get("ProductFields")).get("ControlId"), 40)
    if not cid:
        gen = text(f.get("GeneratorId"), 256)
        if gen.startswith("security-control/"):
            cid = gen.removeprefix("security-control/")
        elif match := _FSBP.fullmatch(gen):
            cid = match.group(1)
    return cid if _CONTROL.fullmatch(cid) else ""


def guardduty_type(types: Any) -> str:
    """``Stealth:IAMUser/CloudTrailLoggingDisabled`` from an ASFF ``Types`` list, or ``""``."""
    for t in items(types)[:_MAX_TYPES]:
        segs = text(t, 256).split("/")
        for i, seg in enumerate(segs):
            if ":" in seg:
                match = _GD_TYPE.fullmatch("/".join(segs[i:]))
                if match:
                    return f"{match.group(1)}:{match.group(2)}/{match.group(3)}"
                break
    return ""


def _verdict(f: Mapping[str, Any], control: str) -> tuple[str, bool, str]:
    record = text(f.get("RecordState"), 20).upper()
    workflow = text(obj(f.get("Workflow")).get("Status"), 20).upper() or text(f.get("WorkflowState"), 20).upper()
    compliance = text(obj(f.get("Compliance")).get("Status"), 20).upper()
    status = " ".join(s for s in (record, workflow, compliance) if s)
    suppressed = workflow == "SUPPRESSED"
    if record == "ARCHIVED" or workflow == "RESOLVED":
        return "pass", suppressed, status
    if control:
        if compliance == "PASSED":
            return "pass", suppressed, status
        if compliance in ("WARNING", "NOT_AVAILABLE"):
            return "error", suppressed, status
        if compliance != "FAILED":
            return "error", suppressed, status or "no compliance status"
    return "fail", suppressed, status


def from_asff(f: Any, *, via: str = m.SECURITYHUB, eq: Equivalents | None = None) -> m.ExternalFinding:
    """Normalise one ASFF finding; :class:`DecodeError` when it lacks what every finding has
    (``Id``, an account, a resource). With ``eq``, a control finding on a resource we collect
    names our equivalent policy and the ARN our collector uses; a GuardDuty one names our rules."""
    if not isinstance(f, Mapping):
        raise DecodeError(f"an ASFF finding is an object, got {type(f).__name__}")
    uid = text(f.get("Id"), 512)
    if not uid:
        raise DecodeError("ASFF finding without an Id")
    acct = account(f.get("AwsAccountId"))
    if not acct:
        raise DecodeError(f"ASFF finding {uid[:100]}: AwsAccountId is not a 12-digit account id")
    resources = [r for r in items(f.get("Resources"))[:32] if isinstance(r, Mapping)]
    if not resources or not text(resources[0].get("Id")):
        raise DecodeError(f"ASFF finding {uid[:100]}: no resource")
    res = resources[0]
    product, name, product_arn = product_of(f)
    types = [text(t, 256) for t in items(f.get("Types"))[:_MAX_TYPES]]
    threat = product == m.GUARDDUTY or (
        product not in (m.SECURITYHUB, m.INSPECTOR, m.MACIE, m.ACCESSANALYZER)
        and any(t.startswith(_THREAT_PREFIXES) for t in types)
    )
    control = control_id(f) if product == m.SECURITYHUB else ""
    verdict, suppressed, status = _verdict(f, control)
    region = text(res.get("Region"), 32) or text(f.get("Region"), 32)
    partition = text(res.get("Partition"), 16) or "aws"
    sev = obj(f.get("Severity"))
    severity = severity_label(sev.get("Label"), sev.get("Normalized"))
    if severity is Severity.UNKNOWN:
        severity = severity_label(obj(obj(f.get("FindingProviderFields")).get("Severity")).get("Label"))
    rec = obj(obj(f.get("Remediation")).get("Recommendation"))
    created = when(f.get("CreatedAt"))
    updated = when(f.get("UpdatedAt")) or created
    out = m.ExternalFinding(
        uid=uid,
        product=product,
        product_name=name,
        via=via,
        kind=m.DETECTION if threat else m.COMPLIANCE,
        account_id=acct,
        region=region,
        resource_arn=text(res.get("Id")),
        resource_type=text(res.get("Type"), 128),
        title=text(f.get("Title")) or uid[:200],
        description=text(f.get("Description"), DESC_CHARS),
        severity=int(severity),
        verdict=verdict,
        status=status,
        first_seen=when(f.get("FirstObservedAt")) or created or updated,
        last_seen=when(f.get("LastObservedAt")) or updated,
        updated_at=updated,
        suppressed=suppressed,
        product_uid=product_arn,
        control=control,
        remediation=text(rec.get("Text"), DESC_CHARS),
        url=text(rec.get("Url")),
    )
    if not control and types:
        out.finding_type = types[0]  # the issue of a finding that is not a control check
    if threat:
        _threat_fields(out, f, resources, eq)
    elif control and eq is not None:
        hit = eq.policy_for(control, out.resource_type, out.resource_arn, acct, region, partition)
        if hit is not None:
            out.policy_id, out.resource_arn = hit
    return out


def _threat_fields(out: m.ExternalFinding, f: Mapping[str, Any], resources: list[Any], eq: Equivalents | None) -> None:
    if out.product == m.GUARDDUTY:
        out.finding_type = guardduty_type(f.get("Types"))
    for r in resources:
        if text(r.get("Type")) == "AwsIamAccessKey":
            key = obj(obj(r.get("Details")).get("AwsIamAccessKey"))
            out.principal = text(key.get("PrincipalName")) or text(key.get("UserName"))
            out.principal_type = text(key.get("PrincipalType"), 64)
            break
    call = obj(obj(f.get("Action")).get("AwsApiCallAction"))
    out.api = text(call.get("Api"), 128)
    out.source_ip = text(obj(call.get("RemoteIpDetails")).get("IpAddressV4"), 64)
    out.subject = subject_of_principal(out.account_id, out.principal_type, out.principal) or (
        f"{out.account_id}|{out.resource_arn}"
    )
    if eq is not None and out.finding_type:
        out.rules = list(eq.rules_for(out.finding_type)) or None


def findings_of_event(detail: Any) -> list[Any]:
    """The findings of an EventBridge "Security Hub Findings - Imported" event's ``detail``."""
    return items(field(detail, "findings"))
