"""Message contracts: every Kafka value, its schema name and its (de)serialisation."""

from cspm_stream.models.activity import ActivityRecord, principal_key
from cspm_stream.models.codec import decode, decode_any, dumps, from_dict, loads_object, registry, to_dict
from cspm_stream.models.dlq import DeadLetter
from cspm_stream.models.enums import (
    ActivitySource,
    FindingStatus,
    RemediationMode,
    RemediationStatus,
    Severity,
    Verdict,
)
from cspm_stream.models.inventory import (
    AttributeFailure,
    RescanRequest,
    ResourceDeleted,
    ResourceSnapshot,
    ScanJob,
    ScanStatus,
    content_hash,
)
from cspm_stream.models.remediation import Approval, RemediationCommand, RemediationResult

__all__ = [
    "ActivityRecord",
    "ActivitySource",
    "Approval",
    "AttributeFailure",
    "DeadLetter",
    "FindingStatus",
    "RemediationCommand",
    "RemediationMode",
    "RemediationResult",
    "RemediationStatus",
    "RescanRequest",
    "ResourceDeleted",
    "ResourceSnapshot",
    "ScanJob",
    "ScanStatus",
    "Severity",
    "Verdict",
    "content_hash",
    "decode",
    "decode_any",
    "dumps",
    "from_dict",
    "loads_object",
    "principal_key",
    "registry",
    "to_dict",
]
