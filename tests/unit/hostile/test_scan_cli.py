"""``scan`` under hostile AWS answers: denied reads, sustained throttling, dead endpoints, bad --output.

Real aiobotocore against moto in server mode, behind a stand-in endpoint that answers
chosen requests itself (AccessDenied on GetBucketPolicy, SlowDown on every S3 call).
The CLI runs through ``main()`` and, once, as a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream.cli import main
from cspm_stream.testing.moto import MotoServer

from .standin import StandIn, service_of, xml_error

BUCKET = "h2-hostile-bucket"


@pytest.fixture
def moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    s3 = moto_server.boto3_client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=BUCKET)
    return moto_server


def _findings(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _scan(endpoint: str, out: Path, *extra: str) -> int:
    return main(
        ["scan", "--endpoint-url", endpoint, "--regions", "us-east-1", "--services", "s3", "-o", str(out), *extra]
    )


def _errors(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in found if f["unmapped"]["state"] == "error"]


def test_denied_read_is_an_error_finding_with_code_and_operation(
    moto: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deny = (lambda r: service_of(r) == "s3" and "policy" in r.query, 403, xml_error("AccessDenied", "Access Denied"))
    out = tmp_path / "f.jsonl"
    with StandIn(moto.endpoint_url, [deny]) as ep:
        assert _scan(ep.url, out, "--include-passed") == 0  # no --fail-on: findings are output, not failure
        assert ep.hits  # the stand-in answered
        errors = [f for f in _errors(_findings(out)) if BUCKET in f["resources"][0]["uid"]]
        assert errors, "a check reading the bucket policy must end in ERROR"
        for f in errors:
            assert "AccessDenied on GetBucketPolicy" in f["status_detail"], f["status_detail"]
        failing_critical = [
            f for f in _findings(out) if f["unmapped"]["state"] == "new" and f["severity"] == "Critical"
        ]
        # --fail-on counts the coverage gap ...
        assert _scan(ep.url, out, "--fail-on", "critical") == 1
        assert "ended in ERROR" in capsys.readouterr().err
        # ... unless the operator accepts it
        assert _scan(ep.url, out, "--fail-on", "critical", "--allow-errors") == (1 if failing_critical else 0)


def test_sustained_throttling_ends_the_scan_with_results_and_error_findings(
    moto: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slow = (lambda r: service_of(r) == "s3", 503, xml_error("SlowDown", "Please reduce your request rate."))
    out = tmp_path / "f.jsonl"
    with StandIn(moto.endpoint_url, [slow]) as ep:
        t0 = time.monotonic()
        code = _scan(ep.url, out, "--max-duration", "3", "--fail-on", "critical")
        took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert code == 1 and took < 30, (code, took)
    assert "stopped after 3s" in err and "Traceback" not in err
    errors = _errors(_findings(out))
    assert errors and all("ScanDeadline" in f["status_detail"] for f in errors)
    assert {f["resources"][0]["uid"].split(":")[-1] for f in errors} >= {"collection-error/aws.s3.bucket"}


def test_unwritable_output_fails_before_any_aws_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.monotonic()
    code = main(
        ["scan", "--endpoint-url", "http://127.0.0.1:1", "-o", str(tmp_path / "no" / "such" / "dir" / "x.jsonl")]
    )
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - t0 < 5
    assert err.count("\n") == 1 and "cannot write --output" in err and "Traceback" not in err


def test_unreachable_aws_is_one_line_and_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As an operator runs it: a subprocess, stderr is one line, exit code 3."""
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "1"}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "cspm_stream",
            "scan",
            "--endpoint-url",
            "http://127.0.0.1:1",
            "--regions",
            "us-east-1",
            "--services",
            "s3",
            "-o",
            str(tmp_path / "x.jsonl"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert res.returncode == 3, res.stderr
    assert res.stderr.strip().count("\n") == 0 and "cannot scan" in res.stderr and "Traceback" not in res.stderr


async def test_ticker_reports_every_interval_and_stays_quiet_for_short_scans() -> None:
    import asyncio
    import io

    from cspm_stream.cli.scan_run import ScanState, Ticker
    from cspm_stream.models import ScanJob

    state = ScanState()
    state.jobs = [
        ScanJob(
            job_id=f"j{i}",
            scan_id="s",
            account_id="1",
            region="us-east-1",
            service=f"svc{i}",
            requested_at="2026-01-01T00:00:00Z",
        )
        for i in range(3)
    ]
    state.job_done(state.jobs[0], None)
    buf = io.StringIO()
    async with Ticker(state, buf, every_s=0.05):
        await asyncio.sleep(0.28)
    lines = buf.getvalue().splitlines()
    assert 4 <= len(lines) <= 6
    assert "1/3 jobs done" in lines[0] and "waiting on svc1@us-east-1, svc2@us-east-1" in lines[0]
    quiet = io.StringIO()
    async with Ticker(state, quiet, every_s=10):
        await asyncio.sleep(0.05)
    assert quiet.getvalue() == ""
