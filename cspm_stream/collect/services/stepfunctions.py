"""AWS Step Functions (regional): state machines.

``aws.stepfunctions.state_machine``: the ListStateMachines item (``stateMachineArn``, ``name``, ``type``) plus
``StateMachine`` (DescribeStateMachine: ``status``, ``loggingConfiguration`` — ``level`` ALL/ERROR/FATAL/OFF,
``includeExecutionData``, ``destinations`` —, ``tracingConfiguration.enabled``, ``encryptionConfiguration.type``
AWS_OWNED_KEY/CUSTOMER_MANAGED_KMS_KEY, ``roleArn``; the definition is not kept: it may embed credentials)
and ``Tags`` (ListTagsForResource).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, ResourceSpec, key, tags_from_list


def _state_machine(resp: dict[str, Any]) -> Any:
    return {k: v for k, v in resp.items() if k not in ("ResponseMetadata", "definition")}


SPECS = [
    ResourceSpec(
        resource_type="aws.stepfunctions.state_machine",
        service="stepfunctions",
        list_op="list_state_machines",
        items="stateMachines",
        id=key("name"),
        arn=key("stateMachineArn"),
        tags=tags_from_list("Tags", "key", "value"),
        details=(
            Detail(
                "StateMachine",
                "describe_state_machine",
                lambda i: {"stateMachineArn": i["stateMachineArn"]},
                _state_machine,
            ),
            Detail(
                "Tags",
                "list_tags_for_resource",
                lambda i: {"resourceArn": i["stateMachineArn"]},
                lambda r: r.get("tags") or [],
            ),
        ),
    ),
]
