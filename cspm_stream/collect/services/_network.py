"""VPC facts several services' policies need: which subnets are public, which security groups
are open to the internet. Read once per job through :meth:`Calls.cached` (fresh every scan)."""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls


def _is_default_route_to_igw(route: dict[str, Any]) -> bool:
    gw = route.get("GatewayId")
    return isinstance(gw, str) and gw.startswith("igw-") and route.get("DestinationCidrBlock") == "0.0.0.0/0"


async def route_tables(calls: Calls) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        return await calls.paginate("ec2", "describe_route_tables", "RouteTables")

    tables: list[dict[str, Any]] = await calls.cached("ec2-route-tables", read)
    return tables


async def subnet_is_public(calls: Calls, subnet_id: str, vpc_id: str | None) -> bool:
    """A subnet is public when its route table — the one explicitly associated with it, else its VPC's
    main route table — sends 0.0.0.0/0 to an internet gateway (``igw-*``; egress-only ``eigw-`` is not)."""
    tables = await route_tables(calls)
    explicit = [t for t in tables if any(a.get("SubnetId") == subnet_id for a in t.get("Associations") or [])]
    chosen = explicit or [
        t
        for t in tables
        if (vpc_id is None or t.get("VpcId") == vpc_id) and any(a.get("Main") for a in t.get("Associations") or [])
    ]
    return any(_is_default_route_to_igw(r) for t in chosen for r in t.get("Routes") or [])


async def subnets_public(calls: Calls, subnet_ids: list[str], vpc_id: str | None) -> list[dict[str, Any]]:
    """``[{SubnetId, Public}]`` for ``subnet_ids`` (order kept)."""
    return [{"SubnetId": s, "Public": await subnet_is_public(calls, s, vpc_id)} for s in subnet_ids]


async def security_groups(calls: Calls, group_ids: list[str]) -> list[dict[str, Any]]:
    """DescribeSecurityGroups items of ``group_ids`` (each group read once per job)."""
    out = []
    for gid in group_ids:

        async def read(gid: str = gid) -> Any:
            resp = await calls.call("ec2", "describe_security_groups", GroupIds=[gid])
            groups = resp.get("SecurityGroups") or []
            return groups[0] if groups else None

        group = await calls.cached(f"ec2-sg:{gid}", read)
        if group is not None:
            out.append(group)
    return out
