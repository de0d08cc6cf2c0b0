"""Inline SVG chart primitives for the HTML report (no JavaScript, no external assets).

Every piece of text placed in a chart goes through :func:`esc`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

PASS = "#2e7d32"  # noqa: S105 (a colour)
FAIL = "#c62828"
ERROR = "#ef6c00"
MUTED = "#78909c"
NONE = "#cfd8dc"
MANUAL = "#1565c0"
LINE = "#37474f"
GRID = "#e0e0e0"
SEVERITY = {
    "Critical": "#7f0000",
    "High": "#d32f2f",
    "Medium": "#f57c00",
    "Low": "#fbc02d",
    "Informational": "#90a4ae",
}


def esc(value: object) -> str:
    """HTML/SVG-escape any value (quotes included, so it is safe in attributes too)."""
    return html.escape(str(value), quote=True)


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def score_color(score: float | None) -> str:
    if score is None:
        return NONE
    if score >= 90:
        return PASS
    if score >= 70:
        return "#9e9d24"
    if score >= 50:
        return ERROR
    return FAIL


def donut(score: float | None, *, size: int = 150, caption: str = "posture score") -> str:
    """A ring filled to ``score`` percent with the figure in the middle."""
    r = size / 2 - 12
    c = 2 * math.pi * r
    filled = 0.0 if score is None else c * max(0.0, min(100.0, score)) / 100
    text = "n/a" if score is None else f"{score:.1f}%"
    mid = size / 2
    return (
        f'<svg class="donut" width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" '
        f'aria-label="{esc(caption)}: {esc(text)}">'
        f'<circle cx="{_n(mid)}" cy="{_n(mid)}" r="{_n(r)}" fill="none" stroke="{GRID}" stroke-width="16"/>'
        f'<circle cx="{_n(mid)}" cy="{_n(mid)}" r="{_n(r)}" fill="none" stroke="{score_color(score)}" '
        f'stroke-width="16" stroke-dasharray="{_n(filled)} {_n(c)}" '
        f'transform="rotate(-90 {_n(mid)} {_n(mid)})"/>'
        f'<text x="{_n(mid)}" y="{_n(mid + 2)}" text-anchor="middle" font-size="{size // 6}" '
        f'font-weight="bold" fill="{LINE}">{esc(text)}</text>'
        f'<text x="{_n(mid)}" y="{_n(mid + size / 6)}" text-anchor="middle" font-size="11" '
        f'fill="#607d8b">{esc(caption)}</text></svg>'
    )


def hbars(
    items: Sequence[tuple[str, float | None, str]],
    *,
    max_value: float | None = None,
    width: int = 560,
    label_width: int = 180,
    suffix: str = "",
    decimals: int = 0,
) -> str:
    """Horizontal bars: (label, value or None for n/a, colour)."""
    row = 24
    height = row * max(1, len(items)) + 8
    top = max_value if max_value is not None else max([v or 0 for _, v, _ in items] + [1])
    top = top or 1
    plot = width - label_width - 70
    parts = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i, (label, value, color) in enumerate(items):
        y = 4 + i * row
        w = 0.0 if value is None else plot * max(0.0, value) / top
        shown = "n/a" if value is None else f"{value:.{decimals}f}{suffix}"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" font-size="12" fill="{LINE}">'
            f"{esc(_clip(label, 28))}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{plot}" height="16" fill="#f5f5f5"/>'
            f'<rect x="{label_width}" y="{y + 3}" width="{_n(w)}" height="16" fill="{esc(color)}"/>'
            + _label(label_width + plot + 6, y + 16, shown)
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_hbars(
    items: Sequence[tuple[str, Sequence[tuple[int, str]]]],
    *,
    width: int = 560,
    label_width: int = 140,
) -> str:
    """Bars split in coloured segments proportional to each row's own total: (label, [(count, colour)])."""
    row = 24
    height = row * max(1, len(items)) + 8
    plot = width - label_width - 60
    parts = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i, (label, segments) in enumerate(items):
        y = 4 + i * row
        total = sum(n for n, _ in segments)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" font-size="12" fill="{LINE}">'
            f"{esc(_clip(label, 22))}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{plot}" height="16" fill="#f5f5f5"/>'
        )
        x = float(label_width)
        for n, color in segments:
            if total and n:
                w = plot * n / total
                parts.append(f'<rect x="{_n(x)}" y="{y + 3}" width="{_n(w)}" height="16" fill="{esc(color)}"/>')
                x += w
        parts.append(f'<text x="{label_width + plot + 6}" y="{y + 16}" font-size="12" fill="{LINE}">{total}</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_chart(
    days: Sequence[str],
    line: Sequence[int],
    up: Sequence[int],
    down: Sequence[int],
    *,
    width: int = 900,
    height: int = 240,
) -> str:
    """Daily bars (``up`` red above, ``down`` green) and a line (``line``) sharing one y axis."""
    left, right, top, bottom = 44, 12, 12, 34
    pw, ph = width - left - right, height - top - bottom
    n = max(1, len(days))
    ymax = _nice(max([*line, *up, *down, 1]))
    step = pw / n

    def y(v: float) -> float:
        return top + ph - ph * v / ymax

    parts = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for k in range(5):
        v = ymax * k / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(y(v))}" y2="{_n(y(v))}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{_n(y(v) + 4)}" text-anchor="end" font-size="11" fill="#607d8b">'
            f"{_n(v)}</text>"
        )
    bw = max(1.0, step / 2 - 1)
    for i in range(len(days)):
        x = left + i * step
        if up[i]:
            parts.append(
                f'<rect x="{_n(x + 1)}" y="{_n(y(up[i]))}" width="{_n(bw)}" '
                f'height="{_n(ph - (y(up[i]) - top))}" '
                f'fill="{FAIL}" opacity="0.55"/>'
            )
        if down[i]:
            parts.append(
                f'<rect x="{_n(x + 1 + bw)}" y="{_n(y(down[i]))}" width="{_n(bw)}" '
                f'height="{_n(ph - (y(down[i]) - top))}" fill="{PASS}" opacity="0.55"/>'
            )
    label_every = max(1, math.ceil(len(days) / 10))
    for i, d in enumerate(days):
        if i % label_every == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{_n(left + i * step + step / 2)}" y="{height - 12}" text-anchor="middle" '
                f'font-size="10" fill="#607d8b">{esc(d[5:])}</text>'
            )
    if line:
        pts = " ".join(f"{_n(left + i * step + step / 2)},{_n(y(v))}" for i, v in enumerate(line))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{LINE}" stroke-width="2.5"/>')
        for i, v in enumerate(line):
            parts.append(f'<circle cx="{_n(left + i * step + step / 2)}" cy="{_n(y(v))}" r="2.5" fill="{LINE}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int) -> str:
    return f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'


def _label(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="12" fill="{LINE}">{esc(text)}</text>'


def legend(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<div class="legend">'
        + "".join(f'<span><i style="background:{esc(color)}"></i>{esc(name)}</span>' for name, color in items)
        + "</div>"
    )


def _nice(v: float) -> float:
    """The next 'round' number ≥ v (1, 2, 2.5, 5 × 10^k), so axis ticks read well."""
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return float(m * exp)
    return float(10 * exp)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
