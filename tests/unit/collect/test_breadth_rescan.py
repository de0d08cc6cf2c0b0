"""Rescan entries of the breadth services: every type has one, and the ARN a CloudTrail record yields is the ARN
the collector gives the resource (otherwise a rescan would miss it and report it deleted)."""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.collect.services import SPECS, spec_for
from cspm_stream.collect.spec import Scope
from cspm_stream.detect.rescan import load_map

ACCOUNT, REGION = "123456789012", "eu-west-1"
BREADTH = (
    "apigateway apigatewayv2 elb elasticache redshift opensearch acm route53 wafv2 backup kinesis firehose glue "
    "athena emr ecs autoscaling cloudwatch waf wafregional"
).split()
EXTRA_TYPES = {"aws.ec2.launch_template", "aws.logs.log_group"}


def _types() -> set[str]:
    out = set(EXTRA_TYPES)
    for svc in BREADTH:
        out |= {s.resource_type for s in SPECS[svc]}
    return out


def _record(source: str, name: str, request: dict[str, Any], response: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "recipientAccountId": ACCOUNT,
        "requestParameters": request,
        "responseElements": response,
    }


def test_every_breadth_type_has_a_rescan_entry() -> None:
    m = load_map()
    covered = {spec.type for specs in m.entries.values() for spec in specs}
    assert _types() - covered == set()


# (record, the collected item the event is about)
CASES = [
    (
        _record("apigateway.amazonaws.com", "UpdateRestApi", {"restApiId": "a1b2c3"}),
        "aws.apigateway.rest_api",
        {"id": "a1b2c3"},
    ),
    (
        _record("apigateway.amazonaws.com", "UpdateDomainName", {"domainName": "api.example.com"}),
        "aws.apigateway.domain_name",
        {"domainName": "api.example.com"},
    ),
    (_record("apigateway.amazonaws.com", "UpdateApi", {"apiId": "x9y8"}), "aws.apigatewayv2.api", {"ApiId": "x9y8"}),
    (
        _record("elasticloadbalancing.amazonaws.com", "ModifyLoadBalancerAttributes", {"loadBalancerName": "web"}),
        "aws.elb.load_balancer",
        {"LoadBalancerName": "web"},
    ),
    (
        _record("redshift.amazonaws.com", "ModifyCluster", {"clusterIdentifier": "dw"}),
        "aws.redshift.cluster",
        {"ClusterIdentifier": "dw"},
    ),
    (
        _record("es.amazonaws.com", "UpdateDomainConfig", {"domainName": "search"}),
        "aws.opensearch.domain",
        {"DomainName": "search"},
    ),
    (
        _record("route53domains.amazonaws.com", "DisableDomainTransferLock", {"domainName": "example.com"}),
        "aws.route53.domain",
        {"DomainName": "example.com"},
    ),
    (
        _record("backup.amazonaws.com", "DeleteBackupVaultLockConfiguration", {"backupVaultName": "prod"}),
        "aws.backup.vault",
        {"BackupVaultName": "prod", "BackupVaultArn": f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:prod"},
    ),
    (
        _record("kinesis.amazonaws.com", "StopStreamEncryption", {"streamName": "orders"}),
        "aws.kinesis.stream",
        {"StreamName": "orders", "StreamARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"},
    ),
    (
        _record("firehose.amazonaws.com", "StopDeliveryStreamEncryption", {"deliveryStreamName": "clicks"}),
        "aws.firehose.delivery_stream",
        {"DeliveryStreamName": "clicks"},
    ),
    (_record("glue.amazonaws.com", "UpdateJob", {"jobName": "nightly"}), "aws.glue.job", {"Name": "nightly"}),
    (_record("glue.amazonaws.com", "PutDataCatalogEncryptionSettings", {}), "aws.glue.data_catalog", {}),
    (_record("athena.amazonaws.com", "UpdateWorkGroup", {"workGroup": "bi"}), "aws.athena.workgroup", {"Name": "bi"}),
    (
        _record("elasticmapreduce.amazonaws.com", "PutBlockPublicAccessConfiguration", {}),
        "aws.emr.region",
        {},
    ),
    (
        _record(
            "ec2.amazonaws.com",
            "ModifyLaunchTemplate",
            {"ModifyLaunchTemplateRequest": {"LaunchTemplateId": "lt-0abc"}},
        ),
        "aws.ec2.launch_template",
        {"LaunchTemplateId": "lt-0abc"},
    ),
    (
        _record("monitoring.amazonaws.com", "DisableAlarmActions", {"alarmNames": ["root-usage"]}),
        "aws.cloudwatch.alarm",
        {"AlarmName": "root-usage", "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:root-usage"},
    ),
    (
        _record("logs.amazonaws.com", "PutRetentionPolicy", {"logGroupName": "/app/audit"}),
        "aws.logs.log_group",
        {"logGroupName": "/app/audit"},
    ),
    (_record("logs.amazonaws.com", "PutMetricFilter", {"logGroupName": "trail"}), "aws.logs.monitoring", {}),
    (
        _record("waf.amazonaws.com", "UpdateRule", {"ruleId": "r-1"}),
        "aws.waf.rule",
        {"RuleId": "r-1"},
    ),
    (
        _record("waf-regional.amazonaws.com", "UpdateWebACL", {"webACLId": "acl-1"}),
        "aws.wafregional.web_acl",
        {"WebACLId": "acl-1"},
    ),
]


@pytest.mark.parametrize(("record", "rtype", "item"), CASES, ids=[f"{c[0]['eventName']}->{c[1]}" for c in CASES])
def test_rescan_arn_is_the_collected_arn(record: dict[str, Any], rtype: str, item: dict[str, Any]) -> None:
    targets = [t for t in load_map().targets(record) if t.resource_type == rtype]
    assert targets, f"{record['eventName']} requests no rescan of {rtype}"
    _, spec = spec_for(rtype)
    region = "us-east-1" if spec.global_ else REGION
    assert targets[0].arn == spec.arn(item, Scope(account_id=ACCOUNT, region=region))


def test_stage_events_name_the_api_and_the_rescan_collects_its_stages() -> None:
    rec = _record("apigateway.amazonaws.com", "UpdateStage", {"restApiId": "a1b2c3", "stageName": "prod"})
    (t,) = load_map().targets(rec)
    assert (t.resource_type, t.resource_id, t.arn) == (
        "aws.apigateway.stage",
        "a1b2c3",
        None,
    )  # no ARN: no deletion inferred
    _, spec = spec_for("aws.apigateway.stage")
    assert spec.parent_id is not None and spec.parent_id({"restApiId": "a1b2c3", "stageName": "prod"}) == "a1b2c3"


def test_failed_calls_and_other_sources_request_nothing() -> None:
    m = load_map()
    failed = dict(
        _record("redshift.amazonaws.com", "ModifyCluster", {"clusterIdentifier": "dw"}), errorCode="AccessDenied"
    )
    assert m.targets(failed) == []
    classic_on_v2 = _record(
        "elasticloadbalancing.amazonaws.com", "ModifyLoadBalancerAttributes", {"loadBalancerArn": "arn:x"}
    )
    assert {t.resource_type for t in m.targets(classic_on_v2)} == {"aws.elbv2.load_balancer"}
