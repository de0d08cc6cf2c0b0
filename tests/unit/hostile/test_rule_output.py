"""A rule with a megabyte-long title: what the rules commands print stays short.

``rules validate`` echoed the whole 1 MB title in its load error (and ``rules list`` /
``rules test`` / the daemon's log line did the same): now cut with a visible marker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cspm_stream.cli import main

RULE = (
    "title: {title}\nid: 22222222-2222-4222-8222-222222222222\nlogsource: {{product: aws, service: cloudtrail}}\n"
    "detection:\n  sel:\n    eventName: CreateAccessKey\n  condition: sel\nlevel: high\n"
)


@pytest.mark.parametrize("command", ["validate", "test", "list"])
def test_a_huge_rule_title_is_cut_in_what_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    rule = tmp_path / "long.yml"
    rule.write_text(RULE.format(title="T" * 1_000_000))
    argv = ["rules", command, str(rule)] + (["--no-builtin"] if command == "list" else [])
    main(argv)
    out = capsys.readouterr()
    printed = out.out + out.err
    assert "T" * 100 in printed and len(printed) < 10_000 and "chars truncated]" in printed
