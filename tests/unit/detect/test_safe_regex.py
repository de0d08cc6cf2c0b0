"""The linear-time regex facade and the posture side that uses it (operators, mutelist globs, named checks)."""

from __future__ import annotations

import fnmatch

import pytest

from cspm_stream import safe_regex
from cspm_stream.policy.checks.statements import iam_match
from cspm_stream.policy.operators import OPERATORS, OperatorValueError, glob_to_regex


@pytest.mark.timeout(30)
def test_catastrophic_patterns_finish() -> None:
    for pattern, text in [("(a+)+$", "a" * 5000 + "!"), ("(a|aa)+$", "a" * 5000 + "b"), ("(.*a){20}", "a" * 5000)]:
        safe_regex.compile(pattern).search(text)


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        ("(?=x)", "lookahead"),
        ("(?!x)", "negative lookahead"),
        ("(?<=x)", "lookbehind"),
        ("(?<!x)", "negative lookbehind"),
        ("(?>x)", "atomic group"),
        ("(x)\\1", "backreference"),
        ("(?P<n>x)(?P=n)", "named backreference"),
        ("x*+", "possessive"),
        ("[", "not a valid RE2 pattern"),
    ],
)
def test_unsupported_constructs_are_named(pattern: str, what: str) -> None:
    with pytest.raises(safe_regex.RegexError, match=what):
        safe_regex.compile(pattern)


def test_python_spellings_and_flags() -> None:
    assert safe_regex.compile(r"end\Z").search("the end")
    assert not safe_regex.compile(r"end\Z").search("the end\n")
    assert safe_regex.compile("^b", multiline=True).search("a\nb")
    assert not safe_regex.compile("^b").search("a\nb")
    assert safe_regex.compile("a.b", dotall=True).search("a\nb")
    assert not safe_regex.compile("a.b").search("a\nb")
    assert safe_regex.compile("ADMIN", ignorecase=True).search("role/admin")
    assert safe_regex.compile("é").search("café") and safe_regex.compile("x").search("\udcff x")


@pytest.mark.parametrize(
    "pattern", ["a*b", "a?c", "a[bc]d", "a[!bc]d", "a[", "[]]x", "[a-c]*", "*.json", "[^a]", "x\\y", "a.b", "(a)"]
)
@pytest.mark.parametrize(
    "text", ["axxb", "abc", "acd", "axd", "a[", "]x", "b1", "f.json", "^", "x\\y", "a.b", "(a)", "ab"]
)
def test_glob_agrees_with_fnmatch(pattern: str, text: str) -> None:
    assert glob_to_regex(pattern).fullmatch(text) == fnmatch.fnmatchcase(text, pattern)


def test_iam_wildcards_are_star_and_question_only() -> None:
    assert iam_match("s3:Get*", "S3:GETOBJECT")
    assert iam_match("iam:?assRole", "iam:PassRole")
    assert not iam_match("s3:[G]et*", "s3:GetObject")  # brackets are literal in IAM


def test_policy_regex_operator_is_linear_and_refuses_lookaround() -> None:
    compile_ = OPERATORS["regex"].compile
    test = compile_("(a+)+$")
    assert test("a" * 40, None) and not test("a" * 40 + "!", None) and not test(7, None)
    with pytest.raises(OperatorValueError, match="lookahead"):
        compile_("x(?!y)")
