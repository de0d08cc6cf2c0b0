"""Remediation commands, approvals and results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cspm_stream.models.codec import message
from cspm_stream.models.enums import RemediationMode, RemediationStatus


@message("remediation.v1")
@dataclass(slots=True)
class RemediationCommand:
    """Fix one resource with one named action. Key on Kafka: the resource ARN."""

    command_id: str  # deterministic: action + arn + finding uid (idempotency)
    action: str
    mode: RemediationMode
    account_id: str
    region: str
    resource_arn: str
    resource_type: str
    resource_id: str
    finding_uid: str
    requested_at: str
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    expires_at: str | None = None


@message("approval.v1")
@dataclass(slots=True)
class Approval:
    """Approve (or reject) a command waiting in ``approve`` mode."""

    command_id: str
    approver: str
    approved_at: str
    approve: bool = True
    signature: str = ""  # HMAC-SHA256 over command_id|approver|approved_at|approve


@message("remediation-result.v1")
@dataclass(slots=True)
class RemediationResult:
    """Outcome and audit record of one command (who, what, when, before, after)."""

    command_id: str
    action: str
    mode: RemediationMode
    status: RemediationStatus
    account_id: str
    region: str
    resource_arn: str
    at: str
    actor: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)  # API calls made or planned
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    error: str | None = None
