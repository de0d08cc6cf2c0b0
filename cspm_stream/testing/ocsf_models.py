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
