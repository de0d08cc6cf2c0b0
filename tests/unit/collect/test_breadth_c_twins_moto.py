"""Twins in original services on the wire (moto): multi-Region KMS keys, NLB cross-zone balancing and TLS
termination beside an ALB, EFS access points rooted at '/' or without a POSIX identity — each trap next to its
compliant twin."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import MotoServer
from tests.unit.collect.breadth_util import Estate, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    kms = moto_server.boto3_client("kms")
    single = kms.create_key(Description="single", MultiRegion=False)["KeyMetadata"]["KeyId"]
    multi = kms.create_key(Description="multi", MultiRegion=True)["KeyMetadata"]["KeyId"]
    off = kms.create_key(Description="multi, disabled", MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=off)

    ec2 = moto_server.boto3_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"][
            "SubnetId"
        ]
        for i, z in ((1, "a"), (2, "b"))
    ]
    elb = moto_server.boto3_client("elbv2")
    tg = elb.create_target_group(Name="t", Protocol="TCP", Port=443, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    fwd = [{"Type": "forward", "TargetGroupArn": tg}]
    lbs = {}
    for name, kind in (("nlb-good", "network"), ("nlb-bad", "network"), ("alb", "application")):
        lbs[name] = elb.create_load_balancer(Name=name, Subnets=subnets, Type=kind)["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=lbs["nlb-good"], Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": "true"}]
    )
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=lbs["nlb-bad"], Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": "false"}]
    )
    cert = moto_server.boto3_client("acm").request_certificate(DomainName="ingest.example.com")["CertificateArn"]
    elb.create_listener(
        LoadBalancerArn=lbs["nlb-good"],
        Protocol="TLS",
        Port=443,
        Certificates=[{"CertificateArn": cert}],
        DefaultActions=fwd,
    )
    elb.create_listener(LoadBalancerArn=lbs["nlb-bad"], Protocol="TCP", Port=443, DefaultActions=fwd)

    efs = moto_server.boto3_client("efs")
    confined = efs.create_file_system(CreationToken="confined")["FileSystemId"]
    wide = efs.create_file_system(CreationToken="wide")["FileSystemId"]
    bare = efs.create_file_system(CreationToken="bare")["FileSystemId"]
    efs.create_access_point(FileSystemId=confined, PosixUser={"Uid": 1000, "Gid": 1000}, RootDirectory={"Path": "/app"})
    efs.create_access_point(FileSystemId=wide, RootDirectory={"Path": "/"})
    e = collect_moto(moto_server, ["kms", "elbv2", "efs"])
    e.names = {"single": single, "multi": multi, "off": off, "confined": confined, "wide": wide, "bare": bare}  # type: ignore[attr-defined]
    e.lbs = {n: a.rsplit("/", 3)[-2] for n, a in lbs.items()}  # type: ignore[attr-defined]
    return e


def test_kms_multi_region(estate: Estate) -> None:
    n = estate.names  # type: ignore[attr-defined]
    v = estate.verdicts(["kms_cmk_not_multi_region"])
    p = "kms_cmk_not_multi_region"
    assert (v[(p, n["single"])], v[(p, n["multi"])], v[(p, n["off"])]) == ("pass", "fail", "pass")


def test_elbv2(estate: Estate) -> None:
    by_name = {s.attributes["LoadBalancerName"]: s.resource_id for s in estate.by_type["aws.elbv2.load_balancer"]}
    v = estate.verdicts(["elbv2_cross_zone_load_balancing_enabled", "elbv2_nlb_tls_termination_enabled"])
    for p in ("elbv2_cross_zone_load_balancing_enabled", "elbv2_nlb_tls_termination_enabled"):
        assert (v[(p, by_name["nlb-good"])], v[(p, by_name["nlb-bad"])], v[(p, by_name["alb"])]) == (
            "pass",
            "fail",
            "pass",
        ), p


def test_efs_access_points(estate: Estate) -> None:
    n = estate.names  # type: ignore[attr-defined]
    assert estate.one("aws.efs.file_system", n["bare"]).attributes["AccessPoints"] == []
    v = estate.verdicts(["efs_access_point_enforce_root_directory", "efs_access_point_enforce_user_identity"])
    for p in ("efs_access_point_enforce_root_directory", "efs_access_point_enforce_user_identity"):
        assert (v[(p, n["confined"])], v[(p, n["wide"])], v[(p, n["bare"])]) == ("pass", "fail", "pass"), p
