"""Compiled policies, frameworks and the evaluation context (plain, immutable data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cspm_stream.models.enums import Severity
from cspm_stream.policy.compiler import Condition


@dataclass(frozen=True, slots=True)
class Remediation:
    text: str = ""
    references: tuple[str, ...] = ()
    action: str | None = None


@dataclass(frozen=True, slots=True)
class SeeAlso:
    """Wider relations: checks/controls on the same topic whose verdicts differ from ours
    (another scope, threshold or granularity). Never joined as equivalents."""

    prowler: tuple[str, ...] = ()
    securityhub: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Related:
    """``prowler``/``securityhub``: EXACT equivalents only (same verdict, resource for resource);
    ``see_also``: merely related checks and controls."""

    prowler: tuple[str, ...] = ()
    securityhub: tuple[str, ...] = ()
    see_also: SeeAlso = SeeAlso()

    def analytics(self) -> list[dict[str, str]]:
        """OCSF ``finding_info.related_analytics`` entries."""
        out = [{"uid": p, "name": "prowler"} for p in self.prowler]
        out.extend({"uid": s, "name": "securityhub"} for s in self.securityhub)
        return out


@dataclass(frozen=True, slots=True)
class PolicyTest:
    name: str
    expect: str  # "pass" | "fail" | "error" (a Verdict value)
    attributes: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    errors: tuple[tuple[str, str, str], ...] = ()  # (attribute, code, message)
    now: str | None = None
    region: str = "us-east-1"
    account_id: str = "123456789012"


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    title: str
    description: str
    rationale: str
    severity: Severity
    resource_type: str
    condition: Condition
    condition_source: dict[str, Any]
    remediation: Remediation
    related: Related
    compliance: dict[str, tuple[str, ...]]
    tests: tuple[PolicyTest, ...]
    source: str  # file path

    @property
    def service(self) -> str:
        parts = self.resource_type.split(".")
        return parts[1] if len(parts) > 1 else ""

    def depends_on_any(self, failed: frozenset[str] | set[str]) -> bool:
        """Does the condition read one of these (dotted) attribute paths?"""
        for r in self.condition.reads:
            for e in failed:
                if r == e or r.startswith(e + ".") or e.startswith(r + "."):
                    return True
        return False


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement of a standard. ``automated``: cspm_stream evaluates it with ``policies``
    (true exactly when it lists policies); a manual requirement is assessed outside cspm_stream
    and is never reported as passed. ``assessment`` is the standard's own status where it has one
    (CIS: ``automated``/``manual``); ``rationale`` says why the policies evidence the requirement."""

    id: str
    title: str
    policies: tuple[str, ...]
    automated: bool = True
    description: str = ""
    section: str = ""
    rationale: str = ""
    assessment: str = ""


@dataclass(frozen=True, slots=True)
class FrameworkOrigin:
    """A framework file's ``source``: the published standard and version it lists, where the
    requirement ids and titles were read, and what the mappings were compared against."""

    standard: str
    url: str = ""
    requirements: str = ""
    mappings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Review:
    """A framework file's ``review``: who reviewed the policy mappings, when, and how."""

    by: str
    date: str
    method: str
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Framework:
    """A compliance framework (the one framework model: the loader, the catalog and the report
    use it). ``source`` is the file it was loaded from; ``origin`` is the file's ``source:``
    block naming the published standard."""

    id: str
    name: str
    version: str
    requirements: tuple[Requirement, ...]
    source: str
    description: str = ""
    url: str = ""
    origin: FrameworkOrigin | None = None
    review: Review | None = None

    @property
    def automated(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.automated)

    @property
    def manual(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if not r.automated)


class EvalContext:
    """What a condition may read besides attributes (``$`` paths) and ``now``."""

    __slots__ = ("account_id", "arn", "memo", "now_ts", "region", "resource_id", "resource_type", "tags")

    def __init__(
        self,
        *,
        now_ts: float,
        tags: dict[str, str] | None = None,
        region: str = "",
        account_id: str = "",
        resource_id: str = "",
        arn: str = "",
        resource_type: str = "",
    ) -> None:
        self.now_ts = now_ts
        self.tags = tags if tags is not None else {}
        self.region = region
        self.account_id = account_id
        self.resource_id = resource_id
        self.arn = arn
        self.resource_type = resource_type
        #: per-evaluation cache of shared sub-conditions (see compiler._memo); use one
        #: context per resource evaluation
        self.memo: dict[Any, Any] = {}
