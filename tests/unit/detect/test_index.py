"""The rule index: sound (never drops a rule that matches) and selective (prefixes, negations, error codes)."""

from __future__ import annotations

import random

from bench.detect.mix import generate
from cspm_stream.detect.catalog import builtin_rules_dir
from cspm_stream.detect.engine import DetectionEngine
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.records import normalize
from tests.unit.detect.helpers import ev, rules
from tests.unit.detect.test_sigmahq import RULES as SIGMAHQ


def _rule(n: int, detection: str) -> str:
    return f"""
title: R{n}
id: 90000000-0000-4000-8000-{n:012d}
logsource: {{product: aws, service: cloudtrail}}
detection:
{detection}
"""


INDEXED = rules(
    _rule(1, "  sel: {eventName|startswith: [Delete, Terminate]}\n  condition: sel"),
    _rule(2, "  sel: {userAgent|contains: sqlmap}\n  s3: {eventSource: s3.amazonaws.com}\n  condition: sel and not s3"),
    _rule(3, "  sel: {eventName: GetObject}\n  err: {errorCode|exists: true}\n  condition: sel and not err"),
    _rule(4, "  a: {eventName|endswith: Policy}\n  b: {userAgent|contains: x}\n  condition: a or b"),
    _rule(
        5,
        "  sel: {eventName: PutObject}\n  f: {eventSource: ec2.amazonaws.com, userAgent: y}\n  condition: sel and not f",
    ),
)


def _titles(engine: DetectionEngine, rec: dict) -> set[str]:
    return {r.info.title for r in engine._candidates(normalize(rec))}


def test_projection_keeps_only_rules_whose_index_fields_can_match() -> None:
    eng = DetectionEngine(INDEXED)
    assert _titles(eng, ev("DeleteBucket", "s3.amazonaws.com")) == {"R1", "R4"}
    assert _titles(eng, ev("TerminateInstances", "ec2.amazonaws.com")) == {"R1", "R2", "R4"}
    assert _titles(eng, ev("GetObject", "s3.amazonaws.com")) == {"R3", "R4"}
    assert _titles(eng, ev("GetObject", "s3.amazonaws.com", error_code="AccessDenied")) == {"R4"}
    assert _titles(eng, ev("PutObject", "s3.amazonaws.com")) == {"R4", "R5"}  # R5's not-filter mixes fields: kept
    assert _titles(eng, ev("ListUsers")) == {"R2", "R4"}


def test_index_never_drops_a_matching_rule_and_residuals_agree() -> None:
    rs = load_paths([builtin_rules_dir(), SIGMAHQ])
    eng = DetectionEngine(rs)
    live = [r for r in rs.rules if eng._generate[r.info.id] or r.feeds]
    recs = generate(4000, seed=7)
    rng = random.Random(3)
    for rec in recs[:300]:  # hostile spellings of the index fields too
        bent = dict(rec, eventName=rng.choice(["", "delete", "DELETEBUCKET", rec["eventName"].upper(), "x" * 300]))
        recs.append(bent)
    checked = 0
    for raw in recs:
        rec = normalize(raw)
        selected = eng._candidates(rec)
        cands = set(id(r) for r in selected)
        for r in live:
            if r.compiled.predicate(rec):
                assert id(r) in cands, (r.info.title, rec["eventName"], rec["eventSource"])
                checked += 1
        for r in selected:  # what the engine evaluates on a selected record decides exactly the same
            assert r.residual(rec) == r.compiled.predicate(rec), (r.info.title, rec["eventName"])
    assert checked > 1000
    assert sum(len(eng._candidates(normalize(r))) for r in recs) / len(recs) < 0.1 * len(live)


def test_combined_wildcard_lists_decide_like_the_values_one_by_one() -> None:
    from sigma.types import SigmaCasedString, SigmaString

    from cspm_stream.detect.matchers import string_matcher, strings_matcher

    rng = random.Random(5)
    alphabet = "abAB.-/ *?É"
    texts = ["".join(rng.choice("abAB.-/ xÉé") for _ in range(rng.randrange(0, 8))) for _ in range(300)]
    texts += [None, 7, True, {"k": "aB"}]  # type: ignore[list-item]
    for _ in range(200):
        raw = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 5))) for _ in range(rng.randrange(2, 5))]
        cased = rng.random() < 0.3
        strings = [SigmaCasedString(r) if cased else SigmaString(r) for r in raw]
        strings = [s for s in strings if s.contains_special() and any(isinstance(p, str) and p for p in s.s)]
        if len(strings) < 2:
            continue
        combined = strings_matcher(strings, cased)
        singles = [string_matcher(s) for s in strings]
        for t in texts:
            assert combined(t) == any(m(t) for m in singles), (raw, cased, t)
