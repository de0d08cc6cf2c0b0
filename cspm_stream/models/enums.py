"""Enums shared by every stage: never compare against bare strings."""

from __future__ import annotations

import enum


class Severity(enum.IntEnum):
    """OCSF severity_id values."""

    UNKNOWN = 0
    INFORMATIONAL = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @classmethod
    def parse(cls, value: str | int) -> Severity:
        """Accept ``"high"``, ``"HIGH"``, ``"info"`` or an OCSF id."""
        if isinstance(value, int):
            return cls(value)
        name = value.strip().upper()
        if name == "INFO":
            name = "INFORMATIONAL"
        try:
            return cls[name]
        except KeyError:
            raise ValueError(f"unknown severity {value!r}") from None

    @property
    def label(self) -> str:
        return self.name.capitalize()


class Verdict(enum.StrEnum):
    """Outcome of one policy on one resource."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    ERROR = "error"  # an attribute the policy needs could not be read: never a pass


class FindingStatus(enum.StrEnum):
    """Lifecycle state of one (policy, resource) pair."""

    PASSED = "passed"  # passing, and never failed since it was first evaluated
    NEW = "new"
    FAILING = "failing"  # still failing: tracked, never re-alerted
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"
    ERROR = "error"


class RemediationMode(enum.StrEnum):
    OFF = "off"
    DRY_RUN = "dry-run"
    APPROVE = "approve"
    AUTO = "auto"


class RemediationStatus(enum.StrEnum):
    PLANNED = "planned"  # dry-run: published exactly what would be called
    AWAITING_APPROVAL = "awaiting-approval"
    SUCCEEDED = "succeeded"
    NOOP = "noop"  # already in the desired state
    SKIPPED = "skipped"  # duplicate command id
    BLOCKED = "blocked"  # exclusion tag, stale finding, blast radius
    EXPIRED = "expired"
    FAILED = "failed"


class ActivitySource(enum.StrEnum):
    S3_SQS = "s3-sqs"
    EVENTBRIDGE = "eventbridge"
    LOOKUP_EVENTS = "lookup-events"
    FILE = "file"
