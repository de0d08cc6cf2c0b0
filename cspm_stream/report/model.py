"""The report model: plain dataclasses every renderer reads (definitions in :mod:`.build`)."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.report.findings import Check, Outcome


@dataclass(slots=True)
class Counts:
    """Checks (current compliance findings) by outcome."""

    passed: int = 0
    failed: int = 0
    error: int = 0
    muted: int = 0

    def add(self, outcome: Outcome, n: int = 1) -> None:
        if outcome is Outcome.PASS:
            self.passed += n
        elif outcome is Outcome.FAIL:
            self.failed += n
        elif outcome is Outcome.ERROR:
            self.error += n
        elif outcome is Outcome.MUTED:
            self.muted += n

    def merge(self, other: Counts) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.error += other.error
        self.muted += other.muted

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.error + self.muted

    def status(self) -> Outcome:
        """Status of a control over these checks: any fail → FAIL, else any error → ERROR, ..."""
        if self.failed:
            return Outcome.FAIL
        if self.error:
            return Outcome.ERROR
        if self.passed:
            return Outcome.PASS
        if self.muted:
            return Outcome.MUTED
        return Outcome.NOT_EVALUATED


@dataclass(slots=True)
class Score:
    """``100 * passed / (passed + failed)`` over checks or over controls; None when that is 0/0."""

    passed: int = 0
    failed: int = 0
    error: int = 0
    muted: int = 0
    value: float | None = None

    @classmethod
    def of(cls, statuses: list[Outcome]) -> Score:
        s = cls(
            passed=statuses.count(Outcome.PASS),
            failed=statuses.count(Outcome.FAIL),
            error=statuses.count(Outcome.ERROR),
            muted=statuses.count(Outcome.MUTED),
        )
        s.value = s.compute()
        return s

    @classmethod
    def of_counts(cls, counts: Counts) -> Score:
        s = cls(passed=counts.passed, failed=counts.failed, error=counts.error, muted=counts.muted)
        s.value = s.compute()
        return s

    def compute(self) -> float | None:
        decided = self.passed + self.failed
        return 100.0 * self.passed / decided if decided else None


@dataclass(slots=True)
class ControlRow:
    policy_id: str
    title: str
    severity: str
    service: str
    status: Outcome
    checks: Counts
    accounts_failing: int = 0


@dataclass(slots=True)
class RequirementRow:
    id: str
    title: str
    section: str
    automated: bool
    policies: list[str]
    status: Outcome
    checks: Counts
    failing_policies: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FrameworkSection:
    id: str
    name: str
    version: str
    score: Score  # over checks
    controls: Score  # over controls
    checks: Counts
    requirements: list[RequirementRow]
    requirement_status: dict[str, int]  # Outcome value -> number of requirements
    requirements_score: Score  # over automated requirements that pass or fail


@dataclass(slots=True)
class Breakdown:
    """One account or one service."""

    key: str
    score: Score  # over checks
    controls: Score  # over controls
    checks: Counts
    failing_by_severity: dict[str, int]


@dataclass(slots=True)
class TrendPoint:
    """One UTC day: failure episodes opened and resolved that day, open at its end, detections first seen."""

    day: str
    opened: int
    resolved: int
    open_failing: int
    detections: int


@dataclass(slots=True)
class Mttr:
    resolved: int
    mean_s: float | None
    median_s: float | None
    max_s: float | None


@dataclass(slots=True)
class DetectionRow:
    uid: str
    rule_id: str
    title: str
    severity: str
    account: str
    region: str
    actor: str
    count: int
    first_seen: str
    last_seen: str


@dataclass(slots=True)
class DetectionSummary:
    total: int
    open_total: int
    open_by_severity: dict[str, int]
    open_by_rule: list[tuple[str, int]]
    recent_open: list[DetectionRow]


@dataclass(slots=True)
class ScopeScore:
    framework: str
    account: str
    score: Score


@dataclass(slots=True)
class Summary:
    score: Score  # over checks: the headline posture score
    controls: Score  # over controls
    checks: Counts
    resources: int
    accounts: int
    failing_resources: int


@dataclass(slots=True)
class Report:
    generated_at: str
    framework_filter: str | None
    account_filter: str | None
    summary: Summary
    frameworks: list[FrameworkSection]
    accounts: list[Breakdown]
    services: list[Breakdown]
    controls: list[ControlRow]
    top_failing: list[ControlRow]
    detections: DetectionSummary
    trend: list[TrendPoint]
    mttr: Mttr
    scores: list[ScopeScore]  # posture score per (framework, account); framework "" = all controls
    rejected: dict[str, int]
    #: the checks in scope, for row-level exports (CSV); left out of :func:`to_dict`
    checks: list[Check] = field(default_factory=list, metadata={"export": False})


def to_dict(value: Any) -> Any:
    """Plain JSON-able data of any report object (enums by value, tuples as lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_dict(getattr(value, f.name)) for f in dataclasses.fields(value) if f.metadata.get("export", True)
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [to_dict(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_dict(v) for k, v in value.items()}
    return value
