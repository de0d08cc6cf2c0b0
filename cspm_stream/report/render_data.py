"""JSON and CSV renderings of the report.

JSON is the whole report model (:func:`cspm_stream.report.model.to_dict`) — the
figures, not the rows. CSV is the audit evidence, one row per
(framework, requirement, check): every requirement appears at least once (with
empty check columns when nothing maps to it), and checks whose policy is in no
framework get one row with empty framework columns (only without
``--framework``). Cells that a spreadsheet would run as a formula are
neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import time
from collections import defaultdict

import orjson

from cspm_stream.report.findings import Check
from cspm_stream.report.model import Report, RequirementRow, to_dict

CSV_COLUMNS = (
    "framework",
    "requirement_id",
    "requirement_title",
    "requirement_status",
    "policy_id",
    "control_title",
    "severity",
    "outcome",
    "state",
    "account",
    "region",
    "service",
    "resource_type",
    "resource_uid",
    "first_seen",
    "last_seen",
    "resolved_at",
    "finding_uid",
)

_FORMULA_START = frozenset("=+-@\t\r")


def render_json(report: Report) -> bytes:
    return orjson.dumps(to_dict(report), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def safe_cell(value: object) -> str:
    """The text of a CSV cell, defused against spreadsheet formula injection."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in _FORMULA_START else text


def _iso(ms: int) -> str:
    """``ms_to_iso`` without datetime (the CSV formats three per check)."""
    t = time.gmtime(ms // 1000)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ms % 1000:03d}Z"
    )


def _check_cells(c: Check) -> list[str]:
    return [
        c.policy_id,
        c.title,
        c.severity.label,
        c.outcome.value,
        c.state,
        c.account,
        c.region,
        c.service,
        c.resource_type,
        c.resource_uid,
        _iso(c.first_seen_ms),
        _iso(c.last_seen_ms),
        _iso(c.resolved_ms) if c.resolved_ms is not None else "",
        c.uid,
    ]


def render_csv(report: Report) -> str:
    by_policy: dict[str, list[list[str]]] = defaultdict(list)
    for c in sorted(report.checks, key=lambda c: (c.policy_id, c.account, c.resource_uid, c.uid)):
        # each check's cells are built (and defused) once, however many requirements it maps to
        by_policy[c.policy_id].append([safe_cell(x) for x in _check_cells(c)])
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    empty = [""] * (len(CSV_COLUMNS) - 4)
    mapped: set[str] = set()
    for fw in report.frameworks:
        for req in fw.requirements:
            head = [safe_cell(x) for x in _req_cells(fw.id, req)]
            mapped.update(req.policies)
            rows = [head + cells for p in req.policies for cells in by_policy.get(p, ())]
            w.writerows(rows or [head + empty])
    if report.framework_filter is None:
        none = ["", "", "", ""]
        for policy, checks in by_policy.items():
            if policy not in mapped:
                w.writerows(none + cells for cells in checks)
    return out.getvalue()


def _req_cells(framework: str, req: RequirementRow) -> list[str]:
    return [framework, req.id, req.title, req.status.value]
