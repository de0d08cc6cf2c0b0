"""EFS file systems: item (Encrypted, KmsKeyId, Tags) plus ``BackupPolicy`` and
``FileSystemPolicy`` (parsed), null when not configured, and ``AccessPoints``: DescribeAccessPoints of the file
system (``[{AccessPointId, RootDirectory.Path, PosixUser, LifeCycleState}]``, ``[]`` = none)."""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, policy_member, tags_from_list

_NOT_FOUND = frozenset({"PolicyNotFound", "FileSystemNotFound"})

SPECS = [
    ResourceSpec(
        resource_type="aws.efs.file_system",
        service="efs",
        list_op="describe_file_systems",
        items="FileSystems",
        id=key("FileSystemId"),
        arn=key("FileSystemArn"),
        tags=tags_from_list(),
        details=(
            Detail(
                "BackupPolicy",
                "describe_backup_policy",
                lambda i: {"FileSystemId": i["FileSystemId"]},
                member("BackupPolicy"),
                frozenset({"PolicyNotFound"}),
            ),
            Detail(
                "FileSystemPolicy",
                "describe_file_system_policy",
                lambda i: {"FileSystemId": i["FileSystemId"]},
                policy_member("Policy"),
                _NOT_FOUND,
            ),
            Detail(
                "AccessPoints",
                "describe_access_points",
                lambda i: {"FileSystemId": i["FileSystemId"]},
                paginate_items="AccessPoints",
            ),
        ),
        one_params=lambda rid: {"FileSystemId": rid},
    ),
]
