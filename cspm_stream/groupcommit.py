"""Group commit for the batch loop: when processed batches are settled, in what order, and backpressure.

The loop (:mod:`cspm_stream.batchloop`) sends a record's outputs at once; what waits is making
its work durable — awaiting the outputs' acknowledgements, writing the changed state keys to the
changelog, committing the input offsets — which the loop's ``settle`` does for one :class:`Batch`.
:class:`GroupCommit` decides when: processed batches are merged (:meth:`GroupCommit.add`) and
handed to one committer task at most every ``interval_s``, once the previous group is settled,
so a key written many times in an interval is written once. Groups settle strictly in order
(one task, a queue of one); a backlog of ``max_pending`` records makes the loop wait for the
committer instead of merging further. A group that fails to settle stops the committer and is
reported through ``on_fail`` (the loop then stops: see the batch loop's docstring).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition

from cspm_stream.stages.base import Emit, RecordMeta


@dataclass(slots=True)
class Batch:
    """Processed records waiting to be settled (one or more consecutive batches, merged)."""

    #: (ack future, input record or None for a dead letter or a timer step's output, its meta)
    outputs: list[tuple[Any, Any, RecordMeta]] = field(default_factory=list)
    #: changelog records: JSON key -> (JSON value or None = delete, partition); the last write of a key wins
    changes: dict[bytes, tuple[bytes | None, int]] = field(default_factory=dict)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    #: (meta, emits, seconds the handler took) per processed record, for the metrics
    done: list[tuple[RecordMeta, list[Emit], float]] = field(default_factory=list)
    records: int = 0

    def merge(self, later: Batch) -> Batch:
        self.outputs.extend(later.outputs)
        self.changes.update(later.changes)
        self.offsets.update(later.offsets)
        self.done.extend(later.done)
        self.records += later.records
        return self


class GroupCommit:
    """Hand merged batches to one committer task that settles them in order (see the module docstring)."""

    def __init__(
        self,
        settle: Callable[[Batch], Awaitable[None]],
        on_fail: Callable[[BaseException], None],
        *,
        interval_s: float,
        max_pending: int,
        name: str = "stage",
    ) -> None:
        self._settle = settle
        self._on_fail = on_fail
        self._interval = interval_s
        self._max_pending = max_pending
        self._name = name
        self._queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=1)
        self._pending: Batch | None = None  # processed, not yet handed to the committer
        self._settling = False
        self._next_settle = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The committer task (None before :meth:`start`)."""
        return self._task

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._run(), name=f"stage-commit:{self._name}")
        return self._task

    def add(self, batch: Batch) -> None:
        """Merge a processed batch into the group waiting to be handed off."""
        self._pending = batch if self._pending is None else self._pending.merge(batch)

    async def hand_off(self, *, force: bool) -> None:
        """Hand the waiting group to the committer if the interval passed and the previous group is
        settled; ``force`` (idle input, rebalance, stop) and a backlog hand off, or wait, at once."""
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

    async def drain(self) -> None:
        """Wait until every batch added so far is settled (or the committer failed)."""
        if self._task is None or self._task.done():
            return
        hand = asyncio.ensure_future(self.hand_off(force=True))
        await asyncio.wait({hand, self._task}, return_when=asyncio.FIRST_COMPLETED)
        hand.cancel()
        join = asyncio.ensure_future(self._queue.join())
        await asyncio.wait({join, self._task}, return_when=asyncio.FIRST_COMPLETED)
        join.cancel()

    async def close(self) -> None:
        """Settle what was added, then end the committer (unless it already failed)."""
        if self._task is None:
            return
        end = asyncio.ensure_future(self._end())
        await asyncio.wait({self._task})
        end.cancel()

    async def _end(self) -> None:
        await self.hand_off(force=True)
        await self._queue.put(None)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            self._settling = True
            try:
                if item is None:
                    return
                await self._settle(item)
            except Exception as exc:
                self._on_fail(exc)
                return
            finally:
                self._settling = False
                self._queue.task_done()
