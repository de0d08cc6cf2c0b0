from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.policy.compiler import ConditionError, compile_condition
from cspm_stream.policy.model import EvalContext

NOW = 1767225600.0  # 2026-01-01T00:00:00Z
CTX = EvalContext(now_ts=NOW, tags={"env": "prod"})


def ev(cond: dict[str, Any], doc: dict[str, Any]) -> bool:
    return compile_condition(cond).predicate(doc, CTX)


@pytest.mark.parametrize(
    ("cond", "doc", "expected"),
    [
        ({"path": "A", "op": "eq", "value": 1}, {"A": 1}, True),
        ({"path": "A", "op": "eq", "value": 1}, {"A": True}, False),  # bool never equals a number
        ({"path": "A", "op": "eq", "value": True}, {"A": 1}, False),
        ({"path": "A", "op": "ne", "value": True}, {}, True),  # absent is not equal
        ({"path": "A", "op": "in", "value": ["x", "y"]}, {"A": "y"}, True),
        ({"path": "A", "op": "in", "value": [False]}, {"A": 0}, False),
        ({"path": "A", "op": "not-in", "value": ["x"]}, {"A": "z"}, True),
        ({"path": "A", "op": "contains", "value": "b"}, {"A": "abc"}, True),
        ({"path": "A", "op": "contains", "value": "k"}, {"A": {"k": 1}}, True),
        ({"path": "A", "op": "contains", "value": 2}, {"A": [1, 2]}, True),
        ({"path": "A", "op": "not-contains", "value": 3}, {"A": [1, 2]}, True),
        ({"path": "A", "op": "regex", "value": "^arn:aws:iam::\\d+:root$"}, {"A": "arn:aws:iam::1:root"}, True),
        ({"path": "A", "op": "regex", "value": "x"}, {"A": 5}, False),
        ({"path": "A", "op": "glob", "value": "s3_*"}, {"A": "s3_bucket"}, True),
        ({"path": "A", "op": "glob", "value": "s3_*"}, {"A": "xs3_bucket"}, False),
        ({"path": "A", "op": "lt", "value": 14}, {"A": 8}, True),
        ({"path": "A", "op": "lt", "value": 14}, {"A": "8"}, False),
        ({"path": "A", "op": "ge", "value": 14}, {"A": 14}, True),
        ({"path": "A", "op": "gt", "value": 0}, {}, False),
        ({"path": "A", "op": "age-days-gt", "value": 90}, {"A": "2025-09-01T00:00:00Z"}, True),
        ({"path": "A", "op": "age-days-gt", "value": 90}, {"A": "2025-12-01T00:00:00+00:00"}, False),
        ({"path": "A", "op": "age-days-lt", "value": 1}, {"A": "2025-12-31T12:00:00Z"}, True),
        ({"path": "A", "op": "age-days-gt", "value": 1}, {"A": "not a date"}, False),
        ({"path": "A", "op": "cidr-contains", "value": "10.1.2.3"}, {"A": "10.0.0.0/8"}, True),
        ({"path": "A", "op": "cidr-contains", "value": "10.1.2.3"}, {"A": "0.0.0.0/0"}, True),
        ({"path": "A", "op": "cidr-contains", "value": "10.1.2.3"}, {"A": "192.168.0.0/16"}, False),
        ({"path": "A", "op": "cidr-contains", "value": "10.1.2.3"}, {"A": "::/0"}, False),
        ({"path": "A", "op": "absent"}, {"A": None}, True),
        ({"path": "A", "op": "absent"}, {}, True),
        ({"path": "A", "op": "present"}, {"A": False}, True),
        ({"path": "A", "op": "empty"}, {"A": []}, True),
        ({"path": "A", "op": "empty"}, {"A": [0]}, False),
        ({"path": "A", "op": "not-empty"}, {"A": {"x": 1}}, True),
        ({"path": "A", "op": "len-gt", "value": 1}, {"A": [1, 2]}, True),
        ({"path": "$tags.env", "op": "eq", "value": "prod"}, {}, True),
        # projections: scalar ops are existential, ne/not-in universal
        ({"path": "A[].B", "op": "eq", "value": 2}, {"A": [{"B": 1}, {"B": 2}]}, True),
        ({"path": "A[].B", "op": "ne", "value": 2}, {"A": [{"B": 1}, {"B": 2}]}, False),
        ({"path": "A[].B", "op": "ne", "value": 3}, {"A": [{"B": 1}, {"B": 2}]}, True),
        ({"path": "A[].B", "op": "not-in", "value": [1]}, {"A": [{"B": 1}]}, False),
        ({"path": "A[].B", "op": "contains", "value": 1}, {"A": [{"B": 1}]}, True),
        ({"path": "A[].B", "op": "empty"}, {"A": [{"C": 1}]}, True),
        ({"path": "A[].B", "op": "eq", "value": 1}, {}, False),
        # boolean forms
        (
            {"all": [{"path": "A", "op": "eq", "value": 1}, {"path": "B", "op": "eq", "value": 2}]},
            {"A": 1, "B": 2},
            True,
        ),
        ({"all": [{"path": "A", "op": "eq", "value": 1}, {"path": "B", "op": "eq", "value": 2}]}, {"A": 1}, False),
        ({"any": [{"path": "A", "op": "eq", "value": 1}, {"path": "B", "op": "eq", "value": 2}]}, {"B": 2}, True),
        ({"not": {"path": "A", "op": "present"}}, {}, True),
        # list forms
        ({"any-of": "L", "where": {"path": "x", "op": "gt", "value": 1}}, {"L": [{"x": 1}, {"x": 2}]}, True),
        ({"all-of": "L", "where": {"path": "x", "op": "gt", "value": 1}}, {"L": [{"x": 1}, {"x": 2}]}, False),
        ({"all-of": "L", "where": {"path": "x", "op": "gt", "value": 1}}, {}, True),  # vacuous
        ({"none-of": "L", "where": {"path": "x", "op": "gt", "value": 5}}, {"L": [{"x": 1}]}, True),
        ({"any-of": "L", "where": {"path": "x", "op": "eq", "value": 1}}, {"L": {"x": 1}}, True),  # single object
        ({"any-of": "L[].M[]", "where": {"path": "y", "op": "eq", "value": 1}}, {"L": [{"M": [{"y": 1}]}]}, True),
    ],
)
def test_semantics(cond: dict[str, Any], doc: dict[str, Any], expected: bool) -> None:
    assert ev(cond, doc) is expected
    # the engine's variant, with every shared-able node memoized, agrees
    ids = frozenset(compile_condition(cond).node_ids)
    assert (
        compile_condition(cond, memo_ids=ids).predicate(doc, EvalContext(now_ts=NOW, tags={"env": "prod"})) is expected
    )


@pytest.mark.parametrize(
    ("cond", "where", "reason"),
    [
        ({"path": "A", "op": "equals", "value": 1}, "condition.op", "unknown operator"),
        ({"path": "A", "op": "eq"}, "condition", "needs a 'value'"),
        ({"path": "A", "op": "absent", "value": 1}, "condition.value", "takes no value"),
        ({"path": "A", "op": "regex", "value": "("}, "condition.value", "invalid regular expression"),
        ({"path": "A", "op": "in", "value": "x"}, "condition.value", "must be a list"),
        ({"path": "A", "op": "cidr-contains", "value": "10.0.0.300/8"}, "condition.value", "not a CIDR"),
        ({"path": "A", "op": "age-days-gt", "value": "90"}, "condition.value", "number of days"),
        (
            {"all": [{"path": "A", "op": "eq", "value": 1}, {"path": "A..B", "op": "present"}]},
            "condition.all[1].path",
            "segment",
        ),
        ({"all": []}, "condition.all", "non-empty list"),
        ({"any-of": "L"}, "condition", "needs a 'where'"),
        ({"any-of": "L", "where": {"op": "present", "path": 3}}, "condition.where.path", "must be a string"),
        ({"check": "nope"}, "condition.check", "unknown check"),
        ({"check": "sg_open_to_world", "args": {"portz": [22]}}, "condition.args.portz", "unknown argument"),
        ({"check": "port_range_includes", "args": {}}, "condition.args.ports", "required"),
        ({"check": "sg_open_to_world", "args": {"ports": [70000]}}, "condition.args.ports", "port"),
        ({"foo": 1}, "condition", "unknown condition key"),
        ({"path": "A", "op": "eq", "value": 1, "extra": 2}, "condition", "unknown key"),
        ([], "condition", "non-empty mapping"),
    ],
)
def test_errors_name_path_and_reason(cond: Any, where: str, reason: str) -> None:
    with pytest.raises(ConditionError) as exc:
        compile_condition(cond)
    assert exc.value.where == where
    assert reason in exc.value.reason


def test_reads_are_top_level_attribute_paths_only() -> None:
    c = compile_condition(
        {
            "all": [
                {"any-of": "Acl.Grants", "where": {"path": "Grantee.URI", "op": "present"}},
                {"path": "$tags.env", "op": "eq", "value": "x"},
                {"check": "s3_policy_public", "args": {"path": "Policy"}},
                {"path": "PublicAccessBlock.BlockPublicAcls", "op": "ne", "value": True},
            ]
        }
    )
    assert c.reads == frozenset({"Acl.Grants", "Policy", "PublicAccessBlock.BlockPublicAcls"})
    assert c.checks == frozenset({"s3_policy_public"})
    assert not c.time_dependent
    assert compile_condition({"path": "K", "op": "age-days-gt", "value": 1}).time_dependent
