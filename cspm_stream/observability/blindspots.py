"""Pipeline self-monitoring: blind spots are findings too (pure).

Given, per (account, region), when the last CloudTrail record was received and
when the last complete scan finished, :func:`blind_spots` returns one OCSF
Detection Finding (class 2004) for each pair that has been silent for longer
than ``monitor.max_activity_silence_s`` / ``monitor.max_scan_age_s``:

* ``cspm.monitor.no_cloudtrail`` (High): "no CloudTrail from <account>/<region>"
  — threat detection is blind there (a stopped trail is also an attacker's
  first move: ATT&CK T1562.008).
* ``cspm.monitor.no_scan`` (Medium): "no completed scan of <account>/<region>"
  — the posture shown for it is stale.

A pair never heard from is measured from ``since_ms`` (when monitoring started),
so a fresh start does not raise alarms for every region at once. A silence of
exactly the threshold is not yet a blind spot.

The finding uid is ``finding_uid(rule, "account|region", <last time or "never">)``:
the same silence gives the same uid on every check (the alert router sends it
once), and a new silence after records resumed is a new finding.

:func:`note` and :func:`freshness` keep the two maps in a JSON-able state
mapping (a dict, or a faust table in the daemon).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from cspm_stream.models import ocsf
from cspm_stream.models.enums import Severity
from cspm_stream.settings import MonitorSettings
from cspm_stream.timeutil import ms_to_iso

Pair = tuple[str, str]  # (account, region)

NO_CLOUDTRAIL = "cspm.monitor.no_cloudtrail"
NO_SCAN = "cspm.monitor.no_scan"


@dataclass(frozen=True)
class _Rule:
    id: str
    severity: Severity
    title: str
    what: str
    runbook: str
    attacks: tuple[dict[str, Any], ...] = ()


RULES = {
    NO_CLOUDTRAIL: _Rule(
        NO_CLOUDTRAIL,
        Severity.HIGH,
        "No CloudTrail from {account}/{region}",
        "No CloudTrail record received from account {account} in {region} for {silence}",
        "Check the trail is logging (cloudtrail:GetTrailStatus) and still multi-region, that the S3 "
        "notification or EventBridge rule still feeds the SQS queue, and that the ingest role is running. "
        "A trail stopped or deleted by someone is an incident.",
        (
            {
                "tactic": {"uid": "TA0005", "name": "Defense Evasion"},
                "technique": {"uid": "T1562.008", "name": "Impair Defenses: Disable or Modify Cloud Logs"},
            },
        ),
    ),
    NO_SCAN: _Rule(
        NO_SCAN,
        Severity.MEDIUM,
        "No completed scan of {account}/{region}",
        "No complete inventory scan of account {account} in {region} for {silence}",
        "Check the ingest workers are running and not erroring (cspm_aws_api_errors, the DLQ), that the "
        "reader role can still be assumed in that account, and that the region is enabled.",
    ),
}


def _human(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def _finding(
    rule: _Rule, pair: Pair, last_ms: int | None, since_ms: int, now_ms: int, threshold_s: int
) -> dict[str, Any]:
    account, region = pair
    reference = last_ms if last_ms is not None else since_ms
    silence_s = (now_ms - reference) / 1000
    group_key = f"{account}|{region}"
    uid = ocsf.finding_uid(rule.id, group_key, str(last_ms) if last_ms is not None else "never")
    last_txt = "never (since monitoring started)" if last_ms is None else ms_to_iso(last_ms)
    f = ocsf.envelope(
        class_uid=ocsf.DETECTION_FINDING,
        activity_id=ocsf.ACTIVITY_CREATE,
        severity=rule.severity,
        time_ms=now_ms,
        uid=uid,
        title=rule.title.format(account=account, region=region),
        desc=rule.what.format(account=account, region=region, silence=_human(silence_s)) + f" (last: {last_txt}).",
        status_id=ocsf.STATUS_NEW,
        account_id=account,
        region=region,
    )
    f["finding_info"].update(
        first_seen_time=reference + threshold_s * 1000,
        last_seen_time=now_ms,
        analytic={"uid": rule.id, "name": rule.title.split(" {")[0], "type_id": 1, "type": "Rule"},
        attacks=[dict(a) for a in rule.attacks],
        types=["cspm.self-monitoring"],
    )
    f["evidences"] = [
        {
            "data": {
                "event_id": "",
                "event_name": "",
                "event_time": ms_to_iso(last_ms) if last_ms is not None else "",
                "event_source": "cspm_stream.monitor",
                "silence_s": silence_s,
                "threshold_s": threshold_s,
            }
        }
    ]
    f["resources"] = [{"uid": f"arn:aws::{region}:{account}:region-settings", "type": "aws.region"}]
    f["count"] = 1
    f["unmapped"] = {"rule_id": rule.id, "event_ids": [], "group_key": group_key, "runbook": rule.runbook}
    return f


def blind_spots(
    *,
    last_activity_ms: Mapping[Pair, int],
    last_scan_ms: Mapping[Pair, int],
    now_ms: int,
    settings: MonitorSettings,
    since_ms: int,
    expected: Iterable[Pair] = (),
) -> list[dict[str, Any]]:
    """OCSF Detection Findings for every (account, region) silent for longer than its threshold.

    Pairs checked: ``expected`` (configured accounts × regions) plus every pair
    that appears in either map. Sorted by rule, then account and region.
    """
    pairs = sorted(set(expected) | set(last_activity_ms) | set(last_scan_ms))
    out: list[dict[str, Any]] = []
    for rule_id, last, threshold in (
        (NO_CLOUDTRAIL, last_activity_ms, settings.max_activity_silence_s),
        (NO_SCAN, last_scan_ms, settings.max_scan_age_s),
    ):
        for pair in pairs:
            seen = last.get(pair)
            reference = seen if seen is not None else since_ms
            if now_ms - reference > threshold * 1000:
                out.append(_finding(RULES[rule_id], pair, seen, since_ms, now_ms, threshold))
    return out


_KINDS = ("activity", "scan")


def note(state: MutableMapping[str, Any], kind: str, account: str, region: str, at_ms: int) -> None:
    """Record that a CloudTrail record (``activity``) or complete scan (``scan``) of a pair was seen at ``at_ms``.

    Keeps the latest time only, so replays and out-of-order records never move it back.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, not {kind!r}")
    key = f"{kind}|{account}|{region}"
    previous = state.get(key)
    if not isinstance(previous, int) or at_ms > previous:
        state[key] = at_ms


def freshness(state: Mapping[str, Any]) -> tuple[dict[Pair, int], dict[Pair, int]]:
    """(last activity, last scan) maps for :func:`blind_spots` from a state kept by :func:`note`."""
    maps: dict[str, dict[Pair, int]] = {k: {} for k in _KINDS}
    for key, value in state.items():
        parts = key.split("|")
        if len(parts) == 3 and parts[0] in maps and isinstance(value, int):
            maps[parts[0]][(parts[1], parts[2])] = value
    return maps["activity"], maps["scan"]
