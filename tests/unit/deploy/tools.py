"""Where the deploy tests find helm and promtool (``deploy/tools/install.sh`` puts them there)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "deploy" / "helm" / "cspm-stream"
RULES = ROOT / "deploy" / "prometheus" / "cspm-stream-rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "cspm-stream-rules.test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "cspm-stream.json"


def tool(name: str) -> str:
    """The tool's path: $CSPM_TOOLS_BIN, ~/.cache/cspm-stream/tools/bin, then PATH.

    Missing is a failure with the fix, never a skip: CI installs both (``.ci/run``).
    """
    dirs = [os.environ.get("CSPM_TOOLS_BIN", ""), str(Path.home() / ".cache" / "cspm-stream" / "tools" / "bin")]
    for d in dirs:
        if d and (Path(d) / name).is_file() and os.access(Path(d) / name, os.X_OK):
            return str(Path(d) / name)
    found = shutil.which(name)
    if found:
        return found
    raise AssertionError(f"{name} is not installed: run deploy/tools/install.sh {name}")
