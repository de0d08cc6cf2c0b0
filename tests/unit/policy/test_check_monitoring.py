from __future__ import annotations

import copy
from typing import Any

import pytest

from cspm_stream.policy.compiler import compile_condition
from cspm_stream.policy.model import EvalContext

# CIS 4.3 (root account usage) filter, as AWS documents it
ROOT = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
TOPIC = "arn:aws:sns:us-east-1:123456789012:cis-alarms"
GOOD: dict[str, Any] = {
    "MultiRegionTrails": [{"TrailARN": "arn:t", "LogGroupName": "trail-logs", "IsLogging": True}],
    "MetricFilters": [
        {
            "filterName": "root",
            "logGroupName": "trail-logs",
            "filterPattern": ROOT,
            "metricTransformations": [{"metricName": "RootUsage", "metricNamespace": "CIS", "metricValue": "1"}],
        }
    ],
    "Alarms": [{"AlarmName": "root", "MetricName": "RootUsage", "Namespace": "CIS", "AlarmActions": [TOPIC]}],
    "SubscriptionsByTopic": [{"TopicArn": TOPIC, "Subscriptions": 1}],
}
COND = {
    "not": {
        "check": "cloudwatch_log_metric_filter_alarm",
        "args": {
            "patterns": [
                r"\$\.userIdentity\.type=\"Root\"",
                r"\$\.userIdentity\.invokedByNOTEXISTS",
                r"\$\.eventType!=\"AwsServiceEvent\"",
            ]
        },
    }
}


def broken(path: list[Any], value: Any) -> dict[str, Any]:
    d = copy.deepcopy(GOOD)
    cur: Any = d
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return d


@pytest.mark.parametrize(
    ("doc", "fails"),
    [
        (GOOD, False),
        (broken(["MultiRegionTrails", 0, "IsLogging"], False), True),
        (broken(["MultiRegionTrails"], []), True),
        (broken(["MetricFilters", 0, "logGroupName"], "other-group"), True),
        (broken(["MetricFilters", 0, "filterPattern"], '{ $.userIdentity.type = "Root" }'), True),
        (broken(["Alarms", 0, "MetricName"], "Other"), True),
        (broken(["Alarms", 0, "Namespace"], "Other"), True),
        (broken(["SubscriptionsByTopic", 0, "Subscriptions"], 0), True),
        (broken(["Alarms", 0, "AlarmActions"], []), True),
        ({}, True),
    ],
)
def test_metric_filter_alarm(doc: dict[str, Any], fails: bool) -> None:
    c = compile_condition(COND)
    assert c.predicate(doc, EvalContext(now_ts=0)) is fails
    assert c.reads == frozenset({"MultiRegionTrails", "MetricFilters", "Alarms", "SubscriptionsByTopic"})


def test_subscription_optional() -> None:
    cond = {
        "check": "cloudwatch_log_metric_filter_alarm",
        "args": {"patterns": ["Root"], "require_subscription": False},
    }
    doc = broken(["SubscriptionsByTopic", 0, "Subscriptions"], 0)
    assert compile_condition(cond).predicate(doc, EvalContext(now_ts=0))


def test_bad_regex_names_the_argument() -> None:
    from cspm_stream.policy.compiler import ConditionError

    with pytest.raises(ConditionError) as exc:
        compile_condition({"check": "cloudwatch_log_metric_filter_alarm", "args": {"patterns": ["("]}})
    assert exc.value.where == "condition.args.patterns[0]"


# ---------------------------------------------------------------- the filter counts by the events it matches

UNAUTH = (
    '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && '
    '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }'
)
IAM_NAMES = (
    "DeleteGroupPolicy DeleteRolePolicy DeleteUserPolicy PutGroupPolicy PutRolePolicy PutUserPolicy CreatePolicy "
    "DeletePolicy CreatePolicyVersion DeletePolicyVersion AttachRolePolicy DetachRolePolicy AttachUserPolicy "
    "DetachUserPolicy AttachGroupPolicy DetachGroupPolicy"
).split()
IAM = "{" + "||".join(f"($.eventName={n})" for n in IAM_NAMES) + "}"


def _ref_cond(reference: str, sample: dict[str, Any] | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"reference": reference}
    if sample:
        args["sample"] = sample
    return {"not": {"check": "cloudwatch_log_metric_filter_alarm", "args": args}}


@pytest.mark.parametrize(
    ("reference", "sample", "pattern", "fails", "why"),
    [
        (ROOT, None, ROOT, False, "the reference itself"),
        (
            ROOT,
            None,
            '{$.eventType!="AwsServiceEvent"&&$.userIdentity.type="Root"&&$.userIdentity.invokedBy NOT EXISTS}',
            False,
            "reordered, spaces removed",
        ),
        (ROOT, None, '{ $.userIdentity.type = "Root" }', False, "broader: still alarms on every root call"),
        (ROOT, None, '{ $.userIdentity.type = "root" }', True, "values are case-sensitive: matches no root call"),
        (ROOT, None, '{ $.userIdentity.type = "Root" && $.eventType = "AwsServiceEvent" }', True, "the opposite"),
        (ROOT, None, "Root", True, "a text pattern, not a JSON filter on the fields"),
        (ROOT, None, "{ $.eventName = * }", True, "a catch-all: its alarm fires on any call"),
        (ROOT, None, '{ $.eventType != "AwsServiceEvent" }', True, "every API call, root or not"),
        (UNAUTH, None, UNAUTH, False, "CIS 4.1 as published"),
        (
            UNAUTH,
            None,
            '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && '
            '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
            False,
            "the same with the alternatives grouped",
        ),
        (
            UNAUTH,
            None,
            '{ ($.errorCode = "*UnauthorizedOperation") && ($.errorCode = "AccessDenied*") && '
            '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
            True,
            "&& for ||: no event has both error codes, the alarm never fires (passed on text)",
        ),
        (UNAUTH, None, '{ $.errorCode = "AccessDenied*" }', True, "UnauthorizedOperation missing"),
        (IAM, {"eventSource": "iam.amazonaws.com"}, IAM, False, "CIS 4.4 as published"),
        (
            IAM,
            {"eventSource": "iam.amazonaws.com"},
            "{ ($.eventSource = iam.amazonaws.com) && (" + "||".join(f"($.eventName={n})" for n in IAM_NAMES) + ") }",
            False,
            "the same, narrowed to IAM's events (the samples are IAM calls)",
        ),
        (
            IAM,
            {"eventSource": "iam.amazonaws.com"},
            "{($.eventName != DeleteGroupPolicy)||" + "||".join(f"($.eventName={n})" for n in IAM_NAMES[1:]) + "}",
            True,
            "!= for =: DeleteGroupPolicy is the one call it never counts (passed on text)",
        ),
        (
            IAM,
            {"eventSource": "iam.amazonaws.com"},
            "{" + "||".join(f"($.eventName={n})" for n in IAM_NAMES[:-1]) + "}",
            True,
            "DetachGroupPolicy missing",
        ),
    ],
)
def test_a_filter_counts_when_it_matches_every_event_of_the_reference(
    reference: str, sample: dict[str, Any] | None, pattern: str, fails: bool, why: str
) -> None:
    doc = broken(["MetricFilters", 0, "filterPattern"], pattern)
    assert compile_condition(_ref_cond(reference, sample)).predicate(doc, EvalContext(now_ts=0)) is fails, why


def test_filter_patterns_parse_and_match_as_documented() -> None:
    from cspm_stream.policy.checks import filterpattern as fp

    ev = {"a": {"b": [{"c": 5}], "s": "AccessDeniedException", "t": True, "n": None}}
    for pattern, want in [
        ("{ $.a.b[0].c = 5 }", True),
        ("{ $.a.b[0].c >= 6 }", False),
        ("{ $.a.b[0].c < 6 && $.a.s = AccessDenied* }", True),
        ('{ $.a.s = "*Denied*" }', True),
        ("{ $.a.s != AccessDenied* }", False),
        ("{ $.a.missing != x }", False),  # a field that is not there is never != (NOT EXISTS says that)
        ("{ $.a.missing NOT EXISTS }", True),
        ("{ $.a.n IS NULL && $.a.t IS TRUE }", True),
        ("{ $.a.t IS FALSE || ($.a.b[1].c = 5) }", False),
    ]:
        tree = fp.parse(pattern)
        assert tree is not None, pattern
        assert fp.matches(tree, ev) is want, pattern
    for bad in ["ERROR", "[ip, user]", '{ $.a = "x }', "{ $.a = }", "{ a = 1 }", "{ ($.a = 1 }", "{}", 7, None]:
        assert fp.parse(bad) is None, bad
    # hostile: bounded size and depth, linear tokenizing
    assert fp.parse("{" + "(" * 10_000 + "$.a = 1" + ")" * 10_000 + "}") is None
    assert fp.parse("{ $.a = " + "x" * 5000 + " }") is None


def test_a_reference_that_cannot_match_is_refused() -> None:
    from cspm_stream.policy.compiler import ConditionError

    for reference, reason in [("ERROR", "not a JSON filter pattern"), ("{ $.a = 1 && $.a = 2 }", "matches no event")]:
        with pytest.raises(ConditionError, match=reason):
            compile_condition(_ref_cond(reference))
