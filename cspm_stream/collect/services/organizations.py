"""Organizations (global): member accounts, when the scanned account may list them.

An account outside any Organization lists nothing (AWSOrganizationsNotInUseException);
a member account without permission yields a collection-error record, not an empty list.
"""

from __future__ import annotations

from cspm_stream.collect.spec import ResourceSpec, key

SPECS = [
    ResourceSpec(
        resource_type="aws.organizations.account",
        service="organizations",
        list_op="list_accounts",
        items="Accounts",
        id=key("Id"),
        arn=key("Arn"),
        global_=True,
        list_not_configured=frozenset({"AWSOrganizationsNotInUseException"}),
    ),
]
