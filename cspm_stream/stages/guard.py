"""What every runtime does around a handler: the state overlay, record headers, dead letters.

Two runtimes drive :class:`~cspm_stream.stages.base.Handler` objects — faust agents
(:mod:`cspm_stream.app`) and the lean aiokafka batch loop (:mod:`cspm_stream.batchloop`).
Both use these pieces so that a stage behaves the same whichever drives it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import orjson

from cspm_stream import timeutil
from cspm_stream.models import DeadLetter, dumps
from cspm_stream.stages.base import header_bytes, headers_for


class TrackedState(MutableMapping[str, Any]):
    """A transactional view of a stage's state table for one record (or one batch).

    Writes (and deletes) are buffered and applied by :meth:`commit`, which the runtime
    calls only after every record the handler emitted was acknowledged by Kafka.
    So a crash can lose a state change but never an output: the message is then
    re-processed and re-emits the same deterministic ids (at-least-once), instead of
    finding a "done" mark for an output that never left. Values read and mutated in
    place are written back at commit too (a changelogged table only records assignments).
    """

    def __init__(self, table: MutableMapping[str, Any], *, track_reads: bool = True) -> None:
        self._table = table
        #: remember what containers read looked like, to catch in-place mutation; a batch view under
        #: per-record views needs not (each record view turns its in-place changes into writes)
        self._track = track_reads
        self._writes: dict[str, Any] = {}
        self._deleted: set[str] = set()
        self._seen: dict[str, bytes] = {}
        #: the record (faust event, or partition number) whose changelog partition receives the keys it touches
        self.owner: Any = None
        self._owners: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        self._owners[key] = self.owner
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
        self._owners[key] = self.owner
        self._writes[key] = value
        self._deleted.discard(key)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._owners[key] = self.owner
        self._writes.pop(key, None)
        self._deleted.add(key)

    def __iter__(self) -> Iterator[str]:
        keys = [k for k in list(self._table.keys()) if k not in self._deleted and k not in self._writes]
        return iter([*keys, *self._writes])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def changes(self) -> list[tuple[str, Any, bool, Any]]:
        """``(key, value, deleted, owner)`` for every key this view changed, values mutated in place included.

        Deletes come first, then assignments, then in-place mutations (the order :meth:`commit` applies them).
        """
        out: list[tuple[str, Any, bool, Any]] = []
        for key in self._deleted:
            if key in self._table:
                out.append((key, None, True, self._owners.get(key)))
        for key, value in self._writes.items():
            out.append((key, value, False, self._owners.get(key)))
        for key in self.mutated_in_place():
            out.append((key, self._table[key], False, self._owners.get(key)))
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

    def commit(self, bind: Callable[[Any], contextlib.AbstractContextManager[Any]] | None = None) -> None:
        """Apply the buffered changes; ``bind(owner)`` scopes each write to the record that made it."""
        ctx = bind or (lambda _owner: contextlib.nullcontext())
        for key, value, deleted, owner in self.changes():
            with ctx(owner):
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
        self._owners.clear()


def record_headers(raw: Any) -> dict[str, str]:
    """Kafka headers (list of pairs or a dict, values bytes) as text; undecodable values are marked."""
    out: dict[str, str] = {}
    if not raw:
        return out
    items = raw.items() if isinstance(raw, dict) else raw
    for k, v in items:
        try:
            out[str(k)] = v.decode("utf-8") if isinstance(v, bytes | bytearray) else str(v)
        except UnicodeDecodeError:
            out[str(k)] = "<binary>"
    return out


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
