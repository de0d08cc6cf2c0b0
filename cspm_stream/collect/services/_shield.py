"""Shield Advanced protection of a resource, for the services whose resources Shield can protect.

``ShieldProtection`` detail value: null when the account has no Shield Advanced subscription (nothing to
evaluate), else ``{"Protected": bool, "ProtectionId": str | None}``. The subscription and the protection list
are read once per job (Shield's API lives in us-east-1).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.faults import CallFailed
from cspm_stream.collect.spec import Calls

SHIELD_REGION = "us-east-1"


async def _subscribed(calls: Calls) -> bool:
    async def read() -> bool:
        try:
            await calls.call_in(SHIELD_REGION, "shield", "describe_subscription")
        except CallFailed as exc:
            if exc.fault.code == "ResourceNotFoundException":
                return False
            raise
        return True

    subscribed: bool = await calls.cached("shield-subscription", read)
    return subscribed


async def _protections(calls: Calls) -> dict[str, str]:
    async def read() -> dict[str, str]:
        out: dict[str, str] = {}
        token: str | None = None
        for _ in range(10_000):
            resp = await calls.call_in(
                SHIELD_REGION, "shield", "list_protections", **({"NextToken": token} if token else {})
            )
            for p in resp.get("Protections") or []:
                if p.get("ResourceArn"):
                    out[str(p["ResourceArn"])] = str(p.get("Id", ""))
            token = resp.get("NextToken")
            if not token:
                break
        return out

    protections: dict[str, str] = await calls.cached("shield-protections", read)
    return protections


async def protection(calls: Calls, arn: str) -> Any:
    """The ``ShieldProtection`` value of ``arn`` (see module docstring)."""
    if calls.scope.partition != "aws" or not await _subscribed(calls):
        return None
    pid = (await _protections(calls)).get(arn)
    return {"Protected": pid is not None, "ProtectionId": pid}
