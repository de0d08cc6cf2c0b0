"""Group commit without Kafka: order, merging within the interval, backlog, drain, failure."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition

from cspm_stream.groupcommit import Batch, GroupCommit

TP = TopicPartition("t", 0)


def batch(offset: int, key: bytes = b"k", records: int = 1) -> Batch:
    return Batch(changes={key: (str(offset).encode(), 0)}, offsets={TP: offset}, records=records)


class Settler:
    """Records each settled group; ``gate`` holds a settle until released."""

    def __init__(self) -> None:
        self.groups: list[Batch] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_with: BaseException | None = None

    async def __call__(self, b: Batch) -> None:
        await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        self.groups.append(b)


async def test_batches_added_within_the_interval_settle_as_one_group_with_each_key_once() -> None:
    settler, failures = Settler(), []
    g = GroupCommit(settler, failures.append, interval_s=3600, max_pending=1000)
    g.start()
    g.add(batch(1))
    await g.hand_off(force=False)  # the first group goes at once (nothing settled yet)
    for off in (2, 3, 4):
        g.add(batch(off))
        await g.hand_off(force=False)  # within the interval: merged, not handed off
    await g.drain()
    await g.close()
    assert [grp.offsets[TP] for grp in settler.groups] == [1, 4]
    assert settler.groups[1].changes == {b"k": (b"4", 0)} and settler.groups[1].records == 3
    assert failures == []


async def test_groups_settle_in_order_and_the_next_waits_for_the_previous() -> None:
    settler = Settler()
    g = GroupCommit(settler, lambda exc: None, interval_s=0, max_pending=1000)
    g.start()
    settler.gate.clear()  # the first group hangs in its settle
    g.add(batch(1))
    await g.hand_off(force=False)
    await asyncio.sleep(0)
    g.add(batch(2))
    await g.hand_off(force=False)  # previous not settled: kept waiting, merged with what follows
    g.add(batch(3))
    await g.hand_off(force=False)
    assert settler.groups == []
    settler.gate.set()
    await g.drain()
    await g.close()
    assert [grp.offsets[TP] for grp in settler.groups] == [1, 3]


async def test_a_backlog_makes_the_loop_wait_for_the_committer() -> None:
    settler = Settler()
    g = GroupCommit(settler, lambda exc: None, interval_s=3600, max_pending=10)
    g.start()
    settler.gate.clear()
    g.add(batch(1))
    await g.hand_off(force=False)
    await asyncio.sleep(0)  # group 1 is settling (held)
    g.add(batch(2, records=10))
    await g.hand_off(force=False)  # a backlog: handed to the queue (room for one)
    g.add(batch(3, records=10))
    waiting = asyncio.ensure_future(g.hand_off(force=False))  # the queue is full: the loop waits
    await asyncio.sleep(0.05)
    assert not waiting.done()
    settler.gate.set()
    await waiting
    await g.close()
    assert [grp.offsets[TP] for grp in settler.groups] == [1, 2, 3]


async def test_a_failed_settle_is_reported_and_ends_the_committer() -> None:
    settler, failures = Settler(), []
    settler.fail_with = RuntimeError("broker gone")
    g = GroupCommit(settler, failures.append, interval_s=0, max_pending=1000)
    task = g.start()
    g.add(batch(1))
    await g.hand_off(force=True)
    await asyncio.wait_for(task, 5)
    assert [str(e) for e in failures] == ["broker gone"]
    g.add(batch(2))
    await asyncio.wait_for(g.drain(), 5)  # returns: nothing left to wait for
    await asyncio.wait_for(g.close(), 5)
    assert settler.groups == []


async def test_close_settles_what_was_added() -> None:
    settler = Settler()
    g = GroupCommit(settler, lambda exc: None, interval_s=3600, max_pending=1000)
    g.start()
    g.add(batch(1))
    await g.hand_off(force=False)
    g.add(batch(2))
    await g.close()
    assert [grp.offsets[TP] for grp in settler.groups] == [1, 2]


def test_merge_keeps_the_last_write_of_a_key() -> None:
    a = batch(1, b"x")
    a.merge(batch(2, b"x")).merge(batch(3, b"y"))
    assert a.changes == {b"x": (b"2", 0), b"y": (b"3", 0)} and a.offsets[TP] == 3 and a.records == 3


@pytest.mark.parametrize("force", [True, False])
async def test_nothing_added_hands_off_nothing(force: bool) -> None:
    settler = Settler()
    g = GroupCommit(settler, lambda exc: None, interval_s=0, max_pending=1)
    g.start()
    await g.hand_off(force=force)
    await g.close()
    assert settler.groups == []
