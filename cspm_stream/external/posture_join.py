"""Posture-like external findings joined with our checks, inside the posture stage.

The posture stage (:mod:`cspm_stream.stages.posture`) consumes ``external-findings`` (key =
resource ARN, co-partitioned with ``inventory``), so an external finding meets our checks of the
same resource on one partition, and the stage that writes a check's record is the only writer of
its uid on the compacted ``findings`` topic. Per resource the stage keeps, under ``x|<ARN>``, a
list of the external findings about it (one entry per external finding: its product, id, verdict,
status, version, our equivalent policy if any, and the lifecycle of the record it has alone).

What one external finding does (:func:`apply`):

- **the same issue as one of our checks, which we evaluated**: our check's record is emitted
  again (activity 2) listing every source (``unmapped.sources``, ``finding_info.related_events``);
  its status stays ours (our evaluation is the fresher one: event-driven and scheduled), a NEW is
  restated as FAILING (still failing) so the restatement never pages again. Each later record of
  the check lists the sources too.
- **the same issue, not (yet) evaluated by us** (a resource not collected yet, a region not
  scanned): a record under our check's uid, with our policy's title, severity and compliance
  mappings and the external verdict, listing that source; when we evaluate the check, our verdict
  takes over the same uid (so its alert, deduplicated by uid and state, is not sent twice).
- **no equivalent of ours**: a record of its own (``external/ocsf.compliance_record``), with the
  same lifecycle as ours (new / resolved / suppressed, transitions only).

A finding the product suppressed (Security Hub workflow SUPPRESSED, Access Analyzer ARCHIVED) is
SUPPRESSED; the mutelist applies to external records too (the policy id, or ``<product>:<issue>``).
The same version of a finding read again (another path, a replay) changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cspm_stream.external.model import COMPLIANCE, ExternalFinding, clip
from cspm_stream.external.ocsf import compliance_record, external_uid, issue_id, ms
from cspm_stream.external.sources import source_entry
from cspm_stream.models import ocsf
from cspm_stream.models.codec import dumps
from cspm_stream.models.enums import FindingStatus, Verdict
from cspm_stream.policy.lifecycle import FindingState, MuteInfo, Transition, step
from cspm_stream.policy.mutelist import Subject
from cspm_stream.policy.ocsf import ResourceRef
from cspm_stream.stages.base import Emit, headers_for

if TYPE_CHECKING:
    from cspm_stream.stages.posture import PostureHandler

PREFIX = "x|"
#: most external findings remembered per resource (the most recently updated are kept)
MAX_PER_RESOURCE = 200
FINDING_SCHEMA = ocsf.SCHEMA_BY_CLASS[ocsf.COMPLIANCE_FINDING]
_VERDICTS = {"pass": Verdict.PASS, "fail": Verdict.FAIL, "error": Verdict.ERROR}


def sources_of(state: Mapping[str, Any], arn: str) -> dict[str, tuple[dict[str, Any], ...]]:
    """Policy id -> the external findings about this resource that are the same issue as it."""
    raw = state.get(PREFIX + arn)
    out: dict[str, list[dict[str, Any]]] = {}
    if isinstance(raw, list):
        for e in raw:
            if isinstance(e, dict) and e.get("p"):
                out.setdefault(str(e["p"]), []).append(source_entry(e))
    return {k: tuple(v) for k, v in out.items()}


def apply(handler: PostureHandler, ext: ExternalFinding, state: MutableMapping[str, Any], now_ms: int) -> list[Emit]:
    """Join one external finding (see the module docstring); returns the records to emit."""
    from cspm_stream.errors import DecodeError

    ext = clip(ext)
    if ext.kind != COMPLIANCE or not ext.resource_arn:
        raise DecodeError(f"external finding {ext.uid[:100]} is not a posture-like finding with a resource")
    key = PREFIX + ext.resource_arn
    raw = state.get(key)
    entries: list[dict[str, Any]] = [dict(e) for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
    prev = next((e for e in entries if e.get("uid") == ext.uid), None)
    entry = source_entry(ext)
    if prev is not None and str(prev.get("updated_at", "")) >= ext.updated_at and _same(prev, entry):
        return []
    policy = handler.engine.policies.get(ext.policy_id) if ext.policy_id else None
    held = handler.current(ext.resource_arn, policy.id, state) if policy is not None else None
    if policy is not None and held is not None and held[0].resource_type != policy.resource_type:
        policy = held = None  # our record says this ARN is another type: never merge across types
    ours = (held[0], held[1]) if held is not None and held[1] is not None else None
    entry["p"] = policy.id if policy is not None else ""
    entry["i"] = issue_id(ext)
    if prev is not None and "s" in prev and prev.get("p", "") == entry["p"]:
        entry["s"] = prev["s"]
    entries = [e for e in entries if e.get("uid") != ext.uid] + [entry]
    entries = sorted(entries, key=lambda e: str(e.get("updated_at", "")))[-MAX_PER_RESOURCE:]
    state[key] = entries
    sources = sources_of(state, ext.resource_arn)
    if policy is not None and ours is not None:
        ref, st = ours
        ref = replace(ref, change=None, last_change=ref.last_change, external=sources)
        status = FindingStatus.FAILING if st.status is FindingStatus.NEW else st.status
        shown = replace(st, status=status)
        return [handler.finding_emit(policy, ref, shown, Transition(st.status, status, ocsf.ACTIVITY_UPDATE), now_ms)]
    if policy is not None:
        ref = ResourceRef(
            ext.resource_arn, policy.resource_type, ext.region, ext.account_id, {}, external=sources, ours=False
        )
        new, tr = _step(handler, entry, ext, policy.id, ref, now_ms)
        state[key] = entries
        if new is None or tr is None:
            return []
        return [handler.finding_emit(policy, ref, new, tr, now_ms)]
    ref = ResourceRef(ext.resource_arn, ext.resource_type, ext.region, ext.account_id, {})
    new, tr = _step(handler, entry, ext, entry["i"], ref, now_ms)
    state[key] = entries
    if new is None or tr is None:
        return []
    f = compliance_record(
        ext,
        status=new.status,
        verdict=new.verdict,
        activity_id=tr.activity_id,
        first_seen_ms=min(new.first_seen, ms(ext.first_seen, new.first_seen)),
        last_seen_ms=new.last_seen,
        time_ms=now_ms,
        mute_reason=new.mute_reason,
    )
    return [Emit("findings", external_uid(ext), dumps(f), headers_for(FINDING_SCHEMA, state=new.status.value))]


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in ("verdict", "status"))


def _step(
    handler: PostureHandler, entry: dict[str, Any], ext: ExternalFinding, issue: str, ref: ResourceRef, now_ms: int
) -> tuple[FindingState | None, Transition | None]:
    """The lifecycle of the record an external finding has alone (kept in its entry, ``s``)."""
    prev = FindingState.from_json(entry["s"]) if "s" in entry else None
    verdict = _VERDICTS.get(ext.verdict, Verdict.ERROR)
    mute: MuteInfo | None = None
    if verdict is not Verdict.PASS:
        if ext.suppressed:
            mute = MuteInfo(f"{ext.product}:suppressed", f"suppressed in {ext.product_name}", None)
        else:
            ml = handler.mutelist()
            m = ml.match(
                Subject(issue, ref.arn, ref.account_id, ref.region, ref.resource_type, ref.tags), now_ms / 1000
            )
            if m is not None:
                mute = MuteInfo(m.id, m.reason, m.expires_ts)
    detail = f"{ext.product_name}: {ext.status}" if verdict is Verdict.ERROR else ""
    new, tr = step(prev, verdict, mute, now_ms, detail)
    if new is None:
        entry.pop("s", None)
    else:
        entry["s"] = new.to_json()
    return new, tr
