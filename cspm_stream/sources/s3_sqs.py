"""CloudTrail log files announced on SQS (S3 event notifications or CloudTrail's SNS notifications).

One SQS message may announce several log objects; they are downloaded concurrently
(bounded by ``max_concurrent_downloads``, shared across the batch), split into records
(:func:`cspm_stream.sources.files.split_payload`), wrapped as
:class:`~cspm_stream.models.activity.ActivityRecord` and produced to ``<prefix>activity``
keyed by principal. The message is deleted only after all of them were acknowledged
(see :mod:`cspm_stream.sources.sqs`).

- A body that is not a notification → dead letter (the body), message deleted.
- An object that no longer exists (``NoSuchKey``) → dead letter naming it, message deleted.
- An unreadable object / bad record inside an object → dead letter with the bytes, the
  rest of the object's records still go through.
- Any other S3 error (throttling, access denied, network) → the message stays and comes
  back after the visibility timeout; the error is logged.
- An object bigger than ``cloudtrail.max_file_bytes`` (by its ``ContentLength``, or once
  decompressed: a gzip bomb) → dead letter naming the limit, after the records read before
  it; the body is streamed and decompressed incrementally, never held whole
  (:class:`~cspm_stream.sources.files.PayloadReader`), and a line over
  ``cloudtrail.max_line_bytes`` is dead-lettered alone.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cspm_stream.errors import DecodeError
from cspm_stream.models.enums import ActivitySource
from cspm_stream.sources.emits import EmitProducer, dead_letter_emit, emits_for_items
from cspm_stream.sources.files import Item, Limits, PayloadReader, RecordError
from cspm_stream.sources.notifications import ObjectRef, parse_notification
from cspm_stream.sources.sqs import BeforeDelete, PermanentMessageError, SqsSource, SqsSourceOptions
from cspm_stream.stages.base import Emit

if TYPE_CHECKING:
    from cspm_stream.observability.metrics import Metrics

_GONE = frozenset({"NoSuchKey", "NoSuchBucket", "404"})
_CHUNK = 1024 * 1024


class S3SqsSource(SqsSource):
    stage = "source.s3-sqs"

    def __init__(
        self,
        sqs: Any,
        s3: Any,
        queue_url: str,
        producer: EmitProducer,
        options: SqsSourceOptions | None = None,
        *,
        max_concurrent_downloads: int = 8,
        before_delete: BeforeDelete | None = None,
        metrics: Metrics | None = None,
        limits: Limits | None = None,
    ) -> None:
        super().__init__(sqs, queue_url, producer, options, before_delete=before_delete, metrics=metrics)
        self.s3 = s3
        self.limits = limits or Limits()
        self._downloads = asyncio.Semaphore(max_concurrent_downloads)

    async def emits_for(self, message: dict[str, Any], received_at: str) -> list[Emit]:
        mid = str(message.get("MessageId", ""))
        try:
            refs = parse_notification(message.get("Body", ""))
        except DecodeError as exc:
            raise PermanentMessageError(f"not a CloudTrail log notification: {exc.reason}") from None
        parts = await asyncio.gather(*(self._object_emits(r, received_at, mid) for r in refs))
        return [e for part in parts for e in part]

    async def _object_emits(self, ref: ObjectRef, received_at: str, trace_id: str) -> list[Emit]:
        try:
            items = await self._read(ref)
        except ClientError as exc:
            self._aws("s3", "GetObject", exc)
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in _GONE:
                raise  # transient or permission: keep the message for redelivery
            return [
                dead_letter_emit(
                    stage=self.stage,
                    reason=f"{ref.uri()}: object not found ({code})",
                    error_type="ClientError",
                    at=received_at,
                    original=f'{{"bucket":"{ref.bucket}","key":"{ref.key}"}}'.encode(),
                    key=ref.uri(),
                    trace_id=trace_id,
                )
            ]
        self._aws("s3", "GetObject")
        return emits_for_items(
            items, source=ActivitySource.S3_SQS, stage=self.stage, received_at=received_at, trace_id=trace_id
        )

    async def _read(self, ref: ObjectRef) -> list[Item]:
        """The records of one object, streamed through a bounded :class:`PayloadReader`."""
        uri = ref.uri()
        async with self._downloads:
            resp = await self.s3.get_object(Bucket=ref.bucket, Key=ref.key)
            size = resp.get("ContentLength")
            async with resp["Body"] as body:
                if isinstance(size, int) and size > self.limits.max_file_bytes:
                    why = f"object of {size} bytes exceeds {self.limits.max_file_bytes} (cloudtrail.max_file_bytes): refused"
                    return [RecordError(uri, why, b"")]
                reader = PayloadReader(uri, self.limits)
                items: list[Item] = []
                while chunk := await body.read(_CHUNK):
                    items.extend(loc.item for loc in reader.feed(chunk))
                    if reader.failed:
                        return items
                items.extend(loc.item for loc in reader.close())
        return items
