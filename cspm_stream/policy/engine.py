"""Evaluate compiled policies against snapshots (pure: ``now`` is an argument)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from cspm_stream.models.enums import Verdict
from cspm_stream.models.inventory import ResourceSnapshot
from cspm_stream.policy.compiler import Predicate, compile_condition
from cspm_stream.policy.model import EvalContext, Policy
from cspm_stream.policy.operators import epoch_seconds


class Result(NamedTuple):
    policy: Policy
    verdict: Verdict
    #: why ERROR (failed attributes or the exception), else ""
    detail: str = ""


def evaluate_policy(
    policy: Policy,
    attributes: dict[str, object],
    ctx: EvalContext,
    failed: frozenset[str] = frozenset(),
) -> Result:
    """One policy on one resource. ERROR when the condition reads a failed attribute."""
    if failed and ("*" in failed or policy.depends_on_any(failed)):
        # "*": the whole resource type could not be listed (collection-error snapshot)
        hit = sorted(e for e in failed if e == "*" or policy.depends_on_any(frozenset({e})))
        return Result(policy, Verdict.ERROR, "could not read: " + ", ".join(hit))
    try:
        matched = policy.condition.predicate(attributes, ctx)
    except Exception as exc:  # evaluation must never turn a crash into PASS
        return Result(policy, Verdict.ERROR, f"evaluation failed: {type(exc).__name__}: {exc}")
    return Result(policy, Verdict.FAIL if matched else Verdict.PASS)


def context_for(snapshot: ResourceSnapshot, now_ts: float) -> EvalContext:
    return EvalContext(
        now_ts=now_ts,
        tags=snapshot.tags,
        region=snapshot.region,
        account_id=snapshot.account_id,
        resource_id=snapshot.resource_id,
        arn=snapshot.arn,
        resource_type=snapshot.resource_type,
    )


class PolicyEngine:
    """Policies indexed by resource type.

    At construction the policies of each type are compiled once more with the
    sub-conditions they share (same list form, boolean node or check in several
    policies) memoized per resource evaluation: e.g. "this rule is open to the
    world" is computed once per rule, not once per security-group policy.
    """

    def __init__(self, policies: Iterable[Policy]) -> None:
        self.policies: dict[str, Policy] = {}
        by_type: dict[str, list[Policy]] = {}
        for p in policies:
            self.policies[p.id] = p
            by_type.setdefault(p.resource_type, []).append(p)
        self.by_type: dict[str, tuple[Policy, ...]] = {k: tuple(v) for k, v in by_type.items()}
        self._fast: dict[str, tuple[tuple[Policy, Predicate], ...]] = {}
        for rtype, pols in self.by_type.items():
            counts = Counter(n for p in pols for n in p.condition.node_ids)
            shared = frozenset(n for n, k in counts.items() if k > 1)
            self._fast[rtype] = tuple(
                (
                    p,
                    compile_condition(p.condition_source, memo_ids=shared).predicate
                    if shared
                    else p.condition.predicate,
                )
                for p in pols
            )

    def for_type(self, resource_type: str) -> Sequence[Policy]:
        return self.by_type.get(resource_type, ())

    def evaluate(self, snapshot: ResourceSnapshot, now_ts: float | None = None) -> list[Result]:
        """Every policy of the snapshot's type. ``now_ts`` defaults to its ``observed_at``
        (so a replayed snapshot gives the same verdicts)."""
        compiled = self._fast.get(snapshot.resource_type)
        if not compiled:
            return []
        if now_ts is None:
            now_ts = epoch_seconds(snapshot.observed_at) or 0.0
        ctx = context_for(snapshot, now_ts)
        attrs = snapshot.attributes
        if snapshot.errors:
            failed = frozenset(e.attribute for e in snapshot.errors)
            return [evaluate_policy(p, attrs, ctx, failed) for p, _ in compiled]
        out: list[Result] = []
        fail, ok = Verdict.FAIL, Verdict.PASS
        for p, pred in compiled:  # the hot loop: evaluate_policy inlined
            try:
                matched = pred(attrs, ctx)
            except Exception as exc:  # never a silent pass
                out.append(Result(p, Verdict.ERROR, f"evaluation failed: {type(exc).__name__}: {exc}"))
                continue
            out.append(Result(p, fail if matched else ok, ""))
        return out
