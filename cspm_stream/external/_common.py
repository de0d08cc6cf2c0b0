"""Helpers the normalisers share: bounded text, tolerant field access, times, severities, subjects.

Everything here takes any JSON value anywhere and never raises on a wrong type: a field of the
wrong type reads as absent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from cspm_stream.models.enums import Severity
from cspm_stream.timeutil import iso, parse_iso

#: longest text kept from a foreign finding (titles, ARNs, agents); descriptions get DESC_CHARS
TEXT_CHARS = 1024
DESC_CHARS = 4096
_ACCOUNT = re.compile(r"[0-9]{12}")


def text(v: Any, limit: int = TEXT_CHARS) -> str:
    """``v`` if it is a string (cut to ``limit`` characters), else ``""``."""
    return v[:limit] if isinstance(v, str) else ""


def field(obj: Any, name: str) -> Any:
    """``obj[name]``, also under its lowerCamel spelling (EventBridge and some APIs send ``accountId``
    where the SDK says ``AccountId``); ``None`` when ``obj`` is not an object or lacks both."""
    if not isinstance(obj, Mapping):
        return None
    v = obj.get(name)
    if v is None and name:
        v = obj.get(name[0].lower() + name[1:])
    return v


def obj(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, Mapping) else {}


def items(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def account(v: Any) -> str:
    s = text(v, 12)
    return s if _ACCOUNT.fullmatch(s) else ""


def when(v: Any) -> str:
    """An ISO 8601 UTC time from an ISO string, a ``datetime`` (the SDK's parse) or epoch
    seconds/milliseconds; ``""`` when it is none of those."""
    try:
        if isinstance(v, dt.datetime):
            return iso(v if v.tzinfo else v.replace(tzinfo=dt.UTC))
        if isinstance(v, int | float) and not isinstance(v, bool):
            secs = v / 1000 if v > 1e11 else v
            return iso(dt.datetime.fromtimestamp(secs, dt.UTC))
        if isinstance(v, str) and v:
            return iso(parse_iso(v[:64]))
    except (ValueError, OverflowError, OSError):
        return ""
    return ""


_LABELS = {
    "INFORMATIONAL": Severity.INFORMATIONAL,
    "LOW": Severity.LOW,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}


def severity_label(label: Any, normalized: Any = None) -> Severity:
    """ASFF ``Severity``: the label, else the 0-100 ``Normalized`` score (Security Hub's bands)."""
    if isinstance(label, str) and label.upper() in _LABELS:
        return _LABELS[label.upper()]
    if isinstance(normalized, int | float) and not isinstance(normalized, bool):
        n = float(normalized)
        if n >= 90:
            return Severity.CRITICAL
        if n >= 70:
            return Severity.HIGH
        if n >= 40:
            return Severity.MEDIUM
        if n >= 1:
            return Severity.LOW
        return Severity.INFORMATIONAL
    return Severity.UNKNOWN


def severity_score(v: Any) -> Severity:
    """GuardDuty's 1.0-10.0 score: Low < 4, Medium < 7, High < 9, Critical from 9 (attack sequences)."""
    if not isinstance(v, int | float) or isinstance(v, bool):
        return Severity.UNKNOWN
    if v >= 9:
        return Severity.CRITICAL
    if v >= 7:
        return Severity.HIGH
    if v >= 4:
        return Severity.MEDIUM
    return Severity.LOW if v > 0 else Severity.INFORMATIONAL


def subject_of_arn(account_id: str, arn: str) -> str:
    """The join key of a principal given by ARN (what our detections name):
    ``<account>|user/<name>``, ``|role/<name>`` (an assumed-role session counts as its role),
    ``|federated/<name>`` or ``|root``; ``""`` for anything else (services, anonymous)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("iam", "sts"):
        return ""
    acct = parts[4] or account_id
    res = parts[5]
    if res == "root":
        return f"{acct}|root"
    kind, _, rest = res.partition("/")
    name = ""
    if kind == "user":
        name, kind = rest.rsplit("/", 1)[-1], "user"
    elif kind == "assumed-role":
        name, kind = rest.split("/", 1)[0], "role"
    elif kind == "role":
        name = rest.rsplit("/", 1)[-1]
    elif kind == "federated-user":
        name, kind = rest, "federated"
    if not name or not acct:
        return ""
    return f"{acct}|{kind}/{name.lower()}"


_PRINCIPAL_KINDS = {"IAMUser": "user", "AssumedRole": "role", "Role": "role", "FederatedUser": "federated"}


def subject_of_principal(account_id: str, user_type: str, user_name: str) -> str:
    """The join key of a principal given by type and name (GuardDuty's ``AccessKeyDetails``:
    ``UserType`` IAMUser / AssumedRole (``UserName`` is then the role) / FederatedUser / Root)."""
    if not account_id:
        return ""
    if user_type == "Root":
        return f"{account_id}|root"
    kind = _PRINCIPAL_KINDS.get(user_type)
    if kind is None or not user_name:
        return ""
    return f"{account_id}|{kind}/{user_name.lower()}"
