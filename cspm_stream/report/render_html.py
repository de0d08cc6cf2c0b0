"""One self-contained HTML file: inline CSS and SVG, no script, no external fetch.

A Content-Security-Policy meta tag forbids every external load, so even an
unescaped string could not pull anything in; and every string that comes from
a finding is escaped anyway (:func:`~cspm_stream.report.svg.esc`).
"""

from __future__ import annotations

from collections.abc import Iterable

from cspm_stream.report import svg
from cspm_stream.report.findings import Outcome
from cspm_stream.report.model import Breakdown, Counts, FrameworkSection, Report, Score
from cspm_stream.report.svg import esc

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STATUS_COLOR = {
    Outcome.PASS: svg.PASS,
    Outcome.FAIL: svg.FAIL,
    Outcome.ERROR: svg.ERROR,
    Outcome.MUTED: svg.MUTED,
    Outcome.NOT_EVALUATED: "#90a4ae",
    Outcome.MANUAL: svg.MANUAL,
}

CSS = """
*{box-sizing:border-box}
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#263238;
background:#eceff1}
header{background:#263238;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;color:#b0bec5;font-size:13px}
main{padding:16px 32px 40px;max-width:1240px}
section{background:#fff;border-radius:8px;padding:16px 20px;margin:16px 0;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:18px;margin:0 0 12px}
h3{font-size:15px;margin:16px 0 8px}
.kpis{display:flex;gap:16px;flex-wrap:wrap;align-items:center}
.kpi{background:#fafafa;border:1px solid #eceff1;border-radius:8px;padding:12px 16px;min-width:150px}
.kpi b{display:block;font-size:26px}
.kpi span{font-size:12px;color:#607d8b}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceff1;vertical-align:top}
th{background:#fafafa;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:11px;font-weight:600}
.legend{font-size:12px;color:#546e7a;margin:6px 0}
.legend span{margin-right:14px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
details{margin:6px 0}
summary{cursor:pointer;font-weight:600;padding:4px 0}
code{font-size:12px;color:#37474f}
.nowrap{white-space:nowrap}
.actor{word-break:break-all;font-size:12px}
.muted{color:#78909c;font-size:12px}
"""


def _pill(status: Outcome) -> str:
    return f'<span class="pill" style="background:{STATUS_COLOR[status]}">{esc(status.value)}</span>'


def _sev_pill(sev: str) -> str:
    return f'<span class="pill" style="background:{svg.SEVERITY.get(sev, "#90a4ae")}">{esc(sev)}</span>'


def _pct(score: Score) -> str:
    return "n/a" if score.value is None else f"{score.value:.1f}%"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _short_time(iso: str) -> str:
    """``2026-11-15T11:15:33.026Z`` → ``2026-11-15 11:15Z``."""
    return f"{iso[:10]} {iso[11:16]}Z" if len(iso) >= 16 else iso


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: Iterable[int] = ()) -> str:
    nums = set(numeric)
    head = "".join(f"<th{' class=num' if i in nums else ''}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' if i in nums else ''}>{c}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _counts_cells(c: Counts) -> list[str]:
    return [str(c.passed), str(c.failed), str(c.error), str(c.muted)]


def _kpis(r: Report) -> str:
    s = r.summary
    return (
        '<section><h2>Posture</h2><div class="kpis">'
        + svg.donut(s.score.value)
        + f'<div class="kpi"><b>{s.controls.passed}/{s.controls.passed + s.controls.failed}</b>'
        "<span>controls passing on every resource</span></div>"
        f'<div class="kpi"><b style="color:{svg.FAIL}">{s.checks.failed}</b><span>failing checks '
        f"({s.failing_resources} resources)</span></div>"
        f'<div class="kpi"><b style="color:{svg.PASS}">{s.checks.passed}</b><span>passing checks</span></div>'
        f'<div class="kpi"><b style="color:{svg.ERROR}">{s.checks.error}</b>'
        "<span>could not be evaluated</span></div>"
        f'<div class="kpi"><b>{r.detections.open_total}</b><span>open detections</span></div>'
        f'<div class="kpi"><b>{esc(_duration(r.mttr.mean_s))}</b><span>mean time to resolve '
        f"({r.mttr.resolved} resolved)</span></div>"
        f'<div class="kpi"><b>{s.resources}</b><span>resources in {s.accounts} account(s)</span></div>'
        "</div></section>"
    )


def _frameworks(r: Report) -> str:
    if not r.frameworks:
        return ""
    chart = svg.hbars(
        [(f.id, f.score.value, svg.score_color(f.score.value)) for f in r.frameworks],
        max_value=100,
        suffix="%",
        decimals=1,
        width=900,
        label_width=300,
    )
    parts = ["<section><h2>Compliance frameworks</h2>", chart]
    parts.append(
        _table(
            [
                "Framework",
                "Score",
                "Controls pass/fail",
                "Requirements pass",
                "fail",
                "error",
                "manual",
                "n/e",
            ],
            (
                [
                    esc(f.name) + (f' <span class="muted">{esc(f.version)}</span>' if f.version else ""),
                    esc(_pct(f.score)),
                    f"{f.controls.passed}/{f.controls.failed}",
                    *(
                        str(f.requirement_status.get(o.value, 0))
                        for o in (
                            Outcome.PASS,
                            Outcome.FAIL,
                            Outcome.ERROR,
                            Outcome.MANUAL,
                            Outcome.NOT_EVALUATED,
                        )
                    ),
                ]
                for f in r.frameworks
            ),
            numeric=range(1, 8),
        )
    )
    parts.extend(_framework_details(f) for f in r.frameworks)
    parts.append("</section>")
    return "".join(parts)


def _framework_details(f: FrameworkSection) -> str:
    rows = [
        [
            f"<code>{esc(q.id)}</code>",
            esc(q.title),
            _pill(q.status),
            *_counts_cells(q.checks),
            esc(", ".join(q.failing_policies)) or '<span class="muted">—</span>',
        ]
        for q in f.requirements
    ]
    return (
        f"<details><summary>{esc(f.name)} — {esc(_pct(f.score))}, "
        f"{f.requirement_status.get('fail', 0)} failing requirement(s)</summary>"
        + _table(
            ["Req.", "Title", "Status", "Pass", "Fail", "Error", "Muted", "Failing policies"],
            rows,
            (3, 4, 5, 6),
        )
        + "</details>"
    )


def _breakdown_table(title: str, items: list[Breakdown]) -> str:
    chart = svg.stacked_hbars(
        [
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
        ],
        width=560,
    )
    rows = [
        [
            esc(b.key or "(unknown)"),
            esc(_pct(b.score)),
            *_counts_cells(b.checks),
            *(str(b.failing_by_severity.get(s, 0)) for s in ("Critical", "High")),
        ]
        for b in items
    ]
    return (
        f"<div><h3>{esc(title)}</h3>{chart}"
        + svg.legend([("pass", svg.PASS), ("fail", svg.FAIL), ("error", svg.ERROR), ("muted", svg.MUTED)])
        + _table(
            [title.split()[-1].capitalize(), "Score", "Pass", "Fail", "Error", "Muted", "Crit.", "High"],
            rows,
            range(1, 8),
        )
        + "</div>"
    )


def _breakdowns(r: Report) -> str:
    return (
        '<section><h2>Breakdown</h2><div class="grid">'
        + _breakdown_table("Checks per account", r.accounts)
        + _breakdown_table("Checks per service", r.services)
        + "</div></section>"
    )


def _trend(r: Report) -> str:
    if not r.trend:
        return ""
    chart = svg.trend_chart(
        [p.day for p in r.trend],
        [p.open_failing for p in r.trend],
        [p.opened for p in r.trend],
        [p.resolved for p in r.trend],
    )
    det = svg.trend_chart(
        [p.day for p in r.trend],
        [p.detections for p in r.trend],
        [0] * len(r.trend),
        [0] * len(r.trend),
        height=150,
    )
    m = r.mttr
    return (
        f"<section><h2>Trend ({esc(r.trend[0].day)} – {esc(r.trend[-1].day)})</h2>{chart}"
        + svg.legend([("open failing checks", svg.LINE), ("opened", svg.FAIL), ("resolved", svg.PASS)])
        + f"<h3>Detections per day</h3>{det}"
        f'<p class="muted">Mean time to resolve: {esc(_duration(m.mean_s))}, '
        f"median {esc(_duration(m.median_s))}, "
        f"longest {esc(_duration(m.max_s))} over {m.resolved} resolved finding(s).</p></section>"
    )


def _top_failing(r: Report) -> str:
    rows = [
        [
            f"<code>{esc(c.policy_id)}</code>",
            esc(c.title),
            _sev_pill(c.severity),
            esc(c.service),
            str(c.checks.failed),
            str(c.checks.total),
            str(c.accounts_failing),
        ]
        for c in r.top_failing
    ]
    body = _table(["Control", "Title", "Severity", "Service", "Failing", "Checked", "Accounts"], rows, (4, 5, 6))
    return f"<section><h2>Top failing controls</h2>{body if rows else '<p>No failing control.</p>'}</section>"


def _detections(r: Report) -> str:
    d = r.detections
    chart = svg.hbars(
        [(sev, float(n), svg.SEVERITY.get(sev, "#90a4ae")) for sev, n in d.open_by_severity.items()],
        width=560,
        label_width=120,
    )
    rows = [
        [
            _sev_pill(x.severity),
            esc(x.title),
            f"<code>{esc(x.rule_id)}</code>",
            esc(x.account),
            f'<span class="actor">{esc(x.actor)}</span>',
            str(x.count),
            f'<span class="nowrap">{esc(_short_time(x.last_seen))}</span>',
        ]
        for x in d.recent_open
    ]
    return (
        f"<section><h2>Open detections ({d.open_total} of {d.total})</h2>{chart}"
        + (
            _table(["Severity", "Detection", "Rule", "Account", "Actor", "Count", "Last seen"], rows, (5,))
            if rows
            else "<p>No open detection.</p>"
        )
        + "</section>"
    )


def _rejected(r: Report) -> str:
    if not r.rejected:
        return ""
    rows = [[esc(reason), str(n)] for reason, n in sorted(r.rejected.items(), key=lambda kv: -kv[1])]
    return (
        "<section><h2>Records not counted</h2><p class=muted>These records on the topics could not be "
        "read as findings and are not part of any figure above.</p>"
        + _table(["Reason", "Records"], rows, (1,))
        + "</section>"
    )


def render_html(report: Report) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    scope = []
    if report.framework_filter:
        scope.append(f"framework {report.framework_filter}")
    if report.account_filter:
        scope.append(f"account {report.account_filter}")
    subtitle = f"Generated {report.generated_at}" + (" · " + ", ".join(scope) if scope else " · all accounts")
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>cspm_stream compliance report</title><style>{CSS}</style></head><body>"
        f"<header><h1>Cloud security posture report</h1><p>{esc(subtitle)}</p></header><main>"
        + _kpis(report)
        + _frameworks(report)
        + _trend(report)
        + _top_failing(report)
        + _breakdowns(report)
        + _detections(report)
        + _rejected(report)
        + "</main></body></html>\n"
    )
