"""EC2: security groups, instances, volumes, snapshots, AMIs, VPCs, network ACLs, region settings.

Details read from region-wide lists (one call per job, :mod:`cspm_stream.collect.services.ec2_network`):
instance ``SecurityGroupRules`` (the rules of its groups), VPC ``Subnets``/``AvailabilityZones`` and
``Endpoints``, volume ``Snapshots``.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services import ec2_network as net
from cspm_stream.collect.spec import (
    Detail,
    Item,
    ResourceSpec,
    Scope,
    arn_fmt,
    key,
    member,
    region_arn,
    region_id,
    tags_from_list,
)


def _arn(kind: str, id_key: str) -> Any:
    return arn_fmt("arn:{partition}:ec2:{region}:{account}:" + kind + "/{id}", id_key)


def _image_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:ec2:{scope.region}::image/{item['ImageId']}"


def _snapshot_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:ec2:{scope.region}::snapshot/{item['SnapshotId']}"


def _own(item: Item, scope: Scope) -> bool:
    """Only the account's own images/snapshots (moto ignores ``self`` in OwnerIds)."""
    return str(item.get("OwnerId", scope.account_id)) == scope.account_id


SPECS = [
    ResourceSpec(
        resource_type="aws.ec2.security_group",
        service="ec2",
        list_op="describe_security_groups",
        items="SecurityGroups",
        id=key("GroupId"),
        arn=_arn("security-group", "GroupId"),
        tags=tags_from_list(),
        one_params=lambda rid: {"GroupIds": [rid]},
    ),
    ResourceSpec(
        resource_type="aws.ec2.instance",
        service="ec2",
        list_op="describe_instances",
        items="Reservations[].Instances[]",
        id=key("InstanceId"),
        arn=_arn("instance", "InstanceId"),
        tags=tags_from_list(),
        item_filter=lambda item, scope: (item.get("State") or {}).get("Name") != "terminated",
        details=(Detail("SecurityGroupRules", fn=net.instance_security_group_rules),),
        one_params=lambda rid: {"InstanceIds": [rid]},
    ),
    ResourceSpec(
        resource_type="aws.ec2.volume",
        service="ec2",
        list_op="describe_volumes",
        items="Volumes",
        id=key("VolumeId"),
        arn=_arn("volume", "VolumeId"),
        tags=tags_from_list(),
        details=(Detail("Snapshots", fn=net.volume_snapshots),),
        one_params=lambda rid: {"VolumeIds": [rid]},
    ),
    ResourceSpec(
        resource_type="aws.ec2.snapshot",
        service="ec2",
        list_op="describe_snapshots",
        list_params={"OwnerIds": ["self"]},  # moto and AWS ship public snapshots of other owners
        items="Snapshots",
        item_filter=_own,
        id=key("SnapshotId"),
        arn=_snapshot_arn,
        tags=tags_from_list(),
        details=(
            Detail(
                "CreateVolumePermissions",
                "describe_snapshot_attribute",
                lambda i: {"SnapshotId": i["SnapshotId"], "Attribute": "createVolumePermission"},
                member("CreateVolumePermissions"),
            ),
        ),
        one_params=lambda rid: {"SnapshotIds": [rid]},
    ),
    ResourceSpec(
        resource_type="aws.ec2.image",
        service="ec2",
        list_op="describe_images",
        list_params={"Owners": ["self"]},
        paginated=False,
        items="Images",
        item_filter=_own,
        id=key("ImageId"),
        arn=_image_arn,
        tags=tags_from_list(),
        details=(
            Detail(
                "LaunchPermissions",
                "describe_image_attribute",
                lambda i: {"ImageId": i["ImageId"], "Attribute": "launchPermission"},
                member("LaunchPermissions"),
            ),
        ),
        one_params=lambda rid: {"ImageIds": [rid]},
    ),
    ResourceSpec(
        resource_type="aws.ec2.vpc",
        service="ec2",
        list_op="describe_vpcs",
        items="Vpcs",
        id=key("VpcId"),
        arn=_arn("vpc", "VpcId"),
        tags=tags_from_list(),
        details=(
            Detail(
                "FlowLogs",
                "describe_flow_logs",
                lambda i: {"Filters": [{"Name": "resource-id", "Values": [i["VpcId"]]}]},
                paginate_items="FlowLogs",
            ),
            Detail("Subnets", fn=net.vpc_subnets),
            Detail("Endpoints", fn=net.vpc_endpoints),
        ),
        post=net.vpc_zones,
        one_params=lambda rid: {"VpcIds": [rid]},
    ),
    ResourceSpec(
        resource_type="aws.ec2.network_acl",
        service="ec2",
        list_op="describe_network_acls",
        items="NetworkAcls",
        id=key("NetworkAclId"),
        arn=_arn("network-acl", "NetworkAclId"),
        tags=tags_from_list(),
        one_params=lambda rid: {"NetworkAclIds": [rid]},
    ),
    ResourceSpec(
        resource_type="aws.ec2.region",
        service="ec2",
        list_op=None,
        id=region_id,
        arn=region_arn("ec2"),
        details=(
            Detail("EbsEncryptionByDefault", "get_ebs_encryption_by_default", extract=member("EbsEncryptionByDefault")),
            Detail("EbsDefaultKmsKeyId", "get_ebs_default_kms_key_id", extract=member("KmsKeyId")),
        ),
    ),
]
