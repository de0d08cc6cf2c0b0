"""The one table of topics: name, key, partitions, retention, compaction.

``cspm-stream topics create`` creates or verifies them idempotently.
"""

from __future__ import annotations

from dataclasses import dataclass

from cspm_stream.settings import KafkaSettings

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str  # logical name, without prefix
    key: str  # what the key is
    compacted: bool
    retention_ms: int  # -1 = forever (compacted topics)
    partitions: int | None = None  # None = kafka.partitions
    doc: str = ""

    #: the broker's limit on one record; ``topics create`` requires at least this on an existing topic
    max_message_bytes: int = 4 * 1024 * 1024
    #: what the limit must hold (shown when an existing topic's limit is smaller)
    largest_record: str = "the largest record its producer accepts (4 MiB, the input record cap)"

    def configs(self) -> dict[str, str]:
        common = {"max.message.bytes": str(self.max_message_bytes)}
        if self.compacted:
            return common | {
                "cleanup.policy": "compact",
                "min.compaction.lag.ms": "0",
                "delete.retention.ms": str(DAY_MS),
                "segment.ms": str(3600 * 1000),
            }
        return common | {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("scan-jobs", "account|region|service", False, 1 * DAY_MS, doc="collection work units"),
    TopicSpec("inventory", "resource ARN", True, -1, doc="current inventory (system of record)"),
    TopicSpec("scan-status", "account|region|service", True, -1, doc="last completed scan per shard"),
    TopicSpec("rescan", "resource ARN or id", False, 1 * DAY_MS, doc="on-demand rescans"),
    TopicSpec("activity", "principal ARN", False, 7 * DAY_MS, doc="CloudTrail records"),
    TopicSpec("findings", "finding uid", True, -1, doc="current posture (OCSF 2003)"),
    # inventory (key ARN) and findings (key uid) re-keyed by account: one account's graph on one partition
    TopicSpec("context", "account id", False, 7 * DAY_MS, doc="facts for the context stage, by account"),
    TopicSpec(
        "detections",
        "finding uid",
        False,
        30 * DAY_MS,
        doc="threat detections (OCSF 2004)",
        largest_record="a detection with detection.max_evidence evidences and its actor context",
    ),
    TopicSpec("alerts", "finding uid", False, 30 * DAY_MS, doc="routed alerts for SIEMs"),
    # external findings (cspm_stream.external): posture-like ones keyed like inventory, so the posture
    # stage joins them with its checks of the resource; threat findings keyed by actor for the join stage
    TopicSpec("external-findings", "resource ARN", False, 7 * DAY_MS, doc="external posture-like findings"),
    TopicSpec("external-threats", "account|principal", False, 7 * DAY_MS, doc="external threat findings + our notes"),
    TopicSpec("external-checkpoints", "poller key", True, -1, doc="external finding pollers' checkpoints"),
    # one partition: approvals find their command and the blast-radius count is per account,
    # so one remediator (and one table partition) sees them all
    TopicSpec("remediation", "resource ARN", False, 7 * DAY_MS, partitions=1, doc="remediation commands"),
    TopicSpec("approvals", "command id", False, 7 * DAY_MS, partitions=1, doc="approvals of commands"),
    TopicSpec("remediation-results", "resource ARN", False, 90 * DAY_MS, doc="results and audit"),
    TopicSpec(
        "dlq",
        "original key",
        False,
        30 * DAY_MS,
        doc="dead letters with reason + original bytes",
        max_message_bytes=32 * 1024 * 1024,
        largest_record="a dead letter of a 4 MiB input: base64 of the original (5.6 MiB) plus the envelope",
    ),
)

BY_NAME = {t.name: t for t in TOPICS}


def partitions_of(kafka: KafkaSettings, logical: str) -> int:
    spec = BY_NAME[logical]
    return spec.partitions or kafka.partitions


def input_partitions(kafka: KafkaSettings, stage: str, inputs: tuple[str, ...]) -> int:
    """The partition count a stage's state is split into: that of its (co-partitioned) input topics."""
    counts = {partitions_of(kafka, t) for t in inputs}
    if len(counts) != 1:
        raise ValueError(f"stage {stage}: input topics {inputs} must be co-partitioned")
    return counts.pop()


def full_name(kafka: KafkaSettings, logical: str) -> str:
    if logical not in BY_NAME:
        raise KeyError(f"unknown topic {logical!r}")
    return kafka.topic(logical)
