"""Amazon Macie (macie2, regional): the account's Macie session — one ``aws.macie2.region`` record per account
and Region.

* ``Session`` — GetMacieSession: ``status`` ENABLED/PAUSED, ``findingPublishingFrequency``; ``{"status":
  "DISABLED"}`` when Macie was never enabled here (the API answers AccessDeniedException "Macie is not enabled"
  — any other access denial is an error, never "disabled").
* ``AutomatedDiscovery`` — GetAutomatedDiscoveryConfiguration ``status`` ENABLED/DISABLED, read only when the
  session is ENABLED (else null).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.faults import CallFailed
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, region_arn, region_id

NOT_ENABLED = "macie is not enabled"


async def _session_raw(calls: Calls) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        try:
            resp = await calls.call("macie2", "get_macie_session")
        except CallFailed as exc:
            if exc.fault.code == "AccessDeniedException" and NOT_ENABLED in exc.fault.message.lower():
                return {"status": "DISABLED"}
            raise
        return {k: resp.get(k) for k in ("status", "findingPublishingFrequency", "createdAt", "updatedAt")}

    out: dict[str, Any] = await calls.cached("macie-session", read)
    return out


async def _session(calls: Calls, item: Item) -> Any:
    return await _session_raw(calls)


async def _automated_discovery(calls: Calls, item: Item) -> Any:
    if (await _session_raw(calls)).get("status") != "ENABLED":
        return None
    resp = await calls.call("macie2", "get_automated_discovery_configuration")
    return {"status": resp.get("status", "DISABLED")}


SPECS = [
    ResourceSpec(
        resource_type="aws.macie2.region",
        service="macie2",
        list_op=None,
        id=region_id,
        arn=region_arn("macie2", "session"),
        details=(
            Detail("Session", fn=_session),
            Detail("AutomatedDiscovery", fn=_automated_discovery),
        ),
    ),
]
