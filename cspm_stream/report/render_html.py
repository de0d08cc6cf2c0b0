"""One self-contained HTML file: inline CSS and SVG, no script, no external fetch.

The page is the Jinja2 template ``templates/report.html`` rendered with autoescape on, so
every string that comes from a finding is escaped by the template engine. The charts are
SVG markup built by :mod:`cspm_stream.report.svg` (which escapes every text it places) and
handed to the template as markup. A Content-Security-Policy meta tag forbids every external
load besides.
"""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from cspm_stream.report import svg
from cspm_stream.report.findings import Outcome
from cspm_stream.report.model import Breakdown, Report, Score

#: the page's Content-Security-Policy (written literally in the template's meta tag)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STATUS_COLOR = {
    Outcome.PASS: svg.PASS,
    Outcome.FAIL: svg.FAIL,
    Outcome.ERROR: svg.ERROR,
    Outcome.MUTED: svg.MUTED,
    Outcome.NOT_EVALUATED: "#90a4ae",
    Outcome.MANUAL: svg.MANUAL,
}
#: the requirement-status columns of the frameworks table, in order
REQUIREMENT_OUTCOMES = (Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.MUTED, Outcome.MANUAL, Outcome.NOT_EVALUATED)


def pct(score: Score) -> str:
    return "n/a" if score.value is None else f"{score.value:.1f}%"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def short_time(iso: str) -> str:
    """``2026-11-15T11:15:33.026Z`` → ``2026-11-15 11:15Z``."""
    return f"{iso[:10]} {iso[11:16]}Z" if len(iso) >= 16 else iso


@functools.cache
def _environment() -> Environment:
    from pathlib import Path

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=pct, duration=duration, short_time=short_time)
    return env


def _breakdown_chart(items: list[Breakdown]) -> Markup:
    rows = [
        (
            b.key or "(unknown)",
            [
                (b.checks.passed, svg.PASS),
                (b.checks.failed, svg.FAIL),
                (b.checks.error, svg.ERROR),
                (b.checks.muted, svg.MUTED),
            ],
        )
        for b in items
    ]
    return Markup(svg.stacked_hbars(rows, width=560))  # noqa: S704 - svg.py escapes every text it places


def _charts(r: Report) -> dict[str, Markup]:
    """The SVG charts and legends of the page (markup: svg.py escapes every text it places)."""
    charts = {
        "donut": svg.donut(r.summary.score.value),
        "frameworks": svg.hbars(
            [(f.id, f.score.value, svg.score_color(f.score.value)) for f in r.frameworks],
            max_value=100,
            suffix="%",
            decimals=1,
            width=900,
            label_width=300,
        ),
        "breakdown_legend": svg.legend(
            [("pass", svg.PASS), ("fail", svg.FAIL), ("error", svg.ERROR), ("muted", svg.MUTED)]
        ),
        "detections": svg.hbars(
            [(sev, float(n), svg.SEVERITY.get(sev, "#90a4ae")) for sev, n in r.detections.open_by_severity.items()],
            width=560,
            label_width=120,
        ),
        "trend": "",
        "trend_legend": "",
        "detections_per_day": "",
    }
    if r.trend:
        days = [p.day for p in r.trend]
        charts["trend"] = svg.trend_chart(
            days, [p.open_failing for p in r.trend], [p.opened for p in r.trend], [p.resolved for p in r.trend]
        )
        charts["trend_legend"] = svg.legend(
            [("open failing checks", svg.LINE), ("opened", svg.FAIL), ("resolved", svg.PASS)]
        )
        zero = [0] * len(r.trend)
        charts["detections_per_day"] = svg.trend_chart(days, [p.detections for p in r.trend], zero, zero, height=150)
    return {k: Markup(v) for k, v in charts.items()}  # noqa: S704 - built by svg.py, which escapes


def render_html(report: Report) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    scope = []
    if report.framework_filter:
        scope.append(f"framework {report.framework_filter}")
    if report.account_filter:
        scope.append(f"account {report.account_filter}")
    subtitle = f"Generated {report.generated_at}" + (" · " + ", ".join(scope) if scope else " · all accounts")
    context: dict[str, Any] = {
        "r": report,
        "subtitle": subtitle,
        "charts": _charts(report),
        "breakdowns": [
            ("Checks per account", report.accounts, _breakdown_chart(report.accounts)),
            ("Checks per service", report.services, _breakdown_chart(report.services)),
        ],
        "rejected": sorted(report.rejected.items(), key=lambda kv: -kv[1]),
        "status_color": STATUS_COLOR,
        "severity_color": svg.SEVERITY,
        "colors": {"pass": svg.PASS, "fail": svg.FAIL, "error": svg.ERROR},
        "requirement_outcomes": REQUIREMENT_OUTCOMES,
    }
    return _environment().get_template("report.html").render(context)
