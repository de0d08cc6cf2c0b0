"""CloudTrail records delivered by an EventBridge rule to an SQS queue (seconds of latency).

The message body is the EventBridge event: ``detail-type`` "AWS API Call via CloudTrail"
(or "AWS Console Sign In via CloudTrail", ...) with the CloudTrail record as ``detail``.
SNS-enveloped bodies are unwrapped. A body that is not such an event becomes a dead
letter with its bytes; the message is then deleted. Delivery rules: see
:mod:`cspm_stream.sources.sqs`.
"""

from __future__ import annotations

from typing import Any

import orjson

from cspm_stream.models.enums import ActivitySource
from cspm_stream.sources.emits import emits_for_items
from cspm_stream.sources.files import split_payload
from cspm_stream.sources.sqs import SqsSource
from cspm_stream.stages.base import Emit


def unwrap_sns(body: bytes) -> bytes:
    """The inner message of an SNS ``Notification`` envelope, else ``body`` unchanged."""
    if b'"Type"' not in body[:200] and b'"Notification"' not in body:
        return body
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if isinstance(obj, dict) and obj.get("Type") == "Notification" and isinstance(obj.get("Message"), str):
        return str(obj["Message"]).encode("utf-8")
    return body


class EventBridgeSqsSource(SqsSource):
    stage = "source.eventbridge"

    async def emits_for(self, message: dict[str, Any], received_at: str) -> list[Emit]:
        mid = str(message.get("MessageId", ""))
        body = unwrap_sns(str(message.get("Body", "")).encode("utf-8"))
        items = split_payload(body, f"sqs:{mid}")
        return emits_for_items(
            items, source=ActivitySource.EVENTBRIDGE, stage=self.stage, received_at=received_at, trace_id=mid
        )
