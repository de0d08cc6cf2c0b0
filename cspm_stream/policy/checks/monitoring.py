"""CloudWatch monitoring checks (CIS 4.x / 5.x "ensure a log metric filter and alarm exist for ...")."""

from __future__ import annotations

import re
from typing import Any

from cspm_stream.policy.checks import Arg, Check, CheckArgError, Compiled, register
from cspm_stream.policy.paths import compile_path

_WS = re.compile(r"\s+")


def _list(v: Any) -> list[Any]:
    return v if type(v) is list else []


def metric_filter_alarm_configured(
    attrs: Any, patterns: list[re.Pattern[str]], require_subscription: bool = True
) -> bool:
    """True when the chain a CIS monitoring control asks for exists in ``aws.logs.monitoring``:

    a multi-region trail that is logging → its CloudWatch log group → a metric filter on that
    group whose pattern (whitespace removed) matches every regex in ``patterns`` → an alarm on
    the filter's metric (namespace + name) → an alarm action that is an SNS topic with at least
    one confirmed subscription (unless ``require_subscription`` is false).
    """
    if type(attrs) is not dict:
        return False
    groups = {
        t.get("LogGroupName")
        for t in _list(attrs.get("MultiRegionTrails"))
        if type(t) is dict and t.get("IsLogging") is True and t.get("LogGroupName")
    }
    if not groups:
        return False
    metrics: set[tuple[str, str]] = set()
    for f in _list(attrs.get("MetricFilters")):
        if type(f) is not dict or f.get("logGroupName") not in groups:
            continue
        text = _WS.sub("", str(f.get("filterPattern") or ""))
        if not all(p.search(text) for p in patterns):
            continue
        for mt in _list(f.get("metricTransformations")):
            if type(mt) is dict:
                metrics.add((str(mt.get("metricNamespace", "")), str(mt.get("metricName", ""))))
    if not metrics:
        return False
    subscribed = {
        t.get("TopicArn")
        for t in _list(attrs.get("SubscriptionsByTopic"))
        if type(t) is dict and type(t.get("Subscriptions")) is int and t["Subscriptions"] > 0
    }
    for a in _list(attrs.get("Alarms")):
        if type(a) is not dict or (str(a.get("Namespace", "")), str(a.get("MetricName", ""))) not in metrics:
            continue
        actions = [x for x in _list(a.get("AlarmActions")) if isinstance(x, str)]
        if not require_subscription and actions:
            return True
        if any(x in subscribed for x in actions):
            return True
    return False


def _build(args: dict[str, Any]) -> Compiled:
    if not args["patterns"]:
        raise CheckArgError("patterns", "must list at least one regular expression")
    compiled: list[re.Pattern[str]] = []
    for i, p in enumerate(args["patterns"]):
        try:
            compiled.append(re.compile(p, re.IGNORECASE if args["ignore_case"] else 0))
        except re.error as exc:
            raise CheckArgError(f"patterns[{i}]", f"invalid regular expression: {exc}") from None
    req = args["require_subscription"]
    reads = tuple(compile_path(p) for p in ("MultiRegionTrails", "MetricFilters", "Alarms", "SubscriptionsByTopic"))
    return Compiled(lambda d, c: metric_filter_alarm_configured(d, compiled, req), reads)


register(
    Check(
        name="cloudwatch_log_metric_filter_alarm",
        doc="TRUE WHEN CONFIGURED (use it under `not:` in a condition): on aws.logs.monitoring, a logging "
        "multi-region trail's log group has a metric filter whose pattern (whitespace removed) matches "
        "every regex in `patterns`, with an alarm on its metric whose action is an SNS topic with a "
        "confirmed subscription.",
        args={
            "patterns": Arg("strings", required=True, doc="regexes the filter pattern must all match (re.search)"),
            "ignore_case": Arg("boolean", True, doc="match the regexes case-insensitively"),
            "require_subscription": Arg("boolean", True, doc="the alarm's SNS topic must have a subscriber"),
        },
        build=_build,
    )
)
