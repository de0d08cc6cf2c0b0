"""The loaded catalog: policies + frameworks + the policy → requirement mapping."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cspm_stream.errors import DefinitionError, PolicyError
from cspm_stream.policy.engine import PolicyEngine
from cspm_stream.policy.frameworks import (
    builtin_framework_dir,
    check_references,
    load_frameworks,
    mapping,
)
from cspm_stream.policy.loader import builtin_policy_dir, load_policies
from cspm_stream.policy.model import Framework, Policy
from cspm_stream.settings import PolicySettings


@dataclass(frozen=True)
class ComplianceRef:
    standards: tuple[str, ...]
    requirements: tuple[str, ...]  # "<framework>:<req id>"


@dataclass
class Catalog:
    policies: dict[str, Policy]
    frameworks: dict[str, Framework]
    refs: dict[str, ComplianceRef] = field(default_factory=dict)

    def __post_init__(self) -> None:
        m = mapping(self.frameworks.values(), self.policies)
        for pid, pairs in m.items():
            stds = tuple(dict.fromkeys(f for f, _ in pairs))
            self.refs[pid] = ComplianceRef(stds, tuple(f"{f}:{r}" for f, r in pairs))

    def engine(self, framework: str | None = None) -> PolicyEngine:
        """An engine over every policy, or only those mapped to ``framework``."""
        if framework is None:
            return PolicyEngine(self.policies.values())
        if framework not in self.frameworks:
            raise PolicyError(framework, f"unknown framework (have: {', '.join(sorted(self.frameworks))})")
        return PolicyEngine(p for pid, p in self.policies.items() if framework in self.refs[pid].standards)

    def compliance(self, policy_id: str) -> ComplianceRef:
        return self.refs.get(policy_id, ComplianceRef((), ()))


def dirs_for(settings: PolicySettings) -> tuple[list[Path], list[Path]]:
    pdirs = [builtin_policy_dir()] if settings.builtin_policies else []
    pdirs += [Path(d) for d in settings.policy_dirs]
    # built-in frameworks map built-in policies: without those they would not resolve
    fdirs = [builtin_framework_dir()] if settings.builtin_policies else []
    fdirs += [Path(d) for d in settings.framework_dirs]
    return pdirs, fdirs


def load_catalog(
    policy_dirs: Iterable[str | Path],
    framework_dirs: Iterable[str | Path],
    *,
    strict: bool | None = None,
    errors: list[DefinitionError] | None = None,
) -> Catalog:
    """Load and cross-check. Without ``errors`` the first problem raises."""
    perrs: list[PolicyError] = []
    policies = load_policies(policy_dirs, strict=strict, errors=perrs)
    ferrs: list[DefinitionError] = []
    frameworks = load_frameworks(framework_dirs, errors=ferrs)
    all_errs: list[DefinitionError] = [
        *perrs,
        *ferrs,
        *check_references(frameworks, (p.id for p in policies)),
    ]
    if all_errs:
        if errors is None:
            raise all_errs[0]
        errors.extend(all_errs)
    return Catalog({p.id: p for p in policies}, {f.id: f for f in frameworks})


def catalog_from_settings(settings: PolicySettings) -> Catalog:
    pdirs, fdirs = dirs_for(settings)
    return load_catalog(pdirs, fdirs)
