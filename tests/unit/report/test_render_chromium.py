"""The HTML report renders in a real browser: headless Chromium (Debian's package) takes a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cspm_stream.report import build_report, collect, render
from cspm_stream.testing import dataset

from .pngcheck import read_png

NOW = 1_795_000_000_000
INSTALL = "apt-get update && apt-get install -y chromium"


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail(f"chromium is not installed; install Debian's package: {INSTALL}")
    return exe


def screenshot(html: Path, png: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        f"--screenshot={png}",
        "--window-size=1280,2000",
        html.as_uri(),
    ]
    env = {**os.environ, "HOME": str(tmp)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)


def test_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    data = dataset.dataset(1500, now_ms=NOW, n_detections=40)
    report = build_report(collect(data), [], now_ms=NOW)
    html = tmp_path / "report.html"
    html.write_bytes(render(report, "html"))
    png = tmp_path / "shot.png"
    proc = screenshot(html, png, tmp_path)
    assert png.exists(), f"no screenshot; chromium said:\n{proc.stderr[-2000:]}"
    assert png.stat().st_size > 30_000  # a blank page compresses to a few KB
    img = read_png(png.read_bytes())
    assert (img.width, img.height) == (1280, 2000)
    colours = img.colour_counts(step=4)
    sampled = sum(colours.values())
    assert len(colours) > 100, "the page looks blank"
    assert colours.most_common(1)[0][1] < 0.9 * sampled, "one colour fills the page"
    # our page, not an error page: the header's dark band, and the charts' pass/fail colours
    assert img.pixel(5, 5)[:3] == bytes.fromhex("263238")
    full = img.colour_counts(step=2)
    assert full[bytes.fromhex("c62828")] > 20  # fail red (bars, figures)
    assert full[bytes.fromhex("2e7d32")] > 20  # pass green
