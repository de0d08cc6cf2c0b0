"""ELBv2 load balancers: ``Listeners`` (Protocol, SslPolicy, Certificates, DefaultActions),
``LoadBalancerAttributes`` ([{Key, Value}]), ``Tags``."""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, tags_from_list


def _tags(resp: dict[str, Any]) -> Any:
    desc = resp.get("TagDescriptions") or []
    return desc[0].get("Tags", []) if desc else []


SPECS = [
    ResourceSpec(
        resource_type="aws.elbv2.load_balancer",
        service="elbv2",
        list_op="describe_load_balancers",
        items="LoadBalancers",
        id=key("LoadBalancerName"),
        arn=key("LoadBalancerArn"),
        tags=tags_from_list(),
        details=(
            Detail(
                "Listeners",
                "describe_listeners",
                lambda i: {"LoadBalancerArn": i["LoadBalancerArn"]},
                paginate_items="Listeners",
            ),
            Detail(
                "LoadBalancerAttributes",
                "describe_load_balancer_attributes",
                lambda i: {"LoadBalancerArn": i["LoadBalancerArn"]},
                member("Attributes"),
            ),
            Detail("Tags", "describe_tags", lambda i: {"ResourceArns": [i["LoadBalancerArn"]]}, _tags),
        ),
        one_params=lambda rid: {"Names": [rid]},
    ),
]
