"""CloudWatch monitoring view per (account, region), for the CIS monitoring controls.

``aws.logs.monitoring`` attributes:

* ``MetricFilters``: every log metric filter (logGroupName, filterPattern, metricTransformations);
* ``Alarms``: every CloudWatch metric alarm (MetricName, Namespace, AlarmActions ...);
* ``MultiRegionTrails``: [{TrailARN, LogGroupName, IsLogging}] of multi-region trails
  visible here that deliver to CloudWatch Logs;
* ``SubscriptionsByTopic``: [{TopicArn, Subscriptions: <count of confirmed subscriptions>}].
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, region_arn, region_id


def _log_group_name(arn: str) -> str:
    # arn:aws:logs:<region>:<account>:log-group:<name>:*
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 else arn


async def _trails(calls: Calls, item: Item) -> Any:
    resp = await calls.call("cloudtrail", "describe_trails", includeShadowTrails=True)
    out = []
    for t in resp.get("trailList", []):
        if not t.get("IsMultiRegionTrail") or not t.get("CloudWatchLogsLogGroupArn"):
            continue
        home = t.get("HomeRegion") or calls.scope.region
        status = await calls.call_in(home, "cloudtrail", "get_trail_status", Name=t["TrailARN"])
        out.append(
            {
                "TrailARN": t["TrailARN"],
                "LogGroupName": _log_group_name(t["CloudWatchLogsLogGroupArn"]),
                "IsLogging": bool(status.get("IsLogging")),
            }
        )
    return out


async def _subscriptions(calls: Calls, item: Item) -> Any:
    topics = await calls.paginate("sns", "list_topics", "Topics")
    out = []
    for t in topics:
        subs = await calls.paginate("sns", "list_subscriptions_by_topic", "Subscriptions", TopicArn=t["TopicArn"])
        confirmed = [s for s in subs if str(s.get("SubscriptionArn", "")).startswith("arn:")]
        out.append({"TopicArn": t["TopicArn"], "Subscriptions": len(confirmed)})
    return out


SPECS = [
    ResourceSpec(
        resource_type="aws.logs.monitoring",
        service="logs",
        list_op=None,
        id=region_id,
        arn=region_arn("logs", "monitoring"),
        details=(
            Detail("MetricFilters", "describe_metric_filters", paginate_items="metricFilters"),
            Detail("Alarms", "describe_alarms", service="cloudwatch", paginate_items="MetricAlarms"),
            Detail("MultiRegionTrails", fn=_trails),
            Detail("SubscriptionsByTopic", fn=_subscriptions),
        ),
    ),
]
