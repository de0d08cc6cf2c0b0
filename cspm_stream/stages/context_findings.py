"""The context stage's findings: lifecycle per (policy or combination, resource), OCSF records.

The same state machine as posture (:func:`cspm_stream.policy.lifecycle.step`): a finding is
emitted when its status changes (new, resolved, suppressed, error), never while it keeps
failing — except that a still-open finding whose detail changed (another escalation path,
other parts) is re-emitted as an update, so the compacted ``findings`` topic always shows the
current path. Combinations are tracked only once they have failed (a passing combination is
not a record), principals always (like every posture check).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, MutableMapping
from typing import Any

from cspm_stream.models.codec import dumps
from cspm_stream.models.enums import Verdict
from cspm_stream.models.ocsf import ACTIVITY_UPDATE, COMPLIANCE_FINDING, SCHEMA_BY_CLASS
from cspm_stream.policy.catalog import ComplianceRef
from cspm_stream.policy.lifecycle import FindingState, MuteInfo, Transition, resolve_deleted, step
from cspm_stream.policy.model import Policy
from cspm_stream.policy.mutelist import EMPTY, Mutelist, Subject
from cspm_stream.policy.ocsf import ResourceRef, build_compliance_finding, finding_uid
from cspm_stream.stages.base import Emit, headers_for
from cspm_stream.stages.context_state import Account, finding_key

FINDING_SCHEMA = SCHEMA_BY_CLASS[COMPLIANCE_FINDING]


def _hash(detail: str) -> str:
    return hashlib.blake2b(detail.encode("utf-8"), digest_size=8).hexdigest()


class Findings:
    """Applies verdicts to the stored finding states of one stage and builds the records."""

    def __init__(
        self,
        compliance: Callable[[str], ComplianceRef],
        mutelist: Callable[[], Mutelist] = lambda: EMPTY,
    ) -> None:
        self._compliance = compliance
        self._mutelist = mutelist

    def apply(
        self,
        state: MutableMapping[str, Any],
        acc: Account,
        policy: Policy,
        ref: ResourceRef,
        verdict: Verdict,
        detail: str,
        now_ms: int,
        *,
        track_pass: bool = True,
        unmapped: dict[str, Any] | None = None,
    ) -> Emit | None:
        key = finding_key(acc.id, policy.id, ref.arn)
        rec = state.get(key)
        prev = FindingState.from_json(rec["s"]) if isinstance(rec, dict) and "s" in rec else None
        if prev is None and verdict is Verdict.PASS and not track_pass:
            return None
        mute = None
        if verdict is not Verdict.PASS:
            ml = self._mutelist()
            if len(ml):
                subj = Subject(policy.id, ref.arn, ref.account_id, ref.region, ref.resource_type, ref.tags)
                m = ml.match(subj, now_ms / 1000.0)
                if m is not None:
                    mute = MuteInfo(m.id, m.reason, m.expires_ts)
        new, tr = step(prev, verdict, mute, now_ms, detail)
        h = _hash(detail)
        if (
            tr is None
            and new is not None
            and prev is not None
            and new.is_open
            and isinstance(rec, dict)
            and rec.get("h") != h
        ):
            tr = Transition(prev.status, new.status, ACTIVITY_UPDATE)  # still open, other detail
        if new is None:
            state.pop(key, None)
            acc.states.get(policy.id, set()).discard(ref.arn)
            return None
        state[key] = {"s": new.to_json(), "h": h, "t": ref.resource_type, "r": ref.region, "g": dict(ref.tags)}
        acc.states.setdefault(policy.id, set()).add(ref.arn)
        if tr is None:
            return None
        return self._emit(policy, ref, new, tr, now_ms, detail, unmapped)

    def resolve_gone(
        self, state: MutableMapping[str, Any], acc: Account, policy: Policy, arn: str, now_ms: int
    ) -> Emit | None:
        """The resource is gone: the finding's last record (open ones resolve); its state is dropped."""
        key = finding_key(acc.id, policy.id, arn)
        rec = state.get(key)
        acc.states.get(policy.id, set()).discard(arn)
        if not isinstance(rec, dict) or "s" not in rec:
            state.pop(key, None)
            return None
        new, tr = resolve_deleted(FindingState.from_json(rec["s"]), now_ms)
        state.pop(key, None)
        if new is None or tr is None:
            return None
        ref = ResourceRef(arn, str(rec.get("t", "")), str(rec.get("r", "")), acc.id, dict(rec.get("g") or {}))
        return self._emit(policy, ref, new, tr, now_ms, "", None, deleted=True)

    def _emit(
        self,
        policy: Policy,
        ref: ResourceRef,
        st: FindingState,
        tr: Transition,
        now_ms: int,
        detail: str,
        unmapped: dict[str, Any] | None,
        *,
        deleted: bool = False,
    ) -> Emit:
        f = build_compliance_finding(
            policy=policy,
            resource=ref,
            status=st.status,
            verdict=st.verdict,
            activity_id=tr.activity_id,
            first_seen_ms=st.first_seen,
            last_seen_ms=st.last_seen,
            time_ms=now_ms,
            compliance=self._compliance(policy.id),
            mute_reason=st.mute_reason,
            detail=detail,
            resource_deleted=deleted,
        )
        f["unmapped"]["producer"] = "context"
        if unmapped:
            f["unmapped"].update(unmapped)
        uid = finding_uid(policy.id, ref.arn)
        return Emit("findings", uid, dumps(f), headers_for(FINDING_SCHEMA, state=st.status.value))
