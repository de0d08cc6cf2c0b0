"""Regenerate docs/report-screenshot.png from a real headless-Chromium render of a realistic report.

    .venv/bin/python -m bench.report.screenshot [--output docs/report-screenshot.png]

The report is built by the real code (collect → build_report → render_html) from 6,000
synthetic findings over the real built-in policies and framework files, three accounts and
90 detections (cspm_stream.testing.dataset), at a fixed time so the picture is reproducible.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOW_MS = 1_795_000_000_000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--output", default=str(ROOT / "docs" / "report-screenshot.png"))
    p.add_argument("--size", default="1280,2400", help="window size WIDTH,HEIGHT")
    args = p.parse_args(argv)
    from cspm_stream.report import build_report, collect, load_dirs, render
    from cspm_stream.testing import dataset

    exe = shutil.which("chromium")
    if exe is None:
        print("chromium is not installed: apt-get update && apt-get install -y chromium", file=sys.stderr)
        return 2
    catalog, clean = dataset.builtin_catalog()
    data = dataset.dataset(6000, now_ms=NOW_MS, n_detections=90, catalog=catalog, clean=clean)
    report = build_report(collect(data), load_dirs([]), now_ms=NOW_MS)
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        html.write_bytes(render(report, "html"))
        out = Path(args.output).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={tmp}/profile", f"--screenshot={out}",
            f"--window-size={args.size}", html.as_uri(),
        ]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
