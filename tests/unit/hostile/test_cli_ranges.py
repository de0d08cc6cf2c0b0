"""Arguments at the edges of the calendar and outputs that fill up: one line and a documented code.

Each of these ended in a traceback (exit 70): ``report --now 0001-01-01`` and ``--trend-days
999999999`` ran the trend off the calendar (year 0), ``rules backtest --since 20000w`` asked
Kafka for offsets at a negative time, and a full disk under ``--output`` (``/dev/full``) broke
``report`` and ``scan`` after all the work was done.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cspm_stream.cli import main, scan_cmd
from cspm_stream.policy.scanning import ScanTotals

FULL = Path("/dev/full")
needs_full = pytest.mark.skipif(not FULL.exists(), reason="no /dev/full on this system")


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def no_findings(tmp_path: Path) -> Path:
    p = tmp_path / "findings.jsonl"
    p.write_text("")
    return p


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--now", "0001-01-01T00:00:00Z"], "is before 1970-01-01"),
        (["--trend-days", "999999999"], "--trend-days must be 1 to 3660"),
    ],
)
def test_report_times_off_the_calendar_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_findings: Path, argv: list[str], says: str
) -> None:
    code = main(["report", "--findings-file", str(no_findings), "-o", str(tmp_path / "r.html"), *argv])
    assert code == 2 and says in _one_line(capsys.readouterr().err)


@needs_full
def test_report_to_a_full_disk_is_one_line(capsys: pytest.CaptureFixture[str], no_findings: Path) -> None:
    code = main(["report", "--findings-file", str(no_findings), "-o", str(FULL)])
    assert code == 2 and "cannot write --output /dev/full: No space left on device" in _one_line(
        capsys.readouterr().err
    )


@needs_full
@pytest.mark.parametrize("fmt", ["table", "csv", "sarif", "asff", "html"])
def test_scan_to_a_full_disk_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    async def nothing(*_: object) -> tuple[ScanTotals, list[dict[str, object]]]:
        return ScanTotals(), []

    monkeypatch.setattr(scan_cmd, "_scan", nothing)
    code = main(["scan", "--format", fmt, "-o", str(FULL)])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write --output /dev/full: No space left on device" in _one_line(err)


def test_backtest_since_before_the_epoch_reads_everything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(
        "title: t\nid: 11111111-1111-4111-8111-111111111111\nlogsource: {product: aws, service: cloudtrail}\n"
        "detection:\n  sel: {eventName: X}\n  condition: sel\nlevel: high\n"
    )
    events = tmp_path / "e.jsonl"
    events.write_text("")
    assert main(["rules", "backtest", "--rules", str(rule), "--events", str(events), "--since", "20000w"]) == 0
    code = main(["rules", "backtest", "--rules", str(rule), "--events", str(events), "--since", "9" * 5000 + "d"])
    assert code == 2 and "expected a positive duration" in _one_line(capsys.readouterr().err)
