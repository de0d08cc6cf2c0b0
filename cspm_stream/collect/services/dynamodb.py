"""DynamoDB tables: item ``{TableName}``, ``Table`` (DescribeTable incl. SSEDescription),
``ContinuousBackups`` (ContinuousBackupsDescription: PITR status), ``Tags``."""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, member, tags_from_list


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:dynamodb:{scope.region}:{scope.account_id}:table/{item['TableName']}"


async def _tags(calls: Calls, item: Item) -> Any:
    arn = _arn(item, calls.scope)
    resp = await calls.call("dynamodb", "list_tags_of_resource", ResourceArn=arn)
    return resp.get("Tags", [])


SPECS = [
    ResourceSpec(
        resource_type="aws.dynamodb.table",
        service="dynamodb",
        list_op="list_tables",
        items="TableNames[].{TableName: @}",
        id=lambda item, scope: str(item["TableName"]),
        arn=_arn,
        tags=tags_from_list(),
        details=(
            Detail("Table", "describe_table", lambda i: {"TableName": i["TableName"]}, member("Table")),
            Detail(
                "ContinuousBackups",
                "describe_continuous_backups",
                lambda i: {"TableName": i["TableName"]},
                member("ContinuousBackupsDescription"),
            ),
            Detail("Tags", fn=_tags),
        ),
    ),
]
