"""The lean runtime: one stage driven by a plain aiokafka consume → handle → produce loop.

Same :class:`~cspm_stream.stages.base.Handler` contract, same guarantees as a faust agent
(:mod:`cspm_stream.app`), a fraction of the per-record cost. It exists because faust's
per-event machinery caps a worker at a few thousand records/s while the detection engine
runs at tens of thousands (measurements in docs/design.md). Stages listed in
``app.batchloop_stages`` run here; the others stay faust agents in the same process.

Per batch (what ``getmany`` returns, at most ``app.batch_max`` records):

1. each record's handler runs against a private view of the state (discarded if the record
   is dead-lettered: the DLQ gets the reason and the original bytes); a record that succeeds
   has its changes applied in memory and its outputs sent at once (no added latency);
2. group commit: at most every ``app.commit_interval_s``, once the previous group is settled,
   the processed batches go to a committer task that awaits every output (acks=all,
   idempotent producer; an output the broker refuses as too large dead-letters its input),
   then writes each changed key once to the stage's changelog topic (compacted, one partition
   per input partition, the same topic and JSON encoding as faust's table) and awaits that,
   then commits the input offsets.

So a crash loses at most uncommitted work, which is re-processed and re-emits the same
deterministic ids (at-least-once). If outputs or changelog records cannot be delivered
(the producer gave up after its retries), the loop stops and calls ``on_fatal``: the
daemon exits non-zero and its restart resumes from the last commit, with state rebuilt
from the changelog; retrying in place could see in-memory caches already advanced.

State is partition-scoped as in faust: a key's changelog record goes to the partition of
the input record that wrote it; on assignment each partition's changelog is replayed
before any of its records is processed; on revocation the partition's keys are dropped
unless it comes straight back with its committed offset unchanged. Revocation first settles
every processed batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError, MessageSizeTooLargeError

from cspm_stream.errors import ConfigError
from cspm_stream.kafka import Producer, client_options, ensure_named_topics
from cspm_stream.logging import RECORD
from cspm_stream.settings import Settings
from cspm_stream.stages import guard
from cspm_stream.stages.base import Emit, Handler, RecordMeta
from cspm_stream.topics import TopicSpec, input_partitions

log = structlog.get_logger("cspm_stream.batchloop")

_GONE = object()

#: the stage's changelog topic is compacted like the other state topics
_CHANGELOG = TopicSpec("changelog", "state key (JSON)", True, -1)


def changelog_topic(settings: Settings, handler: Handler) -> str:
    """The changelog of a stage's state: the name faust gives the stage's table, so either runtime restores it."""
    return f"{settings.app.id}-{handler.name}-state-changelog"


def group_id(settings: Settings, handler: Handler) -> str:
    """The consumer group of a batch-loop stage (its own: faust's group uses faust's assignor)."""
    return f"{settings.app.id}.{handler.name}"


@dataclass(slots=True)
class _Batch:
    """Processed records waiting to be settled (one or more consecutive batches, merged)."""

    #: (ack future, input record or None for a dead letter, its meta)
    outputs: list[tuple[Any, Any, RecordMeta]] = field(default_factory=list)
    #: changelog records: JSON key -> (JSON value or None = delete, partition); the last write of a key wins
    changes: dict[bytes, tuple[bytes | None, int]] = field(default_factory=dict)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    done: list[tuple[RecordMeta, list[Emit], float]] = field(default_factory=list)
    records: int = 0

    def merge(self, later: _Batch) -> _Batch:
        self.outputs.extend(later.outputs)
        self.changes.update(later.changes)
        self.offsets.update(later.offsets)
        self.done.extend(later.done)
        self.records += later.records
        return self


class StageLoop:
    """Run one handler on its input topics until :meth:`stop`. Has async ``start()``/``stop()``."""

    def __init__(
        self,
        settings: Settings,
        handler: Handler,
        *,
        on_batch: Callable[[str, list[tuple[RecordMeta, list[Emit], float]], float], None] | None = None,
        on_dead_letter: Callable[[str, str], None] | None = None,
        on_fatal: Callable[[BaseException], None] | None = None,
        on_lag: Callable[[str, dict[int, int]], None] | None = None,
        ready_timeout_s: float = 60.0,
    ) -> None:
        self.settings = settings
        self.handler = handler
        self._on_batch = on_batch
        self._on_dead_letter = on_dead_letter
        self._on_fatal = on_fatal
        self._on_lag = on_lag
        self._ready_timeout = ready_timeout_s
        k = settings.kafka
        self.partitions = input_partitions(k, handler.name, handler.inputs)
        self.changelog = changelog_topic(settings, handler)
        self.group = group_id(settings, handler)
        self._topics = tuple(k.topic(t) for t in handler.inputs)
        self._dlq = k.topic("dlq")
        #: the state: key -> JSON-able value, and the partition whose changelog holds each key
        self.state: dict[str, Any] = {}
        self._owner: dict[str, int] = {}
        self._held: dict[int, int | None] = {}  # partition -> the offset we last committed (None = not yet)
        self._lock = asyncio.Lock()
        self._generation = 0
        self._assigned = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._committer: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[_Batch | None] = asyncio.Queue(maxsize=1)
        self._pending: _Batch | None = None  # processed, not yet handed to the committer
        self._settling = False
        self._interval = settings.app.commit_interval_s
        self._next_settle = 0.0
        self._max_pending = 100 * settings.app.batch_max
        self._failure: BaseException | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: Producer | None = None
        self._log = log.bind(stage=handler.name)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        await self._ensure_changelog()
        self._producer = Producer(self.settings.kafka, linger_ms=2, max_batch_size=256 * 1024)
        await self._producer.start()
        self._consumer = AIOKafkaConsumer(
            **client_options(self.settings.kafka),
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
        )
        await self._consumer.start()
        self._consumer.subscribe(list(self._topics), listener=_Listener(self))
        self._task = asyncio.create_task(self._run(), name=f"batchloop:{self.handler.name}")
        try:  # readiness = partitions assigned and their state restored (bounded: an idle group still starts)
            await asyncio.wait_for(self._assigned.wait(), self._ready_timeout)
        except TimeoutError:
            self._log.warning("no partitions assigned yet; starting anyway", waited_s=self._ready_timeout)
        self._log.info("batch loop started", topics=list(self._topics), group=self.group)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            await self._task  # its last batch settled (or the failure reported through on_fatal)
        if self._consumer is not None:
            await self._consumer.stop()  # leaves the group: partitions move on at once
        if self._producer is not None:
            await self._producer.stop()
        close = getattr(self.handler, "stop", None)
        if close is not None:  # the handler's own resources (AWS clients), after its last batch
            await close()

    # ------------------------------------------------------------------ the loop
    async def _run(self) -> None:
        assert self._consumer is not None
        batch_max = self.settings.app.batch_max
        poll_ms = max(100, int(self.settings.app.batch_within_s * 1000))
        self._committer = asyncio.create_task(self._commit_loop(), name=f"batchloop-commit:{self.handler.name}")
        try:
            while not self._stopping and self._failure is None:
                batch = await self._consumer.getmany(timeout_ms=poll_ms, max_records=batch_max)
                if not batch:
                    async with self._lock:
                        await self._hand_off(force=True)
                    continue
                generation = self._generation
                async with self._lock:
                    if generation != self._generation:
                        continue  # a rebalance happened meanwhile: positions were reset to the commits
                    done = await self._process(batch)
                    self._pending = done if self._pending is None else self._pending.merge(done)
                    await self._hand_off(force=False)
        except Exception as exc:
            self._fail(exc)
        finally:  # settle what was processed, then end the committer (unless it already failed)
            end = asyncio.ensure_future(self._end_committer())
            await asyncio.wait({self._committer})
            end.cancel()

    async def _end_committer(self) -> None:
        await self._hand_off(force=True)
        await self._queue.put(None)

    async def _hand_off(self, *, force: bool) -> None:
        """Group commit: processed batches are merged and handed to the committer at most every
        ``app.commit_interval_s`` (outputs are sent at once regardless; only the changelog and the
        offset commit wait), so a key written many times in an interval is written once.
        ``force`` (idle input, rebalance, stop) and a large backlog hand off (or wait) at once.
        """
        pending = self._pending
        if pending is None:
            return
        now = time.monotonic()
        if self._queue.empty() and not self._settling and (force or now >= self._next_settle):
            self._pending = None
            self._next_settle = now + self._interval
            self._queue.put_nowait(pending)
        elif force or pending.records >= self._max_pending:
            self._pending = None
            self._next_settle = now + self._interval
            await self._queue.put(pending)

    def _fail(self, exc: BaseException) -> None:
        if self._failure is not None:
            return
        self._failure = exc
        self._log.error("batch loop stopped: outputs could not be delivered", error=f"{type(exc).__name__}: {exc}")
        if self._on_fatal is not None:
            self._on_fatal(exc)

    async def _process(self, batch: dict[TopicPartition, list[Any]]) -> _Batch:
        """Run the handler over a batch; state changes apply in memory now, become durable in :meth:`_settle`."""
        assert self._producer is not None
        producer = self._producer.raw
        topic = self.settings.kafka.topic
        handler = self.handler
        state, owners = self.state, self._owner
        track = not getattr(handler, "assigns_changes", False)
        dirty: dict[str, int] = {}  # keys this batch changed -> the partition whose changelog gets them
        out = _Batch()
        for tp, msgs in batch.items():
            partition = tp.partition
            for msg in msgs:
                meta = RecordMeta(
                    topic=msg.topic,
                    partition=msg.partition,
                    offset=msg.offset,
                    timestamp_ms=msg.timestamp,
                    headers=guard.record_headers(msg.headers),
                )
                started = time.perf_counter()
                view = guard.TrackedState(state, track_reads=track)  # discarded if the record fails
                token = RECORD.set((msg.topic, msg.partition, msg.offset))
                try:  # the one per-record boundary: never lose the input
                    emits = await handler.handle(msg.key, msg.value, meta, view)
                    sends = [
                        await producer.send(topic(e.topic), e.value, key=e.wire_key(), headers=e.wire_headers())
                        for e in emits
                    ]
                except Exception as exc:
                    out.outputs.append((await self._dead_letter(msg, meta, exc), None, meta))
                    continue
                finally:
                    RECORD.reset(token)
                out.outputs.extend((fut, msg, meta) for fut in sends)
                # in memory at once (a failure to deliver stops the process; the restart rebuilds from the changelog)
                for key, value, deleted, _owner in view.changes():
                    if deleted:
                        state.pop(key, None)
                        owners.pop(key, None)
                    else:
                        state[key] = value
                        owners[key] = partition
                    dirty[key] = partition
                out.done.append((meta, emits, started))
            out.offsets[tp] = msgs[-1].offset + 1
            out.records += len(msgs)
        for key, partition in dirty.items():
            # serialised now: a later batch may mutate the live value before this one is settled
            value = state.get(key, _GONE)
            out.changes[orjson.dumps(key)] = (None if value is _GONE else orjson.dumps(value), partition)
        return out

    async def _commit_loop(self) -> None:
        """Settle batches in order: outputs acknowledged → changelog acknowledged → offsets committed."""
        while True:
            item = await self._queue.get()
            self._settling = True
            try:
                if item is None:
                    return
                await self._settle(item)
            except Exception as exc:
                self._fail(exc)
                return
            finally:
                self._settling = False
                self._queue.task_done()

    async def _settle(self, b: _Batch) -> None:
        assert self._producer is not None
        producer = self._producer.raw
        for fut, msg, meta in b.outputs:  # every output acknowledged before the state is made durable
            try:
                await fut
            except MessageSizeTooLargeError as exc:
                if msg is None:  # a dead letter itself was refused
                    raise
                # the broker refused this output (larger than the topic allows): its input is dead-lettered
                await (await self._dead_letter(msg, meta, exc))
        acks = [
            await producer.send(self.changelog, value, key=key, partition=owner)
            for key, (value, owner) in b.changes.items()
        ]
        for fut in acks:
            await fut
        await self._commit(b.offsets)
        if self._on_batch is not None:
            self._on_batch(self.handler.name, b.done, time.perf_counter())

    async def _drain(self) -> None:
        """Wait until every processed batch is settled (or the committer failed)."""
        if self._committer is None or self._committer.done():
            return
        hand = asyncio.ensure_future(self._hand_off(force=True))
        await asyncio.wait({hand, self._committer}, return_when=asyncio.FIRST_COMPLETED)
        hand.cancel()
        join = asyncio.ensure_future(self._queue.join())
        await asyncio.wait({join, self._committer}, return_when=asyncio.FIRST_COMPLETED)
        join.cancel()

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self._consumer is not None
        try:
            await self._consumer.commit(offsets)
        except (KafkaError, IllegalStateError) as exc:
            # the group moved on (rebalance or expired membership): the next owner re-processes
            # these records from the last commit and finds their outputs already made (idempotent)
            self._log.warning("offset commit refused; records will be re-processed", error=str(exc))
            return
        lags: dict[str, dict[int, int]] = {}
        for tp, off in offsets.items():
            self._held[tp.partition] = off
            high = self._consumer.highwater(tp)  # from the last fetch response; None before one
            if high is not None:
                lags.setdefault(tp.topic, {})[tp.partition] = high - off
        if self._on_lag is not None:
            for name, by_partition in lags.items():
                self._on_lag(name, by_partition)

    async def _dead_letter(self, msg: Any, meta: RecordMeta, exc: Exception) -> Any:
        assert self._producer is not None
        reason, value, headers = guard.dead_letter(
            self.handler.name,
            exc,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
            value=msg.value,
            headers=meta.headers,
        )
        self._log.warning(
            "dead-letter", topic=msg.topic, partition=msg.partition, offset=msg.offset, reason=reason[:300]
        )
        if self._on_dead_letter is not None:
            self._on_dead_letter(self.handler.name, msg.topic)
        return await self._producer.raw.send(self._dlq, value, key=msg.key, headers=headers)

    # ------------------------------------------------------------------ rebalancing and state
    async def on_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        async with self._lock:  # the batch in flight finishes first, then every batch is settled (committed)
            self._generation += 1
            await self._drain()

    async def on_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        assert self._consumer is not None
        async with self._lock:
            self._generation += 1
            mine = {tp.partition for tp in assigned}
            committed = {p: await self._committed(p) for p in sorted(mine)}
            restore = [p for p in sorted(mine) if p not in self._held or self._held[p] != committed[p]]
            # (a partition that came straight back, committed where we left it, keeps its state)
            dropped = (set(self._held) - mine) | set(restore)
            if dropped:
                for key in [k for k, p in self._owner.items() if p in dropped]:
                    del self.state[key]
                    del self._owner[key]
                for p in dropped:
                    self._held.pop(p, None)
            if restore:
                started = time.perf_counter()
                n = await self._restore(restore)
                self._log.info(
                    "state restored",
                    partitions=restore,
                    records=n,
                    keys=len(self.state),
                    seconds=round(time.perf_counter() - started, 3),
                )
                for p in restore:
                    self._held[p] = committed[p]
            self._assigned.set()

    async def _committed(self, partition: int) -> int | None:
        assert self._consumer is not None
        # co-partitioned inputs: the first input topic's commit identifies who processed last
        offset: int | None = await self._consumer.committed(TopicPartition(self._topics[0], partition))
        return offset

    async def _restore(self, partitions: list[int]) -> int:
        """Replay the changelog of ``partitions`` up to its end into memory."""
        reader = AIOKafkaConsumer(
            **client_options(self.settings.kafka),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # no group, no commits: every partition is read from its start
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await reader.start()
        try:
            tps = [TopicPartition(self.changelog, p) for p in partitions]
            reader.assign(tps)
            ends = await reader.end_offsets(tps)
            todo = {tp: end for tp, end in ends.items() if end > 0}
            n = 0
            while todo:
                got = await reader.getmany(*todo, timeout_ms=1000, max_records=10_000)
                for tp, msgs in got.items():
                    for m in msgs:
                        if m.offset >= todo.get(tp, 0):
                            continue
                        key = orjson.loads(m.key)
                        if m.value is None:
                            self.state.pop(key, None)
                            self._owner.pop(key, None)
                        else:
                            self.state[key] = orjson.loads(m.value)
                            self._owner[key] = tp.partition
                        n += 1
                for tp in list(todo):
                    if await reader.position(tp) >= todo[tp]:
                        del todo[tp]
            return n
        finally:
            await reader.stop()

    async def _ensure_changelog(self) -> None:
        spec = replace(_CHANGELOG, partitions=self.partitions)  # one changelog partition per input partition
        ((name, status),) = await ensure_named_topics(self.settings.kafka, [(self.changelog, spec)])
        if status not in ("created", "ok"):
            raise ConfigError(
                f"topic {name}",
                status,
                "a stage's changelog must match its inputs' partitions (state would be misplaced)",
            )


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: StageLoop) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._loop.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._loop.on_assigned(assigned)
