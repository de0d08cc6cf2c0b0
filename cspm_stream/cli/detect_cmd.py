"""``cspm-stream detect --events FILE…``: run the detection engine over CloudTrail files.

Reads CloudTrail log files (``{"Records": [...]}``, gzip or not), JSON lines or
EventBridge envelopes, sorts the records by ``eventTime`` (so correlations see
history in order) and prints one OCSF Detection Finding per line on stdout — the
final state of each detection (a repeat within the dedup window updates the same
finding). A summary goes to stderr (rules that failed to load are listed there).
Exit status: 0, or 1 if a file could not be read.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import orjson

from cspm_stream.settings import load


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
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from cspm_stream.detect.catalog import load_rules
    from cspm_stream.detect.engine import DetectionEngine, EngineConfig
    from cspm_stream.detect.rescan import load_map
    from cspm_stream.sources.files import RecordError, iter_records

    started = time.perf_counter()
    settings = load(args.config)
    d = settings.detection
    rules = load_rules(d, args.rules, builtin=False if args.no_builtin else None)
    for err in rules.errors:
        print(f"rule failed to load: {err}", file=sys.stderr)
    engine = DetectionEngine(
        rules,
        EngineConfig.from_settings(d),
        load_map(d.rescan_map),
    )
    bad = 0
    unreadable = 0
    records: list[dict[str, Any]] = []
    for path in args.events:
        try:
            for item in iter_records(path):
                if isinstance(item, RecordError):
                    bad += 1
                    print(f"skipped {item.where()}: {item.reason}", file=sys.stderr)
                else:
                    records.append(item)
        except OSError as exc:
            unreadable += 1
            print(f"cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
    if not args.no_sort:
        records.sort(key=_event_ms)
    state: dict[str, Any] = {}
    final: dict[str, dict[str, Any]] = {}
    for rec in records:
        try:
            out = engine.process(rec, state)
        except ValueError as exc:
            bad += 1
            print(f"skipped record {rec.get('eventID')!r}: {exc}", file=sys.stderr)
            continue
        for f in out.findings:
            final[f["finding_info"]["uid"]] = f
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
    summary = {
        "files": len(args.events),
        "records": st["records"],
        "duplicates": st["duplicates"],
        "skipped": bad,
        "rules_loaded": rules.loaded,
        "rules_failed": len(rules.errors),
        "detections": len(final),
        "by_rule": dict(sorted(by_rule.items(), key=lambda kv: -kv[1])),
        "seconds": round(time.perf_counter() - started, 3),
    }
    print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode(), file=sys.stderr)
    return 1 if unreadable else 0


def _event_ms(rec: dict[str, Any]) -> int:
    from cspm_stream.timeutil import to_ms

    try:
        return to_ms(str(rec.get("eventTime")))
    except ValueError:
        return 0  # the engine reports it when it gets there
