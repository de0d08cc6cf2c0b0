"""Classic Load Balancers on the wire (moto): attributes, listener certificates, verdicts with decoys."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_moto
from tests.unit.collect.certs import self_signed
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

TLS12 = "ELBSecurityPolicy-TLS-1-2-2017-01"


def _https(name: str, cert: str, policy: str, moto: MotoServer, **kw: object) -> None:
    elb = moto.boto3_client("elb")
    elb.create_load_balancer(
        LoadBalancerName=name,
        Listeners=[
            {
                "Protocol": "HTTPS",
                "LoadBalancerPort": 443,
                "InstanceProtocol": "HTTP",
                "InstancePort": 8080,
                "SSLCertificateId": cert,
            }
        ],
        **kw,
    )
    elb.create_load_balancer_policy(
        LoadBalancerName=name,
        PolicyName=policy,
        PolicyTypeName="SSLNegotiationPolicyType",
        PolicyAttributes=[{"AttributeName": "Reference-Security-Policy", "AttributeValue": policy}],
    )
    elb.set_load_balancer_policies_of_listener(LoadBalancerName=name, LoadBalancerPort=443, PolicyNames=[policy])


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    acm = moto_server.boto3_client("acm")
    issued = acm.request_certificate(DomainName="shop.example.com")["CertificateArn"]
    pem, key = self_signed()
    imported = acm.import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
    elb = moto_server.boto3_client("elb")
    _https("good", issued, TLS12, moto_server, AvailabilityZones=["us-east-1a", "us-east-1b"], Scheme="internal")
    elb.modify_load_balancer_attributes(
        LoadBalancerName="good",
        LoadBalancerAttributes={
            "AccessLog": {"Enabled": True, "S3BucketName": "elb-logs", "EmitInterval": 60},
            "CrossZoneLoadBalancing": {"Enabled": True},
            "ConnectionDraining": {"Enabled": True, "Timeout": 300},
            "AdditionalAttributes": [{"Key": "elb.http.desyncmitigationmode", "Value": "strictest"}],
        },
    )
    elb.add_tags(LoadBalancerNames=["good"], Tags=[{"Key": "app", "Value": "shop"}])
    # decoy twin: same listener shape, imported certificate and an old TLS policy
    _https(
        "imported", imported, "ELBSecurityPolicy-2016-08", moto_server, AvailabilityZones=["us-east-1a", "us-east-1b"]
    )
    elb.create_load_balancer(
        LoadBalancerName="plain",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}],
        AvailabilityZones=["us-east-1a"],
    )
    shield = moto_server.boto3_client("shield")
    shield.create_subscription()
    shield.create_protection(
        Name="good", ResourceArn="arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/good"
    )
    return collect_moto(moto_server, ["elb"])


def test_snapshots(estate: Estate) -> None:
    good = estate.one("aws.elb.load_balancer", "good")
    assert good.arn == f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT_ID}:loadbalancer/good"
    assert good.tags == {"app": "shop"}
    attrs = good.attributes["LoadBalancerAttributes"]
    assert attrs["AccessLog"]["Enabled"] is True and attrs["ConnectionDraining"]["Enabled"] is True
    assert good.attributes["ListenerCertificates"][0]["Type"] == "AMAZON_ISSUED"
    assert estate.one("aws.elb.load_balancer", "imported").attributes["ListenerCertificates"][0]["Type"] == "IMPORTED"
    assert estate.one("aws.elb.load_balancer", "plain").attributes["ListenerCertificates"] == []
    assert good.attributes["ShieldProtection"]["Protected"] is True
    assert estate.errors() == set()


def test_verdicts(estate: Estate) -> None:
    pols = {
        # policy: (good, imported, plain)
        "elb_connection_draining_enabled": ("pass", "fail", "fail"),
        "elb_cross_zone_load_balancing_enabled": ("pass", "fail", "fail"),
        "elb_desync_mitigation_mode": ("pass", "fail", "fail"),
        "elb_insecure_ssl_ciphers": ("pass", "fail", "pass"),
        "elb_tls_listeners_predefined_policy": ("pass", "fail", "pass"),
        "elb_internet_facing": ("pass", "fail", "fail"),
        "elb_is_in_multiple_az": ("pass", "pass", "fail"),
        "elb_logging_enabled": ("pass", "fail", "fail"),
        "elb_ssl_listeners": ("pass", "pass", "fail"),
        "elb_ssl_listeners_use_acm_certificate": ("pass", "fail", "pass"),
        "shield_advanced_protection_in_classic_load_balancers": ("pass", "fail", "fail"),
    }
    v = estate.verdicts(list(pols))
    got = {p: tuple(v[(p, lb)] for lb in ("good", "imported", "plain")) for p in pols}
    assert got == pols
