"""Rule files are read like every catalogue file: a regular UTF-8 file of bounded size, bounded
alias expansion, a bounded title — each refusal a load error naming the file, never a hang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cspm_stream import strict_yaml
from cspm_stream.detect.loader import MAX_TITLE_CHARS, load_paths

RULE = """title: {title}
id: 22222222-2222-4222-8222-222222222222
logsource: {{product: aws, service: cloudtrail}}
detection:
  sel: {{eventName: X}}
  condition: sel
level: high
"""


@pytest.mark.timeout(20)
def test_a_rule_file_that_is_a_fifo_is_a_load_error(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yml"
    os.mkfifo(fifo)
    rs = load_paths([fifo])
    assert rs.loaded == 0 and "pipe.yml" in rs.errors[0].file and "not a regular file" in rs.errors[0].reason


@pytest.mark.timeout(20)
def test_a_rule_file_linked_to_a_device_is_a_load_error(tmp_path: Path) -> None:
    link = tmp_path / "zero.yml"
    link.symlink_to("/dev/zero")
    rs = load_paths([link])
    assert rs.loaded == 0 and "not a regular file" in rs.errors[0].reason


def test_an_oversized_rule_file_is_a_load_error(tmp_path: Path) -> None:
    big = tmp_path / "big.yml"
    big.write_text("title: '" + "a" * (strict_yaml.MAX_FILE_BYTES + 10) + "'\n")
    rs = load_paths([big])
    assert rs.loaded == 0 and "larger than" in rs.errors[0].reason


def test_alias_expansion_is_bounded(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 10)]
    (tmp_path / "laughs.yml").write_text("\n".join(lines) + "\n")
    rs = load_paths([tmp_path / "laughs.yml"])
    assert rs.loaded == 0 and "aliases" in rs.errors[0].reason


def test_a_huge_title_is_refused_and_the_error_stays_short(tmp_path: Path) -> None:
    f = tmp_path / "t.yml"
    f.write_text(RULE.format(title="T" * 1_000_000))
    rs = load_paths([f])
    assert rs.loaded == 0 and f"longer than {MAX_TITLE_CHARS}" in rs.errors[0].reason
    assert len(str(rs.errors[0])) < 4096 and len(rs.errors[0].rule) < 4096


def test_a_title_at_the_limit_loads(tmp_path: Path) -> None:
    f = tmp_path / "t.yml"
    f.write_text(RULE.format(title="T" * MAX_TITLE_CHARS))
    assert load_paths([f]).loaded == 1


def test_a_correlation_title_is_bounded_too(tmp_path: Path) -> None:
    f = tmp_path / "c.yml"
    f.write_text(
        RULE.format(title="base")
        + "---\ntitle: "
        + "C" * 100_000
        + "\nid: 33333333-3333-4333-8333-333333333333\ncorrelation:\n  type: event_count\n  rules: [22222222-2222-4222-8222-222222222222]\n"
        "  group-by: [sourceIPAddress]\n  timespan: 1h\n  condition: {gte: 2}\nlevel: high\n"
    )
    rs = load_paths([f])
    assert rs.loaded == 1 and not rs.correlations and f"longer than {MAX_TITLE_CHARS}" in rs.errors[0].reason
