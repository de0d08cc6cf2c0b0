"""MITRE ATT&CK coverage of a rule set, and its ATT&CK Navigator layer (format 4.5).

A technique is *covered* by a rule that alerts: a single-event rule that generates its
own detections, or a correlation rule, under the tactics of its tags the technique belongs to
(:func:`~cspm_stream.detect.mitre.pairs`). Rules that only feed correlations
(``generate: false``) and shadow rules (evaluated, never alerted) do not count; shadow
rules are listed apart. Coverage is per (tactic, technique) as the rules' tags say.

The layer (:func:`navigator_layer`) follows the Navigator layer format 4.5: ``name``,
``domain: enterprise-attack``, ``versions {attack, navigator, layer: "4.5"}``, one
technique object per (technique, tactic) with ``score`` = the number of rules, the rule
titles as ``comment`` and their ids as ``metadata``, and a gradient from 0 to the
highest score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cspm_stream.detect.mitre import TACTICS, TECHNIQUES, pairs
from cspm_stream.detect.rules import RuleInfo, RuleSet

#: ATT&CK release the tactic names in :mod:`cspm_stream.detect.mitre` follow
ATTACK_VERSION = "19"
NAVIGATOR_VERSION = "5.2.0"
LAYER_VERSION = "4.5"


@dataclass
class Coverage:
    """(tactic short name → technique id → rules), plus what did not count and why."""

    by_tactic: dict[str, dict[str, list[RuleInfo]]] = field(default_factory=dict)
    untagged: list[RuleInfo] = field(default_factory=list)  # alerting rules without a technique tag
    shadow: list[RuleInfo] = field(default_factory=list)
    alerting: int = 0
    correlations: int = 0

    @property
    def techniques(self) -> set[str]:
        return {t for techs in self.by_tactic.values() for t in techs}


def alerting_rules(rules: RuleSet, shadow: frozenset[str] = frozenset()) -> tuple[list[RuleInfo], list[RuleInfo]]:
    """(rules that alert, shadow rules) of ``rules``."""
    live: list[RuleInfo] = []
    shadowed: list[RuleInfo] = []
    for info in [r.info for r in rules.rules if r.generate] + [c.info for c in rules.correlations]:
        if info.status == "shadow" or {info.id, info.name} & shadow:
            shadowed.append(info)
        else:
            live.append(info)
    return live, shadowed


def coverage(rules: RuleSet, shadow: frozenset[str] = frozenset()) -> Coverage:
    live, shadowed = alerting_rules(rules, shadow)
    cov = Coverage(shadow=shadowed, alerting=len(live), correlations=sum(1 for i in live if i.kind == "correlation"))
    for info in live:
        if not info.techniques:
            cov.untagged.append(info)
            continue
        for tactic, tech in pairs(info.tactics, info.techniques):
            cov.by_tactic.setdefault(tactic, {}).setdefault(tech, []).append(info)
    return cov


def tactic_label(short: str) -> str:
    if not short:
        return "(no tactic tag)"
    uid, name = TACTICS.get(short, ("", short))
    return f"{uid} {name}".strip()


def technique_label(tid: str) -> str:
    return f"{tid} {TECHNIQUES.get(tid, '')}".strip()


def _tactic_order(short: str) -> int:
    order = list(TACTICS)
    return order.index(short) if short in order else len(order)


def report_lines(cov: Coverage) -> list[str]:
    """The text ``rules coverage`` prints: techniques per tactic, then totals."""
    lines: list[str] = []
    for tactic in sorted(cov.by_tactic, key=_tactic_order):
        techs = cov.by_tactic[tactic]
        n_rules = len({i.id for infos in techs.values() for i in infos})
        lines.append(f"{tactic_label(tactic)}: {len(techs)} techniques, {n_rules} rules")
        for tid in sorted(techs):
            infos = techs[tid]
            lines.append(f"  {technique_label(tid)} ({len(infos)} rule{'s' if len(infos) != 1 else ''})")
    lines.append("")
    lines.append(
        f"{len(cov.techniques)} techniques in {len(cov.by_tactic)} tactics covered by {cov.alerting} alerting rules"
        f" ({cov.correlations} correlations)"
    )
    if cov.untagged:
        lines.append(f"{len(cov.untagged)} alerting rules without an ATT&CK technique tag:")
        lines += [f"  {i.title} ({i.file})" for i in cov.untagged]
    if cov.shadow:
        lines.append(f"{len(cov.shadow)} shadow rules (not counted): " + ", ".join(sorted(i.title for i in cov.shadow)))
    return lines


def navigator_layer(cov: Coverage, name: str = "cspm_stream detection coverage") -> dict[str, Any]:
    """The ATT&CK Navigator layer (format 4.5) of ``cov``."""
    techniques: list[dict[str, Any]] = []
    for tactic in sorted(cov.by_tactic, key=_tactic_order):
        for tid in sorted(cov.by_tactic[tactic]):
            infos = sorted(cov.by_tactic[tactic][tid], key=lambda i: i.title)
            obj: dict[str, Any] = {
                "techniqueID": tid,
                "score": len(infos),
                "comment": "; ".join(i.title for i in infos),
                "enabled": True,
                "metadata": [{"name": "rule", "value": f"{i.id} ({i.level})"} for i in infos],
                "showSubtechniques": False,
            }
            if tactic:
                obj["tactic"] = tactic
            techniques.append(obj)
    top = max((t["score"] for t in techniques), default=0)
    return {
        "name": name,
        "versions": {"attack": ATTACK_VERSION, "navigator": NAVIGATOR_VERSION, "layer": LAYER_VERSION},
        "domain": "enterprise-attack",
        "description": (
            f"{len(cov.techniques)} techniques covered by {cov.alerting} alerting rules; score = rules per technique"
        ),
        "filters": {"platforms": ["IaaS", "Identity Provider", "SaaS"]},
        "sorting": 3,
        "layout": {"layout": "side", "showID": True, "showName": True, "expandedSubtechniques": "annotated"},
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {"colors": ["#dbeafe", "#1d4ed8"], "minValue": 0, "maxValue": max(top, 1)},
        "legendItems": [],
        "metadata": [{"name": "generator", "value": "cspm-stream rules coverage"}],
        "links": [],
        "showTacticRowBackground": False,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
        "selectVisibleTechniques": False,
    }
