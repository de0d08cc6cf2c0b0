"""CloudTrail activity envelope carried on the activity topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cspm_stream.models.codec import message
from cspm_stream.models.enums import ActivitySource


@message("activity.v1")
@dataclass(slots=True)
class ActivityRecord:
    """One CloudTrail record plus where it came from. Key on Kafka: the principal."""

    event_id: str
    event_time: str  # CloudTrail eventTime, ISO 8601 UTC
    event_name: str
    event_source: str
    account_id: str
    region: str
    principal: str
    source: ActivitySource
    received_at: str
    record: dict[str, Any]

    @classmethod
    def from_cloudtrail(cls, record: dict[str, Any], source: ActivitySource, received_at: str) -> ActivityRecord:
        """Wrap a raw CloudTrail record; raises KeyError/TypeError on a record without an eventID."""
        return cls(
            event_id=str(record["eventID"]),
            event_time=str(record.get("eventTime", "")),
            event_name=str(record.get("eventName", "")),
            event_source=str(record.get("eventSource", "")),
            account_id=str(record.get("recipientAccountId") or _identity(record).get("accountId") or ""),
            region=str(record.get("awsRegion", "")),
            principal=principal_key(record),
            source=source,
            received_at=received_at,
            record=record,
        )


def _identity(record: dict[str, Any]) -> dict[str, Any]:
    ident = record.get("userIdentity")
    return ident if isinstance(ident, dict) else {}


def principal_key(record: dict[str, Any]) -> str:
    """The partition key: one principal's events share a partition.

    Assumed-role sessions key by the role (session issuer), so one role's
    sessions are correlated together; otherwise the identity ARN, else account.
    """
    ident = _identity(record)
    issuer = (
        ident.get("sessionContext", {}).get("sessionIssuer", {})
        if isinstance(ident.get("sessionContext"), dict)
        else {}
    )
    if isinstance(issuer, dict) and issuer.get("arn"):
        return str(issuer["arn"])
    if ident.get("arn"):
        return str(ident["arn"])
    if ident.get("type") == "Root" and ident.get("accountId"):
        return f"arn:aws:iam::{ident['accountId']}:root"
    return str(ident.get("accountId") or record.get("recipientAccountId") or "unknown")
