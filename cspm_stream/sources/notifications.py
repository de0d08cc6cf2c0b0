"""Parse SQS message bodies that announce CloudTrail log files (pure).

Accepted bodies (raw, or wrapped once or more in an SNS ``Notification`` envelope):

- S3 event notifications ``{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
  "s3": {"bucket": {"name": ...}, "object": {"key": <URL-encoded>}}}]}``;
- CloudTrail's own SNS notification ``{"s3Bucket": ..., "s3ObjectKey": [key, ...]}``;
- EventBridge S3 ``Object Created`` events (``detail.bucket.name``, ``detail.object.key``).

``s3:TestEvent`` messages, non-create S3 events and CloudTrail digest files are
ignored (parsed to no object). Anything else raises :class:`DecodeError` with the reason.

>>> parse_notification(b'{"s3Bucket": "trail", "s3ObjectKey": ["AWSLogs/1/CloudTrail/a.json.gz"]}')
[ObjectRef(bucket='trail', key='AWSLogs/1/CloudTrail/a.json.gz')]
>>> parse_notification(b'{"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "trail"}')
[]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from cspm_stream.errors import DecodeError
from cspm_stream.models.codec import loads_object

_MAX_SNS_DEPTH = 3


@dataclass(frozen=True, slots=True)
class ObjectRef:
    bucket: str
    key: str

    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def is_log_object(key: str) -> bool:
    """False for CloudTrail digest files and folder markers (they hold no records)."""
    return not key.endswith("/") and "/CloudTrail-Digest/" not in key and not key.startswith("CloudTrail-Digest/")


def parse_notification(body: bytes | str) -> list[ObjectRef]:
    """The log objects a message announces (``[]`` for messages to ignore)."""
    obj = loads_object(body)
    for _ in range(_MAX_SNS_DEPTH):
        if obj.get("Type") == "Notification" and isinstance(obj.get("Message"), str):
            obj = loads_object(obj["Message"])
        else:
            break
    refs = _refs(obj)
    return [r for r in refs if is_log_object(r.key)]


def _refs(obj: dict[str, Any]) -> list[ObjectRef]:
    if obj.get("Event") == "s3:TestEvent":
        return []
    if "s3Bucket" in obj:
        bucket, keys = obj.get("s3Bucket"), obj.get("s3ObjectKey")
        if not isinstance(bucket, str) or not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise DecodeError("CloudTrail notification needs s3Bucket (string) and s3ObjectKey (list of strings)")
        return [ObjectRef(bucket, k) for k in keys]
    if isinstance(obj.get("Records"), list):
        return [ref for i, rec in enumerate(obj["Records"]) if (ref := _s3_record(rec, i)) is not None]
    if obj.get("source") == "aws.s3" and isinstance(obj.get("detail"), dict):
        if obj.get("detail-type") != "Object Created":
            return []
        d = obj["detail"]
        bucket = (d.get("bucket") or {}).get("name")
        key = (d.get("object") or {}).get("key")
        if not isinstance(bucket, str) or not isinstance(key, str):
            raise DecodeError("EventBridge S3 event without detail.bucket.name / detail.object.key")
        return [ObjectRef(bucket, key)]
    raise DecodeError("not an S3 event notification, a CloudTrail SNS notification or an EventBridge S3 event")


def _s3_record(rec: Any, i: int) -> ObjectRef | None:
    if not isinstance(rec, dict) or rec.get("eventSource") != "aws:s3":
        src = rec.get("eventSource") if isinstance(rec, dict) else type(rec).__name__
        raise DecodeError(f"Records[{i}] is not an S3 event (eventSource={src!r})")
    if not str(rec.get("eventName", "")).startswith("ObjectCreated:"):
        return None
    s3 = rec.get("s3")
    try:
        bucket = s3["bucket"]["name"]  # type: ignore[index]
        key = s3["object"]["key"]  # type: ignore[index]
    except (KeyError, TypeError):
        raise DecodeError(f"Records[{i}] has no s3.bucket.name / s3.object.key") from None
    if not isinstance(bucket, str) or not isinstance(key, str):
        raise DecodeError(f"Records[{i}] bucket/key are not strings")
    # S3 event notifications URL-encode the key (spaces as '+').
    return ObjectRef(bucket, unquote_plus(key))
