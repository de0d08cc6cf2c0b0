"""The alert: one OCSF finding (2003 or 2004) plus the fields routing reads.

Built from untrusted bytes by :func:`alert_from_bytes`, which validates the OCSF
skeleton and raises :class:`~cspm_stream.errors.DecodeError` naming what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cspm_stream.errors import DecodeError
from cspm_stream.models import FindingStatus, Severity, loads_object, ocsf

#: pseudo-state of a detection finding repeated inside its window (activity_id 2)
DETECTION_UPDATED = "updated"

#: every value ``Alert.state`` may take (compliance lifecycle + detection create/update)
ALERT_STATES: tuple[str, ...] = (*(s.value for s in FindingStatus), DETECTION_UPDATED)


@dataclass(frozen=True, slots=True)
class Alert:
    """What the router needs to know about one finding; ``finding`` is the OCSF dict."""

    uid: str
    class_uid: int
    severity: Severity
    state: str
    account_id: str
    region: str
    title: str
    control: str  # policy id (2003) or rule id (2004)
    resources: tuple[str, ...]
    resource_types: tuple[str, ...]
    frameworks: tuple[str, ...]
    tags: dict[str, str]
    time_ms: int
    finding: dict[str, Any] = field(repr=False)
    raw: bytes = field(repr=False)

    @property
    def is_compliance(self) -> bool:
        return self.class_uid == ocsf.COMPLIANCE_FINDING

    @property
    def resource_arn(self) -> str:
        return self.resources[0] if self.resources else ""

    @property
    def unmapped(self) -> dict[str, Any]:
        u = self.finding.get("unmapped")
        return u if isinstance(u, dict) else {}


def alert_from_bytes(raw: bytes | None) -> Alert:
    """Decode and validate one OCSF finding into an :class:`Alert`."""
    obj = ocsf.validate(loads_object(raw))
    assert raw is not None  # loads_object refused None
    return alert_from_finding(obj, bytes(raw))


def alert_from_finding(obj: dict[str, Any], raw: bytes) -> Alert:
    cls = int(obj["class_uid"])
    unmapped = obj.get("unmapped") if isinstance(obj.get("unmapped"), dict) else {}
    assert isinstance(unmapped, dict)
    if cls == ocsf.COMPLIANCE_FINDING:
        state = unmapped.get("state")
        try:
            state = FindingStatus(str(state)).value
        except ValueError:
            raise DecodeError(
                f"unmapped.state {state!r} is not one of {', '.join(s.value for s in FindingStatus)}",
                schema=str(obj.get("schema")),
            ) from None
        control = str(unmapped.get("policy_id") or _dig(obj, "compliance", "control") or "")
    else:
        state = FindingStatus.NEW.value if obj["activity_id"] == ocsf.ACTIVITY_CREATE else DETECTION_UPDATED
        control = str(unmapped.get("rule_id") or _dig(obj, "finding_info", "analytic", "uid") or "")
    cloud = obj["cloud"] if isinstance(obj["cloud"], dict) else {}
    account = cloud.get("account", {}).get("uid", "") if isinstance(cloud.get("account"), dict) else ""
    resources = obj.get("resources") if isinstance(obj.get("resources"), list) else []
    assert isinstance(resources, list)
    uids: list[str] = []
    types: list[str] = []
    tags: dict[str, str] = {}
    for r in resources:
        if not isinstance(r, dict):
            raise DecodeError("resources[] items must be objects")
        if r.get("uid"):
            uids.append(str(r["uid"]))
        if r.get("type"):
            types.append(str(r["type"]))
        for label in _items(r.get("labels")):
            k, sep, v = label.partition("=") if isinstance(label, str) else ("", "", "")
            if sep:
                tags[k] = v
        if not account and r.get("account_uid"):
            account = str(r["account_uid"])
    comp = obj.get("compliance") if isinstance(obj.get("compliance"), dict) else {}
    assert isinstance(comp, dict)
    frameworks = tuple(f for f in _items(comp.get("standards")) if isinstance(f, str))
    # the time becomes an ISO string (remediation commands): a year past 9999 raised a bare ValueError
    time_ms = ocsf.epoch_ms(obj["time"])
    if time_ms is None:
        raise DecodeError(f"time {repr(obj['time'])[:40]} must be epoch milliseconds (an integer of years 1..9999)")
    return Alert(
        uid=ocsf.uid_of(obj),
        class_uid=cls,
        severity=Severity(obj["severity_id"]) if obj["severity_id"] <= 5 else Severity.CRITICAL,
        state=state,
        account_id=str(account),
        region=str(cloud.get("region", "")),
        title=str(obj["finding_info"].get("title", "")),
        control=control,
        resources=tuple(uids),
        resource_types=tuple(types),
        frameworks=frameworks,
        tags=tags,
        time_ms=time_ms,
        finding=obj,
        raw=raw,
    )


def _items(v: Any) -> list[Any]:
    """The items of a JSON list; any other type reads as absent (a number or a string is not a list of them)."""
    return v if isinstance(v, list) else []


def _dig(obj: dict[str, Any], *path: str) -> Any:
    cur: Any = obj
    for p in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur
