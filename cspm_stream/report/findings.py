"""Normalise OCSF finding dicts (classes 2003 and 2004) into the report's flat records.

The report reads untrusted JSON from Kafka or a file, so every field access is
defensive: a malformed finding is *rejected with a reason* (and counted in the
report), never silently turned into a pass.

How a compliance finding's current value becomes an :class:`Outcome`. When
``unmapped.state`` names a lifecycle status (this project's findings):

* ``passed`` → PASS; ``resolved`` → PASS, resolved at the finding's ``time``
  (the observation that resolved it); ``new``/``failing`` → FAIL;
  ``suppressed`` → MUTED; ``error`` → ERROR.

Otherwise (another producer's finding), the first rule that applies wins:

1. ``status_id == 3`` (suppressed) → MUTED
2. ``status_id == 4`` (resolved) → PASS, resolved at the finding's ``time``
3. by ``compliance.status_id``: 1 → PASS, 3 → FAIL, anything else
   (missing, 2 "warning", garbage) → ERROR (never a pass)

A finding whose ``unmapped.resource_deleted`` is true is the last record of a
check on a resource that no longer exists: it is kept (failure episodes, time to
resolve) but its check is ``deleted`` and counts in no score.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.errors import DecodeError
from cspm_stream.models import ocsf
from cspm_stream.models.codec import loads_object
from cspm_stream.models.enums import FindingStatus, Severity


class Outcome(enum.StrEnum):
    """Status of a check, a control or a requirement in the report."""

    PASS = "pass"  # noqa: S105 (a verdict)
    FAIL = "fail"
    ERROR = "error"  # could not be evaluated: never counted as a pass
    MUTED = "muted"  # suppressed by the mutelist: excluded from scores
    NOT_EVALUATED = "not-evaluated"  # nothing in scope to evaluate
    MANUAL = "manual"  # a requirement with no automated policy


@dataclass(slots=True)
class Check:
    """Current state of one (policy, resource) pair: one compliance finding."""

    uid: str
    policy_id: str
    title: str
    severity: Severity
    account: str
    region: str
    service: str
    resource_uid: str
    resource_type: str
    outcome: Outcome
    state: str
    first_seen_ms: int
    last_seen_ms: int
    resolved_ms: int | None  # set only for resolved findings
    requirements: frozenset[tuple[str, str]]  # (framework id, requirement id) cited by the finding
    deleted: bool = False  # the resource is gone: history only, in no current figure
    #: who changed the resource (the CloudTrail change behind the check's state, or the last one):
    #: principal_arn, source_ip, event_name, event_time; None when no change was recorded
    changed_by: dict[str, str] | None = None
    #: the products that reported this problem when more than one did (cspm_stream first)
    sources: tuple[str, ...] = ()

    @property
    def was_failing(self) -> bool:
        """True for a failure episode: failing now, or failing once and resolved since."""
        return self.outcome is Outcome.FAIL or self.resolved_ms is not None


@dataclass(slots=True)
class Detection:
    """Current value of one threat detection (OCSF 2004)."""

    uid: str
    rule_id: str
    title: str
    severity: Severity
    account: str
    region: str
    status_id: int
    first_seen_ms: int
    last_seen_ms: int
    count: int
    actor: str

    @property
    def is_open(self) -> bool:
        return self.status_id not in (ocsf.STATUS_SUPPRESSED, ocsf.STATUS_RESOLVED)


@dataclass(slots=True)
class Inputs:
    """What the report is built from: current checks and detections, plus what was rejected."""

    checks: list[Check] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> count

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _str(v: Any, default: str = "") -> str:
    return v if isinstance(v, str) else default


def _int(v: Any, default: int) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else default


def _severity(obj: Mapping[str, Any]) -> Severity:
    try:
        return Severity(obj["severity_id"])
    except (KeyError, ValueError):
        return Severity.UNKNOWN


_BY_STATE = {
    FindingStatus.PASSED.value: (Outcome.PASS, False),
    FindingStatus.RESOLVED.value: (Outcome.PASS, True),
    FindingStatus.NEW.value: (Outcome.FAIL, False),
    FindingStatus.FAILING.value: (Outcome.FAIL, False),
    FindingStatus.SUPPRESSED.value: (Outcome.MUTED, False),
    FindingStatus.ERROR.value: (Outcome.ERROR, False),
}


def _outcome(obj: Mapping[str, Any], state: str) -> tuple[Outcome, bool]:
    """(outcome, resolved?) following the rules in the module docstring."""
    known = _BY_STATE.get(state)
    if known is not None:
        return known
    status_id = obj.get("status_id")
    if status_id == ocsf.STATUS_SUPPRESSED:
        return Outcome.MUTED, False
    if status_id == ocsf.STATUS_RESOLVED:
        return Outcome.PASS, True
    cstatus = _dict(obj.get("compliance")).get("status_id")
    if cstatus == ocsf.COMPLIANCE_PASS:
        return Outcome.PASS, False
    if cstatus == ocsf.COMPLIANCE_FAIL:
        return Outcome.FAIL, False
    return Outcome.ERROR, False


_NO_REQUIREMENTS: frozenset[tuple[str, str]] = frozenset()


def _requirements(
    raw: Any, cache: dict[tuple[Any, ...], frozenset[tuple[str, str]]] | None
) -> frozenset[tuple[str, str]]:
    """``["fw:req", ...]`` as a set of (framework, requirement); malformed items are ignored."""
    if not isinstance(raw, list) or not raw:
        return _NO_REQUIREMENTS
    key: tuple[Any, ...] | None = None
    if cache is not None and all(isinstance(x, str) for x in raw):
        key = tuple(raw)
        hit = cache.get(key)
        if hit is not None:
            return hit
    reqs: set[tuple[str, str]] = set()
    for item in raw:
        if isinstance(item, str) and ":" in item:
            fw, _, req = item.partition(":")
            if fw and req:
                reqs.add((fw, req))
    out = frozenset(reqs)
    if key is not None and cache is not None:
        cache[key] = out  # every check of a policy cites the same list: parse it once
    return out


def to_check(
    obj: Mapping[str, Any], req_cache: dict[tuple[Any, ...], frozenset[tuple[str, str]]] | None = None
) -> Check:
    """A validated class-2003 finding as a :class:`Check`; DecodeError if it lacks its control."""
    info = _dict(obj.get("finding_info"))
    comp = _dict(obj.get("compliance"))
    unmapped = _dict(obj.get("unmapped"))
    cloud = _dict(obj.get("cloud"))
    resources = obj.get("resources")
    res = _dict(resources[0]) if isinstance(resources, list) and resources else {}
    policy_id = _str(comp.get("control")) or _str(unmapped.get("policy_id"))
    if not policy_id:
        raise DecodeError("compliance finding without compliance.control")
    rtype = _str(res.get("type"))
    service = _str(unmapped.get("service")) or (rtype.split(".")[1] if rtype.count(".") >= 2 else "unknown")
    state = _str(unmapped.get("state"))
    outcome, resolved = _outcome(obj, state)
    time_ms = _int(obj.get("time"), 0)
    first = _int(info.get("first_seen_time"), time_ms)
    last = _int(info.get("last_seen_time"), time_ms)
    requirements = _requirements(comp.get("requirements"), req_cache)
    return Check(
        uid=str(_dict(obj.get("finding_info")).get("uid")),
        policy_id=policy_id,
        title=_str(info.get("title"), policy_id),
        severity=_severity(obj),
        account=_str(res.get("account_uid")) or _str(_dict(cloud.get("account")).get("uid")),
        region=_str(res.get("region")) or _str(cloud.get("region")),
        service=service,
        resource_uid=_str(res.get("uid")),
        resource_type=rtype,
        outcome=outcome,
        state=state,
        first_seen_ms=first,
        last_seen_ms=last,
        # a resolve never precedes the failure it resolves (clock skew is clamped)
        resolved_ms=max(time_ms, first) if resolved else None,
        requirements=requirements,
        deleted=unmapped.get("resource_deleted") is True,
        changed_by=_change(unmapped.get("changed_by") or unmapped.get("last_changed_by")),
        sources=_sources(unmapped.get("sources")),
    )


def _change(v: Any) -> dict[str, str] | None:
    if not isinstance(v, dict) or not isinstance(v.get("principal_arn"), str):
        return None
    return {k: _str(v.get(k))[:512] for k in ("principal_arn", "source_ip", "event_name", "event_time")}


def _sources(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list):
        return ()
    return tuple(_str(x.get("product"))[:128] for x in v[:16] if isinstance(x, dict) and x.get("product"))


def to_detection(obj: Mapping[str, Any]) -> Detection:
    """A validated class-2004 finding as a :class:`Detection`."""
    info = _dict(obj.get("finding_info"))
    analytic = _dict(info.get("analytic"))
    unmapped = _dict(obj.get("unmapped"))
    user = _dict(_dict(obj.get("actor")).get("user"))
    time_ms = _int(obj.get("time"), 0)
    return Detection(
        uid=str(_dict(obj.get("finding_info")).get("uid")),
        rule_id=_str(analytic.get("uid")) or _str(unmapped.get("rule_id"), "unknown"),
        title=_str(info.get("title")) or _str(analytic.get("name"), "detection"),
        severity=_severity(obj),
        account=_str(_dict(_dict(obj.get("cloud")).get("account")).get("uid")),
        region=_str(_dict(obj.get("cloud")).get("region")),
        status_id=_int(obj.get("status_id"), ocsf.STATUS_NEW),
        first_seen_ms=_int(info.get("first_seen_time"), time_ms),
        last_seen_ms=_int(info.get("last_seen_time"), time_ms),
        count=max(1, _int(obj.get("count"), 1)),
        actor=_str(user.get("uid")) or _str(user.get("name")),
    )


def collect(values: Iterable[bytes | Mapping[str, Any] | None]) -> Inputs:
    """Current findings from values in log order: the last value per uid wins.

    ``None`` values are skipped (a tombstone has already been applied by the
    reader). Undecodable or invalid values are counted in ``Inputs.rejected``;
    a later invalid value for a known uid also removes the earlier one (the
    current state of that finding is unreadable).

    Each value is turned into a small record at once, so 100,000 findings never
    sit in memory as nested dicts.
    """
    checks: dict[str, Check] = {}
    detections: dict[str, Detection] = {}
    out = Inputs()
    req_cache: dict[tuple[Any, ...], frozenset[tuple[str, str]]] = {}
    for raw in values:
        if raw is None:
            continue
        try:
            obj: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else loads_object(raw)
            ocsf.validate(obj)
        except DecodeError as exc:
            out.reject(exc.reason)
            continue
        uid = ocsf.uid_of(obj)
        try:
            if obj["class_uid"] == ocsf.COMPLIANCE_FINDING:
                checks.pop(uid, None)  # keep log order of the latest value
                checks[uid] = to_check(obj, req_cache)
            else:
                detections.pop(uid, None)
                detections[uid] = to_detection(obj)
        except DecodeError as exc:
            out.reject(exc.reason)
    out.checks = list(checks.values())
    out.detections = list(detections.values())
    return out
