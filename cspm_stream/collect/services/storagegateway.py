"""AWS Storage Gateway gateways and file shares (regional).

* ``aws.storagegateway.gateway``: the ListGateways item (``GatewayId``, ``GatewayARN``, ``GatewayName``,
  ``GatewayType``, ``HostEnvironment`` — ``VMWARE``, ``HYPER-V``, ``EC2``, ``KVM``, ``SNOWBALL``, ``OTHER`` —,
  ``GatewayOperationalState``). No detail call.
* ``aws.storagegateway.file_share``: the ListFileShares item (``FileShareARN``, ``FileShareId``, ``FileShareType``
  — ``NFS`` or ``SMB`` —, ``FileShareStatus``, ``GatewayARN``) plus ``FileShare``: the DescribeNFSFileShares or
  DescribeSMBFileShares entry of its type (``KMSEncrypted``, ``KMSKey``, ``EncryptionType``, ``LocationARN``,
  ``Tags``; an SMB share's ``AdminUserList``/``ValidUserList`` are user names, no secrets).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key, tags_from_list


async def _file_share(calls: Calls, item: Item) -> Any:
    kind = item.get("FileShareType")
    if kind not in ("NFS", "SMB"):
        raise ValueError(f"unknown file share type {kind!r} of {item.get('FileShareARN')}")
    op, member = (
        ("describe_nfs_file_shares", "NFSFileShareInfoList")
        if kind == "NFS"
        else ("describe_smb_file_shares", "SMBFileShareInfoList")
    )
    resp = await calls.call("storagegateway", op, FileShareARNList=[item["FileShareARN"]])
    shares = resp.get(member) or []
    if not shares:
        raise LookupError(f"file share {item.get('FileShareARN')} not described")
    return shares[0]


def _tags(item: Item) -> dict[str, str]:
    share = item.get("FileShare")
    return tags_from_list()(share) if isinstance(share, dict) else {}


SPECS = [
    ResourceSpec(
        resource_type="aws.storagegateway.gateway",
        service="storagegateway",
        list_op="list_gateways",
        items="Gateways",
        id=key("GatewayId"),
        arn=key("GatewayARN"),
    ),
    ResourceSpec(
        resource_type="aws.storagegateway.file_share",
        service="storagegateway",
        list_op="list_file_shares",
        items="FileShareInfoList",
        id=key("FileShareId"),
        arn=key("FileShareARN"),
        tags=_tags,
        details=(Detail("FileShare", fn=_file_share),),
    ),
]
