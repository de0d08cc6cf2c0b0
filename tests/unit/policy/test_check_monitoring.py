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
