"""Inventory contracts: scan jobs, resource snapshots, deletions, rescan requests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from cspm_stream.models.change import Change
from cspm_stream.models.codec import message


@dataclass(slots=True)
class AttributeFailure:
    """One attribute of a resource that could not be read, and why."""

    attribute: str
    code: str
    message: str


@message("scan-job.v1")
@dataclass(slots=True)
class ScanJob:
    """One unit of collection work: (account, region, service)."""

    job_id: str
    scan_id: str
    account_id: str
    region: str
    service: str
    requested_at: str
    resource_types: list[str] = field(default_factory=list)  # empty = every type of the service
    role_arn: str | None = None
    full: bool = True  # a full scan may tombstone what disappeared; a partial one never does


@message("inventory.v1")
@dataclass(slots=True)
class ResourceSnapshot:
    """The configuration of one resource at one moment. Key on Kafka: ``arn``."""

    arn: str
    resource_type: str  # e.g. "aws.s3.bucket"
    resource_id: str
    account_id: str
    region: str
    observed_at: str  # ISO 8601 UTC
    scan_id: str
    attributes: dict[str, Any]
    content_hash: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    errors: list[AttributeFailure] = field(default_factory=list)
    #: the CloudTrail change an event-triggered rescan was made for (not part of ``content_hash``)
    change: Change | None = None

    def __post_init__(self) -> None:
        if not self.content_hash:
            self.content_hash = content_hash(self.attributes, self.tags)


@message("inventory-deleted.v1")
@dataclass(slots=True)
class ResourceDeleted:
    """A resource seen in the previous complete scan is gone (followed by a tombstone)."""

    arn: str
    resource_type: str
    account_id: str
    region: str
    observed_at: str
    scan_id: str
    #: the CloudTrail change that deleted it, when an event-triggered rescan found it gone
    change: Change | None = None


@message("scan-status.v1")
@dataclass(slots=True)
class ScanStatus:
    """Completion record of one scan job (freshness, errors, counts)."""

    job_id: str
    scan_id: str
    account_id: str
    region: str
    service: str
    started_at: str
    finished_at: str
    resources: int
    errors: int
    complete: bool


@message("rescan.v1")
@dataclass(slots=True)
class RescanRequest:
    """Ask the ingestor for a fresh snapshot of one resource (by ARN, or id + type)."""

    request_id: str
    account_id: str
    region: str
    resource_type: str
    requested_at: str
    reason: str
    arn: str | None = None
    resource_id: str | None = None
    source_event_id: str | None = None
    #: who made the change this rescan is for (copied onto the snapshot it produces)
    actor: Change | None = None
    #: 0 for the first look; n for the n-th retry of an eventually-consistent rescan
    attempt: int = 0


def content_hash(attributes: dict[str, Any], tags: dict[str, str] | None = None) -> str:
    """Stable hash of a resource's configuration (sorted keys), used to skip re-evaluation."""
    blob = orjson.dumps({"a": attributes, "t": tags or {}}, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.blake2b(blob, digest_size=16).hexdigest()
