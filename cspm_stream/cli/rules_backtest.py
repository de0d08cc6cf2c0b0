"""``cspm-stream rules backtest``: the adapters (files, the retained activity topic) and the printout.

The counting itself is :mod:`cspm_stream.detect.backtest` (pure). The topic is read with no
consumer group and no commits, from ``now - since`` (by record timestamp; everything retained
without ``--since``) up to the end offsets seen at start, so a backtest never disturbs the daemon.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from cspm_stream.detect.backtest import Backtest, BacktestReport
from cspm_stream.detect.bounded import clip
from cspm_stream.errors import ConfigError, DecodeError, KafkaUnavailable
from cspm_stream.settings import KafkaSettings, Settings

_DURATION = re.compile(r"^(\d{1,12})([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str) -> int:
    """``7d``, ``12h``, ``30m``, ``90s``, ``2w`` → seconds (ConfigError otherwise)."""
    m = _DURATION.match(text.strip())
    if not m or int(m.group(1)) <= 0:
        raise ConfigError("--since", text, "expected a positive duration such as 7d, 12h, 30m, 90s or 2w")
    return int(m.group(1)) * _UNIT_S[m.group(2)]


def register(rsub: Any) -> None:
    pb = rsub.add_parser(
        "backtest",
        help="replay recorded activity (the retained topic, or files) through rules; print hits, emit nothing",
    )
    pb.add_argument("--rules", "-r", nargs="+", required=True, metavar="PATH", help="the new or changed rules")
    pb.add_argument("--since", metavar="DURATION", help="only activity this recent (7d, 12h, 30m; default: all)")
    pb.add_argument("--events", "-e", nargs="+", metavar="FILE", help="CloudTrail files instead of the topic")
    pb.add_argument("--samples", type=int, default=3, metavar="N", help="sample matches per rule (default 3)")
    pb.add_argument("--format", choices=("text", "json"), default="text")
    pb.add_argument("--timeout", type=float, default=600.0, metavar="S", help="give up reading the topic after S s")
    pb.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cspm_stream.detect.catalog import vocabulary
    from cspm_stream.detect.engine import EngineConfig
    from cspm_stream.detect.loader import load_paths
    from cspm_stream.detect.rescan import load_map
    from cspm_stream.settings import load

    settings = load(args.config)
    since_s = parse_since(args.since) if args.since else None
    d = settings.detection
    rules = load_paths(args.rules, d.placeholders, vocab=vocabulary(d))
    for err in rules.errors:
        print(f"rule failed to load: {clip(str(err), 2048)}", file=sys.stderr)
    for warn in rules.warnings:
        print(f"rule warning: {clip(str(warn), 2048)}", file=sys.stderr)
    if not rules.loaded:
        print("cspm-stream rules backtest: no rule loaded from " + ", ".join(args.rules), file=sys.stderr)
        return 2
    bt = Backtest(rules, EngineConfig.from_settings(d, budget=False), load_map(d.rescan_map), samples=args.samples)
    cutoff_ms = int((time.time() - since_s) * 1000) if since_s is not None else None
    if cutoff_ms is not None and cutoff_ms <= 0:
        cutoff_ms = None  # further back than the Unix epoch: everything retained (a negative time is refused)
    if args.events:
        source = ", ".join(args.events)
        unreadable = _from_files(args.events, settings, bt, cutoff_ms)
    else:
        source = f"topic {settings.kafka.topic('activity')}"
        unreadable = 0
        asyncio.run(read_activity(settings.kafka, cutoff_ms, _decoder(bt), timeout_s=args.timeout))
    report = bt.finish()
    if args.format == "json":
        doc = {"source": source, "rules_failed": len(rules.errors), **report.as_dict()}
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        for line in text_lines(report, source):
            print(line)
    return 1 if unreadable else 0


def _decoder(bt: Backtest) -> Callable[[int, bytes | None], None]:
    from cspm_stream.models import ActivityRecord
    from cspm_stream.models.codec import decode

    def on_value(partition: int, value: bytes | None) -> None:
        try:
            act = decode(value, ActivityRecord)
        except DecodeError as exc:
            bt.report.skipped += 1
            reason = f"not an activity record: {exc.reason}"
            if reason in bt.report.reasons or len(bt.report.reasons) < 50:
                bt.report.reasons[reason] = bt.report.reasons.get(reason, 0) + 1
            return
        bt.add(act.record, partition)

    return on_value


def _from_files(paths: list[str], settings: Settings, bt: Backtest, cutoff_ms: int | None) -> int:
    from cspm_stream.sources.files import Limits, RecordError, iter_located
    from cspm_stream.timeutil import to_ms

    limits = Limits.from_settings(settings.cloudtrail)
    unreadable = 0
    for path in paths:
        try:
            for loc in iter_located(path, limits):
                item = loc.item
                if isinstance(item, RecordError):
                    bt.report.skipped += 1
                    unreadable += item.line is None and item.index is None
                    print(f"skipped {item.where()}: {item.reason}", file=sys.stderr)
                    continue
                if cutoff_ms is not None:
                    try:
                        if to_ms(str(item.get("eventTime"))) < cutoff_ms:
                            continue
                    except ValueError:
                        pass  # the engine reports it
                bt.add(item)
        except OSError as exc:
            unreadable += 1
            print(f"cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
    return unreadable


async def read_activity(
    kafka: KafkaSettings,
    since_ms: int | None,
    on_value: Callable[[int, bytes | None], None],
    *,
    timeout_s: float = 600.0,
) -> int:
    """Hand every retained ``activity`` record (from ``since_ms``) to ``on_value(partition, value)``; return the count."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from cspm_stream.kafka import client_options
    from cspm_stream.report.reader import partitions

    topic = kafka.topic("activity")
    parts = await partitions(kafka, topic)
    consumer = AIOKafkaConsumer(
        **client_options(kafka),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=int(kafka.request_timeout_s * 1000),
    )
    try:
        await consumer.start()
    except Exception as exc:  # aiokafka raises several connection error types here
        await consumer.stop()
        raise KafkaUnavailable(f"cannot reach Kafka at {kafka.bootstrap}: {type(exc).__name__}") from None
    n = 0
    try:
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        end = await consumer.end_offsets(tps)
        if since_ms is None:
            await consumer.seek_to_beginning(*tps)
        else:
            found = await consumer.offsets_for_times({tp: since_ms for tp in tps})
            for tp in tps:
                hit = found.get(tp)
                consumer.seek(tp, hit.offset if hit is not None else end[tp])
        remaining = {tp for tp in tps if await consumer.position(tp) < end[tp]}
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise KafkaUnavailable(f"timed out after {timeout_s:g}s reading {topic}")
            batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=5000)
            for tp, msgs in batch.items():
                for m in msgs:
                    if m.offset < end[tp]:
                        on_value(tp.partition, m.value)
                        n += 1
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return n


def text_lines(report: BacktestReport, source: str) -> list[str]:
    span = f" ({report.first_time} … {report.last_time})" if report.first_time else ""
    lines = [
        f"backtest of {len(report.rules)} rules over {report.records} records{span} from {source}; "
        f"{report.duplicates} duplicates, {report.skipped} skipped; nothing was emitted",
        "",
        f"{'MATCHES':>8} {'DETECTIONS':>10}  {'LEVEL':<13} RULE",
    ]
    for h in report.ranked():
        kind = " (correlation)" if h.info.kind == "correlation" else ""
        lines.append(f"{h.matches:>8} {len(h.detections):>10}  {h.info.level:<13} {h.info.title}{kind} [{h.info.id}]")
        for s in h.samples:
            lines.append(
                f"{'':>22}- {s['eventTime']} {s['eventName']} by {s['actor'] or '?'}"
                f" from {s['sourceIPAddress'] or '?'} (eventID {s['eventID']})"
            )
    if report.reasons:
        lines.append("")
        lines.append("skipped records:")
        lines += [f"  {n} × {why}" for why, n in sorted(report.reasons.items(), key=lambda kv: -kv[1])]
    return lines
