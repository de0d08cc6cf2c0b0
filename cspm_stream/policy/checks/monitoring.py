"""CloudWatch monitoring checks (CIS 4.x / 5.x "ensure a log metric filter and alarm exist for ...")."""

from __future__ import annotations

import re
from typing import Any

from cspm_stream import safe_regex
from cspm_stream.policy.checks import filterpattern
from cspm_stream.policy.checks.base import Arg, Check, CheckArgError, Compiled, register
from cspm_stream.policy.paths import compile_path

_WS = re.compile(r"\s+")


def _list(v: Any) -> list[Any]:
    return v if type(v) is list else []


def _index(attrs: dict[str, Any]) -> list[tuple[str, Any, bool, bool]]:
    """Per metric filter on a logging multi-region trail's log group: (pattern without
    whitespace, the parsed pattern or None, has an alarm with any action, has an alarm whose
    action is a subscribed SNS topic). Built once per resource evaluation and shared by every
    CIS 4.x policy."""
    groups = {
        t.get("LogGroupName")
        for t in _list(attrs.get("MultiRegionTrails"))
        if type(t) is dict and t.get("IsLogging") is True and t.get("LogGroupName")
    }
    if not groups:
        return []
    subscribed = {
        t.get("TopicArn")
        for t in _list(attrs.get("SubscriptionsByTopic"))
        if type(t) is dict and type(t.get("Subscriptions")) is int and t["Subscriptions"] > 0
    }
    actions: dict[tuple[str, str], tuple[bool, bool]] = {}
    for a in _list(attrs.get("Alarms")):
        if type(a) is not dict:
            continue
        acts = [x for x in _list(a.get("AlarmActions")) if isinstance(x, str)]
        key = (str(a.get("Namespace", "")), str(a.get("MetricName", "")))
        any_, sub = actions.get(key, (False, False))
        actions[key] = (any_ or bool(acts), sub or any(x in subscribed for x in acts))
    out: list[tuple[str, Any, bool, bool]] = []
    for f in _list(attrs.get("MetricFilters")):
        if type(f) is not dict or f.get("logGroupName") not in groups:
            continue
        any_ = sub = False
        for mt in _list(f.get("metricTransformations")):
            if type(mt) is dict:
                a_any, a_sub = actions.get(
                    (str(mt.get("metricNamespace", "")), str(mt.get("metricName", ""))), (False, False)
                )
                any_, sub = any_ or a_any, sub or a_sub
        raw = f.get("filterPattern")
        out.append((_WS.sub("", str(raw or "")), filterpattern.parse(raw), any_, sub))
    return out


def metric_filter_alarm_configured(
    attrs: Any,
    patterns: list[safe_regex.LinearRegex],
    require_subscription: bool = True,
    memo: dict[Any, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    others: list[dict[str, Any]] | None = None,
) -> bool:
    """True when the chain a CIS monitoring control asks for exists in ``aws.logs.monitoring``:

    a multi-region trail that is logging → its CloudWatch log group → a metric filter on that
    group whose pattern (whitespace removed) matches every regex in ``patterns`` and, read as a
    filter pattern (:mod:`.filterpattern`), matches every one of ``events`` and none of ``others``
    → an alarm on
    the filter's metric (namespace + name) → an alarm action that is an SNS topic with at least
    one confirmed subscription (unless ``require_subscription`` is false).
    """
    if type(attrs) is not dict:
        return False
    if memo is not None:
        key = ("cloudwatch-index", id(attrs))
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = (_index(attrs), attrs)  # attrs kept: its id stays unique
        index = hit[0]
    else:
        index = _index(attrs)
    for text, tree, any_, sub in index:
        if not (sub if require_subscription else any_) or not all(p.search(text) for p in patterns):
            continue
        if events is None or (
            tree is not None
            and all(filterpattern.matches(tree, e) for e in events)
            and not any(filterpattern.matches(tree, e) for e in (others or ()))
        ):
            return True
    return False


def _build(args: dict[str, Any]) -> Compiled:
    if not args["patterns"] and not args["reference"]:
        raise CheckArgError("reference", "give the reference filter pattern (or `patterns`)")
    compiled: list[safe_regex.LinearRegex] = []
    for i, p in enumerate(args["patterns"]):
        try:
            compiled.append(safe_regex.compile(p, ignorecase=bool(args["ignore_case"])))
        except safe_regex.RegexError as exc:
            raise CheckArgError(f"patterns[{i}]", f"regular expression {p!r}: {exc}") from None
    events: list[dict[str, Any]] | None = None
    others: list[dict[str, Any]] = []
    if args["reference"]:
        tree = filterpattern.parse(args["reference"])
        if tree is None:
            raise CheckArgError("reference", "not a JSON filter pattern ({ $.field = value && ... })")
        sample = args["sample"] if isinstance(args["sample"], dict) else {}
        events = filterpattern.samples(tree, sample)
        if not events:
            raise CheckArgError("reference", "matches no event (its alternatives contradict themselves)")
        other = filterpattern.counter_sample(tree, sample)
        others = [other] if other is not None else []
    req = args["require_subscription"]
    reads = tuple(compile_path(p) for p in ("MultiRegionTrails", "MetricFilters", "Alarms", "SubscriptionsByTopic"))
    return Compiled(
        lambda d, c: metric_filter_alarm_configured(d, compiled, req, getattr(c, "memo", None), events, others), reads
    )


register(
    Check(
        name="cloudwatch_log_metric_filter_alarm",
        doc="TRUE WHEN CONFIGURED (use it under `not:` in a condition): on aws.logs.monitoring, a logging "
        "multi-region trail's log group has a metric filter that matches every event the `reference` pattern "
        "matches (one sample event per alternative of it; a broader filter counts, a narrower or broken one "
        "does not) but not an ordinary call the reference leaves out (a catch-all does not count), and whose text (whitespace removed) matches every regex in `patterns`, with an alarm on "
        "its metric whose action is an SNS topic with a confirmed subscription.",
        args={
            "reference": Arg("string", "", doc="the control's CloudWatch Logs JSON filter pattern (e.g. CIS's)"),
            "sample": Arg("mapping", {}, doc="fields every sample event holds (e.g. eventSource for the calls)"),
            "patterns": Arg("strings", [], doc="regexes the filter pattern text must all match (RE2 search)"),
            "ignore_case": Arg("boolean", True, doc="match the regexes case-insensitively"),
            "require_subscription": Arg("boolean", True, doc="the alarm's SNS topic must have a subscriber"),
        },
        build=_build,
    )
)
