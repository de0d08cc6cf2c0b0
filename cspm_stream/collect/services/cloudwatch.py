"""CloudWatch metric alarms (regional).

``aws.cloudwatch.alarm``: the DescribeAlarms ``MetricAlarms`` item (``AlarmName``, ``AlarmArn``, ``ActionsEnabled``,
``AlarmActions``, ``OKActions``, ``InsufficientDataActions``, ``MetricName``, ``Namespace``, ``StateValue``) plus
``Tags`` (ListTagsForResource).
"""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, tags_from_list

SPECS = [
    ResourceSpec(
        resource_type="aws.cloudwatch.alarm",
        service="cloudwatch",
        list_op="describe_alarms",
        list_params={"AlarmTypes": ["MetricAlarm"]},
        items="MetricAlarms",
        id=key("AlarmName"),
        arn=key("AlarmArn"),
        tags=tags_from_list(),
        details=(Detail("Tags", "list_tags_for_resource", lambda i: {"ResourceARN": i["AlarmArn"]}, member("Tags")),),
        one_params=lambda rid: {"AlarmNames": [rid], "AlarmTypes": ["MetricAlarm"]},
    ),
]
