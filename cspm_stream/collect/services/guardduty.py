"""GuardDuty per region: ``Detectors`` = [{DetectorId, Status, ...GetDetector}] (empty list = none)."""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, region_arn, region_id


async def _detectors(calls: Calls, item: Item) -> Any:
    ids = await calls.paginate("guardduty", "list_detectors", "DetectorIds")
    out = []
    for d in ids:
        resp = await calls.call("guardduty", "get_detector", DetectorId=d)
        out.append({"DetectorId": d, **{k: v for k, v in resp.items() if k != "ResponseMetadata"}})
    return out


SPECS = [
    ResourceSpec(
        resource_type="aws.guardduty.region",
        service="guardduty",
        list_op=None,
        id=region_id,
        arn=region_arn("guardduty"),
        details=(Detail("Detectors", fn=_detectors),),
    ),
]
