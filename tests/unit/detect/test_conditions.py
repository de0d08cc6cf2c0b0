"""The condition parser builds pySigma's trees: the same as pyparsing's for every condition it takes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from sigma.conditions import _parse_condition_string
from sigma.exceptions import SigmaConditionError

from cspm_stream.detect.catalog import builtin_rules_dir
from cspm_stream.detect.conditions import build, recipe
from tests.unit.detect.test_sigmahq import RULES as SIGMAHQ


def _pysigma(text: str) -> object:
    try:
        return _parse_condition_string(text)
    except Exception:  # pyparsing's ParseException: pySigma turns it into SigmaConditionError
        return SigmaConditionError


def _conditions(root: Path) -> list[str]:
    out = []
    for f in sorted(root.rglob("*.yml")):
        if f.name.endswith(".tests.yml"):
            continue
        for doc in yaml.safe_load_all(f.read_text(encoding="utf-8")):
            cond = doc.get("detection", {}).get("condition") if isinstance(doc, dict) else None
            out += cond if isinstance(cond, list) else [cond] if isinstance(cond, str) else []
    return out


def test_every_condition_of_the_packs_parses_to_pysigmas_tree() -> None:
    conds = _conditions(builtin_rules_dir()) + _conditions(Path(SIGMAHQ))
    assert len(set(conds)) >= 100
    for c in conds:
        r = recipe(c)
        assert r is not None, c  # the packs use only the common language
        assert build(r) == _pysigma(c), c


def _random_condition(rng: random.Random, depth: int = 0) -> str:
    names = ["sel", "selection_1", "filter-a", "f", "them", "of", "all", "x9", "notes", "android", "order"]
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        if rng.random() < 0.25:
            return f"{rng.choice(['1', 'any', 'all'])} of {rng.choice(['sel*', 'them', 'filter_*', '*'])}"
        return rng.choice(names)
    if roll < 0.45:
        return "not " + _random_condition(rng, depth + 1)
    if roll < 0.6:
        return "(" + _random_condition(rng, depth + 1) + ")"
    op = rng.choice([" and ", " or ", "  and\n", "\tor "])
    return op.join(_random_condition(rng, depth + 1) for _ in range(rng.randint(2, 4)))


def test_random_conditions_parse_to_pysigmas_tree() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        c = _random_condition(rng)
        r = recipe(c)
        assert r is not None, c
        assert build(r) == _pysigma(c), c


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "sel and",
        "and sel",
        "sel sel",
        "(sel",
        "sel)",
        "sel AND filter",  # pySigma's operators are lower case
        "sel | count() > 5",  # the deprecated aggregation syntax
        "sel* and f",
        "1 of",
        "1 of sel-*",
        "sélection",
        "not",
        "sel or (f and not)",
    ],
)
def test_anything_else_is_left_to_pysigma(text: str) -> None:
    assert recipe(text) is None, text  # not guessed at: pySigma parses it or raises its own error
