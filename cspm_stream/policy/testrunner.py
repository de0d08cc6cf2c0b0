"""Run the example snapshots kept beside each policy (``tests:``), like rule tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cspm_stream.models.enums import Verdict
from cspm_stream.models.inventory import AttributeFailure, ResourceSnapshot
from cspm_stream.policy.engine import context_for, evaluate_policy
from cspm_stream.policy.model import Policy, PolicyTest
from cspm_stream.policy.operators import epoch_seconds

#: ``now`` of a test without its own ``now:`` (fixed, so examples never rot)
DEFAULT_TEST_NOW = "2026-01-01T00:00:00Z"


@dataclass(frozen=True, slots=True)
class TestOutcome:
    policy_id: str
    test: str
    expected: str
    got: str
    detail: str
    source: str

    @property
    def ok(self) -> bool:
        return self.expected == self.got


def snapshot_of(policy: Policy, test: PolicyTest) -> ResourceSnapshot:
    service = policy.resource_type.split(".")[1]
    rid = f"test-{policy.id}"
    return ResourceSnapshot(
        arn=f"arn:aws:{service}:{test.region}:{test.account_id}:{rid}",
        resource_type=policy.resource_type,
        resource_id=rid,
        account_id=test.account_id,
        region=test.region,
        observed_at=test.now or DEFAULT_TEST_NOW,
        scan_id="policy-test",
        attributes=test.attributes,
        tags=dict(test.tags),
        errors=[AttributeFailure(a, c, m) for a, c, m in test.errors],
    )


def run_test(policy: Policy, test: PolicyTest) -> TestOutcome:
    snap = snapshot_of(policy, test)
    now_ts = epoch_seconds(snap.observed_at)
    if now_ts is None:
        return TestOutcome(policy.id, test.name, test.expect, "invalid-now", f"bad now {test.now!r}", policy.source)
    failed = frozenset(e.attribute for e in snap.errors)
    res = evaluate_policy(policy, snap.attributes, context_for(snap, now_ts), failed)
    return TestOutcome(policy.id, test.name, test.expect, res.verdict.value, res.detail, policy.source)


def run_tests(policies: Iterable[Policy]) -> list[TestOutcome]:
    out: list[TestOutcome] = []
    for p in policies:
        out.extend(run_test(p, t) for t in p.tests)
    return out


__all__ = ["DEFAULT_TEST_NOW", "TestOutcome", "Verdict", "run_test", "run_tests", "snapshot_of"]
