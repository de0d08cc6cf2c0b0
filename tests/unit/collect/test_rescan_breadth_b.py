"""Real-time posture for the part-B services: CloudTrail records of their mutating calls name the resource the
collector produces (same id or same ARN — a rescan whose ARN differed from the collector's would conclude a
deletion), and a rescan on moto finds it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cspm_stream.collect import Collector
from cspm_stream.collect.spec import GLOBAL
from cspm_stream.detect.rescan import load_map
from cspm_stream.models import ScanJob
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.conftest import moto_settings, reset

ACCT = ACCOUNT_ID


def _record(
    source: str, name: str, request: dict[str, Any] | None = None, response: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "eventVersion": "1.09",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "eventID": f"id-{name}",
        "recipientAccountId": ACCT,
        "userIdentity": {
            "type": "AssumedRole",
            "accountId": ACCT,
            "arn": f"arn:aws:sts::{ACCT}:assumed-role/deployer/ci",
        },
        "requestParameters": request or {},
        "responseElements": response,
    }


CASES = [
    (
        _record(
            "sagemaker.amazonaws.com",
            "UpdateNotebookInstance",
            {"notebookInstanceName": "ml-research", "rootAccess": "Enabled"},
        ),
        ("aws.sagemaker.notebook_instance", "ml-research", None),
    ),
    (
        _record("bedrock.amazonaws.com", "PutModelInvocationLoggingConfiguration", {"loggingConfig": {}}),
        ("aws.bedrock.region", "us-east-1", f"arn:aws:bedrock:us-east-1:{ACCT}:model-invocation-logging"),
    ),
    (
        _record("codebuild.amazonaws.com", "UpdateProject", {"name": "api-build"}),
        ("aws.codebuild.project", "api-build", f"arn:aws:codebuild:us-east-1:{ACCT}:project/api-build"),
    ),
    (
        _record(
            "cognito-idp.amazonaws.com",
            "CreateUserPoolClient",
            {"userPoolId": "us-east-1_Ab12Cd34E", "clientName": "web"},
        ),
        ("aws.cognito.user_pool_client", "us-east-1_Ab12Cd34E", None),
    ),
    (
        _record(
            "network-firewall.amazonaws.com",
            "UpdateFirewallDeleteProtection",
            {"firewallArn": f"arn:aws:network-firewall:us-east-1:{ACCT}:firewall/egress", "deleteProtection": False},
        ),
        (
            "aws.networkfirewall.firewall",
            f"arn:aws:network-firewall:us-east-1:{ACCT}:firewall/egress",
            f"arn:aws:network-firewall:us-east-1:{ACCT}:firewall/egress",
        ),
    ),
    (
        _record(
            "events.amazonaws.com",
            "PutPermission",
            {"eventBusName": "orders", "action": "events:PutEvents", "principal": "*"},
        ),
        ("aws.events.event_bus", "orders", f"arn:aws:events:us-east-1:{ACCT}:event-bus/orders"),
    ),
    (
        _record(
            "kafka.amazonaws.com",
            "UpdateSecurity",
            {"clusterArn": f"arn:aws:kafka:us-east-1:{ACCT}:cluster/orders/uuid-1"},
        ),
        (
            "aws.kafka.cluster",
            f"arn:aws:kafka:us-east-1:{ACCT}:cluster/orders/uuid-1",
            f"arn:aws:kafka:us-east-1:{ACCT}:cluster/orders/uuid-1",
        ),
    ),
    (_record("mq.amazonaws.com", "UpdateBroker", {"brokerId": "b-0a1b2c3d"}), ("aws.mq.broker", "b-0a1b2c3d", None)),
    (
        _record("organizations.amazonaws.com", "AttachPolicy", {"policyId": "p-1", "targetId": "r-ab12"}),
        ("aws.organizations.organization", ACCT, f"arn:aws:organizations::{ACCT}:organization-settings"),
    ),
    (
        _record("account.amazonaws.com", "DeleteAlternateContact", {"alternateContactType": "SECURITY"}),
        ("aws.account.contacts", ACCT, f"arn:aws:account::{ACCT}:contacts"),
    ),
    (
        _record("macie2.amazonaws.com", "DisableMacie"),
        ("aws.macie2.region", "us-east-1", f"arn:aws:macie2:us-east-1:{ACCT}:session"),
    ),
    (
        _record(
            "ssm.amazonaws.com",
            "ModifyDocumentPermission",
            {"name": "Deploy-App", "permissionType": "Share", "accountIdsToAdd": ["all"]},
        ),
        ("aws.ssm.document", "Deploy-App", f"arn:aws:ssm:us-east-1:{ACCT}:document/Deploy-App"),
    ),
    (
        _record("ecr.amazonaws.com", "PutRegistryScanningConfiguration", {"scanType": "BASIC"}),
        ("aws.ecr.registry", "us-east-1", f"arn:aws:ecr:us-east-1:{ACCT}:registry"),
    ),
]


@pytest.mark.parametrize(("record", "want"), CASES, ids=[c[0]["eventName"] for c in CASES])
def test_records_name_the_collected_resource(record: dict[str, Any], want: tuple[str, str, str | None]) -> None:
    targets = load_map().targets(record)
    assert [(t.resource_type, t.resource_id, t.arn) for t in targets] == [want]


def test_failed_calls_request_no_rescan() -> None:
    rec = _record("cognito-idp.amazonaws.com", "UpdateUserPool", {"userPoolId": "us-east-1_Ab12Cd34E"})
    rec["errorCode"] = "AccessDenied"
    assert load_map().targets(rec) == []
    del rec["errorCode"]
    assert load_map().targets(rec) != []  # the same call, successful, does rescan


@pytest.mark.moto
def test_rescans_find_their_resource_on_moto(moto_server: MotoServer) -> None:
    reset(moto_server)
    sm = moto_server.boto3_client("sagemaker")
    sm.create_notebook_instance(
        NotebookInstanceName="ml-research", InstanceType="ml.t3.medium", RoleArn=f"arn:aws:iam::{ACCT}:role/sm"
    )
    cb = moto_server.boto3_client("codebuild")
    cb.create_project(
        name="api-build",
        source={"type": "GITHUB", "location": "https://github.com/example-org/api.git"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=f"arn:aws:iam::{ACCT}:role/cb",
    )
    idp = moto_server.boto3_client("cognito-idp")
    pool = idp.create_user_pool(PoolName="customers")["UserPool"]["Id"]
    for name in ("web", "mobile"):
        idp.create_user_pool_client(UserPoolId=pool, ClientName=name)
    moto_server.boto3_client("events").create_event_bus(Name="orders")
    records = [
        _record("sagemaker.amazonaws.com", "UpdateNotebookInstance", {"notebookInstanceName": "ml-research"}),
        _record("codebuild.amazonaws.com", "UpdateProject", {"name": "api-build"}),
        _record("cognito-idp.amazonaws.com", "UpdateUserPoolClient", {"userPoolId": pool, "clientId": "x"}),
        _record("events.amazonaws.com", "PutPermission", {"eventBusName": "orders"}),
        _record("account.amazonaws.com", "PutAlternateContact", {"alternateContactType": "SECURITY"}),
    ]
    settings = moto_settings(moto_server)

    async def look() -> dict[str, tuple[int, bool]]:
        from cspm_stream.collect.services import spec_for

        out: dict[str, tuple[int, bool]] = {}
        async with Collector(settings.aws) as c:
            for rec in records:
                (t,) = load_map().targets(rec)
                service, spec = spec_for(t.resource_type)
                job = ScanJob(
                    job_id=f"rescan-{t.event_name}",
                    scan_id="rescan",
                    account_id=ACCT,
                    region=GLOBAL if spec.global_ else t.region,
                    service=service,
                    requested_at="2026-01-01T00:00:00Z",
                    resource_types=[t.resource_type],
                )
                snaps, complete = await c.collect_one(job, arn=t.arn, resource_id=t.resource_id)
                out[t.event_name] = (len(snaps), complete)
        return out

    assert asyncio.run(look()) == {
        "UpdateNotebookInstance": (1, True),
        "UpdateProject": (1, True),
        "UpdateUserPoolClient": (2, True),  # the parent pool names every client of it
        "PutPermission": (1, True),
        "PutAlternateContact": (1, True),
    }
