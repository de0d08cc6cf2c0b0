"""Amazon S3 Glacier vaults (regional).

``aws.glacier.vault``: the ListVaults item (``VaultName``, ``VaultARN``, ``NumberOfArchives``, ``SizeInBytes``) plus

* ``AccessPolicy``: GetVaultAccessPolicy's policy document, parsed (null when the vault has none:
  ``ResourceNotFoundException``);
* ``Tags``: ListTagsForVault (``{key: value}``).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, tags_from_dict


def _policy(resp: dict[str, Any]) -> Any:
    from cspm_stream.collect.normalize import parse_policy

    return parse_policy((resp.get("policy") or {}).get("Policy"))


SPECS = [
    ResourceSpec(
        resource_type="aws.glacier.vault",
        service="glacier",
        list_op="list_vaults",
        items="VaultList",
        id=key("VaultName"),
        arn=key("VaultARN"),
        tags=tags_from_dict("Tags"),
        details=(
            Detail(
                "AccessPolicy",
                "get_vault_access_policy",
                lambda i: {"vaultName": i["VaultName"]},
                _policy,
                not_configured=frozenset({"ResourceNotFoundException"}),
            ),
            Detail("Tags", "list_tags_for_vault", lambda i: {"vaultName": i["VaultName"]}, member("Tags")),
        ),
    ),
]
