"""``cspm-stream scan``: collect, evaluate every policy, print findings (no Kafka).

One OCSF Compliance Finding per JSON line with ``--format jsonl`` (default);
``table``, ``csv`` and ``html`` (the compliance report) are for people.
Failed checks are printed by default, passed ones with ``--include-passed``
(``compliance.status_id`` 1 = pass, 3 = fail). Exit code 1 when a non-muted
failed finding has severity >= ``--fail-on``; 0 otherwise; 2 on a usage or
definition error or when the scan cannot run at all (no credentials, endpoint down).
Progress goes to stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import io
import sys
import time
from collections.abc import Sequence
from typing import IO, Any

import orjson

from cspm_stream.errors import ConfigError, DefinitionError
from cspm_stream.models.enums import Severity
from cspm_stream.models.inventory import ScanJob
from cspm_stream.policy.catalog import catalog_from_settings
from cspm_stream.policy.mutelist import MutelistSource
from cspm_stream.policy.scanning import ScanEvaluator, ScanTotals
from cspm_stream.settings import Settings

FORMATS = ("jsonl", "table", "csv", "html")
SEVERITIES = ("informational", "low", "medium", "high", "critical")


def register(sub: Any) -> None:
    p = sub.add_parser("scan", help="one-shot scan: collect, evaluate, print findings")
    p.add_argument("--endpoint-url", help="override every AWS endpoint (e.g. a moto server)")
    p.add_argument("--regions", help="comma-separated regions (default: configured or discovered)")
    p.add_argument("--services", help="comma-separated services, e.g. s3,ec2,iam (default: all)")
    p.add_argument("--framework", help="only policies mapped to this framework id")
    p.add_argument("--format", choices=FORMATS, default="jsonl")
    p.add_argument("--output", "-o", help="write to this file instead of stdout")
    p.add_argument("--fail-on", choices=SEVERITIES, help="exit 1 if a failed finding has this severity or higher")
    p.add_argument("--include-passed", action="store_true", help="also print passed checks")
    p.set_defaults(func=_run)


def _csv_list(v: str | None) -> list[str] | None:
    if not v:
        return None
    return [x.strip() for x in v.split(",") if x.strip()]


def _settings(args: argparse.Namespace) -> Settings:
    from cspm_stream import settings as settings_mod

    s = settings_mod.load(args.config)
    aws = s.aws
    if args.endpoint_url:
        aws = dataclasses.replace(aws, endpoint_url=args.endpoint_url)
    regions = _csv_list(args.regions)
    if regions:
        aws = dataclasses.replace(aws, regions=regions)
        aws.validate("--regions")
    return dataclasses.replace(s, aws=aws)


class _Progress:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.jobs = 0
        self.start = time.monotonic()
        self._last = 0.0

    def job_done(self, job: ScanJob, outcome: Any) -> None:
        self.jobs += 1

    def show(self, totals: ScanTotals) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1:  # at most 10 redraws a second
            return
        self._last = now
        self.stream.write(
            f"\rscan: {self.jobs} jobs, {totals.resources} resources, {totals.failed} failed, "
            f"{totals.errors} errors, {time.monotonic() - self.start:.1f}s "
        )
        self.stream.flush()

    def end(self) -> None:
        if self.enabled:
            self.stream.write("\n")


async def _scan(args: argparse.Namespace, s: Settings, out: IO[bytes]) -> tuple[ScanTotals, list[dict[str, Any]]]:
    from cspm_stream.collect import collect_all

    catalog = catalog_from_settings(s.policy)
    engine = catalog.engine(args.framework)
    mutes = MutelistSource(s.policy.mutelist_file).load()
    ev = ScanEvaluator(catalog, engine, mutes, now_ts=time.time())
    progress = _Progress(sys.stderr)
    keep: list[dict[str, Any]] = []
    # the html report needs passes too, to compute scores
    include_passed = args.include_passed or args.format == "html"
    async for snap in collect_all(s, _csv_list(args.regions), _csv_list(args.services), progress.job_done):
        for f in ev.findings(snap, include_passed=include_passed):
            if args.format == "jsonl":
                out.write(orjson.dumps(f) + b"\n")
            else:
                keep.append(f)
        progress.show(ev.totals)
    progress.end()
    return ev.totals, keep


def _table(findings: Sequence[dict[str, Any]]) -> str:
    rows = [
        (
            f["compliance"]["status"].upper() if f["unmapped"]["state"] != "suppressed" else "MUTED",
            f["severity"],
            f["unmapped"]["policy_id"],
            f["resources"][0]["region"],
            f["resources"][0]["uid"],
        )
        for f in findings
    ]
    rows.sort(key=lambda r: (r[0], -Severity.parse(r[1]), r[2], r[4]))
    head = ("STATUS", "SEVERITY", "POLICY", "REGION", "RESOURCE")
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head[:-1], widths, strict=True)) + "  " + head[-1]]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1])
    return "\n".join(lines) + "\n"


def _csv(findings: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "status",
            "state",
            "severity",
            "policy_id",
            "title",
            "resource_arn",
            "resource_type",
            "account",
            "region",
            "requirements",
            "related",
            "remediation",
        ]
    )
    for f in findings:
        r = f["resources"][0]
        w.writerow(
            [
                f["compliance"]["status"],
                f["unmapped"]["state"],
                f["severity"],
                f["unmapped"]["policy_id"],
                f["finding_info"]["title"],
                r["uid"],
                r["type"],
                r["account_uid"],
                r["region"],
                " ".join(f["compliance"]["requirements"]),
                " ".join(a["uid"] for a in f["finding_info"]["related_analytics"]),
                f["remediation"]["desc"],
            ]
        )
    return buf.getvalue()


def _html(findings: Sequence[dict[str, Any]], s: Settings, framework: str | None) -> bytes:
    from cspm_stream import report

    catalog = catalog_from_settings(s.policy)
    inputs = report.collect(findings)
    fws = list(catalog.frameworks.values())
    rep = report.build_report(inputs, fws, now_ms=int(time.time() * 1000), framework=framework)
    return report.render(rep, "html")


def _run(args: argparse.Namespace) -> int:
    s = _settings(args)
    if args.framework:
        catalog_from_settings(s.policy).engine(args.framework)  # fail fast on an unknown id
    fh: IO[bytes] = open(args.output, "wb") if args.output else sys.stdout.buffer
    try:
        try:
            totals, kept = asyncio.run(_scan(args, s, fh))
        except (DefinitionError, ConfigError):
            raise  # the CLI prints these (exit 2)
        except Exception as exc:  # the scan could not run at all (credentials, endpoint...)
            print(f"cspm-stream scan: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        if args.format != "jsonl":
            shown = [f for f in kept if args.include_passed or f["compliance"]["status_id"] != 1]
            if args.format == "table":
                fh.write(_table(shown).encode())
            elif args.format == "csv":
                fh.write(_csv(shown).encode())
            else:
                fh.write(_html(kept, s, args.framework))
        fh.flush()
    finally:
        if args.output:
            fh.close()
    print(f"scan: {totals.summary()}", file=sys.stderr)
    if args.fail_on:
        threshold = Severity.parse(args.fail_on)
        if totals.failed_at_or_above(threshold):
            return 1
    return 0
