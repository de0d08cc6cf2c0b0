"""AWS DataSync tasks (regional).

``aws.datasync.task``: the ListTasks item (``TaskArn``, ``Name``, ``Status``) plus

* ``Task``: DescribeTask (``CloudWatchLogGroupArn`` — absent when the task does not log —, ``Options.LogLevel``,
  ``SourceLocationArn``, ``DestinationLocationArn``, ``Schedule``, ``TaskMode``);
* ``Tags``: ListTagsForResource (``Tags``).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, Item, ResourceSpec, Scope, key, member, tags_from_list


def _task_id(item: Item, scope: Scope) -> str:
    return str(item["TaskArn"]).rsplit("/", 1)[-1]


def _task(resp: dict[str, Any]) -> Any:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


SPECS = [
    ResourceSpec(
        resource_type="aws.datasync.task",
        service="datasync",
        list_op="list_tasks",
        items="Tasks",
        id=_task_id,
        arn=key("TaskArn"),
        tags=tags_from_list(),
        details=(
            Detail("Task", "describe_task", lambda i: {"TaskArn": i["TaskArn"]}, _task),
            Detail("Tags", "list_tags_for_resource", lambda i: {"ResourceArn": i["TaskArn"]}, member("Tags")),
        ),
    ),
]
