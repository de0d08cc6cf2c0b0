"""The spec registry: service name (as in ScanJob.service) → its resource specs.

One module per AWS service; adding a service is adding a module and a line here.
"""

from __future__ import annotations

import functools

from cspm_stream.collect.services import (
    accessanalyzer,
    account,
    acm,
    apigateway,
    apigatewayv2,
    appstream,
    appsync,
    athena,
    autoscaling,
    backup,
    bedrock,
    cloudformation,
    cloudfront,
    cloudtrail,
    cloudwatch,
    codebuild,
    cognito,
    config,
    datasync,
    dax,
    directconnect,
    dlm,
    dms,
    docdb,
    ds,
    dynamodb,
    ec2,
    ec2_network,
    ec2_templates,
    ecr,
    ecs,
    efs,
    eks,
    elasticache,
    elasticbeanstalk,
    elb,
    elbv2,
    emr,
    events,
    firehose,
    fsx,
    glacier,
    glue,
    guardduty,
    iam,
    inspector2,
    kafka,
    kinesis,
    kms,
    lambda_,
    lightsail,
    loggroups,
    logs,
    macie2,
    memorydb,
    mq,
    neptune,
    networkfirewall,
    opensearch,
    organizations,
    organizations_org,
    rds,
    redshift,
    route53,
    s3,
    sagemaker,
    secretsmanager,
    securityhub,
    ses,
    sns,
    sqs,
    ssm,
    stepfunctions,
    storagegateway,
    transfer,
    waf,
    wafv2,
    workspaces,
)
from cspm_stream.collect.spec import ResourceSpec

SPECS: dict[str, list[ResourceSpec]] = {
    "s3": s3.SPECS,
    "ec2": [*ec2.SPECS, *ec2_templates.SPECS, *ec2_network.SPECS],
    "iam": iam.SPECS,
    "rds": rds.SPECS,
    "kms": kms.SPECS,
    "cloudtrail": cloudtrail.SPECS,
    "logs": [*logs.SPECS, *loggroups.SPECS],
    "config": config.SPECS,
    "guardduty": guardduty.SPECS,
    "lambda": lambda_.SPECS,
    "sns": sns.SPECS,
    "sqs": sqs.SPECS,
    "secretsmanager": secretsmanager.SPECS,
    "ecr": ecr.SPECS,
    "eks": eks.SPECS,
    "elbv2": elbv2.SPECS,
    "cloudfront": cloudfront.SPECS,
    "dynamodb": dynamodb.SPECS,
    "efs": efs.SPECS,
    "organizations": [*organizations.SPECS, *organizations_org.SPECS],
    "accessanalyzer": accessanalyzer.SPECS,
    "securityhub": securityhub.SPECS,
    # posture breadth (issue 16), part B
    "sagemaker": sagemaker.SPECS,
    "bedrock": bedrock.SPECS,
    "codebuild": codebuild.SPECS,
    "cognito": cognito.SPECS,
    "networkfirewall": networkfirewall.SPECS,
    "stepfunctions": stepfunctions.SPECS,
    "events": events.SPECS,
    "kafka": kafka.SPECS,
    "kafkaconnect": kafka.CONNECT_SPECS,
    "mq": mq.SPECS,
    "dms": dms.SPECS,
    "fsx": fsx.SPECS,
    "transfer": transfer.SPECS,
    "workspaces": workspaces.SPECS,
    "account": account.SPECS,
    "inspector2": inspector2.SPECS,
    "macie2": macie2.SPECS,
    "ssm": ssm.SPECS,
    # posture breadth (issue 16), part A
    "apigateway": apigateway.SPECS,
    "apigatewayv2": apigatewayv2.SPECS,
    "elb": elb.SPECS,
    "elasticache": elasticache.SPECS,
    "redshift": redshift.SPECS,
    "opensearch": opensearch.SPECS,
    "acm": acm.SPECS,
    "route53": route53.SPECS,
    "wafv2": wafv2.SPECS,
    "backup": backup.SPECS,
    "kinesis": kinesis.SPECS,
    "firehose": firehose.SPECS,
    "glue": glue.SPECS,
    "athena": athena.SPECS,
    "emr": emr.SPECS,
    "ecs": ecs.SPECS,
    "autoscaling": autoscaling.SPECS,
    "cloudwatch": cloudwatch.SPECS,
    "waf": waf.GLOBAL_SPECS,
    "wafregional": waf.REGIONAL_SPECS,
    # posture breadth (issue 16), part C
    "neptune": neptune.SPECS,
    "docdb": docdb.SPECS,
    "memorydb": memorydb.SPECS,
    "dax": dax.SPECS,
    "cloudformation": cloudformation.SPECS,
    "appsync": appsync.SPECS,
    "datasync": datasync.SPECS,
    "ses": ses.SPECS,
    "elasticbeanstalk": elasticbeanstalk.SPECS,
    "appstream": appstream.SPECS,
    "lightsail": lightsail.SPECS,
    "storagegateway": storagegateway.SPECS,
    "ds": ds.SPECS,
    "glacier": glacier.SPECS,
    "dlm": dlm.SPECS,
    "directconnect": directconnect.SPECS,
}


def all_types() -> list[str]:
    return sorted(s.resource_type for specs in SPECS.values() for s in specs)


def spec_for(resource_type: str) -> tuple[str, ResourceSpec]:
    """(ScanJob.service, spec) of ``resource_type``."""
    for service, specs in SPECS.items():
        for s in specs:
            if s.resource_type == resource_type:
                return service, s
    raise KeyError(f"no collector for resource type {resource_type!r}")


def service_of(resource_type: str) -> str:
    return spec_for(resource_type)[0]


def is_global(resource_type: str) -> bool:
    return spec_for(resource_type)[1].global_


@functools.cache
def resource_types() -> frozenset[str]:
    """Every resource type the collectors produce: the inventory contract's types (policies, rescan map)."""
    return frozenset(spec.resource_type for specs in SPECS.values() for spec in specs)
