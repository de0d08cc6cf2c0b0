"""Compliance reports from the compacted findings topic (no other database).

Pure core: :func:`~cspm_stream.report.findings.collect` turns finding values
into checks and detections, :func:`~cspm_stream.report.build.build_report`
computes every figure (definitions in that module's docstring), and the
renderers write HTML (one self-contained file with inline SVG charts), JSON and
CSV. :mod:`cspm_stream.report.reader` is the Kafka adapter.
"""

from __future__ import annotations

from cspm_stream.report.build import build_report
from cspm_stream.report.findings import Check, Detection, Inputs, Outcome, collect
from cspm_stream.report.frameworks import Framework, Requirement, load_dirs
from cspm_stream.report.model import Report, to_dict
from cspm_stream.report.render_data import render_csv, render_json
from cspm_stream.report.render_html import render_html

FORMATS = ("html", "json", "csv")


def render(report: Report, fmt: str) -> bytes:
    """The report in ``fmt`` (html, json or csv) as UTF-8 bytes."""
    if fmt == "html":
        return render_html(report).encode("utf-8")
    if fmt == "json":
        return render_json(report)
    if fmt == "csv":
        return render_csv(report).encode("utf-8")
    raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")


__all__ = [
    "FORMATS",
    "Check",
    "Detection",
    "Framework",
    "Inputs",
    "Outcome",
    "Report",
    "Requirement",
    "build_report",
    "collect",
    "load_dirs",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "to_dict",
]
