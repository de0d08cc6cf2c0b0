"""JSON and CSV renderings of the report.

JSON is the whole report model (:func:`cspm_stream.report.model.to_dict`) — the
figures, not the rows. CSV is the evidence: one row per check in scope (sorted by
policy, account, resource), its ``requirements`` column listing every
``framework:requirement`` its policy is mapped to among the report's frameworks,
``;``-separated (only the chosen framework's with ``--framework``). One row per
check keeps the file linear in the number of findings however many frameworks
map a policy. Cells that a spreadsheet would run as a formula are neutralised
with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import time
from collections import defaultdict

import orjson

from cspm_stream.report.findings import Check
from cspm_stream.report.model import Report, to_dict

CSV_COLUMNS = (
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
    "changed_by",
    "sources",
    "requirements",
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
        c.changed_by["principal_arn"] if c.changed_by else "",
        ";".join(c.sources),
        c.uid,
    ]


def render_csv(report: Report) -> str:
    reqs: dict[str, list[str]] = defaultdict(list)
    for fw in report.frameworks:
        for req in fw.requirements:
            for policy in req.policies:
                reqs[policy].append(f"{fw.id}:{req.id}")
    joined = {policy: ";".join(sorted(items)) for policy, items in reqs.items()}
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for c in sorted(report.checks, key=lambda c: (c.policy_id, c.account, c.resource_uid, c.uid)):
        cells = _check_cells(c)
        cells.insert(len(cells) - 1, joined.get(c.policy_id, ""))
        w.writerow([safe_cell(x) for x in cells])
    return out.getvalue()
