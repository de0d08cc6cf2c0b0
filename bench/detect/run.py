"""Benchmark: the pure detection engine with every built-in rule and the vendored SigmaHQ rules.

    .venv/bin/python -m bench.detect [--records 200000] [--repeat 3]

Single core, no I/O in the timed loop; rates use the process's CPU time
(``time.process_time``), so other load on the machine does not distort them.
Records are a realistic mix (see ``bench/detect/mix.py``). The engine does
everything it does in the daemon: eventID dedup, rule index, predicates,
correlations, detection updates (state in a dict) and rescan targets. The baseline is plain ``orjson.loads`` of the same
records' JSON bytes. Prints JSON; the target is >= 25,000 events/s.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.detect.mix import generate
from cspm_stream.detect.catalog import builtin_rules_dir
from cspm_stream.detect.engine import DetectionEngine, EngineConfig
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.rescan import load_map

TARGET = 25_000
SIGMAHQ = Path(__file__).resolve().parents[2] / "tests" / "unit" / "detect" / "sigmahq" / "rules"


def run(records: int, repeat: int) -> dict[str, Any]:
    t_load = time.perf_counter()
    rules = load_paths([builtin_rules_dir(), SIGMAHQ])
    load_s = time.perf_counter() - t_load
    recs = generate(records)
    blobs = [orjson.dumps(r) for r in recs]
    engine_rates: list[float] = []
    parse_rates: list[float] = []
    findings = 0
    rescans = 0
    evaluated = 0
    for _ in range(repeat):
        t0 = time.process_time()
        for b in blobs:
            orjson.loads(b)
        parse_rates.append(records / (time.process_time() - t0))
        engine = DetectionEngine(rules, EngineConfig(), load_map())
        state: dict[str, Any] = {}
        t0 = time.process_time()
        for r in recs:
            engine.process(r, state)
        engine_rates.append(records / (time.process_time() - t0))
        findings = engine.stats["findings"]
        rescans = engine.stats["rescans"]
    probe = DetectionEngine(rules)
    evaluated = sum(probe.candidate_count(r) for r in recs[:20000])
    rate = statistics.median(engine_rates)
    parse = statistics.median(parse_rates)
    return {
        "benchmark": "detect",
        "python": platform.python_version(),
        "records": records,
        "repeat": repeat,
        "rules_loaded": rules.loaded,
        "rules_failed": len(rules.errors),
        "correlation_rules": len(rules.correlations),
        "load_seconds": round(load_s, 3),
        "clock": "process CPU time, one core",
        "events_per_s": round(rate),
        "orjson_loads_per_s": round(parse),
        "ratio_to_orjson_parse": round(rate / parse, 4),
        "avg_rules_evaluated_per_event": round(evaluated / min(records, 20000), 2),
        "findings_emitted": findings,
        "rescan_targets": rescans,
        "target_events_per_s": TARGET,
        "meets_target": rate >= TARGET,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    result = run(args.records, args.repeat)
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
