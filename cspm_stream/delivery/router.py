"""Pure routing core: deduplication and route matching. No I/O, no clock.

Deduplication is by ``uid + state``: a finding's uid is deterministic (policy +
resource, or rule + group + window), so a replayed or re-delivered record finds
its own trace in ``state`` and is dropped; a *change* of state (new → resolved)
is a new alert. The trace is one small dict per uid (state → time in epoch ms),
bounded by the number of states, and JSON-able for a faust Table.
"""

from __future__ import annotations

import fnmatch
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from cspm_stream.delivery.model import Alert
from cspm_stream.models import Severity
from cspm_stream.settings import RouteSettings

DEDUP_PREFIX = "alert-dedup:"


def is_duplicate(alert: Alert, state: MutableMapping[str, Any], window_s: int, now_ms: int) -> bool:
    """True when the same uid+state was already alerted within ``window_s`` before ``now_ms``.

    Records the alert when it is not a duplicate. ``now_ms`` is the record's own
    time (the finding's ``time``), so a replay is judged by when it happened,
    not when it was re-read.
    """
    if window_s <= 0:
        return False
    key = DEDUP_PREFIX + alert.uid
    seen = state.get(key)
    seen_map: dict[str, int] = dict(seen) if isinstance(seen, dict) else {}
    last = seen_map.get(alert.state)
    if last is not None and abs(now_ms - int(last)) < window_s * 1000:
        return True
    seen_map[alert.state] = now_ms
    state[key] = seen_map  # re-assign: faust Tables persist on __setitem__ only
    return False


@dataclass(frozen=True, slots=True)
class Route:
    """A compiled route: every condition that is set must match."""

    name: str
    sink: str
    min_severity: Severity
    classes: frozenset[int]
    accounts: frozenset[str]
    frameworks: frozenset[str]
    tags: tuple[tuple[str, str], ...]
    states: frozenset[str]
    exclude: tuple[str, ...]

    @classmethod
    def from_settings(cls, r: RouteSettings) -> Route:
        return cls(
            name=r.name,
            sink=r.sink,
            min_severity=Severity(r.min_severity),
            classes=frozenset(r.classes),
            accounts=frozenset(r.accounts),
            frameworks=frozenset(r.frameworks),
            tags=tuple(sorted(r.tags.items())),
            states=frozenset(r.states),
            exclude=tuple(r.exclude),
        )

    def why_not(self, a: Alert) -> str | None:
        """None when the alert matches; otherwise the first reason it does not."""
        if a.severity < self.min_severity:
            return f"severity {a.severity.label} < {self.min_severity.label}"
        if self.classes and a.class_uid not in self.classes:
            return f"class {a.class_uid} not routed"
        if a.state not in self.states:
            return f"state {a.state} not routed"
        if self.accounts and a.account_id not in self.accounts:
            return f"account {a.account_id} not routed"
        if self.frameworks and not (a.is_compliance and self.frameworks.intersection(a.frameworks)):
            return "no routed framework"
        for k, v in self.tags:
            if a.tags.get(k) != v:
                return f"tag {k}={v} missing"
        for pat in self.exclude:
            if fnmatch.fnmatchcase(a.control, pat) or any(fnmatch.fnmatchcase(r, pat) for r in a.resources):
                return f"excluded by {pat!r}"
        return None


class Router:
    """Which sinks an alert goes to: every matching route's sink, each sink once."""

    def __init__(self, routes: Sequence[RouteSettings]) -> None:
        self.routes = tuple(Route.from_settings(r) for r in routes)

    def sinks_for(self, alert: Alert) -> list[str]:
        out: list[str] = []
        for r in self.routes:
            if r.why_not(alert) is None and r.sink not in out:
                out.append(r.sink)
        return out
