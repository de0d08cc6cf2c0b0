"""Helpers for detection tests: inline Sigma rules and CloudTrail records."""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

from cspm_stream.detect.engine import DetectionEngine, EngineConfig
from cspm_stream.detect.fields import Vocabulary
from cspm_stream.detect.loader import load_documents
from cspm_stream.detect.rescan import load_map
from cspm_stream.detect.rules import RuleSet
from cspm_stream.testing.factories import cloudtrail_record

HEADER = """
title: {title}
id: {id}
logsource: {{product: aws, service: cloudtrail}}
level: high
tags: [attack.persistence, attack.t1098]
"""


def rules(
    *docs: str,
    placeholders: dict[str, list[str]] | None = None,
    extra: frozenset[str] = frozenset(),
    vocab: Vocabulary | None = None,
) -> RuleSet:
    """Load YAML rule documents given as strings (one file per string, '---' splits documents)."""
    parsed = []
    for n, doc in enumerate(docs):
        for i, d in enumerate(yaml.safe_load_all(textwrap.dedent(doc))):
            parsed.append((f"rule{n}.yml", i, d))
    return load_documents(parsed, placeholders or {}, extra_fields=extra, vocab=vocab)


def rule(
    detection: str, *, title: str = "Test rule", rid: str = "00000000-0000-4000-8000-000000000001", **kw: Any
) -> RuleSet:
    """One rule with the given (indented) detection block."""
    body = HEADER.format(title=title, id=rid) + "detection:\n" + textwrap.indent(textwrap.dedent(detection), "    ")
    return rules(body, **kw)


def matches(rs: RuleSet, rec: dict[str, Any]) -> bool:
    assert not rs.errors, [str(e) for e in rs.errors]
    (r,) = rs.rules
    return r.compiled.predicate(rec)


def engine(rs: RuleSet, **cfg: Any) -> DetectionEngine:
    assert not rs.errors, [str(e) for e in rs.errors]
    return DetectionEngine(rs, EngineConfig(**cfg), load_map())


def ev(name: str, source: str = "iam.amazonaws.com", **kw: Any) -> dict[str, Any]:
    return cloudtrail_record(name, source, **kw)
