"""Amazon AppStream 2.0 fleets (regional).

``aws.appstream.fleet``: the DescribeFleets item (``MaxUserDurationInSeconds``, ``DisconnectTimeoutInSeconds``,
``IdleDisconnectTimeoutInSeconds`` — absent or 0 when idle users are never disconnected —,
``EnableDefaultInternetAccess``, ``FleetType``, ``State``, ``VpcConfig``, ``IamRoleArn``, ``DisableIMDSV1``) plus

* ``Tags``: ListTagsForResource (``{key: value}``).
"""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, tags_from_dict

SPECS = [
    ResourceSpec(
        resource_type="aws.appstream.fleet",
        service="appstream",
        list_op="describe_fleets",
        items="Fleets",
        id=key("Name"),
        arn=key("Arn"),
        tags=tags_from_dict("Tags"),
        details=(Detail("Tags", "list_tags_for_resource", lambda i: {"ResourceArn": i["Arn"]}, member("Tags")),),
        one_params=lambda rid: {"Names": [rid]},
    ),
]
