"""Lambda functions: ``Policy`` (parsed resource policy, null = none), ``FunctionUrlConfigs``, ``Tags``."""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, key, policy_member, tags_from_dict

SPECS = [
    ResourceSpec(
        resource_type="aws.lambda.function",
        service="lambda",
        list_op="list_functions",
        items="Functions",
        id=key("FunctionName"),
        arn=key("FunctionArn"),
        tags=tags_from_dict("Tags"),
        details=(
            Detail(
                "Policy",
                "get_policy",
                lambda i: {"FunctionName": i["FunctionName"]},
                policy_member("Policy"),
                frozenset({"ResourceNotFoundException"}),
            ),
            Detail(
                "FunctionUrlConfigs",
                "list_function_url_configs",
                lambda i: {"FunctionName": i["FunctionName"]},
                paginate_items="FunctionUrlConfigs",
            ),
            Detail("Tags", "list_tags", lambda i: {"Resource": i["FunctionArn"]}, lambda r: r.get("Tags", {})),
        ),
    ),
]
