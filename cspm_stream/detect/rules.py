"""Loaded rule models: single-event rules, correlation rules and load errors."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.detect.compiler import Compiled
from cspm_stream.detect.fields import MAX_FIELD_CHARS, Getter
from cspm_stream.detect.matchers import Predicate
from cspm_stream.detect.mitre import attacks
from cspm_stream.models.enums import Severity


class CorrelationType(enum.StrEnum):
    EVENT_COUNT = "event_count"
    VALUE_COUNT = "value_count"
    TEMPORAL = "temporal"
    TEMPORAL_ORDERED = "temporal_ordered"


class Op(enum.StrEnum):
    GTE = "gte"
    GT = "gt"

    def holds(self, n: float, bound: float) -> bool:
        return n >= bound if self is Op.GTE else n > bound


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a finding needs to know about the rule that produced it."""

    id: str
    title: str
    description: str
    severity: Severity
    level: str
    tactics: tuple[str, ...]
    techniques: tuple[str, ...]
    runbook: str
    file: str
    name: str | None = None
    status: str = ""
    kind: str = "rule"  # rule | correlation
    references: tuple[str, ...] = ()

    def attacks(self) -> list[dict[str, object]]:
        return attacks(list(self.tactics), list(self.techniques))


@dataclass(slots=True)
class DetectionRule:
    """A compiled single-event Sigma rule."""

    info: RuleInfo
    compiled: Compiled
    #: emit its own detections (False when only used by correlations with ``generate: false``)
    generate: bool = True
    #: correlation rules fed by this rule's matches
    feeds: list[CorrelationRule] = field(default_factory=list)
    #: the predicate to evaluate on a record the index selected (see ``Compiled.residual``)
    residual: Predicate = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.residual = self.compiled.residual or self.compiled.predicate


@dataclass(slots=True)
class CorrelationRule:
    """A compiled Sigma correlation rule over event time."""

    info: RuleInfo
    ctype: CorrelationType
    refs: tuple[str, ...]  # referenced rule ids, in rule order (temporal_ordered)
    group_by: tuple[str, ...]
    #: per referenced rule id: one getter per group-by field (aliases resolved)
    group_getters: dict[str, tuple[Getter, ...]]
    span_ms: int
    op: Op
    threshold: float
    #: value_count only: per referenced rule id, the getter of the counted field
    value_getters: dict[str, Getter] = field(default_factory=dict)
    value_field: str | None = None
    #: per referenced rule id: the group-by fields' scalar readers (the fast path of ``group_keys``)
    group_scalars: dict[str, tuple[Callable[[dict[str, Any]], Any], ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoadError:
    """A rule document that did not load, with the file and the reason."""

    file: str
    rule: str
    reason: str

    def __str__(self) -> str:
        who = f" [{self.rule}]" if self.rule else ""
        return f"{self.file}{who}: {self.reason}"


@dataclass(slots=True)
class RuleSet:
    rules: list[DetectionRule] = field(default_factory=list)
    correlations: list[CorrelationRule] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    #: rules that loaded but select a field CloudTrail lacks (that selection never sees a value)
    warnings: list[LoadError] = field(default_factory=list)
    #: characters of one value the compiled matchers read (longer values were cut)
    max_field_chars: int = MAX_FIELD_CHARS
    #: fields the matchers cut while evaluating the current record (filled by the matchers)
    clipped: set[str] = field(default_factory=set)

    @property
    def loaded(self) -> int:
        return len(self.rules) + len(self.correlations)

    def infos(self) -> list[RuleInfo]:
        return [r.info for r in self.rules] + [c.info for c in self.correlations]

    def find(self, ref: str) -> RuleInfo | None:
        """A rule by id, name or title (exact)."""
        for info in self.infos():
            if ref in (info.id, info.name, info.title):
                return info
        return None
