"""`cspm-stream report`: the compliance picture from the compacted findings topic.

Reads the current value of every finding from ``findings`` (compacted) and
``detections`` to their current end — or, offline, from a JSONL file of OCSF
findings (``--findings-file``; later lines replace earlier ones with the same
uid, as on the topic) — and writes an HTML, JSON or CSV report.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cspm_stream import settings as settings_mod
from cspm_stream.errors import CspmError, UsageError
from cspm_stream.report import FORMATS, build_report, collect, load_dirs, render
from cspm_stream.report.findings import Inputs
from cspm_stream.timeutil import now, parse_iso


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="write a compliance report (HTML, JSON or CSV) from the findings topic",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    p.add_argument("--framework", metavar="ID", help="only this framework (e.g. cis-aws-3.0.0)")
    p.add_argument("--account", metavar="ID", help="only this AWS account")
    p.add_argument("--format", choices=FORMATS, default="html", help="output format (default: html)")
    p.add_argument("--output", "-o", metavar="FILE", default="-", help="output file ('-' = stdout, the default)")
    p.add_argument(
        "--findings-file",
        metavar="F.jsonl",
        help="build offline from a JSONL file of OCSF findings (both classes) instead of Kafka",
    )
    p.add_argument("--trend-days", type=int, default=30, metavar="N", help="days in the trend (default: 30)")
    p.add_argument("--top", type=int, default=10, metavar="N", help="rows in top lists (default: 10)")
    p.add_argument("--now", metavar="ISO", help="report time (default: the current time)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="S", help="Kafka read timeout in seconds")
    p.set_defaults(func=_run)


def _jsonl(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield line


async def _from_kafka(settings: settings_mod.Settings, timeout_s: float) -> Inputs:
    from cspm_stream.report.reader import read_latest

    findings, detections = await asyncio.gather(
        read_latest(settings.kafka, "findings", timeout_s=timeout_s),
        read_latest(settings.kafka, "detections", timeout_s=timeout_s),
    )
    return collect([*findings.values.values(), *detections.values.values()])


#: longest trend the report draws (ten years of days)
MAX_TREND_DAYS = 3660


def _now_ms(value: str | None) -> int:
    if not value:
        return int(now().timestamp() * 1000)
    try:
        ms = int(parse_iso(value).timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"--now {value[:40]!r} is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)") from None
    if ms < 0:  # the trend looks back from --now: before the Unix epoch it ran off the calendar (year 0)
        raise UsageError(f"--now {value[:40]!r} is before 1970-01-01")
    return ms


def _run(args: argparse.Namespace) -> int:
    settings = settings_mod.load(args.config)
    if not 1 <= args.trend_days <= MAX_TREND_DAYS or args.top < 1:
        raise UsageError(f"--trend-days must be 1 to {MAX_TREND_DAYS} and --top >= 1")
    if not 0 < args.timeout < float("inf"):
        raise UsageError("--timeout must be a positive number of seconds")
    now_ms = _now_ms(args.now)
    out = None
    if args.output != "-":  # before reading anything: an unwritable --output must not cost the read
        try:
            out = open(args.output, "wb")
        except OSError as exc:
            raise UsageError(f"cannot write --output {args.output}: {exc.strerror or exc}") from None
    frameworks = load_dirs(settings.policy.framework_dirs)
    try:
        if args.findings_file:
            inputs = collect(_jsonl(Path(args.findings_file)))
        else:
            inputs = asyncio.run(_from_kafka(settings, args.timeout))
    except OSError as exc:
        if out is not None:
            out.close()
        raise UsageError(f"cannot read --findings-file {args.findings_file}: {exc.strerror or exc}") from None
    except CspmError:
        if out is not None:
            out.close()
        raise
    report = build_report(
        inputs,
        frameworks,
        now_ms=now_ms,
        framework=args.framework,
        account=args.account,
        trend_days=args.trend_days,
        top_n=args.top,
    )
    data = render(report, args.format)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        with out:
            try:
                out.write(data)
                out.flush()
            except OSError as exc:  # a full disk, a quota: one line, not a traceback
                raise UsageError(f"cannot write --output {args.output}: {exc.strerror or exc}") from None
    s = report.summary
    score = "n/a" if s.score.value is None else f"{s.score.value:.1f}%"
    rejected = sum(report.rejected.values())
    print(
        f"report: {s.checks.total} checks, posture score {score}, {report.detections.open_total} open detections"
        + (f", {rejected} unreadable records skipped" if rejected else "")
        + (f" -> {args.output}" if args.output != "-" else ""),
        file=sys.stderr,
    )
    return 0
