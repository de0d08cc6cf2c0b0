"""Benchmark: the detection engine, the regex engine change, catalogue growth, the whole ``detect`` process.

    .venv/bin/python -m bench.detect [--records 100000] [--repeat 3] [--file-records 100000] [--skip-files]

Everything is measured in one run on one machine, rates on the process's CPU time
(``time.process_time``; subprocesses: their rusage), best of ``--repeat``:

1. **engine** — the pure engine (dedup, index, predicates, correlations, detection
   updates, rescan targets; GC tuned as the daemon does) over the realistic mix of
   ``bench/detect/mix.py``, with the built-in catalogue (the target: >= 60,000 events/s)
   and with the built-in catalogue plus the vendored SigmaHQ rules;
2. **regex** — built-in + SigmaHQ rules compiled on Python ``re`` (the engine before this
   change: backtracking, no memo) and on RE2 (what ships), same records, same run;
3. **catalogue growth** — the built-in catalogue plus 500 synthetic rules
   (``bench/detect/synthetic.py``) on events the traffic lacks (events/s should stay flat),
   and with 5 % of them on the traffic's busiest events (those are evaluated, as they must be);
4. **whole process** — ``cspm-stream detect --events FILE`` (a subprocess: start-up,
   rule loading, streaming read, ordering, engine, output; the package byte-compiled first,
   as an installed wheel or the image has it) against plain ``orjson.loads``
   of every line of the same file, and the ratio (target >= 0.15): runs of the two
   alternate, and the ratio is given on their medians (the figure) and on their bests;
5. **memory** — peak RSS of ``cspm-stream detect`` on a 2 MB gzip bomb (one endless line)
   and on a large legitimate gzip file.

Prints JSON. Exit status 0 when the engine target is met.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from bench.detect.mix import generate
from bench.detect.synthetic import rule_docs
from cspm_stream import safe_regex
from cspm_stream.detect.catalog import builtin_rules_dir
from cspm_stream.detect.engine import DetectionEngine, EngineConfig
from cspm_stream.detect.loader import load_documents, load_paths, rule_files
from cspm_stream.detect.rescan import load_map
from cspm_stream.detect.rules import RuleSet

TARGET = 60_000
PROCESS_RATIO_TARGET = 0.15
SIGMAHQ = Path(__file__).resolve().parents[2] / "tests" / "unit" / "detect" / "sigmahq" / "rules"


def engine_rate(rules: RuleSet, recs: list[dict[str, Any]], repeat: int) -> tuple[float, DetectionEngine]:
    best = 0.0
    engine = DetectionEngine(rules, EngineConfig(), load_map())
    for _ in range(repeat):
        engine = DetectionEngine(rules, EngineConfig(), load_map())
        state: dict[str, Any] = {}
        t0 = time.process_time()
        for r in recs:
            engine.process(r, state)
        best = max(best, len(recs) / (time.process_time() - t0))
    return best, engine


class _PythonRe(safe_regex.LinearRegex):
    """The regex engine before the change: Python ``re`` (backtracking), no remembered verdicts."""

    __slots__ = ("_py",)

    def __init__(self, pattern: str, flags: int) -> None:
        super().__init__(pattern, None)
        self._py = re.compile(pattern, flags)

    def search(self, text: str) -> bool:
        return self._py.search(text) is not None

    def fullmatch(self, text: str) -> bool:
        return self._py.fullmatch(text) is not None


def _load_with_python_re(paths: list[Path]) -> RuleSet:
    real: Callable[..., safe_regex.LinearRegex] = safe_regex._compile

    def python_compile(pattern: str, ignorecase: bool, multiline: bool, dotall: bool) -> safe_regex.LinearRegex:
        real(pattern, ignorecase, multiline, dotall)  # same refusals as RE2
        flags = (re.IGNORECASE if ignorecase else 0) | (re.MULTILINE if multiline else 0) | (re.DOTALL if dotall else 0)
        return _PythonRe(pattern.replace("\\z", "\\Z"), flags)

    safe_regex._COMPILED.clear()
    safe_regex._compile = python_compile  # type: ignore[assignment]
    try:
        return load_paths(paths)
    finally:
        safe_regex._compile = real  # type: ignore[assignment]
        safe_regex._COMPILED.clear()


#: started by a small fresh interpreter: a child forked from this (large) process would report
#: this process's memory as its own peak RSS (Linux keeps the pre-exec high-water mark)
_LAUNCHER = """
import os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, u = os.wait4(p.pid, 0)
print(u.ru_utime + u.ru_stime, time.perf_counter() - t0, u.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def _child(argv: list[str]) -> tuple[float, float, int, int]:
    """Run ``argv``; (CPU seconds, wall seconds, peak RSS in KiB, exit status) of that child alone."""
    out = subprocess.run([sys.executable, "-c", _LAUNCHER, *argv], capture_output=True, check=True, text=True)
    cpu, wall, rss, code = out.stdout.split()
    return float(cpu), float(wall), int(rss), int(code)


def _write_bomb(path: Path, compressed_target: int = 2 * 1024 * 1024) -> int:
    """A gzip file of about ``compressed_target`` bytes that expands to one endless line of spaces."""
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1024 * 1024)
    size = 0
    with path.open("wb") as fh:
        while size < compressed_target:
            chunk = c.compress(block)
            fh.write(chunk)
            size += len(chunk)
        tail = c.flush()
        fh.write(tail)
        size += len(tail)
    return size


def _byte_compile() -> int:
    """Byte-compile the package, as an installed wheel and the Docker image carry it.

    An editable checkout has no bytecode, and with ``PYTHONDONTWRITEBYTECODE`` set (this machine,
    the image) Python would compile every module from source at each start (~0.05 s of CPU).
    Returns how many modules were (re)compiled.
    """
    import compileall

    import cspm_stream

    root = Path(cspm_stream.__file__).resolve().parent
    stale = sum(1 for f in root.rglob("*.py") if not _fresh(f))
    compileall.compile_dir(str(root), quiet=1)
    return stale


def _fresh(src: Path) -> bool:
    import importlib.util

    pyc = Path(importlib.util.cache_from_source(str(src)))
    return pyc.exists() and pyc.stat().st_mtime >= src.stat().st_mtime


def whole_process(file_records: int, repeat: int) -> dict[str, Any]:
    cli = [sys.executable, "-m", "cspm_stream"]
    compiled = _byte_compile()
    with tempfile.TemporaryDirectory(prefix="bench-detect-") as tmp:
        d = Path(tmp)
        jsonl = d / "activity.jsonl"
        with jsonl.open("wb") as fh:
            for r in generate(file_records, seed=23):
                fh.write(orjson.dumps(r) + b"\n")
        parses: list[float] = []
        runs: list[tuple[float, float, int, int]] = []
        for _ in range(max(3, repeat)):  # alternated: a busy moment of the machine weighs on both
            t0 = time.process_time()
            with jsonl.open("rb") as fh:
                for line in fh:
                    orjson.loads(line)
            parses.append(time.process_time() - t0)
            runs.append(_child([*cli, "detect", "--events", str(jsonl)]))
        parse_cpu, parse_best = statistics.median(parses), min(parses)
        cpu = statistics.median(r[0] for r in runs)
        best_cpu = min(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        rss_jsonl = max(r[2] for r in runs)
        code = max(r[3] for r in runs)
        gz = d / "activity.jsonl.gz"
        with jsonl.open("rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        _, _, rss_large, _ = _child([*cli, "detect", "--events", str(gz)])
        bomb = d / "bomb.json.gz"
        bomb_size = _write_bomb(bomb)
        bomb_cpu, _, rss_bomb, bomb_code = _child([*cli, "detect", "--events", str(bomb)])
        return {
            "file": {"records": file_records, "bytes": jsonl.stat().st_size, "gzip_bytes": gz.stat().st_size},
            "bytecode": f"package byte-compiled before the runs ({compiled} modules were stale), as installed",
            "runs": len(runs),
            "orjson_parse_cpu_s": round(parse_cpu, 3),
            "orjson_parse_records_per_s": round(file_records / parse_cpu),
            "detect_process_cpu_s": round(cpu, 3),
            "detect_process_cpu_s_each": [round(r[0], 3) for r in runs],
            "detect_process_wall_s": round(wall, 3),
            "detect_process_records_per_s": round(file_records / cpu),
            "detect_exit_status": code,
            "ratio_to_orjson_parse": round(parse_cpu / cpu, 4),
            "ratio_to_orjson_parse_best_of_runs": round(parse_best / best_cpu, 4),
            "ratio_target": PROCESS_RATIO_TARGET,
            "meets_ratio_target": parse_cpu / cpu >= PROCESS_RATIO_TARGET,
            "peak_rss_mib": {
                "jsonl_file": round(rss_jsonl / 1024, 1),
                "large_gzip_file": round(rss_large / 1024, 1),
                "gzip_bomb_2mb": round(rss_bomb / 1024, 1),
            },
            "gzip_bomb": {
                "compressed_bytes": bomb_size,
                "decompresses_to_at_least_bytes": bomb_size * 1000,
                "exit_status": bomb_code,
                "cpu_s": round(bomb_cpu, 3),
            },
        }


def run(records: int, repeat: int, file_records: int, skip_files: bool) -> dict[str, Any]:
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)  # the daemon's setting (cspm_stream.daemon)
    t_load = time.perf_counter()
    builtin = load_paths([builtin_rules_dir()])
    load_s = time.perf_counter() - t_load
    full = load_paths([builtin_rules_dir(), SIGMAHQ])
    recs = generate(records)
    rate_builtin, eng = engine_rate(builtin, recs, repeat)
    evaluated = _avg_candidates(eng, recs)
    rate_full, eng_full = engine_rate(full, recs, repeat)
    python_re = _load_with_python_re([builtin_rules_dir(), SIGMAHQ])
    rate_before, _ = engine_rate(python_re, recs, repeat)
    synthetic = load_documents(rule_docs(500, hot_share=0.0), {})
    cold = load_documents([*_docs([builtin_rules_dir()]), *rule_docs(500, hot_share=0.0)], {})
    rate_cold, eng_cold = engine_rate(cold, recs, repeat)
    grown = load_documents([*_docs([builtin_rules_dir()]), *rule_docs(500, hot_share=0.05)], {})
    rate_grown, eng_grown = engine_rate(grown, recs, repeat)
    result: dict[str, Any] = {
        "benchmark": "detect",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "clock": "process CPU time, one core; engine: best of repeat; whole process: median of alternated runs",
        "records": records,
        "repeat": repeat,
        "engine": {
            "builtin_rules": builtin.loaded,
            "builtin_correlations": len(builtin.correlations),
            "load_seconds": round(load_s, 3),
            "events_per_s": round(rate_builtin),
            "avg_rules_evaluated_per_event": evaluated,
            "target_events_per_s": TARGET,
            "meets_target": rate_builtin >= TARGET,
            "with_sigmahq": {"rules": full.loaded, "events_per_s": round(rate_full)},
            "findings_emitted_with_sigmahq": eng_full.stats["findings"],
        },
        "regex_engine": {
            "rules": full.loaded,
            "before_python_re_events_per_s": round(rate_before),
            "after_re2_events_per_s": round(rate_full),
            "change": f"{(rate_full / rate_before - 1) * 100:+.1f}%",
            "within_10_percent_or_better": rate_full >= 0.9 * rate_before,
        },
        "catalogue_growth": {
            "synthetic_rules": synthetic.loaded,
            "rules": cold.loaded,
            "on_events_the_traffic_lacks": {
                "events_per_s": round(rate_cold),
                "relative_to_builtin": round(rate_cold / rate_builtin, 3),
                "avg_rules_evaluated_per_event": _avg_candidates(eng_cold, recs),
            },
            "with_5_percent_on_busy_events": {
                "events_per_s": round(rate_grown),
                "relative_to_builtin": round(rate_grown / rate_builtin, 3),
                "avg_rules_evaluated_per_event": _avg_candidates(eng_grown, recs),
            },
        },
    }
    if not skip_files:
        result["whole_process"] = whole_process(file_records, repeat)
    return result


def _avg_candidates(engine: DetectionEngine, recs: list[dict[str, Any]]) -> float:
    sample = recs[:20_000]
    return round(sum(engine.candidate_count(r) for r in sample) / len(sample), 2)


def _docs(paths: list[Path]) -> list[tuple[str, int, Any]]:
    import yaml

    out: list[tuple[str, int, Any]] = []
    for f in rule_files(paths):
        for i, d in enumerate(yaml.safe_load_all(f.read_text(encoding="utf-8"))):
            if d is not None:
                out.append((str(f), i, d))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000, help="records per engine run")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs per measurement (engine: best kept; whole process: median, >= 3)"
    )
    ap.add_argument("--file-records", type=int, default=100_000, help="records in the file given to 'detect'")
    ap.add_argument("--skip-files", action="store_true", help="engine measurements only")
    args = ap.parse_args(argv)
    result = run(args.records, args.repeat, args.file_records, args.skip_files)
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0 if result["engine"]["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
