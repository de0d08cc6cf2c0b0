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
from collections import defaultdict

import orjson

from cspm_stream.report.findings import Check
from cspm_stream.report.model import Report, RequirementRow, to_dict
from cspm_stream.timeutil import ms_to_iso

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

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_json(report: Report) -> bytes:
    return orjson.dumps(to_dict(report), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def safe_cell(value: object) -> str:
    """The text of a CSV cell, defused against spreadsheet formula injection."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


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
        ms_to_iso(c.first_seen_ms),
        ms_to_iso(c.last_seen_ms),
        ms_to_iso(c.resolved_ms) if c.resolved_ms is not None else "",
        c.uid,
    ]


def render_csv(report: Report) -> str:
    by_policy: dict[str, list[Check]] = defaultdict(list)
    for c in sorted(report.checks, key=lambda c: (c.policy_id, c.account, c.resource_uid, c.uid)):
        by_policy[c.policy_id].append(c)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    mapped: set[str] = set()
    for fw in report.frameworks:
        for req in fw.requirements:
            head = _req_cells(fw.id, req)
            rows = [c for p in req.policies for c in by_policy.get(p, [])]
            mapped.update(req.policies)
            if not rows:
                w.writerow([safe_cell(x) for x in head + [""] * (len(CSV_COLUMNS) - len(head))])
            for c in rows:
                w.writerow([safe_cell(x) for x in head + _check_cells(c)])
    if report.framework_filter is None:
        for policy, checks in by_policy.items():
            if policy not in mapped:
                for c in checks:
                    w.writerow([safe_cell(x) for x in ["", "", "", "", *_check_cells(c)]])
    return out.getvalue()


def _req_cells(framework: str, req: RequirementRow) -> list[str]:
    return [framework, req.id, req.title, req.status.value]
