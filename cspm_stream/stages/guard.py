"""What the runtime does around a handler: the state overlay, record headers, dead letters.

The batch loop (:mod:`cspm_stream.batchloop`) drives every
:class:`~cspm_stream.stages.base.Handler`; these pieces are kept apart from it so that the
one-shot CLIs and tests give a handler exactly what the daemon gives it.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import orjson

from cspm_stream import timeutil
from cspm_stream.models import DeadLetter, dumps
from cspm_stream.stages.base import header_bytes, headers_for


class TrackedState(MutableMapping[str, Any]):
    """A transactional view of a stage's state table for one record.

    Writes (and deletes) are buffered: the runtime applies them (:meth:`changes`) only if
    the handler returned, and discards the view if it raised, so a dead-lettered record
    leaves no trace in the state. Values read and mutated in place count as changes too
    (the changelog records only what the runtime sees change) unless ``track_reads`` is
    off, which a handler declaring ``assigns_changes`` allows.
    """

    def __init__(self, table: MutableMapping[str, Any], *, track_reads: bool = True) -> None:
        self._table = table
        #: remember what containers read looked like, to catch in-place mutation
        self._track = track_reads
        self._writes: dict[str, Any] = {}
        self._deleted: set[str] = set()
        self._seen: dict[str, bytes] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self._writes:
            return self._writes[key]
        if key in self._deleted:
            raise KeyError(key)
        value = self._table[key]
        if self._track and key not in self._seen and isinstance(value, dict | list):  # scalars cannot change in place
            self._seen[key] = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        return value

    def __contains__(self, key: object) -> bool:
        if key in self._writes:
            return True
        return key not in self._deleted and key in self._table

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key: str, value: Any) -> None:
        self._writes[key] = value
        self._deleted.discard(key)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._writes.pop(key, None)
        self._deleted.add(key)

    def __iter__(self) -> Iterator[str]:
        keys = [k for k in list(self._table.keys()) if k not in self._deleted and k not in self._writes]
        return iter([*keys, *self._writes])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def changes(self) -> list[tuple[str, Any, bool]]:
        """``(key, value, deleted)`` for every key this view changed, values mutated in place included.

        Deletes come first, then assignments, then in-place mutations (the order :meth:`commit` applies them).
        """
        if not (self._writes or self._deleted or self._seen):  # most records of most stages
            return []
        out: list[tuple[str, Any, bool]] = []
        for key in self._deleted:
            if key in self._table:
                out.append((key, None, True))
        for key, value in self._writes.items():
            out.append((key, value, False))
        for key in self.mutated_in_place():
            out.append((key, self._table[key], False))
        return out

    def mutated_in_place(self) -> list[str]:
        """Keys whose value was changed in place and never re-assigned (what ``assigns_changes`` promises away)."""
        return [
            key
            for key, before in self._seen.items()
            if key not in self._writes
            and key not in self._deleted
            and key in self._table
            and orjson.dumps(self._table[key], option=orjson.OPT_SORT_KEYS) != before
        ]

    def commit(self) -> None:
        """Apply the buffered changes to the table (tests and one-shot use; the runtime uses :meth:`changes`)."""
        for key, value, deleted in self.changes():
            if deleted:
                del self._table[key]
            else:
                self._table[key] = value
        self.discard()

    def discard(self) -> None:
        """Forget the buffered changes."""
        self._writes.clear()
        self._deleted.clear()
        self._seen.clear()


def dead_letter(
    stage: str,
    exc: BaseException,
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: dict[str, str],
) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    """The dead letter of one record a stage could not handle: ``(reason, value, wire headers)``."""
    reason = f"{type(exc).__name__}: {exc}"
    letter = DeadLetter.build(
        stage=stage,
        reason=reason,
        error_type=type(exc).__name__,
        at=timeutil.now_iso(),
        original=value,
        source_topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        headers=headers,
    )
    return reason, dumps(letter), header_bytes(headers_for("dlq.v1"))
