"""Run the example events that sit beside rules (``<rule>.tests.yml``).

Format of a tests file::

    rule: <rule id, name or title>
    tests:
      - name: root console login
        expect: match            # or no_match
        events: [<CloudTrail record>, ...]
        detections: 1            # optional: distinct detections (uids) of this rule expected

Each test runs on a fresh engine state with every rule of the folder loaded (so a
correlation finds the rules it references) and the tested rule forced to generate
its own detections. ``match`` means at least one detection of that rule (or exactly
``detections`` distinct ones when given); ``no_match`` means none. Events without
``eventID`` get ``test-<n>``; without ``eventTime``, one second apart from
2026-01-01T00:00:00Z.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cspm_stream import strict_yaml
from cspm_stream.detect.catalog import vocabulary
from cspm_stream.detect.engine import DetectionEngine, EngineConfig
from cspm_stream.detect.loader import TEST_SUFFIXES, load_paths
from cspm_stream.detect.rescan import load_map
from cspm_stream.detect.rules import LoadError, RuleSet
from cspm_stream.settings import DetectionSettings
from cspm_stream.timeutil import ms_to_iso

BASE_MS = 1767225600000  # 2026-01-01T00:00:00Z


@dataclass(slots=True)
class TestResult:
    file: str
    rule: str
    name: str
    ok: bool
    reason: str = ""


@dataclass(slots=True)
class TestReport:
    results: list[TestResult] = field(default_factory=list)
    load_errors: list[LoadError] = field(default_factory=list)
    files: int = 0
    file_errors: int = 0


def test_files(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.name.endswith(TEST_SUFFIXES)))
        elif p.name.endswith(TEST_SUFFIXES):
            out.append(p)
    return out


def run_rule_tests(paths: Iterable[str | Path], settings: DetectionSettings | None = None) -> TestReport:
    """Load the rules under ``paths`` and run every tests file found there."""
    settings = settings or DetectionSettings()
    paths = list(paths)
    rules = load_paths(paths, settings.placeholders, vocab=vocabulary(settings))
    report = TestReport(load_errors=list(rules.errors))
    rescan = load_map(settings.rescan_map)
    config = EngineConfig.from_settings(settings)
    for f in test_files(paths):
        report.files += 1
        report.results.extend(run_file(f, rules, config, rescan_map=rescan))
    report.file_errors = sum(1 for r in report.results if r.name == "<file>")
    return report


def run_file(path: Path, rules: RuleSet, config: EngineConfig, **engine_kw: Any) -> list[TestResult]:
    try:
        doc = strict_yaml.load(strict_yaml.read_text(path))  # regular, bounded UTF-8 only (a FIFO blocked)
    except strict_yaml.ReadError as exc:
        return [TestResult(str(path), "", "<file>", False, f"cannot read tests: {exc}")]
    except yaml.YAMLError as exc:
        return [TestResult(str(path), "", "<file>", False, f"cannot read tests: {strict_yaml.problem(exc)}")]
    if not isinstance(doc, dict) or not isinstance(doc.get("tests"), list):
        return [TestResult(str(path), "", "<file>", False, "expected {rule: ..., tests: [...]}")]
    ref = str(doc.get("rule") or "")
    info = rules.find(ref)
    if info is None:
        return [TestResult(str(path), ref, "<file>", False, f"rule {ref!r} is not loaded (see load errors)")]
    out: list[TestResult] = []
    for i, test in enumerate(doc["tests"]):
        name = str(test.get("name") or f"test {i + 1}") if isinstance(test, dict) else f"test {i + 1}"
        try:
            out.append(_run_one(path, info.id, info.title, name, test, rules, config, engine_kw))
        except (ValueError, TypeError, KeyError) as exc:
            out.append(TestResult(str(path), info.title, name, False, f"invalid test: {exc}"))
    return out


def _run_one(
    path: Path,
    rule_id: str,
    title: str,
    name: str,
    test: Any,
    rules: RuleSet,
    config: EngineConfig,
    engine_kw: dict[str, Any],
) -> TestResult:
    if not isinstance(test, dict):
        raise ValueError("a test must be a mapping")
    expect = test.get("expect")
    if expect not in ("match", "no_match"):
        raise ValueError(f"expect must be match or no_match, not {expect!r}")
    events = test.get("events")
    if not isinstance(events, list) or not events:
        raise ValueError("events must be a non-empty list of CloudTrail records")
    engine = DetectionEngine(rules, config, force_generate=frozenset({rule_id}), **engine_kw)
    state: dict[str, Any] = {}
    uids: set[str] = set()
    for n, ev in enumerate(events):
        if not isinstance(ev, dict):
            raise ValueError(f"event {n + 1} is not a mapping")
        rec = dict(ev)
        rec.setdefault("eventID", f"test-{n + 1}")
        rec.setdefault("eventTime", ms_to_iso(BASE_MS + n * 1000))
        for f in engine.process(rec, state).findings:
            if f["unmapped"]["rule_id"] == rule_id:
                uids.add(f["finding_info"]["uid"])
    want = test.get("detections")
    if expect == "no_match":
        ok = not uids
        reason = "" if ok else f"expected no detection, got {len(uids)}"
    elif want is not None:
        ok = len(uids) == int(want)
        reason = "" if ok else f"expected {want} detection(s), got {len(uids)}"
    else:
        ok = bool(uids)
        reason = "" if ok else "expected a detection, got none"
    return TestResult(str(path), title, name, ok, reason)
