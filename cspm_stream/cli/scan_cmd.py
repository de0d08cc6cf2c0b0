"""``cspm-stream scan``: collect, evaluate every policy, print findings (no Kafka).

One OCSF Compliance Finding per JSON line with ``--format jsonl`` (default);
``table``, ``csv`` and ``html`` (the compliance report) are for people; ``sarif``
(SARIF 2.1.0, for code-scanning tools) and ``asff`` (a JSON array for Security Hub's
BatchImportFindings) are for other tools (:mod:`cspm_stream.report.sarif`).
Failed checks are printed by default, passed ones with ``--include-passed``
(``compliance.status_id`` 1 = pass, 3 = fail). With ``--fail-on``, exit 1 when a
non-muted failed finding has that severity or higher, or when any check ended in
ERROR (a coverage gap: AccessDenied, a throttled read past the deadline ...) unless
``--allow-errors``; 0 otherwise. 2 on a usage or definition error (an unwritable
``--output`` is found before the scan), 3 when the scan cannot run at all (no
credentials, endpoint down). Collection stops after ``--max-duration`` /
``scan.max_duration_s``: the results so far are kept and what was not read becomes
ERROR findings (code ``ScanDeadline``). A long scan prints a progress line to stderr
every 10 s; a quick one prints only its summary.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import dataclasses
import io
import sys
import time
from collections.abc import Sequence
from typing import IO, Any

import orjson

from cspm_stream.errors import CollectionError, CspmError, UsageError
from cspm_stream.models.enums import Severity
from cspm_stream.policy.catalog import catalog_from_settings
from cspm_stream.policy.mutelist import MutelistSource
from cspm_stream.policy.scanning import ScanEvaluator, ScanTotals
from cspm_stream.settings import Settings

FORMATS = ("jsonl", "table", "csv", "html", "sarif", "asff")
SEVERITIES = ("informational", "low", "medium", "high", "critical")


def register(sub: Any) -> None:
    p = sub.add_parser("scan", help="one-shot scan: collect, evaluate, print findings")
    p.add_argument("--endpoint-url", help="override every AWS endpoint (e.g. a moto server)")
    p.add_argument("--regions", help="comma-separated regions (default: configured or discovered)")
    p.add_argument("--services", help="comma-separated services, e.g. s3,ec2,iam (default: all)")
    p.add_argument("--framework", help="only policies mapped to this framework id")
    p.add_argument("--format", choices=FORMATS, default="jsonl")
    p.add_argument("--output", "-o", help="write to this file instead of stdout")
    p.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        help="exit 1 if a failed finding has this severity or higher, or if any check ended in ERROR "
        "(a coverage gap: AccessDenied, throttling past the deadline ...) unless --allow-errors",
    )
    p.add_argument(
        "--allow-errors",
        action="store_true",
        help="with --fail-on: ERROR findings (coverage gaps) do not fail the scan",
    )
    p.add_argument(
        "--max-duration",
        type=float,
        metavar="S",
        help="stop collecting after S seconds and report what was not read as ERROR findings "
        "(default: scan.max_duration_s)",
    )
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
        aws.validate("--endpoint-url")
    regions = _csv_list(args.regions)
    if regions:
        aws = dataclasses.replace(aws, regions=regions)
        aws.validate("--regions")
    return dataclasses.replace(s, aws=aws)


async def _scan(args: argparse.Namespace, s: Settings, out: IO[bytes]) -> tuple[ScanTotals, list[dict[str, Any]]]:
    from cspm_stream.cli.scan_run import ScanState, Ticker, collect_bounded

    catalog = catalog_from_settings(s.policy)
    engine = catalog.engine(args.framework)
    mutes = MutelistSource(s.policy.mutelist_file).load()
    ev = ScanEvaluator(catalog, engine, mutes, now_ts=time.time())
    keep: list[dict[str, Any]] = []
    # the html report needs passes too, to compute scores
    include_passed = args.include_passed or args.format == "html"
    state = ScanState()
    deadline_s = args.max_duration if args.max_duration is not None else s.scan.max_duration_s
    async with Ticker(state, sys.stderr):
        async for snap in collect_bounded(s, _csv_list(args.regions), _csv_list(args.services), state, deadline_s):
            for f in ev.findings(snap, include_passed=include_passed):
                if args.format == "jsonl":
                    out.write(orjson.dumps(f) + b"\n")
                else:
                    keep.append(f)
            state.errors = ev.totals.errors
    if state.timed_out:
        print(
            f"scan: stopped after {deadline_s:g}s (scan.max_duration_s / --max-duration); what was not read is "
            "reported as ERROR findings (code ScanDeadline)",
            file=sys.stderr,
        )
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


def _tool_format(fmt: str, findings: Sequence[dict[str, Any]], s: Settings) -> bytes:
    from cspm_stream.report.sarif import to_asff_list, to_sarif

    if fmt == "asff":
        return orjson.dumps(to_asff_list(findings), option=orjson.OPT_INDENT_2) + b"\n"
    doc = to_sarif(findings, catalog_from_settings(s.policy).policies)
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


def _run(args: argparse.Namespace) -> int:
    s = _settings(args)
    if args.max_duration is not None and not (0 < args.max_duration < float("inf")):
        raise UsageError("--max-duration must be a positive number of seconds")
    if args.allow_errors and not args.fail_on:
        raise UsageError("--allow-errors goes with --fail-on")
    if args.framework:
        catalog_from_settings(s.policy).engine(args.framework)  # fail fast on an unknown id
    try:  # before the scan: an unwritable --output must not cost a whole scan
        fh: IO[bytes] = open(args.output, "wb") if args.output else sys.stdout.buffer
    except OSError as exc:
        raise UsageError(f"cannot write --output {args.output}: {exc.strerror or exc}") from None
    try:
        try:
            totals, kept = asyncio.run(_scan(args, s, fh))
        except CspmError:
            raise  # the CLI prints these with their exit code
        except Exception as exc:  # the scan could not run at all (credentials, endpoint...)
            from cspm_stream.collect.faults import classify

            fault = classify(exc)
            raise CollectionError(f"cannot scan: {fault.code}: {fault.message}", code=fault.code) from None
        try:
            if args.format != "jsonl":
                shown = [f for f in kept if args.include_passed or f["compliance"]["status_id"] != 1]
                if args.format == "table":
                    fh.write(_table(shown).encode())
                elif args.format == "csv":
                    fh.write(_csv(shown).encode())
                elif args.format in ("sarif", "asff"):
                    fh.write(_tool_format(args.format, shown, s))
                else:
                    fh.write(_html(kept, s, args.framework))
            fh.flush()
        except OSError as exc:  # a full disk, a quota: one line, not a traceback
            raise UsageError(f"cannot write --output {args.output or '-'}: {exc.strerror or exc}") from None
    finally:
        if args.output:
            with contextlib.suppress(OSError):  # already reported above, or nothing left to write
                fh.close()
    print(f"scan: {totals.summary()}", file=sys.stderr)
    if args.fail_on:
        threshold = Severity.parse(args.fail_on)
        if totals.failed_at_or_above(threshold):
            return 1
        if totals.errors and not args.allow_errors:
            print(
                f"scan: {totals.errors} check(s) ended in ERROR (not evaluated: a coverage gap); this fails "
                "--fail-on unless --allow-errors",
                file=sys.stderr,
            )
            return 1
    return 0
