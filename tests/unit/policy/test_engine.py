from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cspm_stream.models import AttributeFailure, Verdict
from cspm_stream.policy.catalog import Catalog, load_catalog
from cspm_stream.policy.checks import CHECKS, Check, Compiled, registry
from cspm_stream.policy.compiler import compile_condition
from cspm_stream.policy.engine import PolicyEngine
from cspm_stream.policy.frameworks import builtin_framework_dir
from cspm_stream.policy.loader import builtin_policy_dir
from cspm_stream.policy.model import EvalContext
from cspm_stream.policy.testrunner import run_test, snapshot_of
from cspm_stream.testing import snapshot

CTX = EvalContext(now_ts=0)


def _pair(lo: int, hi: int) -> dict[str, Any]:
    return {"all": [{"path": "FromPort", "op": "le", "value": lo}, {"path": "ToPort", "op": "ge", "value": hi}]}


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"FromPort": 0, "ToPort": 1024}, True),
        ({"FromPort": 22, "ToPort": 22}, True),
        ({"FromPort": 23, "ToPort": 3388}, False),
        ({"FromPort": 3389, "ToPort": 65535}, True),
        ({"FromPort": "0", "ToPort": 65535}, False),
        ({"FromPort": True, "ToPort": 65535}, False),
        ({"ToPort": 65535}, False),
        ([], False),
    ],
)
def test_fused_port_ranges_match_tree_semantics(doc: Any, expected: bool) -> None:
    fused = compile_condition({"any": [_pair(22, 22), _pair(3389, 3389)]}).predicate
    # the same condition in a shape the peephole does not touch (a leaf added)
    tree = compile_condition(
        {"any": [_pair(22, 22), _pair(3389, 3389), {"path": "Never", "op": "eq", "value": "x"}]}
    ).predicate
    assert fused(doc, CTX) is expected
    assert tree(doc, CTX) is expected


def test_memoized_shared_nodes_give_the_same_verdicts(fixture_catalog: Catalog) -> None:
    eng = fixture_catalog.engine()
    for pol in fixture_catalog.policies.values():
        for t in pol.tests:
            snap = snapshot_of(pol, t)
            got = {r.policy.id: r.verdict.value for r in eng.evaluate(snap)}
            assert got[pol.id] == run_test(pol, t).got == t.expect


def test_engine_over_builtins_equals_policy_tests() -> None:
    """Every built-in example evaluated through the engine (memoized, fused, all
    policies of the type at once) gives exactly the test runner's verdict."""
    cat = load_catalog([builtin_policy_dir()], [builtin_framework_dir()], errors=[])
    eng = cat.engine()
    mismatches = []
    for pol in cat.policies.values():
        for t in pol.tests:
            res = {r.policy.id: r.verdict.value for r in eng.evaluate(snapshot_of(pol, t))}
            if res[pol.id] != run_test(pol, t).got:
                mismatches.append((pol.id, t.name))
    assert not mismatches


def test_collection_error_snapshot_is_error_for_every_policy(fixture_catalog: Catalog) -> None:
    s = snapshot("aws.s3.bucket", {}, arn="arn:aws:s3:us-east-1:1:collection-error/aws.s3.bucket")
    s.errors.append(AttributeFailure("*", "AccessDenied", "ListBuckets denied"))
    res = fixture_catalog.engine().evaluate(s)
    assert res and all(r.verdict is Verdict.ERROR for r in res)


def test_crashing_predicate_is_error_not_pass(fixture_catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(d: Any, c: Any) -> bool:
        raise KeyError("surprise")

    registry()
    monkeypatch.setitem(CHECKS, "boom", Check("boom", "raises", {}, lambda args: Compiled(boom, ())))
    src = {"any": [{"check": "boom"}, {"path": "Encryption", "op": "absent"}]}
    pol = fixture_catalog.policies["fx_s3_no_encryption"]
    broken = dataclasses.replace(pol, condition=compile_condition(src), condition_source=src)
    (res,) = PolicyEngine([broken]).evaluate(snapshot("aws.s3.bucket", {"Encryption": None}))
    assert res.verdict is Verdict.ERROR and "KeyError" in res.detail


def test_unknown_type_evaluates_nothing(fixture_catalog: Catalog) -> None:
    assert fixture_catalog.engine().evaluate(snapshot("aws.nothing.here", {"x": 1})) == []
