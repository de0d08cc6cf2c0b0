"""One-shot evaluation for ``cspm-stream scan`` (pure: no lifecycle, no Kafka).

Each (policy, resource) gives one OCSF Compliance Finding: FAIL → state ``new``
(or ``suppressed`` when muted), ERROR → ``error``, PASS → ``passed`` with
``compliance.status_id`` 1 (emitted only when passes are requested; always counted).
The posture score of a scan is ``100 * passed / (passed + failed)`` over its checks
(errors and muted checks are in neither term), as in the report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.models.enums import FindingStatus, Severity, Verdict
from cspm_stream.models.inventory import AttributeFailure, ResourceSnapshot
from cspm_stream.models.ocsf import ACTIVITY_CREATE
from cspm_stream.policy.catalog import Catalog
from cspm_stream.policy.engine import PolicyEngine
from cspm_stream.policy.model import Policy
from cspm_stream.policy.mutelist import EMPTY, Mutelist, Subject
from cspm_stream.policy.ocsf import ResourceRef, build_compliance_finding
from cspm_stream.policy.operators import epoch_seconds


@dataclass
class ScanTotals:
    resources: int = 0
    evaluations: int = 0
    passed: int = 0
    failed: int = 0
    suppressed: int = 0
    errors: int = 0
    #: failed (not muted) count per severity
    failed_by_severity: dict[Severity, int] = field(default_factory=dict)

    def failed_at_or_above(self, threshold: Severity) -> int:
        return sum(n for sev, n in self.failed_by_severity.items() if sev >= threshold)

    @property
    def score(self) -> float | None:
        """``100 * passed / (passed + failed)``; None when no check passed or failed."""
        decided = self.passed + self.failed
        return 100.0 * self.passed / decided if decided else None

    def summary(self) -> str:
        """One line: resources, checks by outcome and the posture score."""
        score = "n/a" if self.score is None else f"{self.score:.1f}%"
        return (
            f"{self.resources} resources, {self.evaluations} checks: {self.failed} failed, {self.passed} passed, "
            f"{self.suppressed} muted, {self.errors} errors; posture score {score}"
        )


def error_detail(detail: str, policy: Policy, errors: Sequence[AttributeFailure]) -> str:
    """An ERROR verdict's detail with what AWS answered: ``could not read: policy (AccessDenied on
    GetBucketPolicy: ...)`` — the error code and the operation of every failed read the policy depends on."""
    hit = [e for e in errors if e.attribute == "*" or policy.depends_on_any(frozenset({e.attribute}))]
    if not hit:
        return detail
    parts = []
    for e in hit[:4]:
        op, sep, msg = e.message.partition(": ")
        what = f"{e.code} on {op}" if sep and op.isidentifier() else e.code
        text = (msg if sep and op.isidentifier() else e.message)[:160]
        parts.append(f"{e.attribute}: {what}" + (f" ({text})" if text else ""))
    more = f"; {len(hit) - 4} more" if len(hit) > 4 else ""
    return f"{detail} [{'; '.join(parts)}{more}]"


class ScanEvaluator:
    def __init__(self, catalog: Catalog, engine: PolicyEngine, mutelist: Mutelist = EMPTY, *, now_ts: float) -> None:
        self.catalog = catalog
        self.engine = engine
        self.mutelist = mutelist
        self.now_ts = now_ts  # for mute expiry
        self.totals = ScanTotals()

    def findings(self, snap: ResourceSnapshot, *, include_passed: bool) -> Iterator[dict[str, Any]]:
        """Findings of one snapshot, updating :attr:`totals`. Policies are evaluated at
        the snapshot's ``observed_at``."""
        results = self.engine.evaluate(snap)
        if not results:
            return
        t = self.totals
        t.resources += 1
        t.evaluations += len(results)
        obs_ms = int((epoch_seconds(snap.observed_at) or 0.0) * 1000)
        ref = ResourceRef(snap.arn, snap.resource_type, snap.region, snap.account_id, dict(snap.tags))
        for res in results:
            pol = res.policy
            mute_reason: str | None = None
            detail = res.detail
            if res.verdict is Verdict.PASS:
                t.passed += 1
                if not include_passed:
                    continue
                status = FindingStatus.PASSED
            else:
                m = None
                if len(self.mutelist):
                    subj = Subject(pol.id, snap.arn, snap.account_id, snap.region, snap.resource_type, snap.tags)
                    m = self.mutelist.match(subj, self.now_ts)
                if m is not None:
                    t.suppressed += 1
                    status, mute_reason = FindingStatus.SUPPRESSED, m.reason
                elif res.verdict is Verdict.ERROR:
                    t.errors += 1
                    status = FindingStatus.ERROR
                    detail = error_detail(res.detail, pol, snap.errors)
                else:
                    t.failed += 1
                    t.failed_by_severity[pol.severity] = t.failed_by_severity.get(pol.severity, 0) + 1
                    status = FindingStatus.NEW
            yield build_compliance_finding(
                policy=pol,
                resource=ref,
                status=status,
                verdict=res.verdict,
                activity_id=ACTIVITY_CREATE,
                first_seen_ms=obs_ms,
                last_seen_ms=obs_ms,
                time_ms=obs_ms,
                compliance=self.catalog.compliance(pol.id),
                mute_reason=mute_reason,
                detail=detail,
            )
