"""`cspm-stream report --findings-file`: the offline path of the report command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream.cli import main


def _jsonl(tmp_path: Path, world: list[dict[str, Any]]) -> Path:
    path = tmp_path / "findings.jsonl"
    lines = [orjson.dumps(f) for f in world]
    lines.insert(3, b"{truncated")  # an unreadable line is counted, not fatal
    lines.insert(5, b"")  # blank lines are skipped
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_offline_json(tmp_path: Path, world: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    argv = ["report", "--findings-file", str(_jsonl(tmp_path, world)), "--format", "json", "-o", str(out)]
    assert main([*argv, "--now", "2026-01-10T12:00:00Z", "--trend-days", "7"]) == 0
    data = json.loads(out.read_text())
    assert data["summary"]["checks"] == {"passed": 6, "failed": 2, "error": 2, "muted": 1}
    assert data["rejected"] and sum(data["rejected"].values()) == 1
    assert len(data["trend"]) == 7 and data["trend"][-1]["day"] == "2026-01-10"
    assert "75.0%" in capsys.readouterr().err  # the one-line summary


def test_offline_filters_and_formats(tmp_path: Path, world: list[dict[str, Any]]) -> None:
    src = _jsonl(tmp_path, world)
    out = tmp_path / "r.csv"
    assert (
        main(["report", "--findings-file", str(src), "--format", "csv", "--account", "222222222222", "-o", str(out)])
        == 0
    )
    rows = out.read_text().splitlines()[1:]
    assert rows and all("222222222222" in r for r in rows)
    html = tmp_path / "r.html"
    assert main(["report", "--findings-file", str(src), "--framework", "fw2", "-o", str(html)]) == 0
    assert "framework fw2" in html.read_text()


def test_stdout_and_errors(tmp_path: Path, world: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    src = _jsonl(tmp_path, world)
    assert main(["report", "--findings-file", str(src), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["checks"]["passed"] == 6
    assert main(["report", "--findings-file", str(src), "--framework", "nope", "-o", str(tmp_path / "x")]) == 2
    assert "unknown framework" in capsys.readouterr().err
    assert main(["report", "--findings-file", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "x")]) == 2  # usage
    assert main(["report", "--findings-file", str(src), "--top", "0"]) == 2
