"""``cspm-stream detect`` as a process: complete output without interpreter teardown, quiet on a closed pipe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from bench.detect.mix import generate


def _events(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in generate(n, seed=29)))
    return path


def test_every_detection_is_written_before_the_process_ends(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cspm_stream", "detect", "--events", str(_events(tmp_path, 3000))],
        capture_output=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.splitlines()
    summary = orjson.loads(out.stderr[out.stderr.index(b"{") :])
    assert summary["detections"] == len(lines) > 0  # stdout flushed in full before the fast exit
    assert all(orjson.loads(line)["class_uid"] == 2004 for line in lines)


def test_a_reader_that_stops_early_is_not_an_internal_error(tmp_path: Path) -> None:
    events = _events(tmp_path, 20_000)  # far more output than a pipe buffer holds
    proc = subprocess.Popen(
        [sys.executable, "-m", "cspm_stream", "detect", "--events", str(events)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert orjson.loads(first)["class_uid"] == 2004
    assert b"Traceback" not in err and b"internal error" not in err
