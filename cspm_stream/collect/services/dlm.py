"""Amazon Data Lifecycle Manager, per region (``aws.dlm.region``, one pseudo resource per account and region).

* ``Policies``: GetLifecyclePolicies (``[{PolicyId, Description, State, PolicyType}]`` — any type and state;
  ``[]`` = none);
* ``HasSnapshots``: whether the account owns any EBS snapshot in the region (one DescribeSnapshots page,
  ``OwnerIds: [self]``, ``MaxResults: 5``; pages are followed only while they come back empty).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, member, region_arn, region_id

MAX_PAGES = 1000


async def _has_snapshots(calls: Calls, item: Item) -> Any:
    params: dict[str, Any] = {"OwnerIds": ["self"], "MaxResults": 5}
    for _ in range(MAX_PAGES):
        resp = await calls.call("ec2", "describe_snapshots", **params)
        own = [
            s
            for s in resp.get("Snapshots") or []
            if str(s.get("OwnerId", calls.scope.account_id)) == calls.scope.account_id
        ]
        if own:
            return True
        token = resp.get("NextToken")
        if not token:
            return False
        params["NextToken"] = token
    return False


SPECS = [
    ResourceSpec(
        resource_type="aws.dlm.region",
        service="dlm",
        list_op=None,
        id=region_id,
        arn=region_arn("dlm"),
        details=(
            Detail("Policies", "get_lifecycle_policies", extract=member("Policies")),
            Detail("HasSnapshots", fn=_has_snapshots),
        ),
    ),
]
