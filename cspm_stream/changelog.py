"""A stage's state changelog: a compacted topic, one partition per input partition.

Key and value are JSON (orjson); a ``None`` value deletes the key. A key's record goes
to the partition of the input record that last wrote it, so the state of a partition
moves with the partition on a rebalance. The topic is named
``<app.id>-<stage>-state-changelog`` (the name faust gave a stage's table, so state
written by earlier versions is restored as is).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from cspm_stream.errors import ConfigError
from cspm_stream.kafka import client_options
from cspm_stream.settings import Settings
from cspm_stream.topic_admin import ensure_named_topics
from cspm_stream.topics import TopicSpec

#: the changelog is compacted like the other state topics
_CHANGELOG = TopicSpec("changelog", "state key (JSON)", True, -1)


def changelog_topic(settings: Settings, stage: str) -> str:
    """The changelog topic of ``stage``'s state."""
    return f"{settings.app.id}-{stage}-state-changelog"


async def ensure_changelog(settings: Settings, topic: str, partitions: int) -> None:
    """Create the changelog (compacted, ``partitions`` partitions) or verify it; a mismatch is a ConfigError."""
    spec = replace(_CHANGELOG, partitions=partitions)
    ((name, status),) = await ensure_named_topics(settings.kafka, [(topic, spec)])
    if status not in ("created", "ok"):
        raise ConfigError(
            f"topic {name}",
            status,
            "a stage's changelog must match its inputs' partitions (state would be misplaced)",
        )


async def restore(
    settings: Settings, topic: str, partitions: list[int], state: dict[str, Any], owner: dict[str, int]
) -> int:
    """Replay ``partitions`` of the changelog up to their end into ``state`` (and ``owner``: key → partition).

    Returns the number of records replayed.
    """
    reader = AIOKafkaConsumer(
        **client_options(settings.kafka),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # no group, no commits: every partition is read from its start
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await reader.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
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
                        state.pop(key, None)
                        owner.pop(key, None)
                    else:
                        state[key] = orjson.loads(m.value)
                        owner[key] = tp.partition
                    n += 1
            for tp in list(todo):
                if await reader.position(tp) >= todo[tp]:
                    del todo[tp]
        return n
    finally:
        await reader.stop()


_GONE = object()


class PartitionedState:
    """A stage's state: key → JSON-able value, each key owned by the input partition whose record
    last wrote it (its changelog record goes to that partition, so the key moves with it).

    ``held`` maps each partition this worker holds to the input offset it last committed there
    (``None``: not yet), which tells a partition that comes straight back (state current) from
    one another worker moved on (state replayed from the changelog).
    """

    def __init__(self) -> None:
        self.table: dict[str, Any] = {}
        self.owner: dict[str, int] = {}
        self.held: dict[int, int | None] = {}

    def apply(self, changes: list[tuple[str, Any, bool]], partition: int | None, dirty: dict[str, int]) -> None:
        """Apply a record's changes in memory and note each key in ``dirty`` with its partition.

        ``partition`` None: no record made them (a timer): a key keeps its owner, a new key goes
        to the lowest partition held.
        """
        table, owner = self.table, self.owner
        home = min(self.held) if partition is None and self.held else 0
        for key, value, deleted in changes:
            p = partition if partition is not None else owner.get(key, home)
            if deleted:
                table.pop(key, None)
                owner.pop(key, None)
            else:
                table[key] = value
                owner[key] = p
            dirty[key] = p

    def serialized(self, dirty: dict[str, int]) -> dict[bytes, tuple[bytes | None, int]]:
        """The changelog records of ``dirty`` keys now (JSON key → JSON value or None, partition):
        serialised at once, as a later batch may change the live values before these are written."""
        table = self.table
        out: dict[bytes, tuple[bytes | None, int]] = {}
        for key, partition in dirty.items():
            value = table.get(key, _GONE)
            out[orjson.dumps(key)] = (None if value is _GONE else orjson.dumps(value), partition)
        return out

    def reassign(self, mine: set[int], committed: dict[int, int | None]) -> list[int]:
        """A new assignment: drop the keys of partitions gone and of partitions someone else moved on;
        returns the partitions whose changelog must be replayed (then call :meth:`restored`)."""
        restoring = [p for p in sorted(mine) if p not in self.held or self.held[p] != committed[p]]
        dropped = (set(self.held) - mine) | set(restoring)
        if dropped:
            for key in [k for k, p in self.owner.items() if p in dropped]:
                del self.table[key]
                del self.owner[key]
            for p in dropped:
                self.held.pop(p, None)
        return restoring

    def restored(self, partitions: list[int], committed: dict[int, int | None]) -> None:
        for p in partitions:
            self.held[p] = committed[p]
