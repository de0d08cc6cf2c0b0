"""The one runtime: each stage driven by an aiokafka consume → handle → produce loop.

Every stage of a process (ingest, posture, detect, alerts, remediate, ...) runs as one
:class:`StageLoop`, a ``mode`` service (faust-streaming's service framework) hosted by the
daemon's worker (:mod:`cspm_stream.daemon`), each on its own asyncio task: a stage whose
``handle()`` is an AWS round trip (ingest, remediate) never holds up another stage. Why not
faust agents: their per-event machinery caps a worker at ~2,300 records/s whatever the
stage does, the loop runs ~147,000 (figures in docs/design.md).

Per batch (what ``getmany`` returns, at most ``app.batch_max`` records):

1. each record's handler runs against a private view of the state (discarded if the record
   is dead-lettered: the DLQ gets the reason and the original bytes); a record that succeeds
   has its changes applied in memory and its outputs sent at once (no added latency). A
   handler declaring ``concurrent_partitions = True`` has the records of different
   partitions handled concurrently (each partition's in order), and one declaring
   ``max_batch`` takes at most that many records per batch;
2. group commit (:mod:`cspm_stream.groupcommit`): at most every ``app.commit_interval_s``, once
   the previous group is settled, the processed batches go to a committer task that awaits
   every output (acks=all, idempotent producer; an output the broker refuses as too large
   dead-letters its input), then writes each changed key once to the stage's changelog
   (:mod:`cspm_stream.changelog`) and awaits that, then commits the input offsets.

So a crash loses at most uncommitted work, which is re-processed and re-emits the same
deterministic ids (at-least-once). If outputs or changelog records cannot be delivered
(the producer gave up after its retries), the loop stops and calls ``on_fatal``: the
daemon exits non-zero and its restart resumes from the last commit, with state rebuilt
from the changelog; retrying in place could see in-memory caches already advanced.

State is partition-scoped: a key's changelog record goes to the partition of the input
record that wrote it; on assignment each partition's changelog is replayed before any of
its records is processed; on revocation the partition's keys are dropped unless it comes
straight back with its committed offset unchanged. Revocation first settles every processed
batch. Metrics (records in/out, latency, dead letters, lag) go to the context's registry.

Work that no record triggers (expiring unapproved remediation commands) runs through
:meth:`StageLoop.step`, like a record: a handler with ``tick_interval_s`` and a
``tick(state) -> list[Emit]`` method has it called that often.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import mode
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError, MessageSizeTooLargeError

from cspm_stream.changelog import PartitionedState, changelog_topic, ensure_changelog, restore
from cspm_stream.groupcommit import Batch, GroupCommit
from cspm_stream.kafka import client_options
from cspm_stream.logging import RECORD
from cspm_stream.settings import Settings
from cspm_stream.stages import guard
from cspm_stream.stages.base import Emit, Handler, RecordMeta, RoleContext
from cspm_stream.topics import input_partitions


def group_id(settings: Settings, handler: Handler) -> str:
    """The consumer group of a stage."""
    return f"{settings.app.id}.{handler.name}"


class StageLoop(mode.Service):
    """Run one handler on its input topics: a ``mode`` service (``start()``/``stop()``, or in a worker)."""

    def __init__(
        self,
        ctx: RoleContext,
        handler: Handler,
        *,
        on_fatal: Callable[[BaseException], None] | None = None,
        ready_timeout_s: float = 60.0,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.ctx = ctx
        self.settings = settings = ctx.settings
        self.handler = handler
        self._metrics = ctx.metrics
        self._on_fatal = on_fatal
        self._ready_timeout = ready_timeout_s
        k = settings.kafka
        self.partitions = input_partitions(k, handler.name, handler.inputs)
        self.changelog = changelog_topic(settings, handler.name)
        self.group = group_id(settings, handler)
        self._topics = tuple(k.topic(t) for t in handler.inputs)
        self._dlq = k.topic("dlq")
        self._concurrent = bool(getattr(handler, "concurrent_partitions", False))
        self.store = PartitionedState()
        self._lock = asyncio.Lock()
        self._generation = 0
        self._assigned = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._stepping: asyncio.Future[list[Emit]] | None = None  # a timer step under way (never cut short)
        self._group = GroupCommit(
            self._settle,
            self._fail,
            interval_s=settings.app.commit_interval_s,
            max_pending=100 * settings.app.batch_max,
            name=handler.name,
        )
        self._failure: BaseException | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._log = ctx.log.bind(stage=handler.name)

    @property
    def table(self) -> dict[str, Any]:
        """The stage's state: key → JSON-able value."""
        return self.store.table

    @property
    def label(self) -> str:
        return f"stage:{self.handler.name}"

    @property
    def shortlabel(self) -> str:
        return self.label

    # ------------------------------------------------------------------ lifecycle
    async def on_start(self) -> None:
        await ensure_changelog(self.settings, self.changelog, self.partitions)
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
        self._task = asyncio.create_task(self._run(), name=f"stage:{self.handler.name}")
        interval = float(getattr(self.handler, "tick_interval_s", 0) or 0)
        tick = getattr(self.handler, "tick", None)
        if interval > 0 and tick is not None:
            self._ticker = asyncio.create_task(self._tick_loop(tick, interval), name=f"stage-tick:{self.handler.name}")
        try:  # readiness = partitions assigned and their state restored (bounded: an idle group still starts)
            await asyncio.wait_for(self._assigned.wait(), self._ready_timeout)
        except TimeoutError:
            self._log.warning("no partitions assigned yet; starting anyway", waited_s=self._ready_timeout)
        self._log.info("stage started", topics=list(self._topics), group=self.group)

    async def on_stop(self) -> None:
        self._stopping = True
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        if self._stepping is not None:  # a step is all or nothing: let it finish, then settle it
            await asyncio.gather(self._stepping, return_exceptions=True)
        if self._task is not None:
            await self._task  # its last batch settled (or the failure reported through on_fatal)
        if self._consumer is not None:
            await self._consumer.stop()  # leaves the group: partitions move on at once
            self._consumer = None
        close = getattr(self.handler, "stop", None)
        if close is not None:  # the handler's own resources (AWS clients), after its last batch
            await close()

    # ------------------------------------------------------------------ the loop
    async def _run(self) -> None:
        assert self._consumer is not None
        # a stage whose records each take an AWS round trip declares a smaller batch: commits (and the
        # work a crash makes redo) then progress every few records instead of every app.batch_max
        batch_max = min(self.settings.app.batch_max, int(getattr(self.handler, "max_batch", 0) or 1 << 30))
        poll_ms = max(100, int(self.settings.app.batch_within_s * 1000))
        self._group.start()
        try:
            while not self._stopping and self._failure is None:
                batch = await self._consumer.getmany(timeout_ms=poll_ms, max_records=batch_max)
                if batch and self._concurrent:  # up to batch_max of every partition with records already fetched
                    for tp in self._consumer.assignment() - batch.keys():
                        batch.update(await self._consumer.getmany(tp, timeout_ms=0, max_records=batch_max))
                if not batch:
                    async with self._lock:
                        await self._group.hand_off(force=True)
                    continue
                generation = self._generation
                async with self._lock:
                    if generation != self._generation:
                        continue  # a rebalance happened meanwhile: positions were reset to the commits
                    self._group.add(await self._process(batch))
                    await self._group.hand_off(force=False)
        except Exception as exc:
            self._fail(exc)
        finally:  # settle what was processed, then end the committer (unless it already failed)
            await self._group.close()

    def _fail(self, exc: BaseException) -> None:
        if self._failure is not None:
            return
        self._failure = exc
        self._log.error("stage stopped: outputs could not be delivered", error=f"{type(exc).__name__}: {exc}")
        if self._on_fatal is not None:
            self._on_fatal(exc)

    async def _process(self, batch: dict[TopicPartition, list[Any]]) -> Batch:
        """Run the handler over a batch; state changes apply in memory now, become durable in :meth:`_settle`."""
        dirty: dict[str, int] = {}  # keys this batch changed -> the partition whose changelog gets them
        out = Batch()
        if self._concurrent and len(batch) > 1:
            await asyncio.gather(*(self._process_partition(tp, msgs, out, dirty) for tp, msgs in batch.items()))
        else:
            for tp, msgs in batch.items():
                await self._process_partition(tp, msgs, out, dirty)
        out.changes.update(self.store.serialized(dirty))
        return out

    async def _process_partition(self, tp: TopicPartition, msgs: list[Any], out: Batch, dirty: dict[str, int]) -> None:
        producer = self.ctx.producer.raw
        topic = self.settings.kafka.topic
        handler = self.handler
        state, apply = self.store.table, self.store.apply
        track = not getattr(handler, "assigns_changes", False)
        partition = tp.partition
        clock = time.perf_counter
        for msg in msgs:
            meta = RecordMeta(msg.topic, msg.partition, msg.offset, msg.timestamp, {}, msg.headers)
            view = guard.TrackedState(state, track_reads=track)  # discarded if the record fails
            token = RECORD.set((msg.topic, msg.partition, msg.offset))
            started = clock()
            try:  # the one per-record boundary: never lose the input
                emits = await handler.handle(msg.key, msg.value, meta, view)
                elapsed = clock() - started
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
            apply(view.changes(), partition, dirty)
            out.done.append((meta, emits, elapsed))
        out.offsets[tp] = msgs[-1].offset + 1
        out.records += len(msgs)

    async def _settle(self, b: Batch) -> None:
        """Make one group durable: every output acknowledged, then the changelog, then the offsets."""
        producer = self.ctx.producer.raw
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
        self._metrics.on_batch(self.handler.name, b.done)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self._consumer is not None
        if not offsets:  # timer steps only: nothing consumed to commit
            return
        try:
            await self._consumer.commit(offsets)
        except (KafkaError, IllegalStateError) as exc:
            # the group moved on (rebalance or expired membership): the next owner re-processes
            # these records from the last commit and finds their outputs already made (idempotent)
            self._log.warning("offset commit refused; records will be re-processed", error=str(exc))
            return
        lags: dict[str, dict[int, int]] = {}
        for tp, off in offsets.items():
            self.store.held[tp.partition] = off
            high = self._consumer.highwater(tp)  # from the last fetch response; None before one
            if high is not None:
                lags.setdefault(tp.topic, {})[tp.partition] = high - off
        for name, by_partition in lags.items():
            self._metrics.set_lag(name, by_partition)

    async def _dead_letter(self, msg: Any, meta: RecordMeta, exc: Exception) -> Any:
        reason, value, headers = guard.dead_letter(
            self.handler.name,
            exc,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
            value=msg.value,
            headers=meta.all_headers(),
        )
        self._log.warning(
            "dead-letter", topic=msg.topic, partition=msg.partition, offset=msg.offset, reason=reason[:300]
        )
        self._metrics.on_dead_letter(self.handler.name, msg.topic)
        return await self.ctx.producer.raw.send(self._dlq, value, key=msg.key, headers=headers)

    # ------------------------------------------------------------------ work no record triggers
    async def step(self, fn: Callable[[MutableMapping[str, Any]], list[Emit]]) -> list[Emit]:
        """Run ``fn`` on the stage's state as if it were a record: its outputs are sent at once, its
        changes applied in memory and settled (changelog) with the next group commit; if it raises,
        nothing changes. A key it creates belongs to the lowest partition this worker holds (it
        does nothing while it holds none)."""
        async with self._lock:
            if not self.store.held:
                return []
            view = guard.TrackedState(self.table, track_reads=not getattr(self.handler, "assigns_changes", False))
            emits = fn(view)
            producer = self.ctx.producer.raw
            topic = self.settings.kafka.topic
            meta = RecordMeta(topic="", partition=-1, offset=-1)
            out = Batch()
            for e in emits:
                fut = await producer.send(topic(e.topic), e.value, key=e.wire_key(), headers=e.wire_headers())
                out.outputs.append((fut, None, meta))
            dirty: dict[str, int] = {}
            self.store.apply(view.changes(), None, dirty)
            out.changes.update(self.store.serialized(dirty))
            self._group.add(out)
            await self._group.hand_off(force=False)
            return emits

    async def _tick_loop(self, tick: Callable[[MutableMapping[str, Any]], list[Emit]], interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self._stepping = asyncio.ensure_future(self.step(tick))
                await asyncio.shield(self._stepping)  # a stop cancels the timer, never a step half done
            except Exception as exc:  # the next tick tries again; records keep flowing meanwhile
                self._log.warning("tick failed", error=f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ rebalancing and state
    async def on_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        async with self._lock:  # the batch in flight finishes first, then every batch is settled (committed)
            self._generation += 1
            await self._group.drain()

    async def on_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        assert self._consumer is not None
        async with self._lock:
            self._generation += 1
            mine = {tp.partition for tp in assigned}
            committed = {p: await self._committed(p) for p in sorted(mine)}
            # (a partition that came straight back, committed where we left it, keeps its state)
            restoring = self.store.reassign(mine, committed)
            if restoring:
                started = time.perf_counter()
                n = await restore(self.settings, self.changelog, restoring, self.store.table, self.store.owner)
                self._log.info(
                    "state restored",
                    partitions=restoring,
                    records=n,
                    keys=len(self.table),
                    seconds=round(time.perf_counter() - started, 3),
                )
                self.store.restored(restoring, committed)
            self._assigned.set()

    async def _committed(self, partition: int) -> int | None:
        assert self._consumer is not None
        # co-partitioned inputs: the first input topic's commit identifies who processed last
        offset: int | None = await self._consumer.committed(TopicPartition(self._topics[0], partition))
        return offset


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: StageLoop) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._loop.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._loop.on_assigned(assigned)
