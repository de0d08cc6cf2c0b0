"""CloudWatch metric alarms and CloudWatch Logs log groups on the wire (moto): actions, KMS keys, retention and
resource policies that cover a group, with decoys."""

from __future__ import annotations

import json

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:security-alerts"


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    cw = moto_server.boto3_client("cloudwatch")
    common = {
        "MetricName": "RootAccountUsage",
        "Namespace": "CISBenchmark",
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
    cw.put_metric_alarm(
        AlarmName="notifies", AlarmActions=[TOPIC], ActionsEnabled=True, Tags=[{"Key": "o", "Value": "sec"}], **common
    )
    cw.put_metric_alarm(AlarmName="silent", ActionsEnabled=False, **common)
    logs = moto_server.boto3_client("logs")
    key = moto_server.boto3_client("kms").create_key()["KeyMetadata"]["Arn"]
    logs.create_log_group(logGroupName="/app/audit", kmsKeyId=key)
    logs.put_retention_policy(logGroupName="/app/audit", retentionInDays=400)
    logs.create_log_group(logGroupName="/app/debug")
    logs.put_retention_policy(logGroupName="/app/debug", retentionInDays=7)
    logs.create_log_group(logGroupName="/public/ingest")
    logs.put_resource_policy(
        policyName="open-ingest",
        policyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                        "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/public/*",
                    }
                ],
            }
        ),
    )
    return collect_moto(moto_server, ["cloudwatch", "logs"])


def test_alarms(estate: Estate) -> None:
    n = estate.one("aws.cloudwatch.alarm", "notifies")
    assert n.arn == f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:notifies" and n.tags == {"o": "sec"}
    v = estate.verdicts(["cloudwatch_alarm_actions_alarm_state_configured", "cloudwatch_alarm_actions_enabled"])
    for p in ("cloudwatch_alarm_actions_alarm_state_configured", "cloudwatch_alarm_actions_enabled"):
        assert (v[(p, "notifies")], v[(p, "silent")]) == ("pass", "fail"), p


def test_log_groups(estate: Estate) -> None:
    audit = estate.one("aws.logs.log_group", "/app/audit")
    assert audit.arn == f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/app/audit"  # no ':*'
    assert audit.attributes["ResourcePolicies"] == []
    public = estate.one("aws.logs.log_group", "/public/ingest")
    assert [p["policyName"] for p in public.attributes["ResourcePolicies"]] == ["open-ingest"]
    pols = {
        # policy: (/app/audit, /app/debug, /public/ingest)
        "cloudwatch_log_group_kms_encryption_enabled": ("pass", "fail", "fail"),
        "cloudwatch_log_group_retention_policy_specific_days_enabled": ("pass", "fail", "pass"),
        "logs_log_group_resource_policy_public": ("pass", "pass", "fail"),
    }
    v = estate.verdicts(list(pols))
    order = ("/app/audit", "/app/debug", "/public/ingest")
    assert {p: tuple(v[(p, g)] for g in order) for p in pols} == pols
