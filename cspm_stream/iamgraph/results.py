"""What the escalation search finds: each principal's :class:`Result` and the :class:`Hop` s of its path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cspm_stream.iamgraph.model import USER

ADMIN = "admin"
ESCALATES = "escalates"
NONE = "none"
EXCLUDED = "excluded"
#: longest one-line detail a result renders
MAX_DETAIL = 4000


@dataclass(frozen=True, slots=True)
class Hop:
    """One step: ``actor`` uses ``permissions`` on ``via`` (method ``method``) and so holds
    ``target``'s permissions (a gain) or makes ``target`` admin (a modify)."""

    method: str
    actor: str
    target: str
    via: str
    permissions: tuple[str, ...]
    conditions: tuple[str, ...] = ()

    def text(self) -> str:
        s = f"{self.method}: {self.actor} uses {' + '.join(self.permissions)} → {self.target}"
        if self.conditions:
            s += " (" + "; ".join(self.conditions) + ")"
        return s

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "actor": self.actor,
            "target": self.target,
            "via": self.via,
            "permissions": list(self.permissions),
            "conditions": list(self.conditions),
        }


def short_arn(arn: str) -> str:
    """``role/x`` / ``user/x`` for IAM ARNs (readable hops), the ARN otherwise."""
    if arn.startswith("arn:") and ":iam::" in arn:
        return arn.split(":", 5)[-1]
    return arn


@dataclass(frozen=True, slots=True)
class Result:
    principal: str
    kind: str
    status: str
    path: tuple[Hop, ...] = ()
    conditions: tuple[str, ...] = ()  # of being admin
    blocked: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def conditional(self) -> bool:
        return bool(self.conditions) or any(h.conditions for h in self.path)

    def detail(self) -> str:
        """One line: the principal, the method(s) and every hop (what a finding carries)."""
        who = f"{'user' if self.kind == USER else 'role'} {self.principal}"
        if self.status == ESCALATES:
            steps = " ; ".join(f"[{i}] {h.text()}" for i, h in enumerate(self.path, 1))
            methods = ", ".join(dict.fromkeys(h.method for h in self.path))
            out = f"{who} can escalate to admin ({methods}) in {len(self.path)} hop(s): {steps} (admin)"
        elif self.status == ADMIN:
            out = f"{who} is already admin" + (" (" + "; ".join(self.conditions) + ")" if self.conditions else "")
        elif self.status == EXCLUDED:
            out = f"{who} is a service-linked role (not analysed)"
        else:
            out = f"{who}: no escalation path to admin"
            if self.blocked:
                out += "; blocked: " + "; ".join(self.blocked)
        if self.notes:
            out += " [notes: " + "; ".join(self.notes[:5]) + "]"
        return out if len(out) <= MAX_DETAIL else out[: MAX_DETAIL - 1] + "…"

    def to_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "kind": self.kind,
            "status": self.status,
            "conditional": self.conditional,
            "conditions": list(self.conditions),
            "path": [h.to_dict() for h in self.path],
            "blocked": list(self.blocked),
            "notes": list(self.notes),
        }


Cost = tuple[int, int]  # (hops with conditions, hops)
