"""SNS sink: ``Publish`` of each alert's OCSF JSON to one topic.

``Message`` is the finding exactly as produced (subscribers get the same bytes the
SIEM does); ``Subject`` a one-line summary for e-mail subscriptions (ASCII, at most
100 characters, as SNS requires); message attributes carry ``severity``, ``class_uid``,
``account``, ``state`` and ``control`` so subscription filter policies can route
without parsing the body. A finding larger than SNS's 256 KiB limit is sent without its
``evidences`` (flagged ``unmapped.evidence_dropped``); one still too large is a
permanent failure (dead-lettered). FIFO topics (``.fifo``) get the account as message
group and the uid + state as deduplication id, so a retried publish is not a second
message.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from cspm_stream.delivery.model import Alert
from cspm_stream.delivery.sinks.aws import AwsClient
from cspm_stream.errors import SinkError

#: SNS's message size limit (body + attributes), bytes
MAX_MESSAGE_BYTES = 256 * 1024
_ATTRS_ROOM = 2048  # what the attributes below can take, at most


def subject(a: Alert) -> str:
    """A printable-ASCII subject line of at most 100 characters."""
    text = f"[{a.severity.label}] {a.title or a.control} ({a.state})"
    text = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return text[:100]


def message_body(a: Alert) -> bytes:
    """The OCSF JSON, trimmed of its evidences when it would not fit; SinkError when nothing fits."""
    room = MAX_MESSAGE_BYTES - _ATTRS_ROOM
    if len(a.raw) <= room:
        return a.raw
    slim: dict[str, Any] = {k: v for k, v in a.finding.items() if k != "evidences"}
    unmapped = dict(slim.get("unmapped") or {}) if isinstance(slim.get("unmapped"), dict) else {}
    unmapped["evidence_dropped"] = len(a.finding.get("evidences") or [])
    slim["unmapped"] = unmapped
    body = orjson.dumps(slim)
    if len(body) > room:
        raise SinkError(
            f"finding {a.uid} is {len(a.raw)} bytes, over SNS's {MAX_MESSAGE_BYTES} even without evidences",
            retriable=False,
        )
    return body


class SnsSink:
    inline = False

    def __init__(self, name: str, topic_arn: str, region: str, *, endpoint_url: str = "", timeout_s: float = 5.0):
        self.name = name
        self.topic_arn = topic_arn
        self.fifo = topic_arn.endswith(".fifo")
        self._aws = AwsClient(name, "sns", region, endpoint_url, timeout_s)

    async def start(self) -> None:
        await self._aws.start()

    def request(self, a: Alert) -> dict[str, Any]:
        """The Publish parameters for one alert."""
        attrs = {
            "severity": a.severity.label,
            "class_uid": str(a.class_uid),
            "account": a.account_id or "-",
            "state": a.state,
            "control": (a.control or "-")[:256],
        }
        params: dict[str, Any] = {
            "TopicArn": self.topic_arn,
            "Message": message_body(a).decode("utf-8"),
            "Subject": subject(a),
            "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()},
        }
        if self.fifo:
            params["MessageGroupId"] = a.account_id or "cspm"
            params["MessageDeduplicationId"] = hashlib.sha256(f"{a.uid}|{a.state}".encode()).hexdigest()[:64]
        return params

    async def send(self, alert: Alert) -> None:
        try:
            params = self.request(alert)
        except SinkError as exc:
            raise SinkError(f"sink {self.name}: {exc}", retriable=False) from None
        await self._aws.call("publish", **params)

    async def flush(self) -> None:
        return None

    async def stop(self) -> None:
        await self._aws.stop()
