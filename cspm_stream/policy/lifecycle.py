"""Finding lifecycle: a pure state machine per (policy, resource); every outcome is kept.

``step(previous, verdict, mute, now_ms) -> (new_state, transition | None)``::

    verdict  mute   previous                      → new status     emitted activity
    PASS     -      none                          → PASSED         create (1)
    PASS     -      PASSED / RESOLVED             → (unchanged)    -
    PASS     -      NEW/FAILING/SUPPRESSED/ERROR  → RESOLVED       close (3)
    FAIL     no     none/PASSED/RESOLVED          → NEW            create (1)
    FAIL     no     NEW/FAILING                   → FAILING        - (still failing: no re-alert)
    FAIL     no     SUPPRESSED/ERROR              → NEW            update (2)  (re-opened)
    ERROR    no     none/PASSED/RESOLVED          → ERROR          create (1)
    ERROR    no     ERROR                         → ERROR          -
    ERROR    no     NEW/FAILING/SUPPRESSED        → ERROR          update (2)
    FAIL/ERR yes    SUPPRESSED                    → SUPPRESSED     -
    FAIL/ERR yes    none/PASSED/RESOLVED          → SUPPRESSED     create (1)
    FAIL/ERR yes    NEW/FAILING/ERROR             → SUPPRESSED     update (2)
    deleted  -      open (not PASSED/RESOLVED)    → RESOLVED       close (3)
    deleted  -      PASSED / RESOLVED             → (unchanged)    close (3)  (the resource is gone)

So a check's current outcome (PASS, FAIL, MUTED, ERROR) is always on the compacted
findings topic, and a record is emitted only when the status changes: a resource
that keeps passing costs nothing after its first evaluation. A PASS that follows
a FAIL is the RESOLVED transition; a PASS never preceded by a failure is PASSED.

``first_seen`` is set when a finding opens (from none/PASSED/RESOLVED) and kept
while it stays open (for PASSED: the first passing evaluation); ``last_seen`` is
the time of the last observation (not kept for PASSED, whose state is only its
``first_seen``: see :meth:`FindingState.to_json`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cspm_stream.models.enums import FindingStatus, Verdict
from cspm_stream.models.ocsf import ACTIVITY_CLOSE, ACTIVITY_CREATE, ACTIVITY_UPDATE

OPEN = frozenset({FindingStatus.NEW, FindingStatus.FAILING, FindingStatus.SUPPRESSED, FindingStatus.ERROR})
#: statuses of a check that currently passes
CLOSED = frozenset({FindingStatus.PASSED, FindingStatus.RESOLVED})


@dataclass(frozen=True, slots=True)
class FindingState:
    status: FindingStatus
    verdict: Verdict
    first_seen: int  # epoch ms
    last_seen: int  # epoch ms
    mute_id: str | None = None
    mute_reason: str | None = None
    mute_expires_ts: float | None = None  # epoch seconds; a re-check is due then
    detail: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def to_json(self) -> int | str | dict[str, Any]:
        """The stored form: PASSED is its ``first_seen`` (an int); otherwise
        ``"status|verdict|first|last|detail"``, or an object when muted.

        A resource's record holds one of these per policy of its type; 100,000 resources
        hold close to a million, most of them passing, so the common cases are one int
        or one string, not a dict.
        """
        if self.status is FindingStatus.PASSED and self.mute_id is None:
            return self.first_seen
        if self.mute_id is None:
            return f"{self.status.value}|{self.verdict.value}|{self.first_seen}|{self.last_seen}|{self.detail}"
        d: dict[str, Any] = {"s": self.status.value, "v": self.verdict.value, "f": self.first_seen, "l": self.last_seen}
        d["m"] = self.mute_id
        d["mr"] = self.mute_reason
        if self.mute_expires_ts is not None:
            d["x"] = self.mute_expires_ts
        if self.detail:
            d["d"] = self.detail
        return d

    @classmethod
    def from_json(cls, d: int | str | dict[str, Any]) -> FindingState:
        """Any stored form (records written before the string form was adopted are objects)."""
        if isinstance(d, int):
            return cls(FindingStatus.PASSED, Verdict.PASS, d, d)
        if isinstance(d, str):
            status, verdict, first, last, detail = d.split("|", 4)
            return cls(FindingStatus(status), Verdict(verdict), int(first), int(last), detail=detail)
        return cls(
            status=FindingStatus(d["s"]),
            verdict=Verdict(d["v"]),
            first_seen=int(d["f"]),
            last_seen=int(d["l"]),
            mute_id=d.get("m"),
            mute_reason=d.get("mr"),
            mute_expires_ts=d.get("x"),
            detail=str(d.get("d", "")),
        )


@dataclass(frozen=True, slots=True)
class MuteInfo:
    id: str
    reason: str
    expires_ts: float | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    previous: FindingStatus | None
    status: FindingStatus
    activity_id: int


def _activity(prev: FindingState | None) -> int:
    return ACTIVITY_CREATE if prev is None or prev.status in CLOSED else ACTIVITY_UPDATE


def step(
    prev: FindingState | None,
    verdict: Verdict,
    mute: MuteInfo | None,
    now_ms: int,
    detail: str = "",
) -> tuple[FindingState | None, Transition | None]:
    """Apply one verdict. Returns the new state (None = untracked) and the transition to emit."""
    prev_status = prev.status if prev is not None else None
    if verdict is Verdict.PASS:
        if prev is None:
            return FindingState(FindingStatus.PASSED, verdict, now_ms, now_ms), Transition(
                None, FindingStatus.PASSED, ACTIVITY_CREATE
            )
        if prev.status is FindingStatus.PASSED:
            return prev, None
        if prev.status is FindingStatus.RESOLVED:
            return replace(prev, verdict=verdict, last_seen=now_ms, detail=""), None
        new = FindingState(FindingStatus.RESOLVED, verdict, prev.first_seen, now_ms)
        return new, Transition(prev_status, FindingStatus.RESOLVED, ACTIVITY_CLOSE)

    opening = prev is None or prev.status in CLOSED
    first = now_ms if opening or prev is None else prev.first_seen
    if mute is not None:
        new = FindingState(
            FindingStatus.SUPPRESSED, verdict, first, now_ms, mute.id, mute.reason, mute.expires_ts, detail
        )
        if prev is not None and prev.status is FindingStatus.SUPPRESSED:
            return new, None
        return new, Transition(prev_status, FindingStatus.SUPPRESSED, _activity(prev))

    if verdict is Verdict.ERROR:
        new = FindingState(FindingStatus.ERROR, verdict, first, now_ms, detail=detail)
        if prev is not None and prev.status is FindingStatus.ERROR:
            return new, None
        return new, Transition(prev_status, FindingStatus.ERROR, _activity(prev))

    # FAIL, not muted
    if prev is not None and prev.status in (FindingStatus.NEW, FindingStatus.FAILING):
        return FindingState(FindingStatus.FAILING, verdict, first, now_ms), None
    new = FindingState(FindingStatus.NEW, verdict, first, now_ms)
    return new, Transition(prev_status, FindingStatus.NEW, _activity(prev))


def resolve_deleted(prev: FindingState | None, now_ms: int) -> tuple[FindingState | None, Transition | None]:
    """The resource is gone: every open finding resolves, a passing one keeps its status;
    each gets a last (close) record so the current posture no longer counts the resource."""
    if prev is None:
        return None, None
    if prev.is_open:
        new = FindingState(FindingStatus.RESOLVED, Verdict.PASS, prev.first_seen, now_ms)
    else:
        new = FindingState(prev.status, Verdict.PASS, prev.first_seen, now_ms)
    return new, Transition(prev.status, new.status, ACTIVITY_CLOSE)
