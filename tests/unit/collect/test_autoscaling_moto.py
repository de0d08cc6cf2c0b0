"""Auto Scaling groups, launch configurations and EC2 launch templates on the wire (moto): user data never kept,
launch configuration joined to its group, instance types per zone, verdicts with decoys."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import MotoServer
from tests.unit.collect.breadth_util import Estate, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> tuple[Estate, dict[str, str]]:
    reset(moto_server)
    ec2 = moto_server.boto3_client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ids = {}
    for name, tokens, public in (("hardened", "required", False), ("legacy", "optional", True)):
        ids[name] = ec2.create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData={
                "ImageId": image,
                "InstanceType": "t3.micro",
                "UserData": "ZXhwb3J0IFBBU1M9aHVudGVyMg==",
                "MetadataOptions": {"HttpTokens": tokens, "HttpEndpoint": "enabled"},
                "NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": public}],
            },
        )["LaunchTemplate"]["LaunchTemplateId"]
    asg = moto_server.boto3_client("autoscaling")
    asg.create_launch_configuration(
        LaunchConfigurationName="old-lc",
        ImageId=image,
        InstanceType="t3.micro",
        AssociatePublicIpAddress=True,
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"},
        UserData="export DB_PASSWORD=hunter2",
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="lc-group",
        LaunchConfigurationName="old-lc",
        MinSize=1,
        MaxSize=1,
        AvailabilityZones=["us-east-1a"],
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="lt-group",
        LaunchTemplate={"LaunchTemplateId": ids["hardened"], "Version": "$Latest"},
        MinSize=2,
        MaxSize=2,
        AvailabilityZones=["us-east-1a", "us-east-1b"],
    )
    return collect_moto(moto_server, ["autoscaling", "ec2"]), ids


def test_user_data_is_never_kept(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    for rtype in ("aws.autoscaling.group", "aws.autoscaling.launch_configuration", "aws.ec2.launch_template"):
        for s in e.by_type[rtype]:
            assert "hunter2" not in str(s.attributes) and "ZXhwb3J0" not in str(s.attributes), rtype
    group = e.one("aws.autoscaling.group", "lc-group")
    assert group.attributes["LaunchConfiguration"]["AssociatePublicIpAddress"] is True
    assert e.one("aws.autoscaling.group", "lt-group").attributes["LaunchConfiguration"] is None  # uses a template
    assert group.attributes["InstanceTypesByAz"] == [{"AvailabilityZone": "us-east-1a", "InstanceTypes": ["t3.micro"]}]
    tpl = e.one("aws.ec2.launch_template", ids["hardened"])
    assert tpl.arn.endswith(f":launch-template/{ids['hardened']}")
    assert tpl.attributes["Versions"][0]["MetadataOptions"]["HttpTokens"] == "required"


def test_group_verdicts(estate: tuple[Estate, dict[str, str]]) -> None:
    e, _ = estate
    pols = {
        # policy: (lt-group, lc-group)
        "autoscaling_group_launch_configuration_no_public_ip": ("pass", "fail"),
        "autoscaling_group_launch_configuration_requires_imdsv2": ("pass", "fail"),
        "autoscaling_group_multiple_az": ("pass", "fail"),
        "autoscaling_group_using_ec2_launch_template": ("pass", "fail"),
        "autoscaling_group_multiple_instance_types": ("fail", "fail"),  # one type everywhere
        "autoscaling_group_capacity_rebalance_enabled": ("pass", "pass"),  # no load balancers: out of scope
        "autoscaling_group_elb_health_check_enabled": ("pass", "pass"),
    }
    v = e.verdicts(list(pols))
    assert {p: (v[(p, "lt-group")], v[(p, "lc-group")]) for p in pols} == pols
    lc = e.verdicts(
        ["autoscaling_launch_configuration_requires_imdsv2", "autoscaling_launch_configuration_no_public_ip"]
    )
    assert {
        lc[(p, "old-lc")]
        for p in ("autoscaling_launch_configuration_requires_imdsv2", "autoscaling_launch_configuration_no_public_ip")
    } == {"fail"}


def test_launch_template_verdicts(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    v = e.verdicts(["ec2_launch_template_imdsv2_required", "ec2_launch_template_no_public_ip"])
    for p in ("ec2_launch_template_imdsv2_required", "ec2_launch_template_no_public_ip"):
        assert (v[(p, ids["hardened"])], v[(p, ids["legacy"])]) == ("pass", "fail"), p
