"""The sources of one problem, as every finding record lists them (a leaf module: the policy
and external OCSF builders both write them).

``unmapped.sources`` is ``[{"product": ..., "uid": <that product's finding id>, "verdict": ...,
"status": ..., "updated_at": ..., "via": ...}]``, ours first when a check or rule of ours is one of
them; each external one is also an OCSF ``finding_info.related_events`` entry (``uid`` = its id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cspm_stream.external.model import ExternalFinding

OURS = "cspm_stream"


def source_entry(ext: ExternalFinding | Mapping[str, Any]) -> dict[str, Any]:
    """One ``unmapped.sources`` entry (from a finding, or from the entry kept in state)."""
    if isinstance(ext, Mapping):
        return {k: ext[k] for k in ("product", "uid", "verdict", "status", "updated_at", "via") if k in ext}
    return {
        "product": ext.product_name,
        "uid": ext.uid,
        "verdict": ext.verdict,
        "status": ext.status + (" SUPPRESSED" if ext.suppressed and "SUPPRESSED" not in ext.status else ""),
        "updated_at": ext.updated_at,
        "via": ext.via,
    }


def our_entry(uid: str, verdict: str, status: str) -> dict[str, Any]:
    return {"product": OURS, "uid": uid, "verdict": verdict, "status": status}


def related_events(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """OCSF ``finding_info.related_events`` for the external sources (ours is the record itself)."""
    return [
        {"uid": str(e.get("uid", "")), "type": f"{e.get('product', '')} finding"}
        for e in entries
        if e.get("product") != OURS and e.get("uid")
    ]


def add_sources(
    finding: dict[str, Any], ours: dict[str, Any] | None, external: Iterable[ExternalFinding | Mapping[str, Any]]
) -> None:
    """Write the sources (``ours`` first, then ``external``) into an OCSF record in place."""
    entries = [source_entry(e) for e in external]
    if not entries:
        return
    unmapped = finding.setdefault("unmapped", {})
    unmapped["sources"] = ([ours] if ours is not None else []) + entries
    finding.setdefault("finding_info", {})["related_events"] = related_events(entries)
