"""AWS Glue (regional): the Data Catalog settings, connections, ETL jobs, crawlers, development endpoints
and ML transforms.

``aws.glue.data_catalog`` (one per account and region): ``EncryptionSettings`` (GetDataCatalogEncryptionSettings:
``EncryptionAtRest.CatalogEncryptionMode``, ``ConnectionPasswordEncryption.ReturnConnectionPasswordEncrypted``),
``HasTables`` (SearchTables finds at least one table) and ``ResourcePolicy`` (GetResourcePolicy, parsed; null when
the catalog has none).

``aws.glue.connection``: the GetConnections item (``Name``, ``ConnectionType``, ``ConnectionProperties`` with
``JDBC_ENFORCE_SSL``; ``HidePassword`` is set, so passwords are never read).

``aws.glue.job`` / ``aws.glue.crawler`` / ``aws.glue.dev_endpoint``: the GetJobs / GetCrawlers / GetDevEndpoints
item (``DefaultArguments`` for jobs; ``SecurityConfiguration`` / ``CrawlerSecurityConfiguration``) plus
``SecurityConfigurationDetail`` — the named security configuration (GetSecurityConfiguration:
``EncryptionConfiguration.S3Encryption[].S3EncryptionMode``, ``CloudWatchEncryption.CloudWatchEncryptionMode``,
``JobBookmarksEncryption.JobBookmarksEncryptionMode``), null when none is named or the name does not exist.

``aws.glue.ml_transform``: the GetMLTransforms item (``TransformEncryption.MlUserDataEncryption``).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.faults import CallFailed
from cspm_stream.collect.spec import (
    Calls,
    Detail,
    Item,
    ResourceSpec,
    Scope,
    member,
    policy_member,
    region_id,
)

NOT_FOUND = frozenset({"EntityNotFoundException"})


def _arn(kind: str, key: str) -> Any:
    def get(item: Item, scope: Scope) -> str:
        return f"arn:{scope.partition}:glue:{scope.region}:{scope.account_id}:{kind}/{item[key]}"

    return get


def _catalog_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:glue:{scope.region}:{scope.account_id}:catalog"


async def _has_tables(calls: Calls, item: Item) -> Any:
    resp = await calls.call("glue", "search_tables", MaxResults=1)
    return bool(resp.get("TableList"))


def _security_configuration(name_key: str) -> Any:
    async def get(calls: Calls, item: Item) -> Any:
        name = item.get(name_key)
        if not name:
            return None

        async def read() -> Any:
            try:
                resp = await calls.call("glue", "get_security_configuration", Name=name)
            except CallFailed as exc:
                if exc.fault.code in NOT_FOUND:
                    return None
                raise
            return resp.get("SecurityConfiguration")

        return await calls.cached(f"glue-security-configuration:{name}", read)

    return get


def _drop_secret_properties(item: Item) -> Item:
    props = item.get("ConnectionProperties")
    if isinstance(props, dict):
        item["ConnectionProperties"] = {k: v for k, v in props.items() if k not in ("PASSWORD", "ENCRYPTED_PASSWORD")}
    return item


def _sec(key: str) -> Detail:
    return Detail("SecurityConfigurationDetail", fn=_security_configuration(key))


SPECS = [
    ResourceSpec(
        resource_type="aws.glue.data_catalog",
        service="glue",
        list_op=None,
        id=region_id,
        arn=_catalog_arn,
        details=(
            Detail(
                "EncryptionSettings",
                "get_data_catalog_encryption_settings",
                extract=member("DataCatalogEncryptionSettings"),
            ),
            Detail("HasTables", fn=_has_tables),
            Detail(
                "ResourcePolicy", "get_resource_policy", extract=policy_member("PolicyInJson"), not_configured=NOT_FOUND
            ),
        ),
    ),
    ResourceSpec(
        resource_type="aws.glue.connection",
        service="glue",
        list_op="get_connections",
        list_params={"HidePassword": True},
        items="ConnectionList",
        id=lambda item, scope: str(item["Name"]),
        arn=_arn("connection", "Name"),
        post=_drop_secret_properties,
    ),
    ResourceSpec(
        resource_type="aws.glue.job",
        service="glue",
        list_op="get_jobs",
        items="Jobs",
        id=lambda item, scope: str(item["Name"]),
        arn=_arn("job", "Name"),
        details=(_sec("SecurityConfiguration"),),
    ),
    ResourceSpec(
        resource_type="aws.glue.crawler",
        service="glue",
        list_op="get_crawlers",
        items="Crawlers",
        id=lambda item, scope: str(item["Name"]),
        arn=_arn("crawler", "Name"),
        details=(_sec("CrawlerSecurityConfiguration"),),
    ),
    ResourceSpec(
        resource_type="aws.glue.dev_endpoint",
        service="glue",
        list_op="get_dev_endpoints",
        items="DevEndpoints",
        id=lambda item, scope: str(item["EndpointName"]),
        arn=_arn("devEndpoint", "EndpointName"),
        details=(_sec("SecurityConfiguration"),),
    ),
    ResourceSpec(
        resource_type="aws.glue.ml_transform",
        service="glue",
        list_op="get_ml_transforms",
        items="Transforms",
        id=lambda item, scope: str(item["TransformId"]),
        arn=_arn("mlTransform", "TransformId"),
    ),
]
