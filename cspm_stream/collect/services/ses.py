"""Amazon SES (API v2) email identities (regional).

``aws.ses.identity``: the ListEmailIdentities item (``IdentityName``, ``IdentityType`` — ``DOMAIN``,
``EMAIL_ADDRESS``, ``MANAGED_DOMAIN`` —, ``SendingEnabled``, ``VerificationStatus``) plus (ListEmailIdentities has no botocore paginator: pages are followed by ``NextToken``)

* ``Identity``: GetEmailIdentity (``DkimAttributes.{Status, SigningEnabled, SigningAttributesOrigin}``,
  ``VerifiedForSendingStatus``, ``FeedbackForwardingStatus``, ``MailFromAttributes``, ``ConfigurationSetName``,
  ``Tags``) with ``Policies`` — the sending-authorization policies, ``{name: JSON text}`` in the API — parsed into
  ``{name: document}``.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services._paged import token_lister
from cspm_stream.collect.spec import Detail, Item, ResourceSpec, Scope, tags_from_list


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:ses:{scope.region}:{scope.account_id}:identity/{item['IdentityName']}"


def _identity(resp: dict[str, Any]) -> Any:
    from cspm_stream.collect.normalize import parse_policy

    body = {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    policies = body.get("Policies")
    if isinstance(policies, dict):
        body["Policies"] = {str(k): parse_policy(v) for k, v in policies.items()}
    return body


def _tags(item: Item) -> dict[str, str]:
    identity = item.get("Identity")
    return tags_from_list()(identity) if isinstance(identity, dict) else {}


SPECS = [
    ResourceSpec(
        resource_type="aws.ses.identity",
        service="sesv2",
        list_op="list_email_identities",
        list_fn=token_lister("sesv2", "list_email_identities", "EmailIdentities"),
        id=lambda item, scope: str(item["IdentityName"]),
        arn=_arn,
        tags=_tags,
        details=(Detail("Identity", "get_email_identity", lambda i: {"EmailIdentity": i["IdentityName"]}, _identity),),
    ),
]
