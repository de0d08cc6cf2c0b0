"""Amazon WorkSpaces (regional): workspaces.

``aws.workspaces.workspace``: ``{WorkspaceId, DirectoryId, UserName}`` plus ``Workspace`` — the DescribeWorkspaces
record (read once per job): ``UserVolumeEncryptionEnabled``, ``RootVolumeEncryptionEnabled``, ``VolumeEncryptionKey``,
``SubnetId``, ``State``, ``WorkspaceProperties`` (``RunningMode``, ``Protocols``).
"""

from __future__ import annotations

from cspm_stream.collect.services._listed import listed
from cspm_stream.collect.spec import Detail, Item, ResourceSpec, Scope, key

_workspaces, _workspace = listed(
    "workspaces", "describe_workspaces", "Workspaces", "WorkspaceId", ("WorkspaceId", "DirectoryId", "UserName")
)


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:workspaces:{scope.region}:{scope.account_id}:workspace/{item['WorkspaceId']}"


SPECS = [
    ResourceSpec(
        resource_type="aws.workspaces.workspace",
        service="workspaces",
        list_op="describe_workspaces",
        list_fn=_workspaces,
        id=key("WorkspaceId"),
        arn=_arn,
        details=(Detail("Workspace", fn=_workspace),),
    ),
]
