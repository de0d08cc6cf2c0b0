"""Factories for snapshots and CloudTrail records with sensible defaults."""

from __future__ import annotations

import uuid
from typing import Any

from cspm_stream.models import ResourceSnapshot

ACCOUNT = "123456789012"


def snapshot(
    resource_type: str,
    attributes: dict[str, Any],
    *,
    resource_id: str = "r-1",
    arn: str | None = None,
    account_id: str = ACCOUNT,
    region: str = "us-east-1",
    observed_at: str = "2026-01-01T00:00:00.000Z",
    scan_id: str = "scan-test",
    tags: dict[str, str] | None = None,
) -> ResourceSnapshot:
    return ResourceSnapshot(
        arn=arn or f"arn:aws:{resource_type.split('.')[1]}:{region}:{account_id}:{resource_id}",
        resource_type=resource_type,
        resource_id=resource_id,
        account_id=account_id,
        region=region,
        observed_at=observed_at,
        scan_id=scan_id,
        attributes=attributes,
        tags=tags or {},
    )


def cloudtrail_record(
    event_name: str,
    event_source: str = "iam.amazonaws.com",
    *,
    event_time: str = "2026-01-01T00:00:00Z",
    user_arn: str = f"arn:aws:iam::{ACCOUNT}:user/alice",
    user_type: str = "IAMUser",
    account_id: str = ACCOUNT,
    region: str = "us-east-1",
    source_ip: str = "198.51.100.7",
    user_agent: str = "aws-cli/2.15.0",
    request_parameters: dict[str, Any] | None = None,
    response_elements: dict[str, Any] | None = None,
    error_code: str | None = None,
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A CloudTrail record as AWS writes it (subset of fields that rules use)."""
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": user_type,
            "principalId": "AIDAEXAMPLE",
            "arn": user_arn,
            "accountId": account_id,
            "userName": user_arn.rsplit("/", 1)[-1],
        },
        "eventTime": event_time,
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": request_parameters,
        "responseElements": response_elements,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account_id,
    }
    if error_code:
        rec["errorCode"] = error_code
        rec["errorMessage"] = f"{error_code} for {event_name}"
    rec.update(extra)
    return rec
