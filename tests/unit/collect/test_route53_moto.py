"""Route 53 on the wire: moto for hosted zones and query logging; recorded responses for Route 53 Domains
(moto's registered domains have no transfer-lock status and its ListTagsForDomain answers HTTP 500)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> tuple[Estate, dict[str, str]]:
    reset(moto_server)
    r53 = moto_server.boto3_client("route53")
    ids = {}
    for name, ref in (("logged.example.com", "a"), ("silent.example.com", "b")):
        ids[name] = r53.create_hosted_zone(Name=name, CallerReference=ref)["HostedZone"]["Id"].rsplit("/", 1)[-1]
    ids["internal.example"] = r53.create_hosted_zone(
        Name="internal.example",
        CallerReference="c",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": "us-east-1", "VPCId": "vpc-0abc1234def567890"},
    )["HostedZone"]["Id"].rsplit("/", 1)[-1]
    moto_server.boto3_client("logs").create_log_group(logGroupName="/aws/route53/logged.example.com")
    r53.create_query_logging_config(
        HostedZoneId=ids["logged.example.com"],
        CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:123456789012:log-group:/aws/route53/logged.example.com:*",
    )
    r53.change_tags_for_resource(
        ResourceType="hostedzone", ResourceId=ids["logged.example.com"], AddTags=[{"Key": "owner", "Value": "dns"}]
    )
    return collect_moto(moto_server, ["route53"]), ids


def test_hosted_zones(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    z = e.one("aws.route53.hosted_zone", ids["logged.example.com"])
    assert z.arn == f"arn:aws:route53:::hostedzone/{ids['logged.example.com']}" and z.region == "global"
    assert z.tags == {"owner": "dns"}
    assert [c["HostedZoneId"] for c in z.attributes["QueryLoggingConfigs"]] == [ids["logged.example.com"]]
    v = e.verdicts(["route53_public_hosted_zones_cloudwatch_logging_enabled"])
    got = {n: v[("route53_public_hosted_zones_cloudwatch_logging_enabled", i)] for n, i in ids.items()}
    assert got == {"logged.example.com": "pass", "silent.example.com": "fail", "internal.example": "pass"}
    # no Shield Advanced subscription: nothing to evaluate
    assert z.attributes["ShieldProtection"] is None
    v = e.verdicts(["shield_advanced_protection_in_route53_hosted_zones"])
    assert {v[("shield_advanced_protection_in_route53_hosted_zones", i)] for i in ids.values()} == {"pass"}


def test_domains_recorded() -> None:
    e, aws = collect_fixture("route53", "route53")
    assert aws.unanswered == []
    good = e.one("aws.route53.domain", "example.com")
    assert good.arn == "arn:aws:route53:::domain/example.com" and good.tags == {"owner": "platform"}
    assert "AdminContact" not in good.attributes["DomainDetail"]  # personal data is not kept
    legacy = e.one("aws.route53.domain", "example-legacy.net")
    assert [(x.attribute, x.code) for x in legacy.errors] == [("Tags", "AccessDeniedException")]
    pols = [
        "route53_domains_privacy_protection_enabled",
        "route53_domains_contact_privacy_all",
        "route53_domains_transferlock_enabled",
        "route53_domains_auto_renew_enabled",
    ]
    v = e.verdicts(pols)
    for p in pols:  # a tag that could not be read does not make a domain policy ERROR
        assert (v[(p, "example.com")], v[(p, "example-legacy.net")]) == ("pass", "fail"), p
