"""Amazon FSx (regional): file systems of every type (Lustre, Windows File Server, ONTAP, OpenZFS).

``aws.fsx.file_system``: ``{FileSystemId, ResourceARN, FileSystemType}`` plus ``FileSystem`` — the
DescribeFileSystems record (read once per job): ``FileSystemType``, ``SubnetIds``, ``KmsKeyId``, ``Lifecycle``,
``Tags`` and the type's configuration — ``LustreConfiguration`` / ``WindowsConfiguration`` /
``OpenZFSConfiguration`` (``CopyTagsToBackups``, ``CopyTagsToVolumes``, ``AutomaticBackupRetentionDays``,
``DeploymentType``) / ``OntapConfiguration`` (``DeploymentType``, ``AutomaticBackupRetentionDays``).
"""

from __future__ import annotations

from cspm_stream.collect.services._listed import listed
from cspm_stream.collect.spec import Detail, ResourceSpec, key, tags_from_list

_file_systems, _file_system = listed(
    "fsx",
    "describe_file_systems",
    "FileSystems",
    "FileSystemId",
    ("FileSystemId", "ResourceARN", "FileSystemType"),
)

SPECS = [
    ResourceSpec(
        resource_type="aws.fsx.file_system",
        service="fsx",
        list_op="describe_file_systems",
        list_fn=_file_systems,
        id=key("FileSystemId"),
        arn=key("ResourceARN"),
        tags=lambda item: tags_from_list()(item.get("FileSystem") or {}),
        details=(Detail("FileSystem", fn=_file_system),),
    ),
]
