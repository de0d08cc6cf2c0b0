"""AWS Network Firewall (regional): firewalls with their policy and logging configuration.

``aws.networkfirewall.firewall``: the ListFirewalls item (``FirewallName``, ``FirewallArn``) plus

* ``Firewall`` — DescribeFirewall ``Firewall``: ``DeleteProtection``, ``SubnetChangeProtection``,
  ``FirewallPolicyChangeProtection``, ``SubnetMappings``, ``VpcId``, ``FirewallPolicyArn``,
  ``EncryptionConfiguration``, ``Tags``;
* ``FirewallPolicy`` — DescribeFirewallPolicy ``FirewallPolicy`` of that policy: ``StatelessDefaultActions``,
  ``StatelessFragmentDefaultActions``, ``StatelessRuleGroupReferences``, ``StatefulRuleGroupReferences``,
  ``StatefulDefaultActions``;
* ``LoggingConfiguration`` — DescribeLoggingConfiguration ``LoggingConfiguration.LogDestinationConfigs``
  (``LogType`` FLOW/ALERT/TLS, ``LogDestinationType``); null when logging was never configured.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key

SERVICE = "network-firewall"


async def _firewall(calls: Calls, item: Item) -> dict[str, Any]:
    arn = item["FirewallArn"]

    async def read() -> dict[str, Any]:
        fw: dict[str, Any] = (await calls.call(SERVICE, "describe_firewall", FirewallArn=arn)).get("Firewall") or {}
        return fw

    fw: dict[str, Any] = await calls.cached(f"nfw-describe:{arn}", read)
    return fw


async def _policy(calls: Calls, item: Item) -> Any:
    policy_arn = (await _firewall(calls, item)).get("FirewallPolicyArn")
    if not policy_arn:
        return None
    resp = await calls.call(SERVICE, "describe_firewall_policy", FirewallPolicyArn=policy_arn)
    return resp.get("FirewallPolicy")


def _tags(item: Item) -> dict[str, str]:
    raw = (item.get("Firewall") or {}).get("Tags") or []
    return {str(t.get("Key")): str(t.get("Value", "")) for t in raw if isinstance(t, dict) and t.get("Key") is not None}


SPECS = [
    ResourceSpec(
        resource_type="aws.networkfirewall.firewall",
        service=SERVICE,
        list_op="list_firewalls",
        items="Firewalls",
        id=key("FirewallName"),
        arn=key("FirewallArn"),
        tags=_tags,
        details=(
            Detail("Firewall", fn=_firewall),
            Detail("FirewallPolicy", fn=_policy),
            Detail(
                "LoggingConfiguration",
                "describe_logging_configuration",
                lambda i: {"FirewallArn": i["FirewallArn"]},
                lambda r: r.get("LoggingConfiguration") or None,
            ),
        ),
    ),
]
