"""The written record matches the code: design.md's package map and role table, README's topic
table, every setting the two documents name, and README's catalogue counts (what
``policies stats`` and ``rules list|coverage|test`` print)."""

from __future__ import annotations

import dataclasses
import re
import typing
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream import strict_yaml
from cspm_stream.app import ROLE_STAGES, ROLES
from cspm_stream.cli import main
from cspm_stream.settings import Settings
from cspm_stream.topics import TOPICS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cspm_stream"
README = (ROOT / "README.md").read_text(encoding="utf-8")
DESIGN = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")

#: settings the documents name on purpose as removed ("a config still naming them fails at start")
REMOVED_SETTINGS = {"app.batchloop_stages", "app.stream_buffer"}


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end >= 0 else len(text)]


def _table(text: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table starting with ``header`` (cells stripped, ``\\|`` unescaped)."""
    lines = text[text.index(header) :].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        rows.append([c.strip().replace("\\|", "|") for c in cells])
    return rows


# --- design.md: package map -----------------------------------------------------------------------


def _packages_and_modules() -> set[str]:
    found = {
        f"cspm_stream/{p.parent.relative_to(PACKAGE).as_posix()}/"
        for p in PACKAGE.rglob("__init__.py")
        if p.parent != PACKAGE and "__pycache__" not in p.parts
    }
    # the catalogue is data: its sub-folders hold YAML, not code
    found = {f for f in found if not f.startswith("cspm_stream/catalog/") or f == "cspm_stream/catalog/"}
    found |= {f"cspm_stream/{p.name}" for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    return found


def test_package_map_lists_every_package_and_module_once() -> None:
    rows = _table(_section(DESIGN, "## Package map"), "| package / module |")
    listed = [m for row in rows for m in re.findall(r"`(cspm_stream/[^`]+)`", row[0])]
    assert len(listed) == len(set(listed)), "listed twice"
    actual = _packages_and_modules()
    assert sorted(set(listed) - actual) == [], "listed but does not exist"
    assert sorted(actual - set(listed)) == [], "exists but not listed"
    assert all(len(row) == 2 and row[1] for row in rows)


def test_package_finder_sees_subpackages_and_modules() -> None:
    actual = _packages_and_modules()
    assert {"cspm_stream/delivery/sinks/", "cspm_stream/app.py", "cspm_stream/catalog/"} <= actual
    assert not any(a.startswith("cspm_stream/catalog/policies") for a in actual)


# --- design.md: roles -----------------------------------------------------------------------------


def test_role_table_matches_the_code() -> None:
    rows = _table(DESIGN, "| role | stages |")
    table = {row[0].strip("`"): [s.strip("`") for s in row[1].split(", ")] for row in rows}
    assert set(table) == set(ROLES)
    for role, stages in ROLE_STAGES.items():
        assert table[role] == list(stages), role


# --- README: topics -------------------------------------------------------------------------------


def test_readme_topic_table_matches_the_topic_table() -> None:
    rows = _table(README, "| topic (prefix `cspm.`) |")
    assert [r[0] for r in rows] == [t.name for t in TOPICS]
    assert {r[0]: r[1] for r in rows} == {t.name: t.key for t in TOPICS}
    for r in rows:  # what the README calls compacted is compacted
        spec = next(t for t in TOPICS if t.name == r[0])
        assert r[2].startswith("compacted") == spec.compacted, r[0]


# --- settings named in README and design.md ------------------------------------------------------


def _setting_exists(dotted: str) -> bool:
    cls: Any = Settings
    for part in dotted.split("."):
        if part == "*":
            continue
        if not dataclasses.is_dataclass(cls):
            return False
        hints = typing.get_type_hints(cls)
        if part not in hints:
            return False
        cls = hints[part]
        args = [a for a in typing.get_args(cls) if dataclasses.is_dataclass(a)]
        if typing.get_origin(cls) in (dict, list) and args:
            cls = args[-1]  # dict[str, SinkSettings] / list[RouteSettings]: the element
    return True


def _named_settings() -> set[str]:
    sections = {f.name for f in dataclasses.fields(Settings)}
    out = set()
    for text in (README, DESIGN):
        for ref in re.findall(r"`([a-z_]+(?:\.(?:[a-z_][a-z_0-9]*|\*))+)`", text):
            parts = ref.split(".")
            if parts[0] not in sections:
                continue
            if parts[0] == "aws" and len(parts) > 2 and parts[-1] != "*":
                continue  # a resource type (aws.iam.principal), not a setting
            out.add(ref)
    return out


def test_every_setting_the_documents_name_exists() -> None:
    named = _named_settings()
    assert {"app.commit_interval_s", "alerts.sinks.*.queue_size", "detection.eval_budget_ms"} <= named
    missing = sorted(n for n in named - REMOVED_SETTINGS if not _setting_exists(n))
    assert missing == []
    assert not any(_setting_exists(n) for n in REMOVED_SETTINGS)


def test_setting_lookup_refuses_what_is_not_a_setting() -> None:
    assert _setting_exists("alerts.sinks.*.queue_size") and _setting_exists("app.data_dir")
    assert not _setting_exists("alerts.sinks.*.no_such_key")
    assert not _setting_exists("app.no_such_key")


# --- README: catalogue counts are what the commands print ----------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0, argv
    out = capsys.readouterr()
    return out.out + out.err


def test_readme_detection_counts_are_what_the_commands_print(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _table(_section(README, "## Detection coverage"), "| command | prints |")
    assert [r[0] for r in rows] == [
        "`cspm-stream rules list`",
        "`cspm-stream rules coverage`",
        "`cspm-stream rules test`",
    ]
    for command, prints in rows:
        printed = _run(capsys, *command.strip("`").split()[1:])
        quoted = re.match(r"`([^`]+)`", prints)
        assert quoted and quoted.group(1) in printed, (command, printed[-300:])
        if command == "`cspm-stream rules list`":
            kinds = Counter(line.split("\t")[2] for line in printed.splitlines() if line.count("\t") >= 3)
            assert f"{kinds['rule']} rules and {kinds['correlation']} correlations" in prints


def test_readme_posture_counts_are_what_policies_stats_prints(capsys: pytest.CaptureFixture[str]) -> None:
    s = orjson.loads(_run(capsys, "policies", "stats", "--format", "json"))
    (row,) = _table(_section(README, "## Posture coverage"), "| policies | resource types |")
    w = s["wire_tests"]
    expect = [
        f"{s['policies']:,}",
        f"{s['resource_types']:,}",
        f"{s['services']:,}",
        f"{s['frameworks']:,}",
        f"{s['prowler_checks_exact']:,} ({s['prowler_pairs_exact']:,} policy–check pairs)",
        f"{s['securityhub_controls_exact']:,}",
        f"{s['policy_tests']:,}",
        f"{w.get('moto', 0):,} / {w.get('recorded', 0):,} / {w.get('not stated', 0):,}",
    ]
    assert row == expect
    assert f"({s['policy_tests']:,}/{s['policy_tests']:,} passed over {s['policies']:,} policies)" in README


def test_readme_alert_count_is_the_prometheus_rules_file() -> None:
    m = re.search(r"cspm-stream-rules\.yml +# (\d+) alerts", README)
    rules = strict_yaml.load((ROOT / "deploy" / "prometheus" / "cspm-stream-rules.yml").read_text(encoding="utf-8"))
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert m and int(m.group(1)) == len(alerts)
