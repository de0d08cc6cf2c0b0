"""External findings delivered by EventBridge rules to an SQS queue (seconds, not a poll interval).

The message body is the EventBridge event (SNS envelopes are unwrapped):

- ``detail-type`` "GuardDuty Finding": ``detail`` is the finding (API members in lowerCamel);
- "Security Hub Findings - Imported": ``detail.findings`` is a list of ASFF findings (GuardDuty's
  own findings forwarded there have the same id as on the first path: one record either way);
- "Access Analyzer Finding": ``detail`` is the finding, ``resources[0]`` the analyzer ARN.

A body that is none of these, or a finding the normaliser refuses, becomes a dead letter with its
bytes; the message is deleted once everything it yielded is acknowledged (see
:mod:`cspm_stream.sources.sqs`).
"""

from __future__ import annotations

from typing import Any

import orjson

from cspm_stream.errors import DecodeError
from cspm_stream.external.accessanalyzer import from_access_analyzer
from cspm_stream.external.asff import findings_of_event, from_asff, is_ours
from cspm_stream.external.guardduty import from_guardduty
from cspm_stream.external.mapping import Equivalents
from cspm_stream.external.pollers import finding_emit, refused_emit
from cspm_stream.sources.eventbridge import unwrap_sns
from cspm_stream.sources.sqs import PermanentMessageError, SqsSource
from cspm_stream.stages.base import Emit

GUARDDUTY_EVENT = "GuardDuty Finding"
SECURITYHUB_EVENT = "Security Hub Findings - Imported"
ACCESSANALYZER_EVENT = "Access Analyzer Finding"
#: most findings read from one event (Security Hub batches up to 100)
MAX_FINDINGS = 1000


def findings_of(event: Any, eq: Equivalents | None, at: str, stage: str) -> list[Emit]:
    """The records of one EventBridge event (pure); PermanentMessageError when it is not a finding event."""
    if not isinstance(event, dict):
        raise PermanentMessageError("body is not an EventBridge event (a JSON object)")
    kind = event.get("detail-type")
    detail = event.get("detail")
    out: list[Emit] = []
    raws: list[Any]
    if kind == GUARDDUTY_EVENT:
        raws = [detail]
    elif kind == SECURITYHUB_EVENT:
        raws = findings_of_event(detail)[:MAX_FINDINGS]
    elif kind == ACCESSANALYZER_EVENT:
        raws = [detail]
    else:
        raise PermanentMessageError(f"detail-type {str(kind)[:100]!r} is not a finding event")
    resources = event.get("resources")
    analyzer = resources[0] if isinstance(resources, list) and resources and isinstance(resources[0], str) else ""
    for raw in raws:
        if kind == SECURITYHUB_EVENT and isinstance(raw, dict) and is_ours(raw):
            continue  # one of our own alerts exported to Security Hub
        try:
            if kind == GUARDDUTY_EVENT:
                ext = from_guardduty(raw, via="eventbridge", eq=eq)
            elif kind == SECURITYHUB_EVENT:
                ext = from_asff(raw, via="eventbridge", eq=eq)
            else:
                if not analyzer.startswith("arn:"):
                    raise DecodeError("Access Analyzer event without the analyzer ARN in resources")
                ext = from_access_analyzer(raw, analyzer_arn=analyzer[:512], via="eventbridge")
        except DecodeError as exc:
            out.append(refused_emit(stage, str(exc), raw, at))
            continue
        out.append(finding_emit(ext))
    return out


class ExternalEventsSqsSource(SqsSource):
    """One queue of finding events (see the module docstring)."""

    stage = "source.external.eventbridge"

    def __init__(self, *args: Any, eq: Equivalents | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.eq = eq

    async def emits_for(self, message: dict[str, Any], received_at: str) -> list[Emit]:
        body = unwrap_sns(str(message.get("Body", "")).encode("utf-8"))
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise PermanentMessageError(f"body is not JSON: {exc}") from None
        return findings_of(event, self.eq, received_at, self.stage)
