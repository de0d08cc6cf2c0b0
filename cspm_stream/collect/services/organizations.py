"""Organizations (global): member accounts, when the scanned account may list them.

An account outside any Organization lists nothing (AWSOrganizationsNotInUseException);
a member account without permission yields a collection-error record, not an empty list.

Each account carries ``ServiceControlPolicies``: ``{"Enabled", "ManagementAccount", "Levels"}``
where ``Levels`` lists, from the root down to the account itself, each target (``Target``,
``Type``) and the SCPs attached there (``Id``, ``Name``, ``Content`` parsed). SCPs apply only
when the SCP policy type is enabled on the root, and never to the management account
(``ManagementAccount: true``, no levels). :mod:`cspm_stream.iamgraph` intersects them with
each principal's permissions.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key

SCP = "SERVICE_CONTROL_POLICY"
#: OUs nest at most five deep under the root; the walk up stops after this many parents
MAX_DEPTH = 8


async def _scps(calls: Calls, item: Item) -> Any:
    async def describe() -> Any:
        return await calls.call("organizations", "describe_organization")

    org = (await calls.cached("org-describe", describe)).get("Organization") or {}
    if item["Id"] == org.get("MasterAccountId"):
        return {"Enabled": _enabled(org), "ManagementAccount": True, "Levels": []}

    async def roots() -> Any:
        return await calls.paginate("organizations", "list_roots", "Roots")

    root_list = await calls.cached("org-roots", roots)
    enabled = any(
        t.get("Type") == SCP and t.get("Status") == "ENABLED" for r in root_list for t in r.get("PolicyTypes") or []
    )
    if not enabled:
        return {"Enabled": False, "ManagementAccount": False, "Levels": []}
    chain = [(str(item["Id"]), "ACCOUNT")]
    child = str(item["Id"])
    for _ in range(MAX_DEPTH):
        parents = await calls.cached(f"org-parents|{child}", _lister(calls, "list_parents", "Parents", ChildId=child))
        if not parents:
            break
        parent = parents[0]
        chain.append((str(parent["Id"]), str(parent.get("Type", ""))))
        if parent.get("Type") == "ROOT":
            break
        child = str(parent["Id"])
    levels = []
    for target, kind in reversed(chain):
        attached = await calls.cached(
            f"org-scps|{target}", _lister(calls, "list_policies_for_target", "Policies", TargetId=target, Filter=SCP)
        )
        docs = []
        for p in attached:
            resp = await calls.cached(f"org-policy|{p['Id']}", _describe_policy(calls, str(p["Id"])))
            content = parse_policy((resp.get("Policy") or {}).get("Content"))
            docs.append({"Id": p["Id"], "Name": p.get("Name"), "Content": content})
        levels.append({"Target": target, "Type": kind, "Policies": docs})
    return {"Enabled": True, "ManagementAccount": False, "Levels": levels}


def _enabled(org: dict[str, Any]) -> bool:
    return any(t.get("Type") == SCP and t.get("Status") == "ENABLED" for t in org.get("AvailablePolicyTypes") or [])


def _lister(calls: Calls, op: str, items: str, **params: Any) -> Any:
    async def run() -> Any:
        return await calls.paginate("organizations", op, items, **params)

    return run


def _describe_policy(calls: Calls, policy_id: str) -> Any:
    async def run() -> Any:
        return await calls.call("organizations", "describe_policy", PolicyId=policy_id)

    return run


SPECS = [
    ResourceSpec(
        resource_type="aws.organizations.account",
        service="organizations",
        list_op="list_accounts",
        items="Accounts",
        id=key("Id"),
        arn=key("Arn"),
        global_=True,
        list_not_configured=frozenset({"AWSOrganizationsNotInUseException"}),
        details=(Detail("ServiceControlPolicies", fn=_scps),),
    ),
]
