"""AWS Systems Manager (regional): documents owned by the account, parameters, managed-instance compliance and
the Region's document-sharing setting.

``aws.ssm.document``: the ListDocuments item of every document the account owns (``Owner`` = Self: ``Name``,
``DocumentType``, ``DocumentFormat``) plus ``Sharing`` (DescribeDocumentPermission, permission type Sharing:
``AccountIds`` — ``all`` when public — and ``SharedWithOtherAccounts``, the ids other than the scanned account's;
the document content is not read).

``aws.ssm.parameter``: ``{Name, ARN}`` plus ``Parameter`` (the DescribeParameters record: ``Type``
String/StringList/SecureString, ``KeyId``, ``Tier``, ``LastModifiedDate``, ``Policies``; the value is never read).

``aws.ssm.managed_instance``: each resource of ListResourceComplianceSummaries (``ResourceId``, ``ResourceType``)
plus ``Compliance`` — its summaries per compliance type (``ComplianceType`` Patch/Association/Custom:...,
``Status`` COMPLIANT/NON_COMPLIANT, ``OverallSeverity``, ``ExecutionSummary.ExecutionTime``).

``aws.ssm.region`` (one per account and Region): ``PublicSharingPermission`` (GetServiceSetting
``/ssm/documents/console/public-sharing-permission``: ``SettingValue`` Enable/Disable).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from cspm_stream.collect.services._listed import listed
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, key, region_arn, region_id

PUBLIC_SHARING = "/ssm/documents/console/public-sharing-permission"


async def _sharing(calls: Calls, item: Item) -> Any:
    resp = await calls.call("ssm", "describe_document_permission", Name=item["Name"], PermissionType="Share")
    ids = [str(a) for a in resp.get("AccountIds") or []]
    return {"AccountIds": ids, "SharedWithOtherAccounts": [a for a in ids if a != calls.scope.account_id]}


def _document_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:ssm:{scope.region}:{scope.account_id}:document/{item['Name']}"


def _parameter_arn(item: Item, scope: Scope) -> str:
    name = str(item["Name"])
    return f"arn:{scope.partition}:ssm:{scope.region}:{scope.account_id}:parameter{'' if name.startswith('/') else '/'}{name}"


_parameters, _parameter = listed("ssm", "describe_parameters", "Parameters", "Name", ("Name", "ARN"))


async def _summaries(calls: Calls) -> dict[str, list[dict[str, Any]]]:
    async def read() -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for s in await calls.paginate("ssm", "list_resource_compliance_summaries", "ResourceComplianceSummaryItems"):
            if isinstance(s, dict) and s.get("ResourceId"):
                out.setdefault(str(s["ResourceId"]), []).append(s)
        return out

    found: dict[str, list[dict[str, Any]]] = await calls.cached("ssm-compliance", read)
    return found


async def _managed(calls: Calls) -> AsyncIterator[Item]:
    for rid, items in (await _summaries(calls)).items():
        yield {"ResourceId": rid, "ResourceType": items[0].get("ResourceType")}


async def _compliance(calls: Calls, item: Item) -> Any:
    items = (await _summaries(calls)).get(str(item["ResourceId"]))
    if items is None:
        raise LookupError(f"ListResourceComplianceSummaries no longer returns {item['ResourceId']!r}")
    keep = ("ComplianceType", "Status", "OverallSeverity", "ExecutionSummary")
    return [{k: s.get(k) for k in keep if k in s} for s in items]


def _instance_arn(item: Item, scope: Scope) -> str:
    rid = str(item["ResourceId"])
    kind = "managed-instance" if rid.startswith("mi-") else "instance"
    service = "ssm" if kind == "managed-instance" else "ec2"
    return f"arn:{scope.partition}:{service}:{scope.region}:{scope.account_id}:{kind}/{rid}"


SPECS = [
    ResourceSpec(
        resource_type="aws.ssm.document",
        service="ssm",
        list_op="list_documents",
        list_params={"Filters": [{"Key": "Owner", "Values": ["Self"]}]},
        items="DocumentIdentifiers",
        id=key("Name"),
        arn=_document_arn,
        details=(Detail("Sharing", fn=_sharing),),
    ),
    ResourceSpec(
        resource_type="aws.ssm.parameter",
        service="ssm",
        list_op="describe_parameters",
        list_fn=_parameters,
        id=key("Name"),
        arn=lambda item, scope: str(item.get("ARN") or _parameter_arn(item, scope)),
        details=(Detail("Parameter", fn=_parameter),),
    ),
    ResourceSpec(
        resource_type="aws.ssm.managed_instance",
        service="ssm",
        list_op="list_resource_compliance_summaries",
        list_fn=_managed,
        id=key("ResourceId"),
        arn=_instance_arn,
        details=(Detail("Compliance", fn=_compliance),),
    ),
    ResourceSpec(
        resource_type="aws.ssm.region",
        service="ssm",
        list_op=None,
        id=region_id,
        arn=region_arn("ssm"),
        details=(
            Detail(
                "PublicSharingPermission",
                "get_service_setting",
                lambda i: {"SettingId": PUBLIC_SHARING},
                lambda r: (r.get("ServiceSetting") or {}).get("SettingValue"),
            ),
        ),
    ),
]
