"""Compliance findings → SARIF 2.1.0 (``scan --format sarif``) and ASFF (``scan --format asff``).

SARIF is what code-scanning tools (GitHub code scanning, Azure DevOps, SonarQube,
DefectDojo) ingest. A pure mapping, findings and policies in, one ``sarifLog`` out:

* one **rule** per policy that has a result (``id`` = policy id; short/full description,
  ``help`` = rationale + remediation text with its references, ``helpUri`` = the first
  reference, ``defaultConfiguration.level`` from the severity, and the
  ``security-severity`` property code-scanning tools sort by: critical 9.5, high 8.0,
  medium 5.5, low 3.0, informational 0.0); tags = resource type, service and frameworks;
* one **result** per finding: ``kind`` ``fail`` (a failing check, ``level`` from its
  severity), ``pass`` (with ``--include-passed``), or ``review`` (ERROR: the check could
  not be evaluated); a muted finding carries an accepted external **suppression** with its
  reason. The **location** is the resource: ``physicalLocation.artifactLocation.uri`` = the
  ARN (an ARN is a URI, scheme ``arn``; characters a URI cannot hold are
  percent-encoded) and a ``logicalLocation`` of kind ``resource`` with the ARN as its
  fully qualified name; ``partialFingerprints`` keep the finding uid, so the same
  (policy, resource) is the same alert across runs.

ASFF: the findings as the JSON array ``aws securityhub batch-import-findings --findings``
takes (100 per call), each exactly what the ``securityhub`` sink imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from cspm_stream.models import Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFORMATIONAL: "note",
    Severity.UNKNOWN: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFORMATIONAL: "0.0",
    Severity.UNKNOWN: "0.0",
}
#: what a SARIF artifact URI may hold unencoded (RFC 3986 reserved + unreserved, no '#', '%', '?', space)
_URI_SAFE = ":/@!$&'()*+,;=-._~"


def resource_uri(arn: str) -> str:
    """The ARN as a URI reference (percent-encoding anything a URI cannot hold)."""
    return quote(arn, safe=_URI_SAFE)


def _severity(f: Mapping[str, Any]) -> Severity:
    sid = f.get("severity_id")
    try:
        return Severity(int(sid)) if isinstance(sid, int) and not isinstance(sid, bool) else Severity.UNKNOWN
    except ValueError:
        return Severity.CRITICAL if isinstance(sid, int) and sid > 5 else Severity.UNKNOWN


def _text(value: Any, limit: int = 4000) -> str:
    return " ".join(str(value or "").split())[:limit]


def _rule(policy_id: str, f: Mapping[str, Any], policy: Any | None) -> dict[str, Any]:
    fi = f.get("finding_info") if isinstance(f.get("finding_info"), dict) else {}
    assert isinstance(fi, dict)
    rem = f.get("remediation") if isinstance(f.get("remediation"), dict) else {}
    assert isinstance(rem, dict)
    sev = policy.severity if policy is not None else _severity(f)
    title = (policy.title if policy is not None else "") or _text(fi.get("title")) or policy_id
    desc = (policy.description if policy is not None else "") or _text(fi.get("desc")) or title
    rationale = policy.rationale if policy is not None else ""
    fix = (policy.remediation.text if policy is not None else "") or _text(rem.get("desc"))
    refs = list(policy.remediation.references) if policy is not None else [str(r) for r in rem.get("references") or []]
    help_parts = [p for p in (rationale, f"Remediation: {fix}" if fix else "") if p]
    help_md = "\n\n".join([*help_parts, *(f"- <{r}>" for r in refs)]) or desc
    rtype = policy.resource_type if policy is not None else str((fi.get("types") or [""])[0])
    comp = f.get("compliance") if isinstance(f.get("compliance"), dict) else {}
    assert isinstance(comp, dict)
    frameworks = [str(s) for s in comp.get("standards") or []]
    tags = ["security", "cloud-posture", *([rtype] if rtype else []), *frameworks]
    rule: dict[str, Any] = {
        "id": policy_id,
        "name": "".join(w.capitalize() for w in policy_id.replace("-", "_").split("_") if w),
        "shortDescription": {"text": _text(title, 1000)},
        "fullDescription": {"text": _text(desc)},
        "help": {"text": _text(" ".join(help_parts) or desc), "markdown": help_md[:8000]},
        "defaultConfiguration": {"level": _LEVEL[sev]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[sev],
            "severity": sev.label.lower(),
            "precision": "high",
            "tags": list(dict.fromkeys(tags)),
        },
    }
    web = [r for r in refs if r.startswith(("https://", "http://"))]
    if web:
        rule["helpUri"] = web[0]
    return rule


def _result(f: Mapping[str, Any], policy_id: str, index: int) -> dict[str, Any]:
    unmapped = f.get("unmapped") if isinstance(f.get("unmapped"), dict) else {}
    assert isinstance(unmapped, dict)
    comp = f.get("compliance") if isinstance(f.get("compliance"), dict) else {}
    assert isinstance(comp, dict)
    fi = f.get("finding_info") if isinstance(f.get("finding_info"), dict) else {}
    assert isinstance(fi, dict)
    resources = [r for r in f.get("resources") or [] if isinstance(r, dict)]
    res = resources[0] if resources else {}
    arn = str(res.get("uid") or "")
    state = str(unmapped.get("state") or "")
    sev = _severity(f)
    status_id = comp.get("status_id")
    if state == "error":
        kind, level = "review", "none"
        detail = _text(unmapped.get("status_detail") or f.get("status_detail"), 500)
        text = f"Not evaluated: {detail or 'the check could not be evaluated'}"
    elif status_id == 1:
        kind, level, text = "pass", "none", "Passed"
    else:
        kind, level, text = "fail", _LEVEL[sev], _text(fi.get("title"), 500) or policy_id
    where = " / ".join(x for x in (str(res.get("account_uid") or ""), str(res.get("region") or "")) if x)
    result: dict[str, Any] = {
        "ruleId": policy_id,
        "ruleIndex": index,
        "kind": kind,
        "level": level,
        "message": {"text": f"{text}: {arn}" + (f" ({where})" if where else "")},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": resource_uri(arn)}},
                "logicalLocations": [
                    {"fullyQualifiedName": arn, "name": arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1], "kind": "resource"}
                ],
            }
        ]
        if arn
        else [],
        "partialFingerprints": {"cspmFindingUid/v1": str(f.get("finding_info", {}).get("uid") or "")},
        "properties": {
            "state": state,
            "account": str(res.get("account_uid") or ""),
            "region": str(res.get("region") or ""),
            "resourceType": str(res.get("type") or ""),
            "requirements": [str(r) for r in comp.get("requirements") or []],
        },
    }
    if state == "suppressed":
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": _text(unmapped.get("mute_reason"), 1000)}
        ]
    return result


def to_sarif(
    findings: Iterable[Mapping[str, Any]], policies: Mapping[str, Any] | None = None, *, version: str = ""
) -> dict[str, Any]:
    """One SARIF 2.1.0 log of the compliance findings (``policies``: policy id → Policy, for rule text)."""
    if not version:
        from cspm_stream import __version__

        version = __version__
    pols = policies or {}
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for f in findings:
        unmapped = f.get("unmapped") if isinstance(f.get("unmapped"), dict) else {}
        assert isinstance(unmapped, dict)
        comp = f.get("compliance") if isinstance(f.get("compliance"), dict) else {}
        assert isinstance(comp, dict)
        pid = str(unmapped.get("policy_id") or comp.get("control") or "unknown")
        if pid not in index:
            index[pid] = len(rules)
            rules.append(_rule(pid, f, pols.get(pid)))
        results.append(_result(f, pid, index[pid]))
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cspm-stream",
                        "version": version,
                        "semanticVersion": version,
                        "rules": rules,
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def to_asff_list(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The findings as ASFF documents (what the securityhub sink imports, one per finding)."""
    import orjson

    from cspm_stream.delivery.asff import to_asff
    from cspm_stream.delivery.model import alert_from_finding

    return [to_asff(alert_from_finding(dict(f), orjson.dumps(f))) for f in findings]
