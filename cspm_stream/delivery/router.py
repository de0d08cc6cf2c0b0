"""Pure routing core: deduplication and route matching. No I/O, no clock.

Deduplication is by ``uid + state``: a finding's uid is deterministic (policy +
resource, or rule + group + window), so a replayed or re-delivered record finds
its own trace in ``state`` and is dropped; a *change* of state (new → resolved)
is a new alert, and so is a return to an earlier state after another one (new →
resolved → new: the check failed again). The trace is one small dict per uid
(state → time in epoch ms), bounded by the number of states, JSON-able for the
changelog.

Only checks that something is sent for hold a trace: a record no route and no
remediation command takes (``passed`` by default) leaves no state, unless its uid
already has a trace — then it is noted there (so a later failure counts as a change),
or the trace is dropped once all of it is older than the window (:func:`note_unsent`).
In an estate of 100,000 resources most checks pass and never cost the alert router
anything.
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
    """True when the same uid+state was already alerted within ``window_s`` of ``now_ms`` and the
    check went through no other state since (a replay, a redelivery, a detection's repeat).

    Records the alert when it is not a duplicate. ``now_ms`` is the record's own
    time (the finding's ``time``), so a replay is judged by when it happened,
    not when it was re-read.
    """
    if window_s <= 0:
        return False
    key = DEDUP_PREFIX + alert.uid
    seen = _trace(state.get(key))
    last = seen.get(alert.state)
    if last is not None and _repeat(seen, alert.state, last, now_ms, window_s * 1000):
        return True
    seen[alert.state] = now_ms if last is None else max(last, now_ms)
    state[key] = seen  # re-assign: the state view records changes on __setitem__ only
    return False


def note_unsent(alert: Alert, state: MutableMapping[str, Any], window_s: int, now_ms: int) -> None:
    """A record nothing is sent for (no route, no command): no trace is made for it. When its uid
    has one (an earlier state was alerted), the state is noted there, so a later alert of the earlier
    state is a change and not a repeat (new, resolved unrouted, new again: alerted); when all of the
    trace is older than the window, the trace is dropped instead (it can no longer match)."""
    if window_s <= 0:
        return
    key = DEDUP_PREFIX + alert.uid
    raw = state.get(key)
    if raw is None:
        return
    seen = _trace(raw)
    if all(now_ms - t >= window_s * 1000 for t in seen.values()):
        del state[key]
        return
    last = seen.get(alert.state)
    if last is not None and last >= now_ms:
        return  # a replay: noted already
    seen[alert.state] = now_ms
    state[key] = seen


def _trace(raw: object) -> dict[str, int]:
    """A stored trace, as a fresh dict (anything else restored from the changelog: empty)."""
    if not isinstance(raw, dict):
        return {}
    return {str(k): int(v) for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}


def _repeat(seen: dict[str, int], st: str, last: int, now_ms: int, window_ms: int) -> bool:
    """Whether state ``st`` at ``now_ms`` repeats its trace entry ``last``."""
    if now_ms <= last:  # this alert again, or an older record of the state replayed
        return last - now_ms < window_ms
    if now_ms - last >= window_ms:
        return False
    # later, within the window: a repeat unless the check was in another state in between
    return not any(last < t <= now_ms for s, t in seen.items() if s != st)


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
