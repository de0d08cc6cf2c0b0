"""AWS Transfer Family (regional): servers.

``aws.transfer.server``: the ListServers item (``ServerId``, ``Arn``, ``EndpointType``, ``State``) plus
``Server`` (DescribeServer ``Server``: ``Protocols`` SFTP/FTPS/FTP/AS2, ``EndpointType`` PUBLIC/VPC/VPC_ENDPOINT,
``SecurityPolicyName``, ``LoggingRole``, ``StructuredLogDestinations``, ``IdentityProviderType``, ``Tags``; the
host key fingerprint and post-authentication banner are not kept).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, ResourceSpec, key, tags_from_list


def _server(resp: dict[str, Any]) -> Any:
    server = dict(resp.get("Server") or {})
    for field in ("HostKeyFingerprint", "PostAuthenticationLoginBanner", "PreAuthenticationLoginBanner"):
        server.pop(field, None)
    return server


SPECS = [
    ResourceSpec(
        resource_type="aws.transfer.server",
        service="transfer",
        list_op="list_servers",
        items="Servers",
        id=key("ServerId"),
        arn=key("Arn"),
        tags=lambda item: tags_from_list()(item.get("Server") or {}),
        details=(Detail("Server", "describe_server", lambda i: {"ServerId": i["ServerId"]}, _server),),
    ),
]
