"""AWS AppSync GraphQL APIs (regional).

``aws.appsync.graphql_api``: the ListGraphqlApis item (``apiId``, ``name``, ``apiType`` — absent means ``GRAPHQL``,
``MERGED`` for merged APIs —, ``authenticationType``, ``additionalAuthenticationProviders``,
``logConfig.fieldLogLevel``, ``xrayEnabled``, ``visibility``, ``wafWebAclArn``, ``tags``). No detail call.
"""

from __future__ import annotations

from cspm_stream.collect.spec import ResourceSpec, key, tags_from_dict

SPECS = [
    ResourceSpec(
        resource_type="aws.appsync.graphql_api",
        service="appsync",
        list_op="list_graphql_apis",
        items="graphqlApis",
        id=key("apiId"),
        arn=key("arn"),
        tags=tags_from_dict("tags"),
    ),
]
