"""OCSF envelopes: Compliance Finding (2003) and Detection Finding (2004).

Findings are plain dicts (the OCSF schema is large and SIEMs read it as JSON);
this module owns the shared skeleton and the checks every producer must pass.
Class-specific builders live with their engines (policy, detect).
"""

from __future__ import annotations

import hashlib
from typing import Any

from cspm_stream.errors import DecodeError
from cspm_stream.models.enums import Severity

OCSF_VERSION = "1.3.0"
PRODUCT = {"name": "cspm_stream", "vendor_name": "cspm_stream", "version": "0.1.0"}

COMPLIANCE_FINDING = 2003
DETECTION_FINDING = 2004
CATEGORY_FINDINGS = 2

SCHEMA_BY_CLASS = {
    COMPLIANCE_FINDING: "ocsf.compliance_finding.v1",
    DETECTION_FINDING: "ocsf.detection_finding.v1",
}

# activity_id: 1 Create, 2 Update, 3 Close
ACTIVITY_CREATE = 1
ACTIVITY_UPDATE = 2
ACTIVITY_CLOSE = 3

# status_id: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved, 99 Other
STATUS_NEW = 1
STATUS_IN_PROGRESS = 2
STATUS_SUPPRESSED = 3
STATUS_RESOLVED = 4

# account.type_id 10: AWS Account
ACCOUNT_TYPE_AWS = 10

# compliance.status_id: 1 Pass, 2 Warning, 3 Fail
COMPLIANCE_PASS = 1
COMPLIANCE_WARNING = 2
COMPLIANCE_FAIL = 3


def finding_uid(*parts: str) -> str:
    """Deterministic finding id: the same inputs always give the same uid."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return h


def envelope(
    *,
    class_uid: int,
    activity_id: int,
    severity: Severity,
    time_ms: int,
    uid: str,
    title: str,
    desc: str,
    status_id: int,
    account_id: str,
    region: str,
) -> dict[str, Any]:
    """The fields every finding carries; callers add class-specific objects."""
    return {
        "schema": SCHEMA_BY_CLASS[class_uid],
        "class_uid": class_uid,
        "class_name": "Compliance Finding" if class_uid == COMPLIANCE_FINDING else "Detection Finding",
        "category_uid": CATEGORY_FINDINGS,
        "category_name": "Findings",
        "activity_id": activity_id,
        "type_uid": class_uid * 100 + activity_id,
        "severity_id": int(severity),
        "severity": severity.label,
        "status_id": status_id,
        "time": time_ms,
        "metadata": {"version": OCSF_VERSION, "product": dict(PRODUCT), "uid": uid},
        "finding_info": {"uid": uid, "title": title, "desc": desc},
        "cloud": {"provider": "AWS", "account": aws_account(account_id), "region": region},
    }


def aws_account(account_id: str, name: str = "") -> dict[str, Any]:
    """An OCSF ``account`` object for an AWS account (``name`` is required by OCSF: the
    alias when known, else the account id)."""
    return {"uid": account_id, "name": name or account_id, "type_id": ACCOUNT_TYPE_AWS, "type": "AWS Account"}


REQUIRED = ("class_uid", "activity_id", "type_uid", "severity_id", "time", "metadata", "finding_info", "cloud")


def validate(obj: dict[str, Any]) -> dict[str, Any]:
    """Check the OCSF skeleton of an untrusted finding; DecodeError names what is wrong."""
    for key in REQUIRED:
        if key not in obj:
            raise DecodeError(f"OCSF finding missing {key!r}", schema=str(obj.get("schema")))
    cls = obj["class_uid"]
    if type(cls) is not int or cls not in SCHEMA_BY_CLASS:
        raise DecodeError(f"class_uid {repr(cls)[:40]} is not 2003 or 2004")
    if obj.get("schema") != SCHEMA_BY_CLASS[cls]:
        raise DecodeError(f"schema {obj.get('schema')!r} does not match class_uid {cls}")
    fi = obj["finding_info"]
    if not isinstance(fi, dict) or not isinstance(fi.get("uid"), str) or not fi["uid"]:
        raise DecodeError("finding_info.uid must be a non-empty string")
    sev = obj["severity_id"]
    if type(sev) is not int or not 0 <= sev <= 6:  # ``true`` is not an integer here either
        raise DecodeError(f"severity_id {repr(sev)[:40]} out of range")
    return obj


#: epoch milliseconds a datetime can hold (years 1..9999): a finding dated outside is refused
MIN_TIME_MS = -62_135_596_800_000
MAX_TIME_MS = 253_402_300_799_999


def epoch_ms(value: Any) -> int | None:
    """``value`` when it is epoch milliseconds a datetime can hold (an integer, not a boolean, of
    years 1..9999), else None: what reads a finding's times before turning them into ISO strings."""
    return value if type(value) is int and MIN_TIME_MS <= value <= MAX_TIME_MS else None


def uid_of(obj: dict[str, Any]) -> str:
    return str(obj["finding_info"]["uid"])
