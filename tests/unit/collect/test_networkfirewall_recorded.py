"""AWS Network Firewall on the wire, from recorded responses validated against botocore's model (moto 5.2 does not
serve firewall policies): a hardened firewall beside an open lab one, and an unreadable logging configuration."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cspm_stream.testing.recorded import Exchange, collect_recorded, load_dir
from tests.unit.collect.breadth_util import RECORDED, Estate, collect_fixture

POLICIES = [
    "networkfirewall_deletion_protection",
    "networkfirewall_subnet_change_protection",
    "networkfirewall_logging_enabled",
    "networkfirewall_multi_az",
    "networkfirewall_policy_default_action_full_packets",
    "networkfirewall_policy_default_action_fragmented_packets",
    "networkfirewall_policy_rule_group_associated",
]


def test_hardened_beside_open() -> None:
    e, aws = collect_fixture("networkfirewall", "networkfirewall")
    assert aws.unanswered == []
    egress = e.one("aws.networkfirewall.firewall", "egress")
    assert egress.tags == {"team": "network"}
    assert [c[1] for c in aws.calls].count("DescribeFirewall") == 2  # once per firewall, shared by two details
    v = e.verdicts(POLICIES)
    assert {p: (v[(p, "egress")], v[(p, "lab")]) for p in POLICIES} == {p: ("pass", "fail") for p in POLICIES}


def test_unreadable_logging_is_an_error() -> None:
    exchanges = [
        x for x in load_dir(Path(RECORDED) / "networkfirewall") if x.operation != "DescribeLoggingConfiguration"
    ]
    exchanges.append(
        Exchange(
            "network-firewall",
            "DescribeLoggingConfiguration",
            error={"Code": "AccessDeniedException", "Message": "not authorized"},
            status=403,
        )
    )
    snaps, _ = asyncio.run(collect_recorded("networkfirewall", exchanges))
    v = Estate(snaps).verdicts(["networkfirewall_logging_enabled", "networkfirewall_deletion_protection"])
    assert v[("networkfirewall_logging_enabled", "egress")] == "error"
    assert v[("networkfirewall_deletion_protection", "egress")] == "pass"
