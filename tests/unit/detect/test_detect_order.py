"""``detect``'s reorder buffer: eventTime order, file order among equal times, late records counted."""

from __future__ import annotations

import random
from typing import Any

from cspm_stream.cli.detect_cmd import Chunk, _ordered, _timed, _unordered
from cspm_stream.sources.files import Located
from cspm_stream.timeutil import ms_to_iso, to_ms


def _reference(items: list[Located], size: int, per: int = 300) -> tuple[list[tuple[int | None, Located]], int]:
    """Fill the buffer a read (``per`` records) at a time; once it holds ``size``, sort it, release
    all but its newest ``size // 2``; count records older than one released."""
    out: list[tuple[int | None, Located]] = []
    buf: list[tuple[int, int, int | None, Located]] = []
    released, late, keep = -1, 0, max(1, size // 2)

    def emit(part: list[tuple[int, int, int | None, Located]]) -> None:
        nonlocal released, late
        for k, _, t, loc in part:
            if k < released:
                late += 1
            else:
                released = k
            out.append((t, loc))

    for seq, loc in enumerate(items):
        et = loc.item.get("eventTime") if isinstance(loc.item, dict) else None
        t = to_ms(et) if isinstance(et, str) and et[:1] == "2" else None
        buf.append((-1 if t is None else t, seq, t, loc))
        if (seq + 1) % per == 0 and len(buf) >= size:
            buf.sort()
            emit(buf[: len(buf) - keep])
            buf = buf[len(buf) - keep :]
    buf.sort()
    emit(buf)
    return out, late


def _records(rng: random.Random, n: int) -> list[Located]:
    base = 1767225600000
    out = []
    for i in range(n):
        shape = rng.random()
        rec: dict[str, Any] = {"eventID": f"e{i}"}
        if shape < 0.05:
            rec["eventTime"] = None
        elif shape < 0.08:
            rec["eventTime"] = "not a time"
        else:
            jitter = rng.choice([0, 0, 0, 1, 2, 5, 30, 600, -3, -40, -900])  # ties, small and large disorder
            rec["eventTime"] = ms_to_iso((base + (i // 3 + jitter) * 1000) // 1000 * 1000).replace(".000Z", "Z")
        out.append(Located(rec, "f.json", i + 1))
    return out


def _batches(items: list[Located], per: int = 300) -> Any:
    """``items`` as the reader hands them over: timed, a list per read of ``per`` records."""
    skipped: list[Any] = []
    timed: list[Chunk] = list(_timed(iter([items[i : i + per] for i in range(0, len(items), per)]), skipped.append))
    assert not skipped
    return iter(timed)


def test_chunks_flatten_to_the_reference_order_and_late_count() -> None:
    rng = random.Random(41)
    for size in (1, 2, 7, 64, 1000):
        items = _records(rng, 700)
        counts = {"reordered": 0}
        got = [(t, loc) for chunk in _ordered(_batches(items), size, counts) for _, t, loc in chunk]
        want, late = _reference(items, size)
        assert [(t, loc.line) for t, loc in got] == [(t, loc.line) for t, loc in want], size
        assert counts["reordered"] == late, size


def test_unordered_keeps_file_order_in_chunks() -> None:
    items = _records(random.Random(2), 2500)
    chunks = list(_unordered(_batches(items)))
    assert [len(c) for c in chunks] == [1024, 1024, 452]
    assert [loc.line for c in chunks for _, _, loc in c] == list(range(1, 2501))
