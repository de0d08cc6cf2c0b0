"""What the demo shows and keeps: live lines for alerts and remediation plans, and the record files.

:class:`Display` prints one line per alert and one line per (remediation action, resource) —
a plan repeated for the same pair (several findings on one security group ask for the same
revoke) is counted, not printed again. :class:`Recorder` writes every OCSF record the demo
consumed from ``findings`` and ``detections`` to JSONL files, one record per line, as read.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

SEV = {0: "UNKNOWN", 1: "INFO", 2: "LOW", 3: "MEDIUM", 4: "HIGH", 5: "CRITICAL", 6: "FATAL"}
COLOR = {"CRITICAL": "\033[1;31m", "HIGH": "\033[31m", "MEDIUM": "\033[33m", "LOW": "\033[36m", "INFO": "\033[37m"}
RESET = "\033[0m"


class Display:
    """Live lines for alerts and remediation plans; a status line on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.counts: Counter[str] = Counter()
        self.alerts: list[dict[str, Any]] = []
        self.plans: list[dict[str, Any]] = []
        self.planned: dict[tuple[str, str], int] = {}  # (action, resource) -> plans received
        self.phase = "starting"
        self.t0 = time.monotonic()

    def _c(self, sev: str, text: str) -> str:
        return f"{COLOR.get(sev, '')}{text}{RESET}" if self.tty else text

    def status(self) -> None:
        if self.tty:
            c = self.counts
            line = (
                f"  [{time.monotonic() - self.t0:5.1f}s] {self.phase} · compliance {c['compliance']} · "
                f"detections {c['detection']} · remediation plans {c['remediation']} · dead letters {c['dlq']}"
            )
            sys.stdout.write("\r\033[K" + line)
            sys.stdout.flush()

    def line(self, text: str) -> None:
        if self.tty:
            sys.stdout.write("\r\033[K")
        print(text, flush=True)
        self.status()

    def alert(self, obj: dict[str, Any]) -> None:
        self.alerts.append(obj)
        sev = SEV.get(int(obj.get("severity_id", 0)), "UNKNOWN")
        info = obj.get("finding_info", {})
        if obj.get("class_uid") == 2003:
            self.counts["compliance"] += 1
            state = obj.get("unmapped", {}).get("state", "")
            res = (obj.get("resources") or [{}])[0].get("uid", "")
            who = obj.get("actor", {}).get("user", {}).get("uid", "")  # who changed it (event-triggered rescans)
            by = f"  by {who} from {obj.get('src_endpoint', {}).get('ip', '')}" if who else ""
            self.line(
                self._c(sev, f"  ▲ {sev:<8} posture   {state.upper():<10} {info.get('title', '')[:60]:<60} {res}{by}")
            )
        else:
            self.counts["detection"] += 1
            actor = obj.get("actor", {}).get("user", {}).get("uid", "")
            ip = obj.get("src_endpoint", {}).get("ip", "")
            n = len(obj.get("evidences", []))
            self.line(
                self._c(sev, f"  ⚠ {sev:<8} threat    {info.get('title', '')[:60]:<60} {actor} {ip} ({n} events)")
            )

    def remediation(self, obj: dict[str, Any]) -> None:
        """One line per (action, resource); repeats are counted in ``planned``."""
        self.plans.append(obj)
        key = (str(obj.get("action", "")), str(obj.get("resource_arn", "")))
        seen = self.planned.get(key, 0)
        self.planned[key] = seen + 1
        if seen:
            return
        self.counts["remediation"] += 1
        calls = ", ".join(c.get("api", c.get("operation", "?")) for c in obj.get("calls", [])) or "-"
        self.line(f"  ⚙ remediation {obj.get('status', ''):<18} {key[0]:<36} {key[1]}  calls: {calls}")


class Recorder:
    """Append every consumed OCSF record to ``<dir>/demo-findings.jsonl`` / ``demo-detections.jsonl``."""

    def __init__(self, folder: Path) -> None:
        self.paths = {"findings": folder / "demo-findings.jsonl", "detections": folder / "demo-detections.jsonl"}
        self._files: dict[str, IO[bytes]] = {k: p.open("wb") for k, p in self.paths.items()}
        self.counts: Counter[str] = Counter()

    def write(self, kind: str, value: bytes) -> None:
        f = self._files[kind]
        f.write(value.rstrip(b"\n") + b"\n")
        self.counts[kind] += 1

    def close(self) -> None:
        for f in self._files.values():
            f.close()
