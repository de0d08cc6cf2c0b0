"""AWS Directory Service directories and their LDAPS certificates (regional).

``aws.ds.directory``: the DescribeDirectories item (``Type`` — ``SimpleAD``, ``ADConnector``, ``MicrosoftAD``,
``SharedMicrosoftAD`` —, ``Name``, ``Edition``, ``Stage``, ``RadiusSettings.AuthenticationProtocol``, ``RadiusStatus``,
``VpcSettings``, ``ConnectSettings``) with every RADIUS ``SharedSecret`` removed, plus

* ``LogSubscriptions``: ListLogSubscriptions (``[{LogGroupName, SubscriptionCreatedDateTime}]``, ``[]`` = none);
* ``EventTopics``: DescribeEventTopics (``[{TopicName, TopicArn, Status}]``); null for ``SharedMicrosoftAD``
  directories (the operation is not supported for them: not read);
* ``SnapshotLimits``: GetSnapshotLimits (``ManualSnapshotsLimit``, ``ManualSnapshotsCurrentCount``,
  ``ManualSnapshotsLimitReached``, and ``ManualSnapshotsRemaining`` = limit - current); null for all but
  ``MicrosoftAD`` directories (the only type with manual snapshot limits: not read).

``aws.ds.certificate``: each ListCertificates entry of every directory but ``SimpleAD`` ones (LDAPS is not available
there): ``CertificateId``, ``CommonName``, ``State``, ``ExpiryDateTime``, ``Type``, plus ``DirectoryId``; its ARN is
``<directory ARN>/certificate/<id>``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, key, member, tags_from_list


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:ds:{scope.region}:{scope.account_id}:directory/{item['DirectoryId']}"


def _strip_secrets(item: Item) -> Item:
    for holder in (item, item.get("OwnerDirectoryDescription")):
        if isinstance(holder, dict) and isinstance(holder.get("RadiusSettings"), dict):
            holder["RadiusSettings"].pop("SharedSecret", None)
    return item


async def _event_topics(calls: Calls, item: Item) -> Any:
    if item.get("Type") == "SharedMicrosoftAD":
        return None
    resp = await calls.call("ds", "describe_event_topics", DirectoryId=item["DirectoryId"])
    return resp.get("EventTopics") or []


async def _snapshot_limits(calls: Calls, item: Item) -> Any:
    if item.get("Type") != "MicrosoftAD":
        return None
    resp = await calls.call("ds", "get_snapshot_limits", DirectoryId=item["DirectoryId"])
    limits = dict(resp.get("SnapshotLimits") or {})
    total, used = limits.get("ManualSnapshotsLimit"), limits.get("ManualSnapshotsCurrentCount")
    if isinstance(total, int) and isinstance(used, int):
        limits["ManualSnapshotsRemaining"] = total - used
    return limits


async def _certificates(calls: Calls) -> AsyncIterator[Item]:
    directories = await calls.paginate("ds", "describe_directories", "DirectoryDescriptions")
    for d in directories:
        if not isinstance(d, dict) or d.get("Type") == "SimpleAD" or not d.get("DirectoryId"):
            continue
        for cert in await calls.paginate("ds", "list_certificates", "CertificatesInfo", DirectoryId=d["DirectoryId"]):
            if isinstance(cert, dict):
                yield {**cert, "DirectoryId": d["DirectoryId"]}


def _cert_arn(item: Item, scope: Scope) -> str:
    return f"{_arn(item, scope)}/certificate/{item['CertificateId']}"


SPECS = [
    ResourceSpec(
        resource_type="aws.ds.directory",
        service="ds",
        list_op="describe_directories",
        items="DirectoryDescriptions",
        id=key("DirectoryId"),
        arn=_arn,
        post=_strip_secrets,
        tags=tags_from_list(),
        details=(
            Detail(
                "LogSubscriptions",
                "list_log_subscriptions",
                lambda i: {"DirectoryId": i["DirectoryId"]},
                paginate_items="LogSubscriptions",
            ),
            Detail("EventTopics", fn=_event_topics),
            Detail("SnapshotLimits", fn=_snapshot_limits),
            Detail(
                "Tags",
                "list_tags_for_resource",
                lambda i: {"ResourceId": i["DirectoryId"]},
                member("Tags"),
            ),
        ),
        one_params=lambda rid: {"DirectoryIds": [rid]},
    ),
    ResourceSpec(
        resource_type="aws.ds.certificate",
        service="ds",
        list_op="list_certificates",
        list_fn=_certificates,
        id=key("CertificateId"),
        arn=_cert_arn,
        parent_id=lambda item: str(item.get("DirectoryId", "")),
    ),
]
