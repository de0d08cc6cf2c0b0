"""EC2 network breadth on the wire (moto): instances judged through the rules of all their security groups, subnets,
VPC zones and endpoints, Elastic IPs, transit gateways, interface endpoints and volume snapshots — each trap next to its
compliant twin; VPN tunnel telemetry (moto reports none) on recorded responses."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

PORT_POLICIES = [
    f"ec2_instance_port_{p}_exposed_to_internet"
    for p in (
        "ssh rdp telnet ftp mysql postgresql sqlserver oracle mongodb redis memcached cassandra "
        "elasticsearch_kibana kafka kerberos ldap cifs"
    ).split()
]


def _world(ec2, gid: str, proto: str, lo: int, hi: int, v6: bool = False) -> None:  # type: ignore[no-untyped-def]
    perm: dict = {"IpProtocol": proto}
    if proto != "-1":
        perm.update(FromPort=lo, ToPort=hi)
    perm["Ipv6Ranges" if v6 else "IpRanges"] = [{"CidrIpv6": "::/0"}] if v6 else [{"CidrIp": "0.0.0.0/0"}]
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[perm])


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    ec2 = moto_server.boto3_client("ec2")
    iam = moto_server.boto3_client("iam")
    iam.create_role(RoleName="web", AssumeRolePolicyDocument="{}")
    iam.create_instance_profile(InstanceProfileName="web")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")

    prod = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    flat = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    pa = ec2.create_subnet(VpcId=prod, CidrBlock="10.10.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    pb = ec2.create_subnet(VpcId=prod, CidrBlock="10.10.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    fa = ec2.create_subnet(VpcId=flat, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ec2.create_subnet(VpcId=flat, CidrBlock="10.20.2.0/24", AvailabilityZone="us-east-1a")
    ec2.modify_subnet_attribute(SubnetId=fa, MapPublicIpOnLaunch={"Value": True})
    ec2.create_vpc_endpoint(
        VpcId=prod, ServiceName="com.amazonaws.us-east-1.ec2", VpcEndpointType="Interface", SubnetIds=[pa, pb]
    )
    ec2.create_vpc_endpoint(
        VpcId=flat, ServiceName="com.amazonaws.us-east-1.ssm", VpcEndpointType="Interface", SubnetIds=[fa]
    )

    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=prod)["GroupId"]
    _world(ec2, web, "tcp", 443, 443)
    ec2.authorize_security_group_ingress(
        GroupId=web,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
    )
    _world(ec2, web, "udp", 3389, 3389)  # decoy: the RDP port over UDP
    exposed = ec2.create_security_group(GroupName="exposed", Description="exposed", VpcId=prod)["GroupId"]
    _world(ec2, exposed, "tcp", 20, 23)  # FTP, SSH and Telnet by range
    _world(ec2, exposed, "tcp", 3306, 3306, v6=True)  # MySQL over IPv6 only
    wizard = ec2.create_security_group(GroupName="launch-wizard-1", Description="wizard", VpcId=prod)["GroupId"]
    big = ec2.create_security_group(GroupName="big", Description="many rules", VpcId=prod)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=big,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 2000 + i, "ToPort": 2000 + i, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
            for i in range(51)
        ],
    )
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    safe = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=pa, SecurityGroupIds=[web])
    open_ = ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        SubnetId=fa,
        SecurityGroupIds=[web, exposed],
        IamInstanceProfile={"Name": "web"},
    )
    safe_id, open_id = safe["Instances"][0]["InstanceId"], open_["Instances"][0]["InstanceId"]

    used = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=used, InstanceId=safe_id)
    idle = ec2.allocate_address(Domain="vpc")["AllocationId"]
    strict = ec2.create_transit_gateway(Options={"AutoAcceptSharedAttachments": "disable"})["TransitGateway"]
    loose = ec2.create_transit_gateway(Options={"AutoAcceptSharedAttachments": "enable"})["TransitGateway"]

    kept = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    ec2.create_snapshot(VolumeId=kept)
    bare = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]

    e = collect_moto(moto_server, ["ec2"])
    e.names = {  # type: ignore[attr-defined]
        "prod": prod,
        "flat": flat,
        "pa": pa,
        "fa": fa,
        "web": web,
        "exposed": exposed,
        "wizard": wizard,
        "big": big,
        "safe": safe_id,
        "open": open_id,
        "used": used,
        "idle": idle,
        "strict": strict["TransitGatewayId"],
        "loose": loose["TransitGatewayId"],
        "kept": kept,
        "bare": bare,
    }
    return e


@pytest.mark.moto
def test_snapshots(estate: Estate) -> None:
    n = estate.names  # type: ignore[attr-defined]
    rules = estate.one("aws.ec2.instance", n["open"]).attributes["SecurityGroupRules"]
    assert {r["GroupId"] for r in rules} == {n["web"], n["exposed"]}
    prod = estate.one("aws.ec2.vpc", n["prod"]).attributes
    assert prod["AvailabilityZones"] == ["us-east-1a", "us-east-1b"]
    assert [e["ServiceName"] for e in prod["Endpoints"]] == ["com.amazonaws.us-east-1.ec2"]
    assert estate.one("aws.ec2.volume", n["kept"]).attributes["Snapshots"] != []
    eip = estate.one("aws.ec2.elastic_ip", n["idle"])
    assert eip.arn == f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:eip-allocation/{n['idle']}"
    assert estate.one("aws.ec2.subnet", n["fa"]).arn == f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:subnet/{n['fa']}"
    assert not {e for e in estate.errors() if e[0] != "aws.ec2.region"}


@pytest.mark.moto
def test_instance_ports(estate: Estate) -> None:
    n = estate.names  # type: ignore[attr-defined]
    v = estate.verdicts(PORT_POLICIES)
    failing = {p for p in PORT_POLICIES if v[(p, n["open"])] == "fail"}
    short = {p.removeprefix("ec2_instance_port_").removesuffix("_exposed_to_internet") for p in failing}
    assert short == {"ftp", "ssh", "telnet", "mysql"}
    assert {p for p in PORT_POLICIES if v[(p, n["safe"])] != "pass"} == set()


@pytest.mark.moto
def test_network_verdicts(estate: Estate) -> None:
    n = estate.names  # type: ignore[attr-defined]
    cases = {
        "ec2_instance_internet_facing_with_instance_profile": (n["safe"], n["open"]),
        "ec2_securitygroup_from_launch_wizard": (n["web"], n["wizard"]),
        "ec2_securitygroup_with_many_ingress_egress_rules": (n["web"], n["big"]),
        "ec2_elastic_ip_unassigned": (n["used"], n["idle"]),
        "ec2_transitgateway_auto_accept_vpc_attachments": (n["strict"], n["loose"]),
        "vpc_subnet_no_public_ip_by_default": (n["pa"], n["fa"]),
        "vpc_subnet_different_az": (n["prod"], n["flat"]),
        "vpc_endpoint_for_ec2_enabled": (n["prod"], n["flat"]),
        "ec2_ebs_volume_snapshots_exists": (n["kept"], n["bare"]),
    }
    v = estate.verdicts([*cases, "vpc_endpoint_multi_az_enabled"])
    assert {p: (v[(p, ok)], v[(p, bad)]) for p, (ok, bad) in cases.items()} == {p: ("pass", "fail") for p in cases}
    endpoints = {s.resource_id: s.attributes for s in estate.by_type["aws.ec2.vpc_endpoint"]}
    got = {len(a["SubnetIds"]): v[("vpc_endpoint_multi_az_enabled", rid)] for rid, a in endpoints.items()}
    assert got == {2: "pass", 1: "fail"}


def test_vpn_tunnels_recorded() -> None:
    e, aws = collect_fixture("ec2", "ec2_vpn", resource_types=["aws.ec2.vpn_connection"])
    assert aws.unanswered == []
    assert e.ids("aws.ec2.vpn_connection") == {"vpn-0aaa1111bbbb2222c", "vpn-0ddd3333eeee4444f"}  # deleted one left out
    v = e.verdicts(["vpc_vpn_connection_tunnels_up"])
    assert v[("vpc_vpn_connection_tunnels_up", "vpn-0aaa1111bbbb2222c")] == "pass"
    assert v[("vpc_vpn_connection_tunnels_up", "vpn-0ddd3333eeee4444f")] == "fail"
