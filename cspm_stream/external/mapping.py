"""What counts as "the same issue": external findings ↔ our policies and rules (data, validated at load).

- A Security Hub **control** is the same issue as the policy whose ``related.securityhub`` lists that
  control id (exact equivalents only). Several policies may share a control (IAM.27 on users, roles
  and groups): the finding's ASFF resource type decides (``asff_types`` in ``mapping.yaml``); a
  control that stays ambiguous maps to nothing (the finding stays its own, never a wrong merge).
- The **resource** is the same when the finding's resource ARN equals our collector's ARN; an
  account-level control (``AWS::::Account:<id>``) maps to the ARN our collector gives the
  account- or region-level resource type (taken from the rescan table's templates).
- A GuardDuty **finding type** is the same issue as the rules ``mapping.yaml`` lists for it (by
  rule name or id; a name that is not a loaded rule fails the load).

:func:`load_equivalents` builds :class:`Equivalents` from the policies, the loaded rules' names and
the mapping file; nothing here does I/O beyond reading that file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cspm_stream import strict_yaml
from cspm_stream.errors import DefinitionError
from cspm_stream.policy.model import Policy

ACCOUNT_PREFIX = "AWS::::Account:"


def default_mapping_path() -> Path:
    return Path(__file__).resolve().parent / "mapping.yaml"


@dataclass(frozen=True)
class Equivalents:
    """The loaded join data (see the module docstring)."""

    #: GuardDuty finding type -> our rule ids
    guardduty: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: ASFF resource type -> our resource type (to choose between policies sharing a control)
    asff_types: dict[str, str] = field(default_factory=dict)
    #: Security Hub control id -> ((policy id, resource type), ...)
    controls: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    #: resource type -> ARN template ({partition} {region} {account}) of account/region-level types
    account_arns: dict[str, str] = field(default_factory=dict)

    def rules_for(self, finding_type: str) -> tuple[str, ...]:
        return self.guardduty.get(finding_type, ())

    def mapped_rules(self) -> frozenset[str]:
        """Every rule id some external finding type is the same issue as."""
        return frozenset(r for rules in self.guardduty.values() for r in rules)

    def policy_for(
        self, control: str, asff_type: str, resource_id: str, account_id: str, region: str, partition: str = "aws"
    ) -> tuple[str, str] | None:
        """``(policy id, resource ARN as our collector names it)`` for a control finding, or None."""
        cands = self.controls.get(control, ())
        wanted = self.asff_types.get(asff_type)
        if wanted is not None and len(cands) > 1:
            cands = tuple(c for c in cands if c[1] == wanted)
        if len(cands) != 1:
            return None
        policy_id, rtype = cands[0]
        template = self.account_arns.get(rtype)
        if resource_id.startswith(ACCOUNT_PREFIX):
            if template is None or not account_id or (("{region}" in template) and not region):
                return None
            return policy_id, template.format(partition=partition or "aws", region=region, account=account_id)
        if resource_id.startswith("arn:"):
            return policy_id, resource_id
        return None


def control_index(policies: Iterable[Policy]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Security Hub control id -> the policies (id, resource type) listing it in ``related.securityhub``."""
    out: dict[str, list[tuple[str, str]]] = {}
    for p in policies:
        for control in p.related.securityhub:
            out.setdefault(control, []).append((p.id, p.resource_type))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def account_arn_templates() -> dict[str, str]:
    """Resource type -> ARN template of the account- and region-level types (those the rescan
    table resolves from ``{account}`` or ``{region}`` alone), e.g. ``aws.s3.account`` ->
    ``arn:{partition}:s3::{account}:account-settings``."""
    from cspm_stream.detect.rescan import load_map

    out: dict[str, str] = {}
    for specs in load_map().entries.values():
        for spec in specs:
            if spec.arn and spec.ids and all(i in ("{account}", "{region}") for i in spec.ids):
                tmpl = spec.arn.replace("{id}", "{region}" if spec.ids[0] == "{region}" else "{account}")
                out.setdefault(spec.type, tmpl)
    return out


def parse_mapping(
    raw: Any, file: str, rule_ids: Mapping[str, str]
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """``(guardduty, asff_types)`` from the YAML document; ``rule_ids`` maps rule names and ids to ids."""
    if not isinstance(raw, dict):
        raise DefinitionError(file, "top level must be a mapping with 'guardduty' and 'asff_types'")
    unknown = set(raw) - {"guardduty", "asff_types"}
    if unknown:
        raise DefinitionError(file, f"unknown keys {sorted(unknown)}")
    gd_raw = raw.get("guardduty") or {}
    if not isinstance(gd_raw, dict):
        raise DefinitionError(file, "must be a mapping of finding type to rules", path="guardduty")
    guardduty: dict[str, tuple[str, ...]] = {}
    for ftype, entry in gd_raw.items():
        where = f"guardduty.{ftype}"
        if not isinstance(ftype, str) or ":" not in ftype or "/" not in ftype:
            raise DefinitionError(file, "a GuardDuty type reads ThreatPurpose:ResourceType/Name", path=where)
        if not isinstance(entry, dict) or set(entry) - {"rules", "why"} or not isinstance(entry.get("why"), str):
            raise DefinitionError(file, "each type has 'rules' (a list) and 'why' (a sentence)", path=where)
        rules = entry.get("rules")
        if not isinstance(rules, list) or not rules or not all(isinstance(r, str) for r in rules):
            raise DefinitionError(file, "'rules' must be a non-empty list of rule names or ids", path=where)
        ids: list[str] = []
        for r in rules:
            rid = rule_ids.get(r)
            if rid is None:
                raise DefinitionError(file, f"rule {r!r} is not a loaded rule", path=where)
            ids.append(rid)
        guardduty[ftype] = tuple(dict.fromkeys(ids))
    types_raw = raw.get("asff_types") or {}
    if not isinstance(types_raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in types_raw.items()
    ):
        raise DefinitionError(file, "must map ASFF resource types to resource types", path="asff_types")
    return guardduty, dict(types_raw)


def load_equivalents(
    policies: Iterable[Policy], rule_ids: Mapping[str, str], path: str | Path | None = None
) -> Equivalents:
    """The join data: controls from ``policies``, types and rules from the mapping file (default:
    the built-in one); ``rule_ids`` maps every loaded rule's name and id to its id."""
    p = Path(path) if path else default_mapping_path()
    try:  # a regular UTF-8 file of bounded size only (a FIFO would block, /dev/zero never end)
        raw = strict_yaml.load(strict_yaml.read_text(p))
    except strict_yaml.ReadError as exc:
        raise DefinitionError(str(p), str(exc)) from None
    except yaml.YAMLError as exc:
        raise DefinitionError(str(p), f"invalid YAML: {strict_yaml.problem(exc)}") from None
    guardduty, asff_types = parse_mapping(raw, str(p), rule_ids)
    return Equivalents(guardduty, asff_types, control_index(policies), account_arn_templates())


def rule_ids_of(infos: Iterable[Any]) -> dict[str, str]:
    """Name and id of every loaded rule (``RuleInfo``) -> its id."""
    out: dict[str, str] = {}
    for info in infos:
        out[info.id] = info.id
        if info.name:
            out[info.name] = info.id
    return out
