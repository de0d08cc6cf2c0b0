"""``cspm-stream detect --events FILE…``: run the detection engine over CloudTrail files.

Reads CloudTrail log files (``{"Records": [...]}``, gzip or not), JSON lines or
EventBridge envelopes as a stream, bounded by ``cloudtrail.max_file_bytes`` (a gzip
bomb is refused) and ``cloudtrail.max_line_bytes`` (see :mod:`cspm_stream.sources.files`).
Records are evaluated against the rules as each read is parsed (:meth:`DetectionEngine.prepare`),
then applied to the engine's state in ``eventTime`` order through a reorder buffer of
``--sort-buffer`` records (so correlations see history in order; memory stays bounded whatever
the input: records further out of order than the buffer are applied as late arrivals; a record
that matched nothing waits there as its eventID and time alone).
One OCSF Detection Finding per line goes to stdout — the final state of each detection
(a repeat within the dedup window updates the same finding). On stderr: every record
that was skipped, with its file and line (``file:line`` or ``file:line[Records][i]``) and
the reason (not JSON, not a record, a field of the wrong type, over the evaluation
budget, ...), then a JSON summary. Rules that failed to load are listed there too.
Exit status: 0; 1 if a file could not be read or was refused.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import Any

import orjson

from cspm_stream.settings import load
from cspm_stream.timeutil import MS_MEMO, to_ms

DEFAULT_SORT_BUFFER = 20_000
#: update interval of the engine in this command: longer than any input spans (100 years)
FOLD_UPDATES_S = 100 * 365 * 86_400
#: records between two runs of the cyclic garbage collector (paused while records stream)
GC_EVERY = 250_000


def register(sub: Any) -> None:
    p = sub.add_parser("detect", help="run the detection rules over CloudTrail files (threat hunting, replay)")
    p.add_argument("--events", "-e", nargs="+", required=True, metavar="FILE", help="CloudTrail files")
    p.add_argument(
        "--rules",
        "-r",
        action="append",
        default=[],
        metavar="DIR",
        help="extra rule folder or file (repeatable); built-ins and detection.rules_dirs load too",
    )
    p.add_argument("--no-builtin", action="store_true", help="do not load the built-in rule pack")
    p.add_argument("--no-sort", action="store_true", help="process records in file order (streaming)")
    p.add_argument(
        "--sort-buffer",
        type=int,
        default=DEFAULT_SORT_BUFFER,
        metavar="N",
        help=f"records held to put them in eventTime order (default {DEFAULT_SORT_BUFFER:,}; bounds memory;"
        " each record is ordered against at least N/2 that follow it)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from cspm_stream.cli import exit_without_teardown

    # start-up (imports, settings, rules) makes long-lived objects only: the cyclic collector would
    # re-scan them over and over while they are made; it is paused for the whole run (see below)
    gc.disable()
    exit_without_teardown()  # the rules and the engine's state are not freed one by one at exit
    try:
        return _detect(args)
    finally:
        gc.enable()


def _detect(args: argparse.Namespace) -> int:
    from cspm_stream.detect.catalog import load_rules
    from cspm_stream.detect.engine import BudgetExceeded, DetectionEngine, EngineConfig
    from cspm_stream.detect.records import MAX_FUTURE_S, RecordRejected
    from cspm_stream.detect.rescan import load_map
    from cspm_stream.sources.files import Limits, Located, RecordError, iter_located_batches

    started = time.perf_counter()
    settings = load(args.config)
    d = settings.detection
    rules = load_rules(d, args.rules, builtin=False if args.no_builtin else None)
    for failed in rules.errors:
        print(f"rule failed to load: {failed}", file=sys.stderr)
    for warn in rules.warnings:
        print(f"rule warning: {warn}", file=sys.stderr)
    # only each detection's final state is printed: repeats are folded into one update, published
    # when the detection closes or at the end (flush), instead of rendering every intermediate one
    config = dataclasses.replace(EngineConfig.from_settings(d), update_interval_s=FOLD_UPDATES_S)
    engine = DetectionEngine(rules, config, load_map(d.rescan_map), shadow=frozenset(d.shadow_rules))
    limits = Limits.from_settings(settings.cloudtrail)
    counts = {"skipped": 0, "unreadable": 0, "reordered": 0}
    err = sys.stderr

    def batches() -> Iterator[list[Located]]:
        for path in args.events:
            try:
                yield from iter_located_batches(path, limits)
            except OSError as exc:
                counts["unreadable"] += 1
                print(f"cannot read {path}: {exc.strerror or exc}", file=err)

    def skipped(item: RecordError) -> None:
        if item.line is None and item.index is None:  # the whole file was refused
            counts["unreadable"] += 1
        counts["skipped"] += 1
        print(f"skipped {item.where()}: {item.reason}", file=err)

    # as in the daemon: an event time far ahead of the clock would advance the watermark for good
    horizon_ms = int((time.time() + MAX_FUTURE_S) * 1000)
    prepare = engine.prepare

    def prepared(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        """Each read's records evaluated against the rules as soon as they are parsed (while in the
        CPU's cache); ordering and state come after. Records that cannot be evaluated are reported
        here, with where they were."""
        for chunk in chunks:
            out: Chunk = []
            append = out.append
            for key, t, loc in chunk:
                if t is not None and t > horizon_ms:
                    counts["skipped"] += 1
                    print(
                        f"skipped {loc.where()}: eventTime is more than {MAX_FUTURE_S} s ahead of the clock "
                        "(refused: it would advance the watermark)",
                        file=err,
                    )
                    continue
                try:
                    append((key, t, prepare(loc.item, event_time_ms=t)))
                except (RecordRejected, BudgetExceeded) as exc:
                    counts["skipped"] += 1
                    print(f"skipped {loc.where()}: {exc}", file=err)
            chunk.clear()
            if out:
                yield out

    timed = prepared(_timed(batches(), skipped))
    chunks = _unordered(timed) if args.no_sort else _ordered(timed, max(1, args.sort_buffer), counts)
    state: dict[str, Any] = {}
    final: dict[str, dict[str, Any]] = {}
    apply = engine.apply
    # the rules and settings live as long as the run: keep them out of every GC pass (as the daemon
    # does). Parsed records and the engine's state are acyclic, so the cyclic collector has nothing
    # to find in them; left automatic it re-scans the records held by the sort buffer (~0.3 s of CPU
    # per 100,000 records). It runs every GC_EVERY records instead: any garbage cycle stays bounded.
    # Start-up garbage is frozen with the rules rather than collected first (a full pass over every
    # rule object costs ~0.04 s; what it would free is a few kB of parser cycles, measured: same RSS).
    gc.freeze()
    done = 0
    for chunk in chunks:
        n = len(chunk)
        for i in range(n):
            # each record is released as soon as it is applied (the chunk would otherwise hold every
            # record until its end, then free them all)
            prep = chunk[i][2]
            chunk[i] = None  # type: ignore[call-overload]
            for f in apply(prep, state).findings:
                final[f["finding_info"]["uid"]] = f
        done += n
        if done >= GC_EVERY:
            done = 0
            gc.collect()
    for f in engine.flush(state):  # repeats folded into a not-yet-published update
        final[f["finding_info"]["uid"]] = f
    out_stream = sys.stdout.buffer
    by_rule: dict[str, int] = {}
    for f in final.values():
        out_stream.write(orjson.dumps(f) + b"\n")
        title = f["finding_info"]["title"]
        by_rule[title] = by_rule.get(title, 0) + 1
    out_stream.flush()
    st = engine.stats
    shadow: dict[str, int] = {}
    for (rid, status), n in engine.match_counts.items():
        if status == "shadow":
            shadow[rid] = shadow.get(rid, 0) + n
    summary = {
        "files": len(args.events),
        "records": st["records"],
        "duplicates": st["duplicates"],
        "skipped": counts["skipped"],
        "over_budget": st["over_budget"],
        "out_of_order_beyond_buffer": counts["reordered"],
        "rules_loaded": rules.loaded,
        "rules_failed": len(rules.errors),
        "rule_warnings": len(rules.warnings),
        "detections": len(final),
        "by_rule": dict(sorted(by_rule.items(), key=lambda kv: -kv[1])),
        "shadow_matches": shadow,
        "seconds": round(time.perf_counter() - started, 3),
    }
    print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode(), file=err)
    # a file refused whole, or input in which not one record could be evaluated, is a failed check:
    # a scheduled job must not read "exit 0, no detections" for a file of garbage
    return 1 if counts["unreadable"] or (counts["skipped"] and not st["records"]) else 0


#: ``(sort key, eventTime ms, item)``: the key is the time, -1 when the record has none
Chunk = list[tuple[int, int | None, Any]]


def _timed(batches: Iterator[list[Any]], skipped: Callable[[Any], None]) -> Iterator[Chunk]:
    """Each batch of located records as ``(key, eventTime ms, item)``; errors go to ``skipped``.

    Each batch is emptied once read (the records then live in the yielded list only, so the
    consumer can release each as it goes)."""
    from cspm_stream.sources.files import RecordError

    known = MS_MEMO.get
    for batch in batches:
        out: Chunk = []
        append = out.append
        for loc in batch:
            item = loc.item
            if isinstance(item, RecordError):
                skipped(item)
                continue
            et = item.get("eventTime")
            t: int | None = None
            if et.__class__ is str:
                t = known(et)  # to_ms's own memo, read here first: most records share their second
                if t is None:
                    try:
                        t = to_ms(et)
                    except ValueError:  # not a time: the record comes out first and the engine reports it
                        pass
            append((-1 if t is None else t, t, loc))
        batch.clear()  # the records live on in ``out`` only
        if out:
            yield out


def _unordered(batches: Iterator[Chunk], size: int = 1024) -> Iterator[Chunk]:
    """``(key, eventTime ms, item)`` in file order, in chunks of ``size``."""
    chunk: Chunk = []
    for timed in batches:
        for e in timed:
            chunk.append(e)
            if len(chunk) >= size:
                yield _handed(chunk)
    if chunk:
        yield _handed(chunk)


def _ordered(items: Iterator[Chunk], size: int, counts: dict[str, int]) -> Iterator[Chunk]:
    """``(key, eventTime ms, item)`` in eventTime order through a buffer of ``size`` records, in chunks.

    Memory stays bounded. The buffer is filled a read at a time and sorted once it holds ``size``
    records (nearly sorted input: a linear pass
    for Timsort; the sort is stable, so records of the same millisecond keep their file
    order) and its older half released, so every record has at least ``size / 2`` successors
    to be ordered against. A record older than one already released is counted in
    ``counts["reordered"]``; the engine treats it as a late arrival (single-event rules still
    fire). A record without a usable eventTime comes out first, with ``None`` (the engine
    reports it).
    """
    buf: list[tuple[int, int | None, Any]] = []
    released = -1
    keep = max(1, size // 2)
    first = itemgetter(0)
    for timed in items:
        buf.extend(timed)  # a read's worth at a time: the buffer may pass ``size`` by one read
        if len(buf) >= size:
            buf.sort(key=first)
            out, buf = buf[: len(buf) - keep], buf[len(buf) - keep :]
            released = _release(out, released, counts)
            yield _handed(out)
    buf.sort(key=first)
    _release(buf, released, counts)
    yield _handed(buf)


def _handed(chunk: Chunk) -> Chunk:
    """The items of ``chunk`` in a new list, ``chunk`` emptied: the generator yielding the new list
    holds no reference to its records, so the consumer can release each as it processes it."""
    out = chunk[:]
    chunk.clear()
    return out


def _release(out: list[tuple[int, int | None, Any]], released: int, counts: dict[str, int]) -> int:
    """Count the records of sorted ``out`` older than one already released; the new high mark."""
    if not out:
        return released
    late = bisect_left(out, released, key=itemgetter(0))  # sorted: the older ones come first
    counts["reordered"] += late
    return max(released, out[-1][0])
