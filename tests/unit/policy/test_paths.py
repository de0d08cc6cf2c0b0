from __future__ import annotations

import pytest

from cspm_stream.policy.model import EvalContext
from cspm_stream.policy.paths import MISSING, PathSyntaxError, compile_path

DOC = {
    "A": [{"B": [1, 2]}, {"B": [3]}, {"C": 1}],
    "X": {"Y": {"Z": 5}, "N": None},
    "L": [[1, 2], [3]],
    "T": {"a.b": "dotted"},
}


@pytest.mark.parametrize(
    ("path", "expected", "projection"),
    [
        ("X.Y.Z", 5, False),
        ("X.Y", {"Z": 5}, False),
        ("X.N", None, False),
        ("X.Q", MISSING, False),
        ("X.Y.Z.W", MISSING, False),
        ("A[].B[]", [1, 2, 3], True),
        ("A[].B", [[1, 2], [3]], True),
        ("A[].C", [1], True),
        ("L[][]", [1, 2, 3], True),
        ("L[0]", [1, 2], False),
        ("L[5]", MISSING, False),
        ("A[-1].C", 1, False),
        ('T."a.b"', "dotted", False),
        ("Q[].B", MISSING, True),
    ],
)
def test_get(path: str, expected: object, projection: bool) -> None:
    p = compile_path(path)
    assert p.get(DOC, None) == expected if expected is not MISSING else p.get(DOC, None) is MISSING
    assert p.projection is projection


def test_context_roots() -> None:
    ctx = EvalContext(now_ts=0, tags={"env": "prod"}, region="eu-west-1", arn="arn:x")
    assert compile_path("$tags.env").get({}, ctx) == "prod"
    assert compile_path("$tags.owner").get({}, ctx) is MISSING
    assert compile_path("$region").get({}, ctx) == "eu-west-1"
    assert compile_path("$arn").root is None


@pytest.mark.parametrize("bad", ["", "A..B", "A.[]", "$nope", "$region.x", "A[x]", 'A."b'])
def test_syntax_errors(bad: str) -> None:
    with pytest.raises(PathSyntaxError):
        compile_path(bad)


def test_attribute_path_stops_at_list_step() -> None:
    assert compile_path("Acl.Grants[].Grantee.URI").attribute_path == "Acl.Grants"
    assert compile_path("Policy").root == "Policy"
