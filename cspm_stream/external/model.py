"""The normalised external finding and the note that re-keys one of our detections for the join.

Both travel on Kafka (JSON with a ``schema`` field, strictly decoded like every other message):

- :class:`ExternalFinding` (``external-finding.v1``): one finding of another product, as the
  normalisers (:mod:`cspm_stream.external.asff`, ``guardduty``, ``accessanalyzer``) make it.
  Posture-like ones (``kind == "compliance"``) go to the ``external`` topic keyed by the resource
  ARN (the posture stage joins them with our checks of that resource); threat findings
  (``kind == "detection"``) go to ``external-threats`` keyed by :attr:`ExternalFinding.subject`.
- :class:`OurDetection` (``external-ours.v1``): one of our detections whose rule has an external
  equivalent, re-keyed by the same subject so both meet on one partition.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cspm_stream.models.codec import message

#: longest text field kept from a record read off a topic (descriptions: LONG_TEXT)
TEXT = 1024
LONG_TEXT = 4096
#: most rule ids kept per finding
MAX_RULES = 32

COMPLIANCE = "compliance"
DETECTION = "detection"

#: products (``ExternalFinding.product``)
SECURITYHUB = "securityhub"
GUARDDUTY = "guardduty"
ACCESSANALYZER = "accessanalyzer"
INSPECTOR = "inspector"
MACIE = "macie"

#: display names of the AWS products we know by name (others keep their own ``ProductName``)
PRODUCT_NAMES = {
    SECURITYHUB: "AWS Security Hub",
    GUARDDUTY: "Amazon GuardDuty",
    ACCESSANALYZER: "IAM Access Analyzer",
    INSPECTOR: "Amazon Inspector",
    MACIE: "Amazon Macie",
}


@message("external-finding.v1")
@dataclass(slots=True)
class ExternalFinding:
    """One finding of another product, normalised.

    ``uid`` is the product's own finding id (ASFF ``Id``, GuardDuty finding ARN, Access Analyzer
    analyzer ARN + finding id): the same finding read twice has the same uid. ``verdict`` is
    ``fail`` (active), ``pass`` (resolved, archived, or a passed control) or ``error`` (a control
    the product could not evaluate); ``suppressed`` is the product's own mute (Security Hub workflow
    SUPPRESSED, Access Analyzer ARCHIVED by an archive rule is ``pass``: see the normalisers).
    ``policy_id`` is set when the finding is the same issue as one of our policies on the same
    resource (then ``resource_arn`` is the ARN our collector gives that resource); ``rules`` lists
    our rule ids that detect the same thing (threat findings).
    """

    uid: str
    product: str
    product_name: str
    via: str  # the API or integration it came through: securityhub, guardduty, accessanalyzer, eventbridge
    kind: str  # compliance | detection
    account_id: str
    region: str
    resource_arn: str
    resource_type: str  # the product's own resource type (AwsS3Bucket, AccessKey, AWS::S3::Bucket, ...)
    title: str
    description: str
    severity: int  # OCSF severity_id (Severity)
    verdict: str  # fail | pass | error
    status: str  # the product's status words, e.g. "ACTIVE NEW FAILED"
    first_seen: str  # ISO 8601 UTC
    last_seen: str
    updated_at: str
    suppressed: bool = False
    product_uid: str = ""  # ProductArn, detector ARN or analyzer ARN
    control: str = ""  # Security Hub control id (S3.8)
    finding_type: str = ""  # GuardDuty type (Stealth:IAMUser/CloudTrailLoggingDisabled), Access Analyzer type
    policy_id: str = ""  # our equivalent policy (same issue, same resource), if any
    rules: list[str] | None = None  # our equivalent rule ids (threat findings)
    subject: str = ""  # "<account>|<principal or resource>": the join key of threat findings
    principal: str = ""  # the actor a threat finding names (ARN when known)
    principal_type: str = ""
    source_ip: str = ""
    user_agent: str = ""
    api: str = ""
    remediation: str = ""
    url: str = ""


@message("external-ours.v1")
@dataclass(slots=True)
class OurDetection:
    """One of our detections, re-keyed by its subject for the join with external threat findings."""

    uid: str  # our detection's finding uid
    rule_id: str
    subject: str
    time_ms: int  # the detection's last_seen_time
    first_ms: int
    title: str
    severity: int
    account_id: str
    region: str


def clip(ext: ExternalFinding) -> ExternalFinding:
    """``ext`` with every text bounded (what the normalisers produce anyway): a record another
    producer wrote to the topic cannot grow the stage state beyond these bounds."""
    changes: dict[str, object] = {}
    for f in dataclasses.fields(ext):
        v = getattr(ext, f.name)
        limit = LONG_TEXT if f.name in ("description", "remediation") else TEXT
        if isinstance(v, str) and len(v) > limit:
            changes[f.name] = v[:limit]
    if ext.rules is not None and (len(ext.rules) > MAX_RULES or any(len(r) > TEXT for r in ext.rules)):
        changes["rules"] = [r[:TEXT] for r in ext.rules[:MAX_RULES]]
    return dataclasses.replace(ext, **changes) if changes else ext  # type: ignore[arg-type]
