"""A long-polling SQS consumer that deletes a message only after its records are acknowledged.

Subclasses implement :meth:`SqsSource.emits_for` (message → Kafka records). The
invariants, per message:

1. every record (and every dead letter) built from the message is produced and
   acknowledged by Kafka (acks=all) — ``producer.send_many`` returns only then;
2. only then is the message deleted from SQS.

A crash anywhere before 2 leaves the message in the queue: it becomes visible again
after the visibility timeout and is processed again (at-least-once; the detector
removes the duplicate records by ``eventID``). A message that can never be processed
(malformed body, object gone) becomes a dead letter with its original bytes, and is
then deleted. A transient failure (S3 throttling, Kafka down) leaves the message for
SQS to redeliver and is logged as an error, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from botocore.exceptions import ClientError

from cspm_stream.errors import CspmError
from cspm_stream.sources.emits import EmitProducer, count_produced, dead_letter_emit
from cspm_stream.stages.base import Emit
from cspm_stream.timeutil import now_iso

if TYPE_CHECKING:
    from cspm_stream.observability.metrics import Metrics

log = structlog.get_logger(__name__)

_QUEUE_REGION = re.compile(r"^https://sqs[.-]([a-z0-9-]+)\.amazonaws\.com")


def queue_region(url: str, default: str) -> str:
    """``us-east-1`` from ``https://sqs.us-east-1.amazonaws.com/123/q``; ``default`` otherwise."""
    m = _QUEUE_REGION.match(url)
    return m.group(1) if m else default


class PermanentMessageError(CspmError):
    """This message can never be processed; it is dead-lettered and deleted."""


@dataclass
class SqsSourceOptions:
    wait_time_s: int = 20
    visibility_timeout_s: int = 300
    max_messages: int = 10
    error_backoff_s: float = 5.0
    idle_sleep_s: float = 1.0  # pause after an empty short poll (wait_time_s == 0)


@dataclass
class SourceStats:
    received: int = 0
    records: int = 0
    dead_letters: int = 0
    deleted: int = 0
    failed: int = 0


#: Called after a message's records were acknowledged and before it is deleted (tests inject crashes).
BeforeDelete = Callable[[dict[str, Any]], Awaitable[None]]


class SqsSource:
    """Base class; see the module docstring. ``sqs`` is an aiobotocore SQS client."""

    stage = "source.sqs"

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        producer: EmitProducer,
        options: SqsSourceOptions | None = None,
        *,
        before_delete: BeforeDelete | None = None,
        clock: Callable[[], str] = now_iso,
        metrics: Metrics | None = None,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.producer = producer
        self.options = options or SqsSourceOptions()
        self.stats = SourceStats()
        self._before_delete = before_delete
        self._clock = clock
        self.metrics = metrics
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._receiving = False

    # -- to implement ---------------------------------------------------------------------------
    async def emits_for(self, message: dict[str, Any], received_at: str) -> list[Emit]:
        """Records of one SQS message. Raise PermanentMessageError to dead-letter it."""
        raise NotImplementedError

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name=f"{self.stage}:{self.queue_url}")

    async def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the batch in flight (bounded), abandon a pending long poll, then return.

        Abandoning a batch is safe: its messages were not deleted and come back.
        """
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        if self._receiving:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await asyncio.wait_for(task, timeout_s)
            except TimeoutError:
                log.warning("source.stop_timeout", queue=self.queue_url)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                got = await self.poll_once()
                if got == 0 and self.options.wait_time_s == 0:
                    # short polling found nothing: do not spin on the queue
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.options.idle_sleep_s)
                else:
                    await asyncio.sleep(0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # boundary: one failed poll must not kill the source
                self.stats.failed += 1
                log.error("source.poll_failed", queue=self.queue_url, error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.options.error_backoff_s)

    # -- one round ------------------------------------------------------------------------------
    async def poll_once(self, wait_time_s: int | None = None) -> int:
        """Receive one batch, process it, delete what was acknowledged. Returns messages deleted."""
        self._receiving = True
        try:
            resp = await self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.options.max_messages,
                WaitTimeSeconds=self.options.wait_time_s if wait_time_s is None else wait_time_s,
                VisibilityTimeout=self.options.visibility_timeout_s,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except ClientError as exc:
            self._aws("sqs", "ReceiveMessage", exc)
            raise
        finally:
            self._receiving = False
        self._aws("sqs", "ReceiveMessage")
        messages: list[dict[str, Any]] = resp.get("Messages", [])
        if not messages:
            return 0
        self.stats.received += len(messages)
        done = await asyncio.gather(*(self._process(m) for m in messages))
        handles = [h for h in done if h is not None]
        return await self._delete(handles)

    async def _process(self, message: dict[str, Any]) -> str | None:
        """Produce the message's records; the receipt handle if it may now be deleted."""
        received_at = self._clock()
        mid = message.get("MessageId", "")
        heartbeat = asyncio.create_task(self._keep_invisible(message["ReceiptHandle"]))
        try:
            return await self._produce(message, received_at, mid)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _keep_invisible(self, receipt_handle: str) -> None:
        """Extend the visibility timeout while a slow message (big log files) is still in work.

        Without it SQS would hand the message to another consumer mid-way (duplicates only,
        but wasted work). Failures are logged: the worst case is a redelivery.
        """
        vis = self.options.visibility_timeout_s
        while True:
            await asyncio.sleep(max(vis / 2, 0.1))
            try:
                await self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=vis
                )
                self._aws("sqs", "ChangeMessageVisibility")
            except ClientError as exc:
                self._aws("sqs", "ChangeMessageVisibility", exc)
                log.warning("source.visibility_extend_failed", queue=self.queue_url, error=repr(exc))

    async def _produce(self, message: dict[str, Any], received_at: str, mid: str) -> str | None:
        try:
            try:
                emits = await self.emits_for(message, received_at)
            except PermanentMessageError as exc:
                body = message.get("Body", "")
                emits = [
                    dead_letter_emit(
                        stage=self.stage,
                        reason=f"sqs message {mid}: {exc}",
                        error_type=type(exc).__name__,
                        at=received_at,
                        original=body.encode("utf-8"),
                        key=mid,
                        trace_id=mid,
                    )
                ]
            await self.producer.send_many(emits)
            count_produced(self.metrics, self.stage, self.queue_url, emits)
        except Exception as exc:  # boundary: leave the message for redelivery, say so loudly
            self.stats.failed += 1
            log.error("source.message_failed", queue=self.queue_url, message_id=mid, error=repr(exc))
            return None
        n_dead = sum(1 for e in emits if e.topic == "dlq")
        self.stats.dead_letters += n_dead
        self.stats.records += len(emits) - n_dead
        if self._before_delete is not None:
            await self._before_delete(message)
        handle: str = message["ReceiptHandle"]
        return handle

    def _aws(self, service: str, operation: str, exc: ClientError | None = None) -> None:
        if self.metrics is not None:
            code = str(exc.response.get("Error", {}).get("Code", "")) if exc is not None else None
            self.metrics.aws_call(service, operation, code or None)

    async def _delete(self, handles: list[str]) -> int:
        deleted = 0
        for i in range(0, len(handles), 10):
            chunk = handles[i : i + 10]
            resp = await self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(chunk)],
            )
            self._aws("sqs", "DeleteMessageBatch")
            for f in resp.get("Failed", []):
                # Not deleted: it will be redelivered and its records produced again (duplicates only).
                log.error("source.delete_failed", queue=self.queue_url, code=f.get("Code"), reason=f.get("Message"))
            deleted += len(resp.get("Successful", []))
        self.stats.deleted += deleted
        return deleted
