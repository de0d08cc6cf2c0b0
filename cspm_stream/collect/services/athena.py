"""Athena workgroups (regional).

``aws.athena.workgroup``: the ListWorkGroups item (``Name``, ``State``, ``EngineVersion``) plus ``WorkGroup``
(GetWorkGroup ``WorkGroup``: ``Configuration.ResultConfiguration.EncryptionConfiguration.EncryptionOption``,
``EnforceWorkGroupConfiguration``, ``PublishCloudWatchMetricsEnabled``), ``HasQueries`` (ListQueryExecutions finds
at least one query in the workgroup's history) and ``Tags``.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, member, tags_from_list


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:athena:{scope.region}:{scope.account_id}:workgroup/{item['Name']}"


async def _has_queries(calls: Calls, item: Item) -> Any:
    resp = await calls.call("athena", "list_query_executions", WorkGroup=item["Name"], MaxResults=1)
    return bool(resp.get("QueryExecutionIds"))


async def _tags(calls: Calls, item: Item) -> Any:
    resp = await calls.call("athena", "list_tags_for_resource", ResourceARN=_arn(item, calls.scope))
    return resp.get("Tags") or []


SPECS = [
    ResourceSpec(
        resource_type="aws.athena.workgroup",
        service="athena",
        list_op="list_work_groups",
        items="WorkGroups",
        id=lambda item, scope: str(item["Name"]),
        arn=_arn,
        tags=tags_from_list(),
        details=(
            Detail("WorkGroup", "get_work_group", lambda i: {"WorkGroup": i["Name"]}, member("WorkGroup")),
            Detail("HasQueries", fn=_has_queries),
            Detail("Tags", fn=_tags),
        ),
    ),
]
