"""Amazon ECS on the wire: moto for task definitions (environment values never stored), clusters, services and
task sets; recorded responses for services with network configurations (moto answers CreateService with HTTP 500
when one is given) and old Fargate platform versions."""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

LOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web", "mode": "non-blocking"}}


def _ctr(name: str, **kw: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": "nginx", "memory": 256, "readonlyRootFilesystem": True, "user": "1000"}
    c.update(kw)
    return c


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    ecs = moto_server.boto3_client("ecs")
    ecs.register_task_definition(
        family="hardened",
        networkMode="awsvpc",
        containerDefinitions=[_ctr("app", logConfiguration=LOGS, environment=[{"name": "LOG_LEVEL", "value": "info"}])],
        tags=[{"key": "team", "value": "web"}],
    )
    ecs.register_task_definition(
        family="risky",
        networkMode="host",
        pidMode="host",
        containerDefinitions=[
            _ctr(
                "app",
                readonlyRootFilesystem=False,
                user="root",
                environment=[
                    {"name": "DB_PASSWORD", "value": "hunter2-not-stored"},
                    {"name": "CONFIG", "value": "AKIAIOSFODNN7EXAMPLE"},
                ],
            ),
            _ctr("agent", privileged=True, logConfiguration={"logDriver": "awslogs", "options": {"mode": "blocking"}}),
        ],
    )
    ecs.create_cluster(clusterName="observed", settings=[{"name": "containerInsights", "value": "enabled"}])
    ecs.create_cluster(clusterName="blind")
    ecs.create_service(cluster="observed", serviceName="worker", taskDefinition="hardened", desiredCount=0)
    ec2 = moto_server.boto3_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    ecs.create_service(
        cluster="observed",
        serviceName="canary",
        taskDefinition="hardened",
        desiredCount=0,
        deploymentController={"type": "EXTERNAL"},
    )
    for ip in ("ENABLED", "DISABLED"):
        ecs.create_task_set(
            cluster="observed",
            service="canary",
            taskDefinition="hardened",
            externalId=ip.lower(),
            networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "assignPublicIp": ip}},
        )
    return collect_moto(moto_server, ["ecs"])


def test_task_definitions_never_keep_environment_values(estate: Estate) -> None:
    risky = estate.one("aws.ecs.task_definition", "risky:1")
    assert risky.arn == f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:task-definition/risky:1"
    env = risky.attributes["TaskDefinition"]["containerDefinitions"][0]["environment"]
    assert env == [
        {"name": "DB_PASSWORD", "valueLength": 18, "valueKind": None},
        {"name": "CONFIG", "valueLength": 20, "valueKind": "aws-access-key-id"},
    ]
    assert "hunter2" not in str(risky.attributes) and "AKIAIOSFODNN7EXAMPLE" not in str(risky.attributes)
    assert estate.one("aws.ecs.task_definition", "hardened:1").tags == {"team": "web"}


def test_task_definition_verdicts(estate: Estate) -> None:
    pols = [
        "ecs_task_definitions_containers_readonly_access",
        "ecs_task_definitions_host_namespace_not_shared",
        "ecs_task_definitions_host_networking_mode_users",
        "ecs_task_definitions_logging_block_mode",
        "ecs_task_definitions_logging_enabled",
        "ecs_task_definitions_no_privileged_containers",
        "ecs_task_definition_no_secrets_in_environment",
    ]
    v = estate.verdicts(pols)
    for p in pols:
        assert (v[(p, "hardened:1")], v[(p, "risky:1")]) == ("pass", "fail"), p
    aws_keys = estate.verdicts(["ecs_task_definition_no_aws_credentials_in_environment"])
    assert aws_keys[("ecs_task_definition_no_aws_credentials_in_environment", "risky:1")] == "pass"  # names only


def test_clusters_services_and_task_sets(estate: Estate) -> None:
    v = estate.verdicts(
        [
            "ecs_cluster_container_insights_enabled",
            "ecs_task_set_no_assign_public_ip",
            "ecs_service_no_assign_public_ip",
        ]
    )
    assert v[("ecs_cluster_container_insights_enabled", "observed")] == "pass"
    assert v[("ecs_cluster_container_insights_enabled", "blind")] == "fail"
    assert estate.ids("aws.ecs.service") == {"observed/worker", "observed/canary"}
    assert v[("ecs_service_no_assign_public_ip", "observed/worker")] == "pass"
    sets = {s.attributes["externalId"]: s.resource_id for s in estate.by_type["aws.ecs.task_set"]}
    assert v[("ecs_task_set_no_assign_public_ip", sets["enabled"])] == "fail"
    assert v[("ecs_task_set_no_assign_public_ip", sets["disabled"])] == "pass"
    canary = estate.one("aws.ecs.service", "observed/canary")
    assert {t["id"] for t in canary.attributes["taskSets"]} == set(sets.values())
    assert estate.errors() == set()


def test_services_recorded() -> None:
    e, aws = collect_fixture("ecs", "ecs")
    assert aws.unanswered == []
    web = e.one("aws.ecs.service", "prod/web")
    assert "events" not in web.attributes
    v = e.verdicts(["ecs_service_no_assign_public_ip", "ecs_service_fargate_latest_platform_version"])
    assert v[("ecs_service_no_assign_public_ip", "prod/web")] == "pass"
    assert v[("ecs_service_no_assign_public_ip", "prod/legacy-api")] == "fail"
    assert v[("ecs_service_fargate_latest_platform_version", "prod/web")] == "pass"  # LATEST
    assert v[("ecs_service_fargate_latest_platform_version", "prod/legacy-api")] == "fail"  # 1.3.0
