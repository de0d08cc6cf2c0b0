"""AWS CloudFormation stacks (regional).

``aws.cloudformation.stack``: the DescribeStacks item (``StackName``, ``StackId``, ``StackStatus``,
``EnableTerminationProtection``, ``RootId``/``ParentId`` — present on nested stacks —, ``RoleARN``,
``DriftInformation``, ``Tags``) with values that may be secrets removed (:func:`redact`):

* ``Outputs``: ``[{OutputKey, Description, ExportName, valueLength, valueKind, holdsSecret}]``; the value is kept
  (``OutputValue``) only for ``BootstrapVersion``, the CDK bootstrap stack's version number;
* ``Parameters``: ``[{ParameterKey, valueLength, valueKind, holdsSecret}]`` (NoEcho values arrive masked anyway).

No detail call: one paginated DescribeStacks per region.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Item, ResourceSpec, key, tags_from_list

#: outputs whose value is kept: not secrets, and policies read them
KEPT_OUTPUTS = frozenset({"BootstrapVersion"})
MAX_ENTRIES = 200


def _described(name: Any, value: Any) -> dict[str, Any]:
    from cspm_stream.collect.services._redact import variable

    v = variable(name, value)
    return {"valueLength": v["valueLength"], "valueKind": v["valueKind"], "holdsSecret": v["holdsSecret"]}


def redact(item: Item) -> Item:
    """Outputs and parameters without their values (except the outputs in :data:`KEPT_OUTPUTS`)."""
    outputs = item.get("Outputs")
    if isinstance(outputs, list):
        kept = []
        for o in outputs[:MAX_ENTRIES]:
            if not isinstance(o, dict):
                continue
            name = o.get("OutputKey")
            entry = {k: o[k] for k in ("OutputKey", "Description", "ExportName") if k in o}
            entry.update(_described(name, o.get("OutputValue")))
            if name in KEPT_OUTPUTS:
                entry["OutputValue"] = o.get("OutputValue")
            kept.append(entry)
        item["Outputs"] = kept
    params = item.get("Parameters")
    if isinstance(params, list):
        item["Parameters"] = [
            {"ParameterKey": p.get("ParameterKey"), **_described(p.get("ParameterKey"), p.get("ParameterValue"))}
            for p in params[:MAX_ENTRIES]
            if isinstance(p, dict)
        ]
    return item


SPECS = [
    ResourceSpec(
        resource_type="aws.cloudformation.stack",
        service="cloudformation",
        list_op="describe_stacks",
        items="Stacks",
        id=key("StackName"),
        arn=key("StackId"),
        tags=tags_from_list(),
        post=redact,
        one_params=lambda rid: {"StackName": rid},
    ),
]
