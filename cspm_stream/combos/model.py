"""Toxic combinations as data: several failing checks that are far worse together.

A :class:`Combination` names an anchor resource type and parts; each part is a set of policy
ids (any one failing counts) checked on the resources a relation reaches from the anchor
(:mod:`cspm_stream.combos.relations`). The combination holds on an anchor when every part has
at least one failing check; the combined finding lists each part's failing checks (their finding
uids) and resolves as soon as any part no longer fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.combos.graph import Graph
from cspm_stream.combos.relations import RELATIONS, index_entries, project
from cspm_stream.models.enums import Severity
from cspm_stream.models.ocsf import finding_uid
from cspm_stream.policy.compiler import compile_condition
from cspm_stream.policy.model import Policy, Related, Remediation


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    via: tuple[str, ...]  # relation names
    policies: frozenset[str]


@dataclass(frozen=True, slots=True)
class CombinationTest:
    name: str
    expect: str  # "pass" | "fail"
    anchor: str
    resources: tuple[tuple[str, str, dict[str, Any]], ...]  # (type, arn, attributes)
    failing: tuple[tuple[str, str], ...]  # (policy id, arn)


@dataclass(frozen=True, slots=True)
class Hit:
    """One failing check that makes a part hold."""

    part: str
    policy_id: str
    resource: str

    @property
    def finding_uid(self) -> str:
        return finding_uid(self.policy_id, self.resource)

    def to_dict(self) -> dict[str, str]:
        return {
            "part": self.part,
            "policy_id": self.policy_id,
            "resource": self.resource,
            "finding_uid": self.finding_uid,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    holds: bool
    hits: tuple[Hit, ...] = ()
    missing: tuple[str, ...] = ()  # parts without a failing check

    def detail(self) -> str:
        if not self.holds:
            return "not all parts fail: " + ", ".join(self.missing)
        by: dict[str, list[str]] = {}
        for h in self.hits:
            by.setdefault(h.part, []).append(f"{h.policy_id} on {h.resource} (finding {h.finding_uid})")
        return "; ".join(f"{part}: {', '.join(v)}" for part, v in by.items())


@dataclass(frozen=True, slots=True)
class Combination:
    id: str
    title: str
    description: str
    rationale: str
    severity: Severity
    anchor: str
    parts: tuple[Part, ...]
    remediation: Remediation
    source: str
    tests: tuple[CombinationTest, ...] = ()
    _policy: list[Policy] = field(default_factory=list, compare=False, repr=False)

    @property
    def policies(self) -> frozenset[str]:
        return frozenset(p for part in self.parts for p in part.policies)

    def evaluate(self, anchor: str, graph: Graph) -> Outcome:
        """Does the combination hold on ``anchor``? (Every part needs a failing check.)"""
        found = graph.resource(anchor)
        if found is None or found[0] != self.anchor:
            return Outcome(False, missing=tuple(p.name for p in self.parts))
        attrs = found[1]
        hits: list[Hit] = []
        missing: list[str] = []
        for part in self.parts:
            targets = sorted({t for rel in part.via for t in RELATIONS[rel].forward(anchor, attrs, graph)})
            mine = [Hit(part.name, pid, t) for t in targets for pid in sorted(graph.failing(t) & part.policies)]
            if not mine:
                missing.append(part.name)
            hits.extend(mine)
        return Outcome(not missing, tuple(hits) if not missing else (), tuple(missing))

    def anchors_reaching(self, resource: str, graph: Graph) -> set[str]:
        """The anchors whose outcome a change on ``resource`` can affect."""
        out: set[str] = set()
        for part in self.parts:
            for rel in part.via:
                out.update(a for a in RELATIONS[rel].reverse(resource, graph) if graph.type_of(a) == self.anchor)
        return out

    def policy(self) -> Policy:
        """The combination as a :class:`Policy` (what the OCSF finding builder takes)."""
        if not self._policy:
            self._policy.append(
                Policy(
                    id=self.id,
                    title=self.title,
                    description=self.description,
                    rationale=self.rationale,
                    severity=self.severity,
                    resource_type=self.anchor,
                    condition=compile_condition({"path": "Parts", "op": "not-empty"}),
                    condition_source={"path": "Parts", "op": "not-empty"},
                    remediation=self.remediation,
                    related=Related(),
                    compliance={},
                    tests=(),
                    source=self.source,
                )
            )
        return self._policy[0]


def graph_of(resources: Iterable[tuple[str, str, dict[str, Any]]], failing: Iterable[tuple[str, str]]) -> Graph:
    """A graph from (type, ARN, attributes) and (policy id, ARN) pairs (tests and examples)."""
    g = Graph(index_entries)
    for rtype, arn, attrs in resources:
        g.upsert(arn, rtype, project(rtype, attrs))
    for pid, arn in failing:
        g.fail(arn, pid, True)
    return g
