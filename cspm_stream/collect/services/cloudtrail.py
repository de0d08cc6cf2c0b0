"""CloudTrail: trails homed in a region, and the region view of every visible trail.

* ``aws.cloudtrail.trail``: DescribeTrails item + ``TrailStatus`` (GetTrailStatus) +
  ``EventSelectors`` ({EventSelectors, AdvancedEventSelectors}) + ``Tags``.
* ``aws.cloudtrail.region``: ``Trails`` = every trail visible in the region (shadow
  trails of multi-region trails included), each with ``Status`` and ``EventSelectors``
  read in the trail's home region (moto answers TrailNotFound elsewhere).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key, region_arn, region_id


def _trail(item: Item) -> dict[str, Any]:
    return {"Name": item["TrailARN"]}


def _selectors(resp: dict[str, Any]) -> Any:
    return {
        "EventSelectors": resp.get("EventSelectors", []),
        "AdvancedEventSelectors": resp.get("AdvancedEventSelectors", []),
    }


async def _tags(calls: Calls, item: Item) -> Any:
    resp = await calls.call("cloudtrail", "list_tags", ResourceIdList=[item["TrailARN"]])
    lists = resp.get("ResourceTagList") or []
    return lists[0].get("TagsList", []) if lists else []


def _tag_dict(item: Item) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in item.get("Tags") or [] if "Key" in t}


async def _region_trails(calls: Calls, item: Item) -> Any:
    resp = await calls.call("cloudtrail", "describe_trails", includeShadowTrails=True)
    out = []
    for t in resp.get("trailList", []):
        home = t.get("HomeRegion") or calls.scope.region
        arn = t["TrailARN"]
        status = await calls.call_in(home, "cloudtrail", "get_trail_status", Name=arn)
        sel = await calls.call_in(home, "cloudtrail", "get_event_selectors", TrailName=arn)
        out.append(
            {
                **t,
                "Status": {k: v for k, v in status.items() if k != "ResponseMetadata"},
                "EventSelectors": _selectors(sel),
            }
        )
    return out


SPECS = [
    ResourceSpec(
        resource_type="aws.cloudtrail.trail",
        service="cloudtrail",
        list_op="describe_trails",
        list_params={"includeShadowTrails": False},
        paginated=False,
        items="trailList",
        id=key("Name"),
        arn=key("TrailARN"),
        tags=_tag_dict,
        details=(
            Detail("TrailStatus", "get_trail_status", _trail),
            Detail("EventSelectors", "get_event_selectors", lambda i: {"TrailName": i["TrailARN"]}, _selectors),
            Detail("Tags", fn=_tags),
        ),
    ),
    ResourceSpec(
        resource_type="aws.cloudtrail.region",
        service="cloudtrail",
        list_op=None,
        id=region_id,
        arn=region_arn("cloudtrail"),
        details=(Detail("Trails", fn=_region_trails),),
    ),
]
