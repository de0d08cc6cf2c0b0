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
class Related:
    prowler: tuple[str, ...] = ()
    securityhub: tuple[str, ...] = ()

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
    id: str
    title: str
    policies: tuple[str, ...]
    automated: bool = True
    description: str = ""


@dataclass(frozen=True, slots=True)
class Framework:
    id: str
    name: str
    version: str
    requirements: tuple[Requirement, ...]
    source: str
    description: str = ""


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
