"""AWS Elastic Beanstalk environments (regional).

``aws.elasticbeanstalk.environment``: the DescribeEnvironments item (live environments: ``IncludeDeleted`` false;
``EnvironmentName``, ``EnvironmentId``, ``EnvironmentArn``, ``ApplicationName``, ``SolutionStackName``, ``PlatformArn``,
``Status``, ``Health``, ``Tier``) plus

* ``OptionSettings``: DescribeConfigurationSettings' ``ConfigurationSettings[0].OptionSettings``,
  ``[{Namespace, OptionName, ResourceName, Value}]``. Values are kept only in namespaces that carry no secrets
  (:data:`KEPT_NAMESPACES`); elsewhere — environment properties, database settings — the value is replaced by
  ``{valueLength, valueKind, holdsSecret}`` (never the secret itself).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key

#: namespaces whose option values are configuration, never credentials
KEPT_NAMESPACES = frozenset(
    {
        "aws:elasticbeanstalk:healthreporting:system",
        "aws:elasticbeanstalk:managedactions",
        "aws:elasticbeanstalk:managedactions:platformupdate",
        "aws:elasticbeanstalk:cloudwatch:logs",
        "aws:elasticbeanstalk:cloudwatch:logs:health",
        "aws:elasticbeanstalk:environment",
        "aws:elasticbeanstalk:command",
        "aws:elasticbeanstalk:hostmanager",
        "aws:elasticbeanstalk:xray",
        "aws:autoscaling:launchconfiguration",
        "aws:ec2:instances",
        "aws:ec2:vpc",
        "aws:elb:listener",
        "aws:elbv2:listener",
        "aws:elbv2:loadbalancer",
    }
)
MAX_OPTIONS = 1000


def redact_options(options: Any) -> list[dict[str, Any]]:
    from cspm_stream.collect.services._redact import variable

    out: list[dict[str, Any]] = []
    for o in options[:MAX_OPTIONS] if isinstance(options, list) else []:
        if not isinstance(o, dict):
            continue
        entry = {k: o[k] for k in ("Namespace", "OptionName", "ResourceName") if k in o}
        if o.get("Namespace") in KEPT_NAMESPACES:
            if "Value" in o:
                entry["Value"] = o["Value"]
        else:
            v = variable(o.get("OptionName"), o.get("Value"))
            entry.update(valueLength=v["valueLength"], valueKind=v["valueKind"], holdsSecret=v["holdsSecret"])
        out.append(entry)
    return out


async def _options(calls: Calls, item: Item) -> Any:
    resp = await calls.call(
        "elasticbeanstalk",
        "describe_configuration_settings",
        ApplicationName=item["ApplicationName"],
        EnvironmentName=item["EnvironmentName"],
    )
    settings = resp.get("ConfigurationSettings") or []
    first = settings[0] if settings and isinstance(settings[0], dict) else {}
    return redact_options(first.get("OptionSettings") or [])


SPECS = [
    ResourceSpec(
        resource_type="aws.elasticbeanstalk.environment",
        service="elasticbeanstalk",
        list_op="describe_environments",
        list_params={"IncludeDeleted": False},
        items="Environments",
        id=key("EnvironmentName"),
        arn=key("EnvironmentArn"),
        details=(Detail("OptionSettings", fn=_options),),
        one_params=lambda rid: {"EnvironmentNames": [rid], "IncludeDeleted": False},
    ),
]
